#!/usr/bin/env bash
# Instructions per frame (callgrind) through the NIC drivers over their
# device models: nic_pio over ne2k_model and nic_dma over e1000_model,
# transmit and receive, 60- and 1514-byte frames. Each case runs at two
# frame counts; the difference divided by the frame difference is the
# per-frame cost (set-up and tear-down cancel). The cost is split by source
# file (callgrind_annotate --inclusive=no): models/ is the
# device model's emulation, components/nic_* the driver, the rest (skb_copy,
# fake_os, the lt harness, the benchmark loop, libc) is "other". Writes
# bench/results/nic_drivers.md.
#   bench/nic_drivers.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
SRC=$PWD
export LYRA_SOURCE_DIR=$PWD
# glibc would pick rep movsb under valgrind and skew copies (notes/measuring.md)
export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
[ -x "$B/bench/nic_drivers" ] || { echo "$B/bench/nic_drivers is not built"; exit 1; }
N1=1000
N2=6000

# Reads callgrind_annotate --inclusive=no --tree=caller output; prints
#   total driver model other libc libc->driver libc->model libc->other
# driver/model/other: self cost by source file (libc and ld.so count as
# other); libc: the part of other in code outside the source tree (memcpy,
# memset...), and that same cost charged to the category of its callers
# (in proportion to the callers' inclusive costs).
# shellcheck disable=SC2016 # an awk program: $ is awk's
SPLIT_AWK='
function cat_of(f) {
    if (index(f, src "/") != 1) return "ext"
    f = substr(f, length(src) + 2)
    if (f ~ /^models\//) return "model"
    if (f ~ /^components\/nic_/) return "driver"
    return "other"
}
function num(s) { gsub(",", "", s); return s + 0 }
function fname(line,   s) { s = line; sub(/^.*  [<*]  ?/, "", s); sub(/:.*/, "", s); return s }
/PROGRAM TOTALS/ { total = num($1); next }
/^ *[0-9,]+ \([ 0-9.]+%\)  < / { k = cat_of(fname($0)); callc[k] += num($1); csum += num($1); next }
/^ *[0-9,]+ \([ 0-9.]+%\)  \*  / {
    cost = num($1); c = cat_of(fname($0))
    if (c != "ext") self[c] += cost
    else {
        self["ext"] += cost
        if (csum > 0) for (k in callc) lib[k] += cost * callc[k] / csum
        else lib["ext"] += cost
    }
    csum = 0; delete callc; next
}
END {
    printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", total, self["driver"], self["model"],
        self["other"] + self["ext"], self["ext"], lib["driver"], lib["model"],
        lib["other"] + lib["ext"]
}'

split() { # split DRIVER DIR SIZE FRAMES -> the 8 numbers above
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$B/bench/nic_drivers" "$@" \
        >/dev/null 2>&1 || { echo "nic_drivers $* failed" >&2; rm -f "$out"; exit 1; }
    # (from / so that paths stay absolute: callgrind_annotate strips the cwd)
    (cd / && callgrind_annotate --inclusive=no --tree=caller --threshold=100 "$out" 2>/dev/null) |
        awk -v src="$SRC" "$SPLIT_AWK"
    rm -f "$out"
}

res=bench/results/nic_drivers.md
rows=""
rows2=""
for drv in pio dma; do
    for dir in tx rx; do
        for size in 60 1514; do
            a=$(split "$drv" "$dir" "$size" $N1)
            b=$(split "$drv" "$dir" "$size" $N2)
            per=$(awk -v a="$a" -v b="$b" -v n=$((N2 - N1)) 'BEGIN {
                split(a, x, " "); split(b, y, " ")
                for (i = 1; i <= 8; i++) p[i] = (y[i] - x[i]) / n
                printf "%.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", p[1], p[2], p[3], p[4], p[5],
                    p[2] + p[6], p[3] + p[7], p[4] - p[5] + p[8]
            }')
            read -r tot d m o lib d2 m2 o2 <<<"$per"
            name=$([ "$drv" = pio ] && echo "nic_pio / ne2k_model" || echo "nic_dma / e1000_model")
            rows+="| $name | $dir | $size | $tot | $d | $m | $o | $lib |"$'\n'
            rows2+="| $name | $dir | $size | $tot | $d2 | $m2 | $o2 |"$'\n'
            echo "$drv $dir $size: $tot instructions/frame (driver $d, model $m, other $o; libc $lib)"
        done
    done
done

{
    echo "# NIC drivers: instructions per frame over the device models"
    echo
    echo "Machine: $(uname -m), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
    echo "Compiler: $(grep CMAKE_C_COMPILER:FILEPATH= "$B/CMakeCache.txt" | cut -d= -f2) ($($(grep CMAKE_C_COMPILER:FILEPATH= "$B/CMakeCache.txt" | cut -d= -f2) --version | head -1));" \
        "build: $(grep CMAKE_BUILD_TYPE: "$B/CMakeCache.txt" | cut -d= -f2); $(valgrind --version); date: $(date -u +%F)"
    echo
    echo "Command: \`bench/nic_drivers.sh $B\` (after \`cmake -S . -B $B && cmake --build $B -j2\`):"
    echo "valgrind --tool=callgrind on \`$B/bench/nic_drivers DRIVER DIR SIZE FRAMES\` at FRAMES = $N1 and $N2,"
    echo "with GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295; per frame = difference / $((N2 - N1))."
    echo
    echo "Per frame: tx = skb_copy alloc + fill SIZE bytes (linear) + xmit + take the frame from the"
    echo "model + one poll step (model, then driver: reclaims the transmission); rx = inject SIZE bytes"
    echo "into the model + one poll step (model, then driver: delivers to a user that frees the skb)."
    echo "Frames are SIZE bytes without FCS, ethertype 0x88b5."
    echo
    echo "Split by source file of each instruction (callgrind_annotate --inclusive=no --tree=caller):"
    echo "model = models/, driver = components/nic_*, other = the rest (skb_copy,"
    echo "fake_os, the lt harness, the benchmark loop, inline skb helpers from framework headers, libc)."
    echo "\"libc\" is the part of \"other\" spent in libc (memcpy/memset), whoever called it."
    echo
    echo "| driver / model | dir | size | instr/frame total | driver | model | other | of other: libc |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$rows"
    echo
    echo "The same with libc's cost charged to the category of its caller (so the model's and the"
    echo "driver's frame copies count where they are made):"
    echo
    echo "| driver / model | dir | size | instr/frame total | driver + its libc | model + its libc | other + its libc |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$rows2"
    echo
    echo "Reading the split: ne2k_model emulates every 16-bit data-port transfer as a call (its"
    echo "bus_insw/bus_outsw loop over bus_inw/bus_outw, and dma_advance moves the remote-DMA"
    echo "address byte by byte), so the pio model column grows with the frame size while nic_pio"
    echo "issues one insw/outsw per frame and its own cost stays flat (on a real card that"
    echo "transfer is the CPU's port I/O time, which instruction counts do not show). gcc"
    echo "inlines some variable-size memcpy as rep movsq (parts of e1000_model, the benchmark's"
    echo "fill): callgrind counts one instruction per 8 bytes there, charged to the calling file;"
    echo "the remaining memcpy calls go to libc (the column above)."
    echo
    echo "nic_dma receives into skbs posted from the pool (netdev 1.1): it copies nothing, so its"
    echo "receive cost no longer grows with the frame; per frame it maps a fresh buffer and unmaps"
    echo "the filled one. e1000_model finds a mapping by its host address in a hash table, so"
    echo "unmapping a buffer posted rx_ring maps earlier costs what unmapping the newest does"
    echo "(its first version searched backwards from the newest: ~880 instructions per frame);"
    echo "a bare-metal bus maps by identity and pays nothing there."
} >"$res"
cat "$res"
