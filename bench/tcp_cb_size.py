#!/usr/bin/env python3
"""Sizes of tcp's per-connection records on x86-64 and Cortex-M4.

  python3 bench/tcp_cb_size.py [--cc CC] [--arm-cc CC] [--nm NM] [--arm-nm NM]

Compiles bench/tcp_cb_size.c (C11, -Os, the tree's warnings) with the host
compiler and with arm-none-eabi-gcc for Cortex-M4 (the flags of
cmake/arm-none-eabi-cortex-m4.cmake), reads each lyra_sz_* array's size with
nm -S and prints the Markdown table docs/tcp.md keeps ("Control block").
A compiler that is missing gets a column of "-" and a note on stderr; exit
status 1 when no compiler worked, 2 on a usage error.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "bench", "tcp_cb_size.c")
INCLUDES = ["-I", os.path.join(ROOT, "framework", "include"),
            "-I", os.path.join(ROOT, "components", "tcp")]
COMMON = ["-std=c11", "-Os", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-c"]
M4 = ["-mcpu=cortex-m4", "-mthumb", "-ffunction-sections", "-fdata-sections"]

ROWS = [
    ("tcp_cb", "**struct tcp_cb** (the control block)"),
    ("tcp_cb_tmr", "&nbsp;&nbsp;`tmr`: the one os timer (struct lyra_timer)"),
    ("tcp_cb_cc", "&nbsp;&nbsp;`cc`: congestion control (struct tcp_cc)"),
    ("tcp_cb_rto", "&nbsp;&nbsp;`rto`: RFC 6298 state (struct tcp_rto)"),
    ("tcp_cb_tm", "&nbsp;&nbsp;`tm`: deadlines per timer kind (struct tcp_timers)"),
    ("tcp_cb_ooo", "&nbsp;&nbsp;`ooo`: out-of-order ranges' head (struct tcp_ooo)"),
    ("tcp_cb_rest", "&nbsp;&nbsp;addresses, sequence variables, windows, options, state"),
    ("tcp_ep", "struct tcp_ep (the user's side: queues, options, accept queue)"),
    ("tcp_range", "struct tcp_range (one out-of-order range; `ooo_ranges` per connection)"),
    ("tcp", "struct tcp (the instance, without its table)"),
]


def sizes(cc, nm, flags):
    """{name: bytes} from compiling SRC with cc, or None (reason on stderr)."""
    if not shutil.which(cc) or not shutil.which(nm):
        print("tcp_cb_size: %s or %s not found" % (cc, nm), file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        obj = os.path.join(tmp, "tcp_cb_size.o")
        cmd = [cc] + COMMON + flags + INCLUDES + [SRC, "-o", obj]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            print("tcp_cb_size: %s failed:\n%s" % (" ".join(cmd), r.stderr), file=sys.stderr)
            return None
        out = subprocess.run([nm, "-S", obj], capture_output=True, text=True, check=True).stdout
    got = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[3].startswith("lyra_sz_"):
            got[f[3][len("lyra_sz_"):]] = int(f[1], 16)
    return got


def version(cc):
    r = subprocess.run([cc, "--version"], capture_output=True, text=True)
    return r.stdout.splitlines()[0] if r.returncode == 0 and r.stdout else cc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--arm-cc", default="arm-none-eabi-gcc")
    ap.add_argument("--arm-nm", default="arm-none-eabi-nm")
    a = ap.parse_args()
    cols = [("x86-64", a.cc, sizes(a.cc, a.nm, [])),
            ("Cortex-M4", a.arm_cc, sizes(a.arm_cc, a.arm_nm, M4))]
    if not any(c[2] for c in cols):
        return 1
    print("| bytes | " + " | ".join(c[0] for c in cols) + " |")
    print("| --- | " + " | ".join("---:" for _ in cols) + " |")
    for key, label in ROWS:
        cells = []
        for _, _, got in cols:
            v = got.get(key) if got else None
            cells.append("-" if v is None else ("**%d**" % v if key == "tcp_cb" else str(v)))
        print("| %s | %s |" % (label, " | ".join(cells)))
    print()
    print("Compilers: " + "; ".join("%s: %s" % (n, version(cc)) for n, cc, got in cols if got) +
          " (-Os; Cortex-M4: " + " ".join(M4[:2]) + ").")
    return 0


if __name__ == "__main__":
    sys.exit(main())
