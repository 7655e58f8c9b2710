#!/usr/bin/python3
"""Sums unit (meson + cmocka) and end-to-end (pytest junit XML) results into one
closing line, exactly `N passed, N failed`, and exits non-zero unless at least
one test passed and none failed.

Unit tests: each meson test is one cmocka executable holding many cases; the
cases are counted from cmocka's summary lines in meson's testlog.json. An
executable that fails without a failing case (sanitizer report at exit, crash,
timeout) adds one failure. A runner that exits badly without reporting any
failure also adds one, so nothing fails silently.
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

SUMMARY = re.compile(r"^\[\s*(PASSED|FAILED|SKIPPED)\s*\]\s+(\d+) test\(s\)", re.M)
CASE_OK = re.compile(r"^\[\s+OK \]", re.M)
BAD_RESULTS = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"}


def count_unit(log_path, runner_rc):
    passed = failed = skipped = 0
    notes = []
    entries = []
    if os.path.exists(log_path):
        with open(log_path, encoding="utf-8", errors="replace") as f:
            entries = [json.loads(line) for line in f if line.strip()]
    for e in entries:
        out = (e.get("stdout") or "") + "\n" + (e.get("stderr") or "")
        result = e.get("result", "ERROR")
        counts = {"PASSED": 0, "FAILED": 0, "SKIPPED": 0}
        found = False
        for kind, n in SUMMARY.findall(out):
            counts[kind] += int(n)
            found = True
        if result == "SKIP":
            skipped += max(1, counts["SKIPPED"])
            continue
        if not found:
            # Not cmocka, or it died before its summary: count the cases seen to finish.
            counts["PASSED"] = len(CASE_OK.findall(out)) or (0 if result in BAD_RESULTS else 1)
        if result in BAD_RESULTS and counts["FAILED"] == 0:
            counts["FAILED"] = 1
            notes.append(f"unit {e.get('name')}: {result} (exit {e.get('returncode')}) "
                         "with no failing case: sanitizer report, crash or timeout")
        passed += counts["PASSED"]
        failed += counts["FAILED"]
        skipped += counts["SKIPPED"]
    if runner_rc != 0 and failed == 0:
        failed += 1
        notes.append(f"unit runner exited {runner_rc} without a failing test")
    return passed, failed, skipped, notes


def count_pytest(junit_path, rc):
    passed = failed = skipped = 0
    notes = []
    if rc is None:
        return 0, 0, 0, ["e2e: not run (no tests/e2e directory)"]
    if os.path.exists(junit_path):
        try:
            root = ET.parse(junit_path).getroot()
            suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
            for s in suites:
                tests = int(s.get("tests", 0))
                fails = int(s.get("failures", 0)) + int(s.get("errors", 0))
                skips = int(s.get("skipped", 0))
                passed += tests - fails - skips
                failed += fails
                skipped += skips
        except (ET.ParseError, ValueError) as err:
            notes.append(f"e2e: unreadable junit XML {junit_path}: {err}")
    # 0 = all passed, 1 = some failed, 5 = no tests collected (not an error by itself).
    if rc not in (0, 5) and failed == 0:
        failed += 1
        notes.append(f"e2e: pytest exited {rc} without a recorded failure "
                     "(interrupted, timed out, internal or usage error)")
    if rc == 5:
        notes.append("e2e: pytest collected no tests")
    return passed, failed, skipped, notes


def count_fuzz(log_path):
    """Each `== fuzz_x  replay  N inputs ... ok` line is one passing case; any other
    outcome of a target, or a log without a final `run.sh: replay ok`, fails."""
    if not log_path:
        return 0, 0
    try:
        text = open(log_path, encoding="utf-8", errors="replace").read()
    except OSError:
        return 0, 1
    ok = len(re.findall(r"^== fuzz_\S+\s+replay .* ok$", text, re.M))
    bad = len(re.findall(r"^== fuzz_\S+\s+replay .*FAILED", text, re.M))
    if "run.sh: replay ok" not in text and bad == 0:
        bad = 1
    return ok, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meson-log", required=True)
    ap.add_argument("--unit-rc", type=int, required=True)
    ap.add_argument("--junit", required=True)
    ap.add_argument("--pytest-rc", type=int, default=None, help="omit when e2e did not run")
    ap.add_argument("--fuzz-log", help="output of tests/fuzz/run.sh replay (one case per target)")
    ap.add_argument("--out", help="also write the closing line to this file")
    a = ap.parse_args()

    up, uf, us, unotes = count_unit(a.meson_log, a.unit_rc)
    ep, ef, es, enotes = count_pytest(a.junit, a.pytest_rc)
    for n in unotes + enotes:
        print("note: " + n)
    print(f"unit: {up} passed, {uf} failed, {us} skipped")
    print(f"e2e:  {ep} passed, {ef} failed, {es} skipped")
    fp, ff = count_fuzz(a.fuzz_log)
    if a.fuzz_log:
        print(f"fuzz corpus replay: {fp} passed, {ff} failed")
    passed, failed = up + ep + fp, uf + ef + ff
    if passed + failed == 0:
        failed = 1
        print("note: no test ran at all")
    line = f"{passed} passed, {failed} failed"
    if a.out:
        with open(a.out, "w") as f:
            f.write(line + "\n")
    print(line, flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
