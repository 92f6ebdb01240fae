#!/usr/bin/env bash
# RAM of each assembly at start (bench/ram.py): runs each assembly's stack
# for a moment on a wire of its own (no peer: nothing is sent) and reads
# --stats-json's "ram" object. Writes bench/results/ram.md.
#   bench/ram.sh [BUILD_DIR]   (default build; RAM_OUT=FILE writes the
#   table there instead: the test suite's run, tests/integration)
set -euo pipefail
cd "$(dirname "$0")/.."
B=$(cd "${1:-build}" && pwd)
D=$B/bench/ram
[ -x "$B/bin/lyranet" ] || { echo "ram.sh: $B/bin/lyranet is not built (cmake --build $B)" >&2; exit 1; }
export LYRA_COMPONENT_PATH=$B/lib/lyra
mkdir -p "$D" bench/results
# run ASSEMBLY OUT.json [INST.PARAM=V]: the stack on a wire of its own
run() {
    "$B/bin/lyranet" run "assemblies/$1.lyra" "dev.link=wire:ram$$" ${3:+"$3"} --for 0.05 \
        --stats-json "$2" >"$2.out" 2>&1 || { cat "$2.out" >&2; exit 1; }
}
args=()
for a in copy-pio copy-dma zc-pio zc-dma; do
    echo "ram.sh: $a" >&2
    run "$a" "$D/$a.json"
    args+=("$a=$D/$a.json")
done
# one more of each pool: ASSEMBLY INST.PARAM VALUE N (VALUE: the manifest's + N)
while read -r a ip v n; do
    echo "ram.sh: $a $ip=$v" >&2
    run "$a" "$D/$a.$ip.json" "$ip=$v"
    args+=("+$a:$ip:$n=$D/$a.$ip.json")
done <<'EOF'
copy-dma tcp.max_conns 128 64
copy-dma udp.max_sockets 32 16
copy-dma sock.max_fds 64 32
copy-dma skb.count 512 256
copy-dma skb.segs 1024 512
zc-dma skb.count 512 256
zc-dma skb.rx_pages 512 256
zc-dma skb.cow_pages 512 256
zc-dma skb.pkt_pages 2048 1024
EOF
OUT=${RAM_OUT:-bench/results/ram.md}
python3 bench/ram.py "$OUT" "${args[@]}"
echo "ram.sh: $OUT written" >&2
