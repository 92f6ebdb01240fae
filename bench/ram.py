#!/usr/bin/env python3
"""RAM of each assembly at its manifest's parameters (bench/ram.sh): what
every instance's struct takes and what it took from the os at start
(lyra_stack_ram, --stats-json's "ram" object), stack components apart from
the host's stand-ins (os adapter, device models), zero copy against copy.

usage: ram.py OUT.md NAME=STATS.json ... [+NAME:INST.PARAM:N=STATS.json ...]
  NAME=STATS.json: an assembly at its manifest's parameters;
  +NAME:INST.PARAM:N=STATS.json: the same assembly with INST.PARAM raised by
  N: the marginal cost of one more (the instance's bytes more, over N)"""
import json
import sys

# what a marginal row means where it is not plain
NOTES = {"skb.pkt_pages": "the page table's entries: the pages come with lyra_pkt_alloc, "
                          "the application's memory",
         "skb.rx_pages": "a receive page and its buffer header",
         "skb.count": "a 2 KB buffer (buf_size) and its header",
         "skb.cow_pages": "a bounce page for copy on write",
         "udp.max_sockets": "an endpoint and its receive queue",
         "tcp.max_conns": "a connection's control block, timers and queues' heads"}
ORDER = ["skb", "nic", "eth", "ip", "udp", "tcp", "sock"]
TWINS = [("copy-pio", "zc-pio"), ("copy-dma", "zc-dma")]


def kib(b):
    return f"{b / 1024:.1f}"


def load(name, path):
    d = json.load(open(path))
    ram = d["ram"]
    if not ram["os_reports"]:
        sys.exit(f"ram.py: {path}: the os did not report its memory")
    rows = {}
    for inst, r in ram["instances"].items():
        if r["host"]:  # a host's stand-in (LYRA_COMP_F_HOST): not in an image
            continue
        extra = 0
        # the e1000 driver's rings come from the model's DMA arena on the
        # host (bus dma_alloc): driver memory on a real machine
        if inst == "nic" and "dev" in d and "dma_alloc_bytes" in d["dev"]:
            extra = d["dev"]["dma_alloc_bytes"]
        rows[inst] = (r["struct"], r["heap"] + extra, r["pages"], r["component"])
    return rows, ram["host_bytes"]


def main():
    out = sys.argv[1]
    data, more = {}, []
    for a in sys.argv[2:]:
        name, path = a.split("=", 1)
        if name.startswith("+"):
            more.append((name[1:].split(":"), path))
        else:
            data[name] = load(name, path)
    names = list(data)
    lines = ["# RAM of each assembly at start", "",
             "What each instance of the stack holds once started, at the parameters its "
             "manifest sets (assemblies/NAME.lyra; every pool is sized there): its struct "
             "(the descriptor's instance_size) and what it took from the os in its start "
             "(lyra_stack_ram: heap as the bytes mem_alloc was asked for, pages from "
             "page_alloc). The e1000 driver's descriptor rings, which the device model's "
             "DMA arena serves on the host (bus dma_alloc), are added to nic. Not counted: "
             "the host's stand-ins (components flagged LYRA_COMP_F_HOST: os_posix, the "
             "device models; last row), what an application takes later (lyra_pkt_alloc "
             "packet memory), and the framework's own bookkeeping (a few hundred bytes an "
             "instance on the host; a static build's is generated tables). KiB, on "
             "x86-64: on a 32-bit target such as the Cortex-M4 the buffers are the same "
             "bytes and the structs and buffer headers, which hold pointers, are smaller.", "",
             "Command: `bench/ram.sh BUILD_DIR` (after `cmake --build BUILD_DIR`); "
             "raw: BUILD_DIR/bench/ram/NAME.json.", ""]
    lines.append("| instance (component) | " + " | ".join(names) + " |")
    lines.append("| --- |" + " ---: |" * len(names))
    insts = [i for i in ORDER if any(i in data[n][0] for n in names)]
    insts += sorted({i for n in names for i in data[n][0]} - set(insts))
    totals = {n: 0 for n in names}
    for i in insts:
        # skb is skb_copy in one assembly, skb_zc in another
        comp = "/".join(sorted({data[n][0][i][3] for n in names if i in data[n][0]}))
        cells = []
        for n in names:
            r = data[n][0].get(i)
            if not r:
                cells.append("")
                continue
            t = r[0] + r[1] + r[2]
            totals[n] += t
            detail = f"struct {r[0]}, heap {kib(r[1])}" + (f", pages {kib(r[2])}" if r[2] else "")
            cells.append(f"{kib(t)} ({detail})")
        lines.append(f"| {i} ({comp}) | " + " | ".join(cells) + " |")
    lines.append("| **stack** | " + " | ".join(f"**{kib(totals[n])}**" for n in names) + " |")
    lines.append("| host stand-ins (not counted) | " + " | ".join(kib(data[n][1]) for n in names) + " |")
    lines += ["", "## Zero copy against copy", "",
              "Chiang and Li (2006) say zero copy reduces memory use as well as CPU "
              "time: no buffer the payload is copied into. As shipped, the zc assemblies "
              "hold more at start, by choice of their manifests: skb_zc keeps skb_copy's "
              "256 transmit buffers of 2 KB (headers, copied pieces, and the send queue's "
              "one buffer per segment, which holds a reference, not the payload) and adds "
              "256 receive pages (one frame a page, so that a page can be remapped) and "
              "256 bounce pages for copy on write: 2 MiB. Smaller counts would do for a "
              "device that receives less at once or sends less from packet memory; what "
              "each costs is in the last table.", "",
              "| copy | KiB | zc | KiB | difference |", "| --- | ---: | --- | ---: | ---: |"]
    for c, z in TWINS:
        if c in totals and z in totals:
            d = totals[z] - totals[c]
            lines.append(f"| {c} | {kib(totals[c])} | {z} | {kib(totals[z])} | "
                         f"{'+' if d >= 0 else ''}{kib(d)} ({100 * d / totals[c]:+.0f}%) |")
    if more:
        lines += ["", "## What one more costs", "",
                  "The same assembly with one parameter raised by N: the instance's bytes "
                  "more, over N (struct, heap and pages; what sizing a pool in a manifest "
                  "buys and costs).", "",
                  "| assembly | parameter | raised by | bytes each | of it pages | what |",
                  "| --- | --- | ---: | ---: | ---: | --- |"]
        for (name, ip, n), path in more:
            inst = ip.split(".")[0]
            base, var = data[name][0][inst], load(name, path)[0][inst]
            d = sum(var[:3]) - sum(base[:3])
            lines.append(f"| {name} | {ip} | {n} | {d / int(n):.0f} | "
                         f"{(var[2] - base[2]) / int(n):.0f} | {NOTES.get(ip, '')} |")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    for n in names:
        print(f"ram: {n}: stack {kib(totals[n])} KiB at start "
              f"(host stand-ins {kib(data[n][1])} KiB not counted)")


if __name__ == "__main__":
    main()
