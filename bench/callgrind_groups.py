#!/usr/bin/env python3
"""Instructions per operation of a callgrind profile, grouped by part.

  python3 bench/callgrind_groups.py OUT OPS

OUT is a callgrind output file (collected with --toggle-collect so it holds
one phase only), OPS the number of operations that phase did. Prints one
line per part: the stack's framework (framework/), its components
(components/), the os adapter (os_adapters/), libc (locks, the clock, the
rest), device models and fakes (models/, tests/fakes/: reported apart, they
stand in for hardware) and the benchmark's own loop (bench/). Exclusive
(self) instruction counts from callgrind_annotate, so nothing is counted
twice. Standard library only."""
import re
import subprocess
import sys

PARTS = [
    ("framework", r"(^|/)framework/"),
    ("components", r"(^|/)components/"),
    ("os adapter", r"(^|/)os_adapters/"),
    ("libc: locks", r"pthread_mutex|lll_lock|__lll_"),
    ("libc: clock", r"clock_gettime|__vdso"),
    ("device (models, fakes)", r"(^|/)(models|tests/fakes)/"),
    ("benchmark loop", r"(^|/)bench/"),
]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, ops = sys.argv[1], int(sys.argv[2])
    text = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", "--auto=no", out],
                          capture_output=True, text=True, check=True).stdout
    sums = {name: 0 for name, _ in PARTS}
    sums["libc: other"] = 0
    total = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
        if not m or "PROGRAM TOTALS" in line or ":" not in m.group(2):
            continue
        ir = int(m.group(1).replace(",", ""))
        where = m.group(2).split(" [")[0]  # file:function, not the object
        total += ir
        for name, rx in PARTS:
            if re.search(rx, where):
                sums[name] += ir
                break
        else:
            sums["libc: other"] += ir
    for name, ir in sums.items():
        if ir:
            print(f"  {name:24s} {ir / ops:8.1f}")
    stack = sums["framework"] + sums["components"]
    host = stack + sums["os adapter"] + sum(v for k, v in sums.items() if k.startswith("libc"))
    print(f"  {'= stack code':24s} {stack / ops:8.1f}   (framework + components)")
    print(f"  {'= with os adapter, libc':24s} {host / ops:8.1f}   (all but device and bench)")


if __name__ == "__main__":
    main()
