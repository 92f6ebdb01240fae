#!/usr/bin/env bash
# Timers (issue 8.2): instructions per re-arm with 1,000, 16,000 and 100,000
# timers armed, and per idle lyra_stack_poll step on eth-fake, counted by
# callgrind over one phase (--toggle-collect) and split by part
# (bench/callgrind_groups.py). Prints the figures of bench/results/timers.md.
#   bench/timers.sh [BUILD_DIR]      (a RelWithDebInfo or Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
export LYRA_SOURCE_DIR=$PWD
R=${R:-20000} # re-arms per run (fewer for an O(n) timer list)
K=10000 # idle steps per run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in 1000 16000 100000; do
    echo "== re-arm, $n timers armed ($R re-arms; per re-arm):"
    valgrind --tool=callgrind --toggle-collect=rearm_phase --callgrind-out-file="$tmp/r$n" \
        "$B/bench/timers" rearm "$n" "$R" >/dev/null 2>&1
    python3 bench/callgrind_groups.py "$tmp/r$n" "$R"
done
echo "== idle lyra_stack_poll step on eth-fake ($K steps; per step):"
valgrind --tool=callgrind --toggle-collect=idle_phase --callgrind-out-file="$tmp/idle" \
    "$B/bench/timers" idle "$K" >/dev/null 2>&1
python3 bench/callgrind_groups.py "$tmp/idle" "$K"
