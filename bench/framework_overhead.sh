#!/usr/bin/env bash
# Instructions per frame (callgrind) through eth on a fake NIC: static vs
# dlopen vs hand-wired baseline, in one run. Writes
# bench/results/framework_overhead.md.
#   bench/framework_overhead.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
export LYRA_SOURCE_DIR=$PWD LYRA_COMPONENT_PATH=$PWD/$B/lib/lyra
# glibc would pick rep movsb under valgrind and skew copies (notes/measuring.md)
export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
N1=1000
N2=11000
ir() { # ir MODE FRAMES -> total instructions
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$B/bench/framework_overhead" "$1" "$2" \
        >/dev/null 2>&1
    callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}'
    rm -f "$out"
}
res=bench/results/framework_overhead.md
{
    echo "# Framework overhead: instructions per frame through eth"
    echo
    echo "Machine: $(uname -m), $(nproc) cores; compiler: $(cc --version | head -1)"
    echo "Build: $(grep CMAKE_BUILD_TYPE: "$B/CMakeCache.txt" | cut -d= -f2); date: $(date -u +%F)"
    echo "Command: bench/framework_overhead.sh $B (valgrind --tool=callgrind, ($N2 - $N1) frames)"
    echo
    echo "A frame is a real Linux ARP request answered by eth (one receive, one transmit)."
    echo "\"direct\" wires the same components by hand with no framework runtime."
    echo
    echo "| mode | instructions/frame | vs direct |"
    echo "| --- | ---: | ---: |"
} >"$res"
base=""
for m in direct static dynamic static-poll dynamic-poll; do
    a=$(ir "$m" $N1)
    b=$(ir "$m" $N2)
    per=$(( (b - a) / (N2 - N1) ))
    [ -z "$base" ] && base=$per
    pct=$(awk -v p="$per" -v b="$base" 'BEGIN {printf "%+.1f%%", (p-b)*100/b}')
    echo "| $m | $per | $pct |" >>"$res"
    echo "$m: $per instructions/frame ($pct)"
done
echo >>"$res"
echo "-poll modes add one lyra_stack_poll step per frame (each instance's poll hook and the due-timer scan)." >>"$res"
cat "$res"
