#!/usr/bin/env bash
# Two builds on one host (issue 12.6): the cold send cut of zero copy
# (MSG_ZEROCOPY from packet memory) against copy, measured as bench/zc.sh
# measures it (bench/ipb, eth's lower binding accounted, protocol time per
# byte from bench/zc_acct.py, pinned to one CPU), with the two builds'
# runs interleaved round by round, so that a change's effect can be told
# from the host's (the hosts of this machine kind differ: see the history
# in bench/results/zc.md).
#
#   bench/zc_ab.sh OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS]
#
# Each build is a Release -g build with bench/ipb and the components (for
# example a `git worktree` of the old commit built as the top of
# bench/zc.sh says). Raw runs in NEW_BUILD_DIR/bench/zc_ab/; one line per
# NIC and build. About 5 s a round.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/zc_sides.sh
. bench/zc_sides.sh # flags, ovr, asm_of: each side as zc.sh runs it
[ $# -ge 2 ] || { sed -n 2,15p "$0"; exit 2; }
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROUNDS=${3:-6}
CPU=${ZC_CPU:-1}
D=$NEW/bench/zc_ab
for b in "$OLD" "$NEW"; do
    [ -x "$b/bench/ipb" ] || { echo "$b/bench/ipb is not built"; exit 1; }
done
mkdir -p "$D"
rm -f "$D"/*.json "$D"/*.out "$D"/index.txt
for nic in pio dma; do
    for a in copy zc; do
        python3 bench/zc_acct.py manifest min "assemblies/$a-$nic.lyra" "$D/$a-$nic.min.lyra"
    done
done
for r in $(seq "$ROUNDS"); do
    echo "zc_ab: round $r of $ROUNDS" >&2
    for nic in pio dma; do
        for b in old new; do
            B=$([ $b = old ] && echo "$OLD" || echo "$NEW")
            for side in copy zcmsgpkt; do
                m=$D/$(asm_of $side)-$nic.min.lyra
                j=$D/$b.$side-$nic.$r.json
                # shellcheck disable=SC2046 # flags and ovr give word lists
                LYRA_COMPONENT_PATH=$B/lib/lyra taskset -c "$CPU" "$B/bench/ipb" --rotate 64M \
                    $(flags $side) --rlen 8192 --json "$j" "$m" "$m" 2920 8192 $(ovr $side) \
                    >"$j.out" 2>&1 || { cat "$j.out" >&2; exit 1; }
                echo "$b $nic $side $r $j" >>"$D/index.txt"
            done
        done
    done
done
python3 - "$D/index.txt" "$OLD" "$NEW" <<'PY'
import statistics, sys
sys.path.insert(0, "bench")
import zc_acct
runs = {}
for line in open(sys.argv[1]):
    b, nic, side, r, j = line.split()
    f = zc_acct.figures(j, "a")
    runs.setdefault((nic, b, side), {})[int(r)] = f["protocol"] / f["bytes"]
print("cold send, MSG_ZEROCOPY from packet memory against copy (protocol ns/B, medians):")
for nic in ("pio", "dma"):
    for b, path in (("old", sys.argv[2]), ("new", sys.argv[3])):
        c, z = runs[(nic, b, "copy")], runs[(nic, b, "zcmsgpkt")]
        mc, mz = statistics.median(c.values()), statistics.median(z.values())
        cuts = sorted(100 * (1 - z[r] / c[r]) for r in c if r in z)
        print("  %s %s: copy %.3f, zc %.3f: %.0f%% less; paired %.0f%% (%.0f..%.0f%%)  %s"
              % (nic, b, mc, mz, 100 * (1 - mz / mc), statistics.median(cuts), cuts[0], cuts[-1],
                 path))
PY
