"""The openspf conformance suites (RFC 7208 and RFC 4408) through spf-check: each scenario's
zone data is served by a DNS server on loopback, every test runs the real program."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

import relaytest

sys.path.insert(0, os.path.dirname(__file__))
from spf_zone_server import ZoneServer  # noqa: E402

DATA = pathlib.Path(__file__).parent / "data"
SUITES = ["rfc7208-tests.json", "rfc4408-tests.json"]


def cases():
    for suite in SUITES:
        for index, scenario in enumerate(json.loads((DATA / suite).read_text())):
            for name, test in scenario["tests"].items():
                yield pytest.param(suite, index, name, test, id=f"{suite.split('-')[0]}:{name}")


@pytest.fixture(scope="module")
def server():
    zone_server = ZoneServer()
    yield zone_server
    zone_server.stop()


SCENARIOS = {suite: json.loads((DATA / suite).read_text()) for suite in SUITES}


@pytest.mark.parametrize("suite,index,name,test", cases())
def test_spf_scenario(server, suite, index, name, test):
    server.resolver.load(SCENARIOS[suite][index].get("zonedata", {}))
    args = [relaytest.bin("spf-check"), "--json", "--resolver", server.address, "--dns-timeout", "1.5",
            "--dns-retries", "0", "--receiver", "receiver.example", "--ip", test["host"],
            "--sender", test["mailfrom"], "--helo", test["helo"]]
    result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert result.returncode in (0, 75), result.stderr
    verdict = json.loads(result.stdout)
    expected = test["result"] if isinstance(test["result"], list) else [test["result"]]
    assert verdict["result"] in expected, f"{test.get('description', '')} {verdict}"
    assert (result.returncode == 75) == (verdict["result"] == "temperror")
    if "explanation" in test and verdict["result"] == "fail":
        if test["explanation"] == "DEFAULT":
            assert not verdict["explanation_from_exp"], verdict
        else:
            assert verdict["explanation"].lower() == test["explanation"].lower(), verdict
