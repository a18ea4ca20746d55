"""Every program in tools/ keeps the toolkit's conventions: --help and --version exit 0,
a bad option exits 64 (never CLI11's own codes), and it has a man page and bash and zsh
completions that name each of its long options."""
import pathlib
import re

import pytest

import relaytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PROGRAMS = sorted(p.name for p in (ROOT / "tools").iterdir() if (p / "main.cpp").exists())


def long_options(program):
    help_text = relaytest.run([relaytest.bin(program), "--help"]).stdout.decode()
    return sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", help_text)) - {"--help"})


def test_there_are_programs():
    assert PROGRAMS, "no program found in tools/"


@pytest.mark.parametrize("program", PROGRAMS)
def test_help_and_version_exit_zero(program):
    help_run = relaytest.run([relaytest.bin(program), "--help"])
    assert help_run.returncode == 0, help_run.stderr
    assert b"--version" in help_run.stdout
    version = relaytest.run([relaytest.bin(program), "--version"])
    assert version.returncode == 0
    assert program.encode() in version.stdout


@pytest.mark.parametrize("program", PROGRAMS)
def test_bad_option_is_usage_error(program):
    result = relaytest.run([relaytest.bin(program), "--no-such-option-anywhere"])
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert result.stderr.startswith(program.encode() + b": "), result.stderr


@pytest.mark.parametrize("program", PROGRAMS)
def test_man_page_documents_every_option(program):
    pages = list((ROOT / "man").glob(f"{program}.[0-9]"))
    assert pages, f"man/{program}.N is missing"
    text = pages[0].read_text().replace("\\-", "-")
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXIT CODES", "SEE ALSO"):
        assert re.search(rf"^\.SH \"?{section}", text, re.M), f"{pages[0].name} lacks {section}"
    missing = [o for o in long_options(program) if o not in text]
    assert not missing, f"{pages[0].name} does not document {missing}"


@pytest.mark.parametrize("program", PROGRAMS)
def test_completions_name_every_option(program):
    bash = ROOT / "completions" / "bash" / program
    zsh = ROOT / "completions" / "zsh" / f"_{program}"
    assert bash.exists(), f"{bash} is missing"
    assert zsh.exists(), f"{zsh} is missing"
    for path in (bash, zsh):
        text = path.read_text()
        missing = [o for o in long_options(program) if o not in text]
        assert not missing, f"{path.name} lacks {missing}"
