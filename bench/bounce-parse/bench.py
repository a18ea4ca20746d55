#!/usr/bin/python3
"""bounce-parse beside sisimai (Debian's libsisimai-perl) on the same files in the same run:
messages per second (wall and CPU), and how often the two agree on recipient, status and reason.

  bench/bounce-parse/bench.py [--bin BUILD/bin] [--copies 60]

The corpus is tests/integration/bounce-parse/corpus/*.eml, copied --copies times into one
Maildir; each program reads the whole Maildir in one process, five times, best run counted.
Agreement is measured on one copy of the corpus, per file and recipient either program reports.
"""
import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "integration" / "bounce-parse" / "corpus"

SISIMAI = r'''
use strict; use Sisimai; use Sisimai::Reason::Blocked; use Sisimai::Reason::UserUnknown;
my $v = Sisimai->make($ARGV[0], vacation => 1) || [];
for my $e (@$v) {
    my $d = $e->damn;
    my ($reason, $text) = ($d->{reason} // "", lc($d->{diagnosticcode} // ""));
    # Three of sisimai's reasons cover two of bounce-parse's; its own phrases tell which (docs/bounce-parse.md).
    # Its "blocked" without its blocking phrases comes from its status table alone (X.7.1, X.7.2, X.7.25).
    $reason = "securityerror-tls" if $reason eq "securityerror" && $text =~ /tls required but not supported/;
    $reason = "networkerror-loop" if $reason eq "networkerror"
        && $text =~ /hop count exceeded|forwarding loop|message looping|routing loop|too many hops/;
    $reason = "requireptr" if $reason eq "blocked" && $text =~ /cannot find your hostname|ptr record|reverse dns/;
    $reason = "blocked-by-status" if $reason eq "blocked" && !Sisimai::Reason::Blocked->match($text);
    # Its "filtered" is an unknown user refused late, or a recipient's own filter: only the first has a name here.
    $reason = "filtered-not-user" if $reason eq "filtered" && !Sisimai::Reason::UserUnknown->match($text);
    print join("\t", map { defined $_ ? $_ : "" } $d->{origin}, $d->{recipient}, $d->{deliverystatus}, $reason), "\n";
}
'''

# sisimai's reasons in bounce-parse's vocabulary.
REASONS = {
    "userunknown": "user-unknown", "filtered": "user-unknown", "suspend": "user-unknown", "hasmoved": "user-unknown",
    "hostunknown": "host-unknown", "notaccept": "host-unknown", "mailboxfull": "mailbox-full",
    "mesgtoobig": "message-too-large", "exceedlimit": "message-too-large", "blocked": "spam-blocked",
    "spamdetected": "spam-blocked", "badreputation": "spam-blocked", "virusdetected": "spam-blocked",
    "policyviolation": "policy", "rejected": "policy", "norelaying": "policy", "authfailure": "policy",
    "requireptr": "policy", "notcompliantrfc": "policy", "contenterror": "policy", "securityerror": "policy",
    "securityerror-tls": "tls-security", "networkerror-loop": "mailer-error", "blocked-by-status": "policy",
    "expired": "expired", "mailererror": "mailer-error", "toomanyconn": "rate-limited", "speeding": "rate-limited",
    "ratelimited": "rate-limited", "vacation": "auto-reply", "feedback": "complaint", "systemerror": "other",
    "systemfull": "other", "networkerror": "other", "syntaxerror": "other", "undefined": "other", "onhold": "other",
}


def timed(args):
    """(wall seconds, CPU seconds of the child, stdout) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120).stdout
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def best_of(args, runs=5):
    results = [timed(args) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results), results[0][2]


def ours(binary, path):
    return [binary, "--json", "--skip-other", str(path)]


def theirs(path):
    return ["perl", "-e", SISIMAI, str(path)]


def agreement(binary, maildir):
    """(same, recipients either reports, recipients both report, differences), per (file, recipient)."""
    _, _, out = timed(ours(binary, maildir))
    mine = {}
    for line in out.decode().splitlines():
        r = json.loads(line)
        mine.setdefault((pathlib.Path(r["source"]).name, r["recipient"].lower()), (r["status"], r["reason"]))
    _, _, out = timed(theirs(maildir / "new"))
    other = {}
    for line in out.decode().splitlines():
        origin, recipient, status, reason = (line.split("\t") + ["", "", "", ""])[:4]
        # sisimai's own "x.0.9nn" codes stand for "no status given"; bounce-parse leaves it empty.
        status = "" if ".0.9" in status else status
        other.setdefault((pathlib.Path(origin).name, recipient.lower()), (status, REASONS.get(reason, reason)))
    same, different = 0, []
    for key in sorted(set(mine) | set(other)):
        a, b = mine.get(key), other.get(key)
        if a and b and a[1] == b[1] and (a[0] == b[0] or not a[0] or not b[0]):
            same += 1
        else:
            different.append((key, a, b))
    both = len(set(mine) & set(other))
    return same, len(set(mine) | set(other)), both, different


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "build" / "bin"))
    parser.add_argument("--copies", type=int, default=60)
    parser.add_argument("--corpus", default=str(CORPUS), help="directory of *.eml samples")
    args = parser.parse_args()
    binary = str(pathlib.Path(args.bin) / "bounce-parse")
    samples = sorted(pathlib.Path(args.corpus).glob("*.eml"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="bounce-bench."))
    try:
        one, many = work / "one", work / "many"
        for maildir, copies in ((one, 1), (many, args.copies)):
            (maildir / "new").mkdir(parents=True)
            (maildir / "cur").mkdir()
            for c in range(copies):
                for i, sample in enumerate(samples):
                    shutil.copyfile(sample, maildir / "new" / f"{c:05}.{i:03}.{sample.stem}")
        count = len(samples) * args.copies
        wall_ours, cpu_ours, _ = best_of(ours(binary, many))
        wall_theirs, cpu_theirs, _ = best_of(theirs(many / "new"))
        same, total, both, different = agreement(binary, one)
        print(f"messages: {count} ({len(samples)} samples x {args.copies})")
        print(f"bounce-parse: {count / wall_ours:10.0f} msg/s wall  {count / max(cpu_ours, 1e-6):10.0f} msg/s CPU")
        print(f"sisimai:      {count / wall_theirs:10.0f} msg/s wall  {count / max(cpu_theirs, 1e-6):10.0f} msg/s CPU")
        print(f"speed ratio:  {wall_theirs / wall_ours:10.1f}x wall  {cpu_theirs / max(cpu_ours, 1e-6):10.1f}x CPU (target >= 20x)")
        print(f"agreement on recipient, status and reason: {same}/{total} = {100 * same / total:.1f}% (target >= 95%)")
        print(f"  of the {both} recipients both programs report: {same}/{both} = {100 * same / both:.1f}%")
        for (name, recipient), a, b in different:
            print(f"  differs: {name.split('.', 2)[2]}: {recipient}: bounce-parse {a}, sisimai {b}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
