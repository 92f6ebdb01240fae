#!/usr/bin/env python3
"""A short summary of a --stats-json file: per stack, what moved and anything
dropped or failed, in two or three lines (the full counters stay in the file).
usage: tools/stats_summary.py FILE.json"""
import json
import re
import sys

# Counters whose name says something went wrong when they moved.
BAD = re.compile(r"drop|fail|bad|err|timeout|overflow|nobuf|missed|too_big|busy|"
                 r"crc|corrupt|unreach|trunc|invalid|reject|noroute|nomem|full")
# Frames sent while nobody listened on the wire (a stack that starts before
# its peer): counted, but not a fault of the stack; shown apart.
NOPEER = re.compile(r"nopeer")
# Headline figures, shown where the stack has them: (label, [(inst, counter)]).
HEAD = [("frames out/in", [("nic", "tx_frames"), ("nic", "rx_frames")]),
        ("IP packets out/in", [("ip", "tx_packets"), ("ip", "rx_packets")]),
        ("reassembled", [("ip", "reass_ok")]),
        ("UDP datagrams out/in", [("udp", "tx_datagrams"), ("udp", "rx_datagrams")]),
        ("TCP segments out/in", [("tcp", "tx_segments"), ("tcp", "rx_segments")]),
        ("TCP retransmitted", [("tcp", "tx_retrans_segs")]),
        ("TSO frames/segments", [("tcp", "tx_tso"), ("tcp", "tx_tso_segs")]),
        ("received runs/frames chained", [("nic", "rx_gro_runs"), ("nic", "rx_gro_chained")]),
        ("ICMP echoes answered", [("ip", "icmp_echo_replies_sent")]),
        ]


def counters(inst):
    return {k: v for k, v in inst.items() if isinstance(v, int)}


def summary(name, stack):
    copy = stack.get("copy", {})
    # "copy" and "ram" are the stack's own objects, not instances
    moved = {(i, k): v for i, c in stack.items()
             if isinstance(c, dict) and i not in ("copy", "ram")
             for k, v in counters(c).items() if v}
    bad = ["%s.%s=%d" % (i, k, v) for (i, k), v in moved.items()
           if BAD.search(k) and not NOPEER.search(k)]
    early = sum(v for (i, k), v in moved.items() if NOPEER.search(k))
    head = []
    for label, keys in HEAD:
        vals = [stack.get(i, {}).get(k) for i, k in keys]
        if all(isinstance(v, int) for v in vals) and any(vals):
            head.append("%s %s" % (label, "/".join(str(v) for v in vals)))
    print("%s: %d counters moved in %d instances; %s" % (
        name, len(moved), len({i for i, _ in moved}),
        "dropped or failed: " + ", ".join(bad) if bad else "nothing dropped or failed"))
    if early:
        head.append("%d sent before the wire had a peer" % early)
    ram = stack.get("ram", {})
    if ram.get("stack_bytes"):  # lyra_stack_ram: structs and what start took
        head.append("RAM %.0f KiB" % (ram["stack_bytes"] / 1024))
    if head:
        print("  " + "; ".join(head))
    if copy:  # the "copy" object (docs/buffers.md, "Copies")
        print("  payload tx %d copied / %d referenced, rx %d copied / %d remapped / %d loaned"
              % tuple(copy.get(k, 0) for k in ("tx_copied_bytes", "tx_referenced_bytes",
                                                "rx_copied_bytes", "rx_remapped_bytes",
                                                "rx_loaned_bytes")))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(sys.argv[1]) as f:
        stacks = json.load(f)
    # lyranet run writes one stack's object (its "copy" at the top), the
    # tools that run several write {"STACK": {...}, ...}
    if "tx_copied_bytes" in stacks.get("copy", {}):
        stacks = {"stack": stacks}
    for name, stack in stacks.items():
        summary(name, stack)


if __name__ == "__main__":
    main()
