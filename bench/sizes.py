#!/usr/bin/env python3
"""Size table of the components and lyra_core, from static libraries built by
bench/sizes.sh: text, rodata, data, bss per component for each build given.
usage: sizes.py OUT.md LABEL:SIZE_TOOL:LIBDIR ...  (first two builds are
compared as "docs" vs "no docs" per target)"""
import os
import re
import subprocess
import sys

COPY_PIO = ["lyra_core", "eth", "ip", "tcp", "udp", "socket", "skb_copy", "nic_pio"]
# Zero copy against copy (issue 12.6): each zc assembly against its copy
# twin, components from the manifests; the host stand-ins (os adapter,
# device models) are not part of an embedded assembly.
TWINS = [("copy-pio", "zc-pio"), ("copy-dma", "zc-dma")]
HOST_ONLY = {"os_posix", "ne2k_model", "e1000_model"}


def assembly_components(name):
    """lyra_core and the components of assemblies/NAME.lyra, or None."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assemblies",
                        name + ".lyra")
    if not os.path.exists(path):
        return None
    comps = {"lyra_core"}
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s*component\s*=\s*(\w+)", line)
            if m and m.group(1) not in HOST_ONLY:
                comps.add(m.group(1))
    return sorted(comps)


def twins_section(builds, data):
    lines = ["## Zero copy against copy: each zc assembly against its copy twin", "",
             "text+rodata of lyra_core and the assembly's components (from its manifest, "
             "without the host's os adapter and device models). Target: at most +2% "
             "(paper: +1.1 to +1.7%).", "",
             "| build | copy | bytes | zc | bytes | difference | bytes over +2% | target |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: | --- |"]
    for label, _, _ in builds:
        for copy, zc in TWINS:
            cc, zz = assembly_components(copy), assembly_components(zc)

            def total(comps):
                missing = [n for n in comps if n not in data[label]]
                if missing:
                    return None, "not built: " + ", ".join(missing)
                return sum(data[label][n]["text"] + data[label][n]["rodata"] for n in comps), ""
            ct, cwhy = total(cc) if cc else (None, "no manifest")
            if not zz:
                lines.append("| %s | %s | %s | %s | not measured (skb_zc not merged) | | | |" % (
                    label, copy, ct if ct is not None else cwhy, zc))
                continue
            zt, zwhy = total(zz)
            diff = ("%+.2f%%" % (100.0 * (zt - ct) / ct)) if ct and zt else ""
            over, verdict = "", ""
            if ct and zt:
                # bytes beyond what +2% allows (negative: room left)
                over = "%+d" % (zt - ct - int(ct * 0.02))
                verdict = "meets" if zt - ct <= ct * 0.02 else "misses"
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                label, copy, ct if ct is not None else cwhy, zc,
                zt if zt is not None else zwhy, diff, over, verdict))
    lines.append("")
    return lines


def classify(sec):
    if sec.startswith(".text"):
        return "text"
    if sec.startswith(".rodata") or sec.startswith(".data.rel.ro"):
        return "rodata"  # const (descriptors with pointers land in .data.rel.ro)
    if sec.startswith(".data"):
        return "data"
    if sec.startswith(".bss"):
        return "bss"
    return None


def measure(size_tool, lib):
    out = subprocess.run([size_tool, "-A", lib], capture_output=True, text=True, check=True).stdout
    tot = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for line in out.splitlines():
        m = re.match(r"(\.\S+)\s+(\d+)\s+\d+", line)
        if m and classify(m.group(1)):
            tot[classify(m.group(1))] += int(m.group(2))
    return tot


def libs(d):
    res = {}
    for f in sorted(os.listdir(d)):
        m = re.match(r"liblyra_(?:c_)?(\w+)\.a$", f)
        if m and (f.startswith("liblyra_c_") or f == "liblyra_core.a"):
            name = "lyra_core" if f == "liblyra_core.a" else m.group(1)
            res[name] = os.path.join(d, f)
    return res


def main():
    out, builds = sys.argv[1], [b.split(":", 2) for b in sys.argv[2:]]
    data = {}
    for label, tool, d in builds:
        data[label] = {n: measure(tool, p) for n, p in libs(d).items()}
    names = sorted(set().union(*[set(v) for v in data.values()]),
                   key=lambda n: (n != "lyra_core", n))
    lines = ["# Code size per component", "",
             "Bytes from the static libraries (`size -A`, sections summed by kind: "
             ".text*, .rodata* and .data.rel.ro* as rodata, .data*, .bss*). "
             "Reproduce: `bench/sizes.sh` (writes this file).", ""]
    for label, _, _ in builds:
        lines += ["## %s" % label, "",
                  "| component | text | rodata | data | bss | text+rodata |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for n in names:
            t = data[label].get(n)
            if t:
                lines.append("| %s | %d | %d | %d | %d | %d |" % (n, t["text"], t["rodata"], t["data"],
                                                               t["bss"], t["text"] + t["rodata"]))
        tot = {k: sum(data[label][n][k] for n in COPY_PIO if n in data[label])
               for k in ("text", "rodata", "data", "bss")}
        lines.append("| **copy-pio's (%s)** | %d | %d | %d | %d | **%d** |" % (
            ", ".join(COPY_PIO), tot["text"], tot["rodata"], tot["data"], tot["bss"],
            tot["text"] + tot["rodata"]))
        lines.append("")
    lines += ["## copy-pio's components, text+rodata", "",
              "| build | text | rodata | text+rodata |", "| --- | ---: | ---: | ---: |"]
    for label, _, _ in builds:
        t = sum(data[label][n]["text"] for n in COPY_PIO if n in data[label])
        r = sum(data[label][n]["rodata"] for n in COPY_PIO if n in data[label])
        lines.append("| %s | %d | %d | %d |" % (label, t, r, t + r))
    lines.append("")
    twins = twins_section(builds, data)
    lines += twins
    with open(out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines[-len(builds) - 4 - len(twins):]))


if __name__ == "__main__":
    main()
