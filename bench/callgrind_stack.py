#!/usr/bin/env python3
"""A callgrind profile split into the stack's code and the rest, from the raw
output file (no callgrind_annotate), for bench/ipb.sh (issue 11.4).

  python3 bench/callgrind_stack.py SRC OUT [--top N] [--by-dir]

SRC is the source tree (absolute), OUT a callgrind output file. Prints one
line of KEY=VALUE instruction counts (and with --top, the N dearest stack
functions after it, self + libc they call, with their checksum part; with
--by-dir, one line of dir_NAME=COUNT per component directory of the stack,
components/X or framework, each with the libc it calls):

  stack      the stack: every instruction of a function whose file is under
             SRC/components/ or SRC/framework/ (with what the compiler
             inlined into it), plus everything such a function calls outside
             the tree (libc: memcpy, memset, the stack lock), inclusive
  csum       the part of stack on lines of the checksum code (CSUM_FILES:
             inlined, so told apart by the line's file) and in the libc the
             checksum code calls (none today)
  libc       the part of stack spent in libc (by callee: memcpy family,
             locks, other)
  os         os_adapters/ but the link (clock, timers, locks), with its libc
  link       os_adapters/posix/link*.c and pcap (the in-process wire)
  device     models/ (the NE2000 and e1000 device models), with its libc
  app        bench/ and tools/ (the benchmark's own loop and checks), libc
  other      outside the tree and not called from it (start-up, ld.so)
  total      all collected instructions (a check: the parts add up to it)

A function's part is that of its own file (fl=), not that of code inlined
into it (fi=/fe=), so an inline framework helper the e1000 model uses for
its checksum offload counts as device, not stack. libc called from libc is
counted once, by the first tree function up the call chain. Standard
library only."""
import re
import sys
from collections import defaultdict

# Files whose lines are the software Internet checksum: inline helpers,
# lyra_csum_copy's sum included (its memcpy call is a libc copy).
CSUM_FILES = ("framework/include/lyra/inet_csum.h", "framework/include/lyra/skb_csum.h")

PARTS = [
    ("link", r"^os_adapters/posix/(link[^/]*|pcap_writer)\.c$"),
    ("os", r"^os_adapters/"),
    ("stack", r"^(components|framework)/"),
    ("device", r"^models/"),
    ("app", r"^(bench|tools|tests)/"),
]

NAME_RX = re.compile(r"^\((\d+)\)(?: (.*))?$")


class Names:
    """callgrind's name compression: '(id) name' defines, '(id)' refers."""

    def __init__(self):
        self.tab = {}

    def get(self, s):
        m = NAME_RX.match(s)
        if not m:
            return s
        if m.group(2) is not None:
            self.tab[m.group(1)] = m.group(2)
        return self.tab.get(m.group(1), s)


def part_of(path, src):
    if not path.startswith(src + "/"):
        return "ext"
    rel = path[len(src) + 1:]
    for name, rx in PARTS:
        if re.search(rx, rel):
            return name
    return "ext"


def is_csum(path, src):
    return any(path == src + "/" + f for f in CSUM_FILES)


def parse(out, src):
    files, fns = Names(), Names()
    # self[(fl, fn)] = [instructions, of which checksum lines]
    self_ = defaultdict(lambda: [0, 0])
    # calls from a function to another: (caller fl, fn) -> (callee fl, fn) -> inclusive
    calls = defaultdict(lambda: defaultdict(int))
    fl = fi = fn = None
    cfl = cfn = None
    pending_call = False
    total = 0
    with open(out, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                fields = line.split()
                cost = int(fields[1]) if len(fields) > 1 else 0
                if pending_call:
                    # no cfi=: the callee is in the caller's current file
                    calls[(fl, fn)][(cfl if cfl is not None else fi, cfn)] += cost
                    pending_call = False
                    cfl = None
                else:
                    s = self_[(fl, fn)]
                    s[0] += cost
                    if fi != fl and is_csum(fi, src):
                        s[1] += cost
                    total += cost
                continue
            key, _, val = line.partition("=")
            if key == "fl":
                fl = fi = files.get(val)
            elif key in ("fi", "fe"):
                fi = files.get(val)
            elif key == "fn":
                fn = fns.get(val)
                fi = fl
            elif key in ("cfi", "cfl"):
                cfl = files.get(val)
            elif key == "cfn":
                cfn = fns.get(val)
            elif key == "calls":
                pending_call = True
            elif key in ("ob", "cob"):
                pass
    return self_, calls, total


def libc_kind(fn):
    if re.search(r"mem(cpy|move|set|cmp)|str", fn or ""):
        return "libc_mem"
    if re.search(r"pthread|lll_|mutex|futex", fn or ""):
        return "libc_lock"
    return "libc_other"


def dir_of(path, src):
    """components/X or framework, for a stack file."""
    rel = path[len(src) + 1:]
    parts = rel.split("/")
    return parts[1] if parts[0] == "components" and len(parts) > 2 else parts[0]


def split(out, src):
    self_, calls, total = parse(out, src)
    sums = defaultdict(int)
    per_fn = defaultdict(lambda: [0, 0])  # stack function -> [self + libc, checksum]
    per_dir = defaultdict(int)
    for (fl, fn), (ir, cs) in self_.items():
        p = part_of(fl or "", src)
        sums[p] += ir
        if p == "stack":
            sums["csum"] += cs
            per_fn[fn][0] += ir
            per_fn[fn][1] += cs
            per_dir[dir_of(fl, src)] += ir
    # libc (ext) called straight from a tree function: charged to that part
    for (fl, fn), callees in calls.items():
        p = part_of(fl or "", src)
        if p == "ext":
            continue
        for (cfl, cfn), ir in callees.items():
            if part_of(cfl or "", src) != "ext":
                continue
            sums[p + "_libc"] += ir
            sums["ext"] -= ir
            if p == "stack":
                sums[libc_kind(cfn)] += ir
                per_fn[fn][0] += ir
                per_dir[dir_of(fl, src)] += ir
                if fl and is_csum(fl, src):
                    sums["csum"] += ir
    # libc that calls back into the tree would be counted twice: report it
    back = sum(ir for (fl, fn), callees in calls.items() if part_of(fl or "", src) == "ext"
               for (cfl, cfn), ir in callees.items()
               if part_of(cfl or "", src) != "ext" and not re.search(r"below main|start_thread|^main$|__libc_start", fn or ""))
    res = {
        "stack": sums["stack"] + sums["stack_libc"],
        "csum": sums["csum"],
        "libc": sums["stack_libc"],
        "libc_mem": sums["libc_mem"],
        "libc_lock": sums["libc_lock"],
        "libc_other": sums["libc_other"],
        "os": sums["os"] + sums["os_libc"],
        "link": sums["link"] + sums["link_libc"],
        "device": sums["device"] + sums["device_libc"],
        "app": sums["app"] + sums["app_libc"],
        "other": sums["ext"],
        "callback": back,
        "total": total,
    }
    res.update({"dir_" + d: v for d, v in sorted(per_dir.items())})
    return res, per_fn


def main():
    args = sys.argv[1:]
    top = 0
    by_dir = "--by-dir" in args
    if by_dir:
        args.remove("--by-dir")
    if "--top" in args:
        k = args.index("--top")
        top = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    src, out = args[0].rstrip("/"), args[1]
    res, per_fn = split(out, src)
    print(" ".join(f"{k}={v}" for k, v in res.items() if by_dir or not k.startswith("dir_")))
    if top:
        for fn, (ir, cs) in sorted(per_fn.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"  {ir:14d} {cs:14d}  {fn}")


if __name__ == "__main__":
    main()
