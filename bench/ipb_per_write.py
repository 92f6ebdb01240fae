#!/usr/bin/env python3
"""Per segment and per write: the stack's instructions split into what each
MSS segment costs and what each application write costs (with the frame,
the receive run, the ACK and the reads that come with it), from bench/ipb
runs under callgrind at two write sizes (issue 11.4).

  python3 bench/ipb_per_write.py SRC [--top N] [--md FILE] RUN RUN RUN RUN

RUN is CG:WRITES:SEGMENTS (a callgrind file, the writes ipb made, the data
segments its sender sent): two runs of one write size (the slope drops
set-up out), then two of another size moving the same bytes. With s
segments per write, cost per segment = A + W / s; the two sizes give A (per
segment) and W (per write). Counted as in bench/callgrind_stack.py (the
stack's code and the libc it calls), the checksum's lines left out.
Prints A and W, the cost per segment each size predicts and measured, per
component, and the N functions with the largest W; --md FILE writes the
same as Markdown tables there (the callgrind files are read once for
both). Standard library only."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from callgrind_stack import split  # noqa: E402


def run(spec, src):
    cg, writes, segs = spec.rsplit(":", 2)
    res, per_fn = split(cg, src)
    fns = {fn: ir - cs for fn, (ir, cs) in per_fn.items()}
    dirs = {k[4:]: v for k, v in res.items() if k.startswith("dir_")}
    return int(writes), int(segs), res["stack"] - res["csum"], fns, dirs


def slope(lo, hi, pick):
    """Per segment between two runs of one write size, and segments per write."""
    dseg = hi[1] - lo[1]
    return (lambda k: (pick(hi, k) - pick(lo, k)) / dseg), dseg / (hi[0] - lo[0])


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("src")
    ap.add_argument("runs", nargs=4)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--md", metavar="FILE")
    a = ap.parse_args()
    top, md, src = a.top, a.md, a.src.rstrip("/")
    r = [run(x, src) for x in a.runs]

    def pick_total(x, _):
        return x[2]

    def pick_fn(x, k):
        return x[3].get(k, 0)

    def pick_dir(x, k):
        return x[4].get(k, 0)

    def solve(pick, key):
        (c1, s1), (c2, s2) = slope(r[0], r[1], pick), slope(r[2], r[3], pick)
        a, b = c1(key), c2(key)
        w = (a - b) / (1 / s1 - 1 / s2)
        return a - w / s1, w, a, b, s1, s2

    A, W, m1, m2, s1, s2 = solve(pick_total, None)
    fns = set().union(*(x[3] for x in r))
    rows = sorted(((solve(pick_fn, f), f) for f in fns), key=lambda t: -t[0][1])[:top]
    dirs = sorted(set().union(*(x[4] for x in r)))
    drows = [(d, solve(pick_dir, d)) for d in dirs]
    if md:
        with open(md, "w") as f:
            f.write(f"| | per segment (A) | per write (W) | per segment at {s1:.2f} segments "
                    f"a write | at {s2:.2f} |\n| --- | ---: | ---: | ---: | ---: |\n"
                    f"| all | {A:.0f} | {W:.0f} | {m1:.0f} | {m2:.0f} |\n")
            for d, (a, w, c1, c2, _, _) in drows:
                f.write(f"| {d} | {a:.0f} | {w:.0f} | {c1:.0f} | {c2:.0f} |\n")
            f.write("\n| function | per segment (A) | per write (W) |\n| --- | ---: | ---: |\n")
            for (a, w, _, _, _, _), fn in rows:
                f.write(f"| {fn} | {a:.0f} | {w:.0f} |\n")
    print(f"per segment A={A:.0f} per write W={W:.0f} (beyond the checksum); "
          f"measured {m1:.0f} at {s1:.2f} segments a write, {m2:.0f} at {s2:.2f}")
    for d, (a, w, _, _, _, _) in drows:
        print(f"  {d:10s} A={a:7.0f} W={w:7.0f}")
    for (a, w, _, _, _, _), f in rows:
        print(f"  {w:8.0f} {a:8.0f}  {f}")


if __name__ == "__main__":
    main()
