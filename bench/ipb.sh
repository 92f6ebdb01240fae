#!/usr/bin/env bash
# Instructions per payload byte (issue 11.4), in one run:
#  1. ttcp (WRITES x 8192 B, TCP) between two of our stacks in one process
#     over the in-process wire (bench/ipb.c), under callgrind, at two sizes
#     (2920 and 1460 writes): the slope is the cost per byte with set-up
#     gone. Counted: both stacks' code (components/, framework/) with the
#     libc they call (memcpy of the copies); not the device models, the
#     link, the os adapter or the application (bench/callgrind_stack.py).
#     Per MSS segment beyond the checksum: the same slope without the
#     checksum's lines, per data segment the sender sent.
#  2. Linux to Linux over veth between two private namespaces: CPU (user +
#     sys of sender and receiver, getrusage in lyra-ttcp-linux) per byte.
#  3. Linux to our stack on a TAP (lyra-ttcp -r) as a share of the rate
#     Linux reaches to a trivial TAP program (bench/tap_acker.c).
# One screen of summary; bench/results/ipb.md gets the tables (its part
# below the history marker is kept); callgrind files and per-function
# lists go to BUILD_DIR/bench/ipb/.
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-g
#   cmake --build build-rel -j2 && bench/ipb.sh build-rel
#
# Parts 2 and 3 need root (namespaces, TAP); without it they are skipped,
# said so. About 2 minutes: not for CI (bench/results/ipb.md).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-rel}
SRC=$PWD
RES=bench/results/ipb.md
D=$B/bench/ipb-results
# glibc would pick rep movsb under valgrind and skew copies (notes/measuring.md)
export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
[ -x "$B/bench/ipb" ] || { echo "$B/bench/ipb is not built (see the top of $0)"; exit 1; }
btype=$(grep CMAKE_BUILD_TYPE: "$B/CMakeCache.txt" | cut -d= -f2)
cflags=$(grep '^CMAKE_C_FLAGS:' "$B/CMakeCache.txt" | cut -d= -f2-)
[ "$btype" = Release ] || echo "warning: $B is a $btype build; the figures are for Release"
case " $cflags " in *" -g "*) ;; *) echo "$B needs -DCMAKE_C_FLAGS=-g (callgrind maps code to files by debug info)"; exit 1 ;; esac
mkdir -p "$D"
N1=1460
N2=2920
LEN=8192
CC_=$(grep CMAKE_C_COMPILER:FILEPATH= "$B/CMakeCache.txt" | cut -d= -f2)

# --- 1. our stacks under callgrind -------------------------------------------
# name | sender receiver | overrides
CASES=(
    "pio-pio|pio pio|"
    "dma-dma|dma dma|"
    "dma-dma-nocsum|dma dma|a:nic.csum_tx=off a:nic.csum_rx=off b:nic.csum_tx=off b:nic.csum_rx=off"
)
declare -A DESC=(
    [pio-pio]="copy-pio to copy-pio (NE2000: checksums in software)"
    [dma-dma]="copy-dma to copy-dma (e1000 checksum offload, as shipped)"
    [dma-dma-nocsum]="copy-dma to copy-dma, offload off (nic.csum_tx=off nic.csum_rx=off)"
)
# shellcheck source=bench/cg_lib.sh
. bench/cg_lib.sh
run_cg() { # run_cg NAME WRITES SENDER RECEIVER [OVR...] -> "counters split"
    local name=$1 n=$2 s=$3 r=$4
    shift 4
    cg_run "$D/$name.$n.cg" "$D/$name.$n.valgrind.log" "$s" "$r" "$n" "$LEN" "$@" || exit 1
}
rows=""
dirrows=""
DIRS="eth ip tcp socket skb nic_pio nic_dma framework"
summary=""
for c in "${CASES[@]}"; do
    IFS='|' read -r name pair ovr <<<"$c"
    # shellcheck disable=SC2086 # pair and ovr are word lists
    a=$(run_cg "$name" $N1 $pair $ovr)
    # shellcheck disable=SC2086
    b=$(run_cg "$name" $N2 $pair $ovr)
    python3 bench/callgrind_stack.py "$SRC" "$D/$name.$N2.cg" --top 40 | tail -n +2 >"$D/$name.top.txt"
    if [ "$name" = dma-dma ]; then # for the split per write (below)
        pw_runs="$D/$name.$N1.cg:$N1:$(kv "$a" a_tx_segments) $D/$name.$N2.cg:$N2:$(kv "$b" a_tx_segments)"
    fi
    d_a_tx_retrans_segs=0
    for k in bytes a_tx_segments a_tx_retrans_segs stack csum libc_mem libc_lock os link device app; do
        declare "d_$k=$(( $(kv "$b" $k) - $(kv "$a" $k) ))"
    done
    # shellcheck disable=SC2154 # d_* are declared above
    read -r pb cb bb ps lb ob db <<<"$(awk -v s="$d_stack" -v c="$d_csum" -v by="$d_bytes" \
        -v sg="$d_a_tx_segments" -v m="$d_libc_mem" -v o="$d_os" -v dv="$d_device" 'BEGIN {
        printf "%.2f %.2f %.2f %.0f %.3f %.2f %.1f\n", s / by, c / by, (s - c) / by,
            (s - c) / sg, m / by, o / by, dv / by }')"
    bps=$(( d_bytes / d_a_tx_segments ))
    drow="| $name |"
    for dn in $DIRS; do
        x=$(( $(kv0 "$b" "dir_$dn") - $(kv0 "$a" "dir_$dn") ))
        drow+=" $(awk -v x="$x" -v sg="$d_a_tx_segments" 'BEGIN {printf "%.0f", x / sg}') |"
    done
    dirrows+="$drow"$'\n'
    rows+="| ${DESC[$name]} | $pb | $cb | $bb | $ps | $lb | $ob | $db | $bps | $d_a_tx_retrans_segs |"$'\n'
    summary+=$(printf '%-16s %6s instr/B (checksum %s, beyond %s); %s instr/segment beyond the checksum' \
        "$name" "$pb" "$cb" "$bb" "$ps")$'\n'
done

# --- 1b. per segment and per write: dma-dma again at writes twice as long ---
# (the same bytes), so that cost per segment = A + W / (segments a write)
# splits into A and W (bench/ipb_per_write.py)
LEN2=$((2 * LEN))
for n in $((N1 / 2)) $((N2 / 2)); do
    line=$(cg_run "$D/dma-dma-w$LEN2.$n.cg" "$D/dma-dma-w$LEN2.$n.valgrind.log" dma dma "$n" "$LEN2") || exit 1
    pw_runs+=" $D/dma-dma-w$LEN2.$n.cg:$n:$(kv "$line" a_tx_segments)"
done
# shellcheck disable=SC2086 # pw_runs is a list
# (all of its output taken, then the first line: head closing the pipe
# early would kill the script under pipefail)
pw_out=$(python3 bench/ipb_per_write.py "$SRC" --top 20 --md "$D/per-write.md" $pw_runs)
pw_line=${pw_out%%$'\n'*}
pw_md=$(cat "$D/per-write.md")
summary+="dma-dma $pw_line"$'\n'

# --- 2 and 3: Linux, in namespaces of our own ------------------------------
TTCP_L=$B/bin/lyra-ttcp-linux
TTCP=$B/bin/lyra-ttcp
NA=ipba$$ NB=ipbb$$ NT=ipbt$$
cleanup() {
    for ns in $NA $NB $NT; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT
REPS=5
linux_rows=""
tap_rows=""
if [ "$(id -u)" != 0 ] || ! ip netns add "$NA" 2>/dev/null; then
    summary+="Linux parts SKIPPED: they need root (network namespaces, veth, TAP)"$'\n'
    linux_rows="| (skipped: not root) | | | |"$'\n'
    tap_rows="| (skipped: not root) | | |"$'\n'
else
    # 2. veth: sender in NA (192.0.2.1), receiver in NB (192.0.2.2)
    ip netns add "$NB"
    ip link add "ipbva$$" netns "$NA" type veth peer name "ipbvb$$" netns "$NB"
    ip -n "$NA" addr add 192.0.2.1/24 dev "ipbva$$"
    ip -n "$NB" addr add 192.0.2.2/24 dev "ipbvb$$"
    for ns in $NA $NB; do ip -n "$ns" link set lo up; done
    ip -n "$NA" link set "ipbva$$" up
    ip -n "$NB" link set "ipbvb$$" up
    for cpus in "0 1" "0 0"; do
        # shellcheck disable=SC2086
        set -- $cpus
        : >"$D/veth.$1$2.txt"
        for _ in $(seq $REPS); do
            ip netns exec "$NB" taskset -c "$2" "$TTCP_L" -r -q >"$D/veth.r" 2>&1 &
            sleep 0.3
            ip netns exec "$NA" taskset -c "$1" "$TTCP_L" -t -q -n $N2 -l $LEN 192.0.2.2 >"$D/veth.t" 2>&1
            wait
            # CPU of both processes per byte (ns), and the sender's rate
            # "ttcp-t: B bytes in S s = M Mbit/s ..." / "ttcp-t: CPU U s user + S s sys = C s ..."
            awk '/ bytes in / {b = $2; if ($1 == "ttcp-t:") r = $8}
                 $2 == "CPU" {c += $11} END {printf "%.3f %.0f\n", c * 1e9 / b, r}' \
                "$D/veth.t" "$D/veth.r" >>"$D/veth.$1$2.txt"
        done
        nsb=$(cut -d' ' -f1 "$D/veth.$1$2.txt" | median)
        mbit=$(cut -d' ' -f2 "$D/veth.$1$2.txt" | median)
        where=$([ "$1" = "$2" ] && echo "both on CPU $1" || echo "sender CPU $1, receiver CPU $2")
        linux_rows+="| Linux to Linux over veth, $where | $nsb | $mbit | median of $REPS |"$'\n'
        summary+="Linux-Linux veth ($where): $nsb ns of CPU per byte, $mbit Mbit/s"$'\n'
    done
    # our two stacks in one process (bench/ipb, natively), for scale
    for c in "${CASES[@]}"; do
        IFS='|' read -r name pair ovr <<<"$c"
        : >"$D/native.$name.txt"
        for _ in $(seq $REPS); do
            # shellcheck disable=SC2086
            line=$(GLIBC_TUNABLES='' taskset -c 1 "$B/bench/ipb" $pair $N2 $LEN $ovr)
            echo "$(kv "$line" cpu_ns) $(kv "$line" bytes)" | awk '{printf "%.3f\n", $1 / $2}' >>"$D/native.$name.txt"
        done
        linux_rows+="| our stacks, ${DESC[$name]}, one process on CPU 1 (device models and wire included) | $(median <"$D/native.$name.txt") | | median of $REPS |"$'\n'
    done
    # 3. TAP: Linux (192.0.2.1, CPU 0) sends to what reads the TAP (CPU 1)
    ip netns add "$NT"
    ip -n "$NT" link set lo up
    ip -n "$NT" tuntap add ipbt0 mode tap
    ip -n "$NT" link set ipbt0 up
    ip -n "$NT" addr add 192.0.2.1/24 dev ipbt0
    tap_once() { # tap_once RECEIVER-COMMAND... -> Mbit/s of Linux's sender
        ip netns exec "$NT" taskset -c 1 "$@" >"$D/tap.r" 2>&1 &
        local pid=$!
        for _ in $(seq 100); do
            ip -n "$NT" link show ipbt0 | grep -q NO-CARRIER || break
            sleep 0.05
        done
        sleep 0.3
        ip netns exec "$NT" ip neigh flush dev ipbt0 2>/dev/null || true
        ip netns exec "$NT" taskset -c 0 timeout 60 "$TTCP_L" -t -q -n $N2 -l $LEN 192.0.2.2 \
            >"$D/tap.t" 2>&1 || true
        wait $pid || true
        awk '$1 == "ttcp-t:" && / bytes in / {print $8}' "$D/tap.t"
    }
    declare -A TAPV
    for who in acker copy-dma copy-pio; do : >"$D/tap.$who.txt"; done
    # rounds of the three in turn, so that the machine's drift (it is
    # shared) hits them alike; medians
    for _ in $(seq $REPS); do
        for who in acker copy-dma copy-pio; do
            if [ $who = acker ]; then
                v=$(tap_once "$B/bench/tap_acker" ipbt0 192.0.2.2)
            else
                v=$(tap_once "$TTCP" -r -q --stack "assemblies/$who.lyra" dev.link=tap:ipbt0 \
                    ip.addr=192.0.2.2/24 dev.mac=02:00:00:00:00:02)
            fi
            echo "${v:-0}" >>"$D/tap.$who.txt"
        done
    done
    for who in acker copy-dma copy-pio; do TAPV[$who]=$(median <"$D/tap.$who.txt"); done
    for who in acker copy-dma copy-pio; do
        share=$(awk -v v="${TAPV[$who]}" -v a="${TAPV[acker]}" 'BEGIN {printf "%.0f%%", a ? 100 * v / a : 0}')
        label=$([ $who = acker ] && echo "trivial TAP program (bench/tap_acker)" || echo "our stack: lyra-ttcp -r on $who")
        tap_rows+="| $label | ${TAPV[$who]} | $share |"$'\n'
        summary+="TAP: Linux -> $who: ${TAPV[$who]} Mbit/s ($share of the trivial program)"$'\n'
    done
fi

# --- the report ---------------------------------------------------------------
history=""
[ -f "$RES" ] && history=$(sed -n '/^<!-- history: kept by ipb.sh -->$/,$p' "$RES")
[ -n "$history" ] || history="<!-- history: kept by ipb.sh -->"
{
    echo "# Instructions per payload byte (issue 11.4)"
    echo
    echo "Machine: $(uname -m), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'));" \
        "compiler: $($CC_ --version | head -1); build: $btype, C flags '$cflags'; $(valgrind --version); date: $(date -u +%F)"
    echo
    echo "Command: \`bench/ipb.sh $B\`, after"
    echo "\`cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-g && cmake --build $B -j2\`"
    echo "(-g only gives callgrind the files; the code is Release's). It takes about two minutes,"
    echo "most of it callgrind on the NE2000 model, so CI does not run it (CI's budget is for tests)."
    echo
    echo "## Our stacks: ttcp $N2 x $LEN B, two stacks in one process over the wire"
    echo
    echo "\`$B/bench/ipb SENDER RECEIVER WRITES $LEN\` (bench/ipb.c: lyra-ttcp's transfer on one"
    echo "thread polling both stacks, so the count does not depend on thread scheduling) under"
    echo "\`valgrind --tool=callgrind --toggle-collect=transfer_phase\` with"
    echo "GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295, at WRITES = $N1 and $N2;"
    echo "every figure is the difference of the two runs divided by the difference in payload"
    echo "bytes (per byte) or in segments the sender sent (per segment), so set-up cancels."
    echo
    echo "Counted (bench/callgrind_stack.py): every instruction of a function whose file is in"
    echo "components/ or framework/ of either stack (with what is inlined into it), plus the libc"
    echo "such functions call, inclusive (memcpy of the copies in and out, memset). Not counted:"
    echo "the device models (models/), the link (os_adapters/posix/link*), the os adapter (its"
    echo "clock, timers and locks: column apart), the application (bench/). Checksum = the lines"
    echo "of the checksum code (framework/include/lyra/inet_csum.h and skb_csum.h, inlined where"
    echo "they are used, so callgrind's per-line file tells them apart), inside stack functions;"
    echo "the copy lyra_csum_copy makes on x86-64 is a memcpy call, counted as a copy. Beyond"
    echo "the checksum = stack minus that. With copy-pio the receive sum is added in the"
    echo "NE2000's port read (bus insw_csum), i.e. in the device model's loop: see the device"
    echo "column and the history below."
    echo
    echo "| stacks | instr/B | of it checksum | beyond the checksum | instr/segment beyond the checksum | of instr/B: memcpy, memset | os adapter instr/B (not counted) | device models instr/B (not counted) | payload B/segment | retransmitted segments |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$rows"
    echo "| lwIP, same workload (notes/measuring.md) | 7.3 | 5.4 (74%) | 1.9 | ~2,800 | | | | | |"
    echo "| **target** | **<= 1.5** (software checksums) | | | **<= 1,500** | | | | | |"
    echo
    echo "The same per segment, by component (its functions' own instructions, checksum"
    echo "included, and the libc they call; framework: its sources and what its inline"
    echo "helpers cost where they are not inlined into a component):"
    echo
    echo "| stacks | $(tr ' ' '\n' <<<"$DIRS" | paste -sd'|' | sed 's/|/ | /g') |"
    echo "| --- |$(for _ in $DIRS; do printf ' ---: |'; done)"
    printf '%s' "$dirrows"
    echo
    echo "The dearest stack functions of each case (self + libc they call, and the checksum"
    echo "lines in it, $N2 writes) are in \`$D/CASE.top.txt\`; the callgrind files beside them."
    echo
    echo "## Per segment and per write (dma-dma)"
    echo
    echo "The cost per segment above is for $LEN-byte writes. It holds two kinds of work: what"
    echo "each MSS segment costs (the copies in and out, a buffer each way, the driver's"
    echo "descriptor and receive buffer: A) and what each write costs, spread over its segments"
    echo "(the send call, the TSO frame built and sent, the receive run, the ACK made and taken,"
    echo "the reads: W). The same copy-dma pair again with $LEN2-byte writes, the same bytes"
    echo "(\`$B/bench/ipb dma dma WRITES $LEN2\` at WRITES = $((N1 / 2)) and $((N2 / 2)), under callgrind"
    echo "as above), gives the two from cost per segment = A + W / (segments a write)"
    echo "(bench/ipb_per_write.py; per component: its functions, checksum lines included):"
    echo
    printf '%s\n' "$pw_md"
    echo
    echo "## Linux, for scale"
    echo
    echo "\`lyra-ttcp-linux\` (tools/ttcp, the same program on the host's sockets) $N2 x $LEN B; CPU"
    echo "= user + sys of sender and receiver (getrusage) per payload byte. veth between two"
    echo "namespaces of the script's own (ipba<PID>, ipbb<PID>, 192.0.2.1 and .2, deleted at the"
    echo "end). Our stacks' line is bench/ipb natively: the whole process (both stacks, their"
    echo "device models and the wire) per byte, for scale only."
    echo
    echo "| what | CPU ns/B | Mbit/s | runs |"
    echo "| --- | ---: | ---: | --- |"
    printf '%s' "$linux_rows"
    echo
    echo "## Linux to our stack on a TAP, as a share of a trivial TAP program"
    echo
    echo "A TAP in a namespace of its own (ipbt<PID>); Linux (192.0.2.1, lyra-ttcp-linux -t on"
    echo "CPU 0) sends $N2 x $LEN B over TCP to 192.0.2.2, which is, on CPU 1, either our stack"
    echo "(lyra-ttcp -r, the whole stack as shipped with its device model, 64 KiB receive"
    echo "window) or bench/tap_acker: a trivial TAP program that reads each frame and answers"
    echo "only what the sender needs (ARP reply, SYN-ACK, an ACK header every second in-order"
    echo "segment, at once for PSH, FIN or out of order), built in place, with an 8 MiB window"
    echo "that never limits the sender. It keeps no data and checks nothing: its rate is the"
    echo "ceiling of a program behind a TAP (one read per frame, one write per two) with this"
    echo "sender. The share is our rate over its rate (the sender's Mbit/s, median of $REPS"
    echo "rounds of the three in turn). The machine is shared and these rates move by +-30%"
    echo "from run to run (the per-run figures are in $D/tap.*.txt): read the share as a rough"
    echo "figure, the instruction counts above as the exact one."
    echo
    echo "| receiver | Mbit/s | share |"
    echo "| --- | ---: | ---: |"
    printf '%s' "$tap_rows"
    echo
    echo "$history"
} >"$RES"
echo
echo "== bench/ipb.sh: ttcp $N2 x $LEN B, slope from $N1 (details: $RES, $D/) =="
printf '%s' "$summary"
echo "lwIP: 7.3 instr/B (74% checksum), ~2,800 instr/segment beyond it; targets <= 1.5 instr/B, <= 1,500 instr/segment"
