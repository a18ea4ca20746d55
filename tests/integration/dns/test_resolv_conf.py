"""Without --resolver the programs use the servers of /etc/resolv.conf. Checked in private
network and mount namespaces (testing.md recipe 3), so the machine's resolver is never asked."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

INNER = pathlib.Path(__file__).with_name("resolv_conf_inner.py")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root for namespaces")
def test_default_resolver_comes_from_resolv_conf(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(INNER.parent.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(["unshare", "--net", "--mount", "/usr/bin/python3", str(INNER), str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["result"] == "pass" and verdict["mechanism"] == "a:mail.example.test"
