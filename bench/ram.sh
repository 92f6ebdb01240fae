#!/usr/bin/env bash
# RAM of each assembly at start (bench/ram.py): runs each assembly's stack
# for a moment on a wire of its own (no peer: nothing is sent) and reads
# --stats-json's "ram" object. Writes bench/results/ram.md.
#   bench/ram.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
D=$B/bench/ram
[ -x "$B/bin/lyranet" ] || { echo "ram.sh: $B/bin/lyranet is not built (cmake --build $B)" >&2; exit 1; }
export LYRA_COMPONENT_PATH=$PWD/$B/lib/lyra
mkdir -p "$D" bench/results
args=()
for a in copy-pio copy-dma zc-pio zc-dma; do
    echo "ram.sh: $a" >&2
    "$B/bin/lyranet" run "assemblies/$a.lyra" "dev.link=wire:ram$$" --for 0.05 \
        --stats-json "$D/$a.json" >"$D/$a.out" 2>&1 || { cat "$D/$a.out" >&2; exit 1; }
    args+=("$a=$D/$a.json")
done
python3 bench/ram.py bench/results/ram.md "${args[@]}"
echo "ram.sh: bench/results/ram.md written" >&2
