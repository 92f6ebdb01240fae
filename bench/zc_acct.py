#!/usr/bin/env python3
"""Accounted time per component (issue 12.6), from bench/ipb --json runs.

  zc_acct.py manifest MODE IN.lyra OUT.lyra   accounting switched on
  zc_acct.py split RUN.json a|b               one stack's split, KEY=VALUE
  zc_acct.py report OUT.md INDEX              the tables (bench/zc.sh)

MODE "min" accounts eth's lower binding only (netdev: each frame once),
"full" every binding between the stack's components (sock.l4, tcp.l3 and
.skb, ip.lower and .skb, eth.lower and .skb). With any binding accounted
the framework also times the loop's entries: each poll hook (the driver's:
nic) and the due timers (tcp's receive-batch end, delayed ACK, RTO).

A component's own time is what enters it (ops on bindings it provides,
events on bindings it uses, poll hook; sock: the application's send and
recv as bench/ipb times them; tcp: the timers) minus what it calls out
(ops on bindings it uses, events it raises). Protocol time is the sum over
the stack's components (sock with the socket API, tcp, ip, eth, skb, udp):
the application's calls + frames handed up + timers - frames handed down.
The driver, the device model and the link (nic's poll hook and xmit, less
what it hands up) are apart, as is the application.

Each timed interval holds about one clock read more than it times (the
harness's and the proxies' alike; bench/ipb measures the read): the
corrected figures take clock_ns off per interval entering or leaving a
component. Standard library only."""
import json
import re
import statistics
import sys

PROTOCOL = ["sock", "tcp", "udp", "ip", "eth", "skb"]
DEVICE = ["nic", "dev"]  # driver + device model + link (dev: the model's poll hook)
ACCOUNT = {
    "min": {"eth": "lower"},
    "full": {"sock": "l4", "tcp": "l3, skb", "ip": "lower, skb", "eth": "lower, skb"},
}


def manifest(mode, src, dst):
    want = ACCOUNT[mode]
    out = []
    with open(src) as f:
        for line in f:
            out.append(line)
            m = re.match(r"^\[([a-z_0-9]+)\]\s*$", line)
            if m and m.group(1) in want:
                out.append("account = %s\n" % want[m.group(1)])
    with open(dst, "w") as f:
        f.writelines(out)


def split(run, side):
    """{component: [ns, intervals]} and the harness's figures of one stack."""
    h = run["harness"]
    st = run[side]
    comp = {}

    def add(inst, ns, n):
        c = comp.setdefault(inst, [0, 0])
        c[0] += ns
        c[1] += n

    for user, body in st.items():
        if not isinstance(body, dict):
            continue
        for slot, b in body.get("bindings", {}).items():
            prov = b.get("provider")
            for op, c in b.get("ops", {}).items():
                add(prov, c["ns"], c["calls"])
                add(user, -c["ns"], c["calls"])
            for ev, c in b.get("events", {}).items():
                if slot == "(loop)":  # the loop entered `user` (poll) or ran timers
                    add("tcp" if ev == "run_timers" else user, c["ns"], c["calls"])
                    continue
                add(user, c["ns"], c["calls"])
                add(prov, -c["ns"], c["calls"])
    add("sock", h[side + "_app_ns"], h[side + "_app_calls"])
    clk = h.get("clock_ns", 0.0)
    own = {k: (v[0], v[0] - clk * v[1]) for k, v in comp.items()}
    return own, h


def copies(st):
    """Counters that say where payload bytes were copied, referenced or remapped."""
    out = {}
    for inst, body in st.items():
        if not isinstance(body, dict):
            continue
        for k, v in body.items():
            if isinstance(v, int) and re.search(r"cop(y|ied)|referenced|remapped|loaned|cow_", k):
                out["%s.%s" % (inst, k)] = out.get("%s.%s" % (inst, k), 0) + v
    return out


def figures(path, side):
    run = json.load(open(path))
    own, h = split(run, side)
    prot = sum(own.get(c, (0, 0))[1] for c in PROTOCOL)
    prot_raw = sum(own.get(c, (0, 0))[0] for c in PROTOCOL)
    dev = sum(own.get(c, (0, 0))[1] for c in DEVICE)
    return {"bytes": h["bytes"], "protocol": prot, "protocol_raw": prot_raw, "device": dev,
            "own": {k: v[1] for k, v in own.items()}, "copies": copies(run[side]),
            "wall": h["wall_ns"], "clock_ns": h.get("clock_ns", 0)}


def change(r):
    """A cut in %, said so; a negative one is more time."""
    return "%.0f%% less" % r if r >= 0 else "%.0f%% more" % -r


def med(v):
    return statistics.median(v) if v else float("nan")


def spread(v):
    """(max - min) / median, in %."""
    m = med(v)
    return 100.0 * (max(v) - min(v)) / m if v and m else float("nan")


def paired(copy, zc):
    """The cut of each run of zc against the copy run of the same round
    (copy runs first in each round, the zero-copy modes right after it, so
    a drift of the machine between rounds falls out): (median in %,
    "lo..hi%"), or None without a common round."""
    pc = {r["rep"]: r["protocol"] / r["bytes"] for r in copy}
    cuts = sorted(100.0 * (1 - r["protocol"] / r["bytes"] / pc[r["rep"]])
                  for r in zc if r["rep"] in pc and pc[r["rep"]] > 0)
    if not cuts:
        return None
    return statistics.median(cuts), "%.0f..%.0f%%" % (cuts[0], cuts[-1])


PAPER = {"send": "49-63%", "recv": "23-46%"}
# zero-copy modes per workload (bench/zc.sh's sides), each a row against copy
MODES = {"send": [("zc", "COW"), ("zcmsg", "MSG_ZEROCOPY"),
                  ("zcmsgpkt", "MSG_ZEROCOPY, packet memory")],
         "recv": [("zc", "remap"), ("zcloan", "loan"), ("zcnext", "loan, lyra_loan_next")]}
TARGET = {"send": 60.0, "recv": 46.0}


def report(out, index):
    # index lines: workload side assembly nic mode temp rep json
    rows = [l.split() for l in open(index) if l.strip() and not l.startswith("#")]
    runs = {}
    for wl, side, asm, nic, mode, temp, rep, path in rows:
        try:
            f = figures(path, side)
        except (OSError, ValueError, KeyError) as e:
            print("zc_acct: %s: %s" % (path, e), file=sys.stderr)
            continue
        f["rep"] = rep
        runs.setdefault((wl, nic, mode, temp, asm), []).append(f)
    lines = []
    summary = []
    for wl in ("send", "recv"):
        for temp in ("warm", "cold"):
            for nic in ("pio", "dma"):
                copy = runs.get((wl, nic, "min", temp, "copy-" + nic), [])
                if not copy:
                    continue
                pc = [r["protocol"] / r["bytes"] for r in copy]
                dc = [r["device"] / r["bytes"] for r in copy]
                for side, label in MODES[wl]:
                    zc = runs.get((wl, nic, "min", temp, "%s-%s" % (side, nic)), [])
                    if not zc and side != "zc":
                        continue
                    cell = "| %s | %s | %s | %s | %.3f (%.3f; %.0f%%) | %.3f |" % (
                        wl, temp, nic, label, med(pc), min(pc), spread(pc), med(dc))
                    if zc:
                        pz = [r["protocol"] / r["bytes"] for r in zc]
                        red = 100.0 * (1 - med(pz) / med(pc))
                        red_min = 100.0 * (1 - min(pz) / min(pc))
                        red_pair = paired(copy, zc)
                        tgt = ("%s (target >= %.0f%%)" % (
                            "meets" if red >= TARGET[wl] else "misses", TARGET[wl])
                            if temp == "cold" else "")
                        cell += " %.3f (%.3f; %.0f%%) | **%s** (%s) | %s | %s less | %s | %d+%d |" % (
                            med(pz), min(pz), spread(pz), change(red), change(red_min),
                            "%s (%s)" % (change(red_pair[0]), red_pair[1]) if red_pair else "-",
                            PAPER[wl], tgt, len(copy), len(zc))
                        summary.append(
                            "%-4s %-4s %s %-12s: protocol %.3f -> %.3f ns/B: %s, paired %s "
                            "(paper: %s less)%s"
                            % (wl, temp, nic, label, med(pc), med(pz), change(red),
                               change(red_pair[0]) if red_pair else "-", PAPER[wl],
                               "; " + tgt if tgt else ""))
                    else:
                        cell += " not measured (skb_zc not merged) | - | - | %s | | %d+0 |" % (
                            PAPER[wl], len(copy))
                        summary.append("%-4s %-4s %s: protocol %.3f ns/B (copy; zc not measured)"
                                       % (wl, temp, nic, med(pc)))
                    lines.append(cell)
    comp_lines = []
    order = {"send": 0, "recv": 1, "warm": 0, "cold": 1}
    for (wl, nic, mode, temp, asm), rs in sorted(
            runs.items(), key=lambda kv: (order[kv[0][0]], order[kv[0][3]], kv[0][1], kv[0][4])):
        if mode != "full":
            continue
        names = sorted({k for r in rs for k in r["own"]}, key=lambda k: (k not in PROTOCOL, k))
        parts = ", ".join("%s %.3f" % (k, med([r["own"].get(k, 0) / r["bytes"] for r in rs]))
                          for k in names if k not in ("os", "dev"))
        cp = rs[0]["copies"]
        cps = ", ".join("%s=%d" % (k, v) for k, v in sorted(cp.items()) if v)
        comp_lines.append("| %s | %s | %s | %s | %s | %s |" % (wl, temp, asm, parts,
                          "%.3f" % med([r["protocol"] / r["bytes"] for r in rs]), cps or "-"))
    with open(out, "w") as f:
        f.write("\n".join(["| workload | cache | NIC | zc mode | copy: protocol ns/B (min; spread) | copy: "
                           "driver+model+link ns/B | zc: protocol ns/B (min; spread) | "
                           "zc against copy (of minima) | paired: median of per-run cuts (range) | "
                           "paper | target | runs |",
                           "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"] +
                          lines) + "\n")
        f.write("\n<!-- components -->\n")
        f.write("\n".join(["| workload | cache | assembly | own ns/B per component (median) | "
                           "protocol ns/B | copy counters (first run) |",
                           "| --- | --- | --- | --- | ---: | --- |"] + comp_lines) + "\n")
    print("\n".join(summary))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "manifest":
        manifest(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "split":
        f = figures(sys.argv[2], sys.argv[3])
        print(" ".join("%s=%.0f" % (k, v) for k, v in sorted(f["own"].items())),
              "protocol=%.0f device=%.0f bytes=%d" % (f["protocol"], f["device"], f["bytes"]))
    elif len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
