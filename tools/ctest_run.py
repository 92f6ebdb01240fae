#!/usr/bin/env python3
"""Runs ctest in one build directory for tools/dev.sh test, or prints the
summary of several such runs.

  ctest_run.py run LABEL DIR [ctest args...]
      full output to DIR/ctest.log, progress on the terminal, then one line:
      tests run, passed, failed and skipped (Criterion tests counted one by
      one, other ctest entries as one test each), each skipped test with why;
      on failure the failing tests' output. Writes DIR/test-summary.json.
      Exit status: ctest's.
  ctest_run.py summary FILE.json...
      one table of every build, then every skipped test and why."""
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

SYNTH = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
SKIP = re.compile(r"^\[SKIP\] (\S+): (.*)$|^(SKIPPED[^:]*): (.*)$", re.M)
DONE = re.compile(r"^\s*(\d+)/(\d+) Test\s+#\d+: (\S+) \.+\**\s*(\w[\w ]*?)\s+[\d.]+ sec", re.M)


def count(tree):
    """Per ctest entry: Criterion counts from its output, else one test."""
    tot = {"run": 0, "passed": 0, "failed": 0, "skipped": 0, "entries": 0}
    skipped, failed = [], []
    for tc in tree.getroot().iter("testcase"):
        name, status = tc.get("name"), tc.get("status")
        out = "".join(e.text or "" for e in tc.iter("system-out"))
        tot["entries"] += 1
        skips = [(m.group(1) or name, m.group(2) or m.group(4)) for m in SKIP.finditer(out)]
        m = SYNTH.findall(out)
        if m:
            t, p, f, c = (int(x) for x in m[-1])
            tot["run"] += t
            tot["passed"] += p
            tot["failed"] += f + c
            tot["skipped"] += len(skips)
            skipped += [(name + ": " + n, why) for n, why in skips]
        elif status in ("notrun", "disabled") or tc.find("skipped") is not None:
            tot["skipped"] += 1
            why = skips[0][1] if skips else (tc.find("skipped").get("message", "")
                                              if tc.find("skipped") is not None else status)
            skipped.append((name, why))
        else:
            tot["run"] += 1
            ok = status == "run" and tc.find("failure") is None
            tot["passed" if ok else "failed"] += 1
        if status == "fail" or tc.find("failure") is not None:
            failed.append(name)
    return tot, skipped, failed


def run(label, d, args):
    log_path = os.path.join(d, "ctest.log")
    junit = os.path.join(d, "ctest-junit.xml")
    cmd = ["ctest", "--output-junit", os.path.abspath(junit), "--output-on-failure",
           "--test-output-size-passed", "1000000", "--test-output-size-failed", "1000000"] + args
    tty = sys.stdout.isatty()
    t0 = time.time()
    last = 0
    with open(log_path, "w") as log:
        p = subprocess.Popen(cmd, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, errors="replace")
        nfail = 0
        for line in p.stdout:
            log.write(line)
            m = DONE.match(line)
            if not m:
                continue
            i, n, name, res = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
            if res not in ("Passed", "Skipped", "Not Run"):
                nfail += 1
                print("  %s: FAILED %s (%s)" % (label, name, res.strip()), flush=True)
            msg = "  %s: %d/%d ctest entries done, %d failed, %.0f s" % (label, i, n, nfail,
                                                                         time.time() - t0)
            if tty:
                print("\r" + msg, end="", flush=True)
            elif time.time() - last > 20 or i == n:
                print(msg, flush=True)
                last = time.time()
        rc = p.wait()
    if tty:
        print()
    secs = time.time() - t0
    try:
        tot, skipped, failed = count(ET.parse(junit))
    except (OSError, ET.ParseError) as e:
        print("  %s: no junit report (%s); see %s" % (label, e, log_path))
        return rc or 1
    res = dict(tot, label=label, seconds=round(secs), skipped_tests=skipped, failed_tests=failed,
               log=log_path, rc=rc)
    with open(os.path.join(d, "test-summary.json"), "w") as f:
        json.dump(res, f)
    print("  %s: %d tests run, %d passed, %d failed, %d skipped (%d ctest entries, %.0f s); log %s"
          % (label, tot["run"], tot["passed"], tot["failed"], tot["skipped"], tot["entries"], secs,
             log_path))
    for n, why in skipped:
        print("    skipped %s: %s" % (n, why))
    if rc:
        print("  %s: FAILED: %s; their output is in %s" % (label, ", ".join(failed) or "ctest",
                                                          log_path))
    return rc


def summary(files):
    rows, skips = [], []
    for fn in files:
        try:
            with open(fn) as f:
                r = json.load(f)
        except (OSError, ValueError):
            rows.append((os.path.dirname(fn) or fn, "-", "-", "-", "-", "not run"))
            continue
        rows.append((r["label"], r["run"], r["passed"], r["failed"], r["skipped"],
                     "%d s" % r.get("seconds", 0)))
        skips += [(r["label"], n, why) for n, why in r.get("skipped_tests", [])]
    print("%-10s %7s %7s %7s %8s %8s" % ("build", "tests", "passed", "failed", "skipped", "time"))
    for row in rows:
        print("%-10s %7s %7s %7s %8s %8s" % row)
    seen = {}
    for label, n, why in skips:
        seen.setdefault((n, why), []).append(label)
    for (n, why), labels in seen.items():
        print("skipped %s (%s): %s" % (n, ", ".join(labels), why))
    if not seen:
        print("nothing skipped")
    return 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        return run(sys.argv[2], sys.argv[3], sys.argv[4:])
    if len(sys.argv) >= 3 and sys.argv[1] == "summary":
        return summary(sys.argv[2:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
