#!/usr/bin/env bash
# Soak: one TCP transfer (lyra-ttcp, 1 MB by default) between two stacks in
# one process over an impaired in-process wire, again and again with new
# seeds, to find what a test run once never sees: stalls (a transfer many
# times slower than the median) and failures. A run that fails or takes at
# least SLOW seconds keeps the sender's capture (dev.pcap, both directions
# as its card saw them), both stacks' counters and the tool's output.
#
#   tools/soak.sh [-n RUNS] [-b BUILD] [-s SLOW] [-o DIR] SENDER RECEIVER [OVERRIDE...] [-- TTCP-FLAGS...]
#
# SENDER, RECEIVER: assemblies (copy-pio, zc-dma, ...); OVERRIDEs go to both
# stacks (default: dev.loss=5% tcp.rto_min_ms=20 tcp.delack_ms=10, the wire
# tests' lossy case with Linux's other timers); TTCP-FLAGS to lyra-ttcp
# (default -n 128 -l 8192; e.g. --pkt). The receiver is readdressed
# 192.0.2.9. A run is stopped after SOAK_TIMEOUT seconds (300) and counts as
# failed. Exit status: 0 all passed and none slow, 1 a run failed, 2 slow
# runs only. Found this way: a lost fast retransmission waiting for a 3 s
# RTO after a retransmitted handshake (docs/tcp.md, sack_lost_rtx).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
RUNS=200 BUILD=build SLOW=1.0 OUT=
while getopts "n:b:s:o:" opt; do
    case $opt in
    n) RUNS=$OPTARG ;;
    b) BUILD=$OPTARG ;;
    s) SLOW=$OPTARG ;;
    o) OUT=$OPTARG ;;
    *) sed -n '9,19s/^# \{0,1\}//p' "$0" >&2; exit 1 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || { sed -n '9,19s/^# \{0,1\}//p' "$0" >&2; exit 1; }
SND=$1 RCV=$2
shift 2
OVR=() FLAGS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do OVR+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
FLAGS=("$@")
[ ${#OVR[@]} -gt 0 ] || OVR=("dev.loss=5%" "tcp.rto_min_ms=20" "tcp.delack_ms=10")
[ ${#FLAGS[@]} -gt 0 ] || FLAGS=(-n 128 -l 8192)
TTCP=$BUILD/bin/lyra-ttcp
[ -x "$TTCP" ] || { echo "soak: $TTCP is not built (cmake --build $BUILD)" >&2; exit 1; }
for a in "$SND" "$RCV"; do
    [ -f "assemblies/$a.lyra" ] || { echo "soak: no assemblies/$a.lyra" >&2; exit 1; }
done
OUT=${OUT:-$BUILD/soak/$SND-$RCV}
mkdir -p "$OUT"
rm -f "$OUT"/run.* "$OUT/times"
echo "soak: $RUNS runs of lyra-ttcp ${FLAGS[*]}, $SND to $RCV, both with: ${OVR[*]}; slow: >= ${SLOW} s; kept in $OUT/"
t0=$SECONDS
for i in $(seq 1 "$RUNS"); do
    w="dev.link=wire:soak$$-$i"
    set +e
    # a hung run (seen: a failed connect left the peer's accept waiting) ends
    # after SOAK_TIMEOUT seconds and counts as failed (exit 124)
    out=$(timeout "${SOAK_TIMEOUT:-300}" "$TTCP" -t -q "${FLAGS[@]}" --stats-json "$OUT/run.$i.json" \
        --stack "$SRC/assemblies/$SND.lyra" "$w" "os.seed=$((2 * i))" "${OVR[@]}" "dev.pcap=$OUT/run.$i.pcap" \
        --peer "$SRC/assemblies/$RCV.lyra" "$w" "os.seed=$((2 * i + 1))" "${OVR[@]}" \
        ip.addr=192.0.2.9/24 dev.mac=02:00:00:00:00:09 192.0.2.9 2>&1)
    rc=$?
    set -e
    t=$(echo "$out" | sed -n 's/^ttcp-t: [0-9]* bytes in \([0-9.]*\) s.*/\1/p')
    echo "$i $rc ${t:--}" >>"$OUT/times"
    if [ $rc -eq 0 ] && [ -n "$t" ] && awk -v t="$t" -v s="$SLOW" 'BEGIN { exit !(t < s) }'; then
        rm -f "$OUT/run.$i.json" "$OUT/run.$i.pcap"
    else
        echo "$out" >"$OUT/run.$i.txt"
        echo "  run $i: $([ $rc -eq 0 ] && echo "${t} s" || echo "FAILED (exit $rc: $(echo "$out" | grep -m1 -i 'error\|fail\|wrong' || echo "$out" | tail -n 1))"): $OUT/run.$i.{txt,pcap,json}"
    fi
    [ $((i % 50)) -ne 0 ] || echo "  ... $i of $RUNS runs, $((SECONDS - t0)) s"
done
python3 - "$OUT/times" "$SLOW" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
slow = float(sys.argv[2])
ts = sorted(float(t) for _, rc, t in rows if rc == "0" and t != "-")
bad = [i for i, rc, _ in rows if rc != "0"]
n = len(ts)
if n:
    q = lambda p: ts[min(n - 1, int(p * n))]
    print(f"soak: {len(rows)} runs, {len(bad)} failed; seconds: median {q(0.5):.3f}, "
          f"p99 {q(0.99):.3f}, max {ts[-1]:.3f}; {sum(t >= slow for t in ts)} at or over {slow} s")
else:
    print(f"soak: {len(rows)} runs, all failed")
sys.exit(1 if bad else 2 if n and ts[-1] >= slow else 0)
EOF
