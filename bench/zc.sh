#!/usr/bin/env bash
# Zero copy against copy (issue 12.6), on the same workload in one run, for
# the NE2000 (pio) and the e1000 (dma):
#  1. instructions per payload byte (issue 11.4's metric: the callgrind
#     slope between two transfer sizes over both stacks' code, bench/ipb
#     and bench/callgrind_stack.py as bench/ipb.sh runs them);
#  2. accounted time per component (bench/zc_acct.py: binding accounting,
#     the loop's poll hooks and timers, the application's socket calls),
#     protocol time per byte of the stack measured and its cut, warm (one
#     buffer) and cache-cold (--rotate 64M), REPS runs each, interleaved;
#  3. code size of each zc assembly against its copy twin (bench/sizes.sh,
#     only with --sizes: four -Os builds, several minutes).
# Workloads (two stacks of one assembly in one process over the wire):
#   send: ttcp 2920 x 8192 B (the sending stack measured);
#   recv: ttcp 102,400 x 1460 B, read 1448 B (one segment with timestamps)
#         at a time into page-stride slots (the receiving stack measured).
# Both from lyra_pkt_alloc memory (--pkt: packet memory on zc, page-aligned
# heap memory on copy). Until the zc assemblies are built, the zc side is
# reported "not measured".
# Zero-copy modes on the zc assemblies, each its own row against the same
# copy runs: "zc" copy on write and remapping (--pkt, page games), and the
# ones that need no page protection: "zcmsg" sends with SO_ZEROCOPY +
# MSG_ZEROCOPY from heap memory, completions read with MSG_ERRQUEUE every
# 16 sends (send workload), "zcmsgpkt" the same from packet memory (which
# the os knows mapped: no per-page check), "zcloan" reads with
# lyra_recv_loan / lyra_loan_return (recv workload), "zcnext" with
# lyra_loan_next (one call a piece: the held loan returned in it).
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-g
#   cmake --build build-rel -j2 && bench/zc.sh build-rel [REPS] [--sizes]
#
# One screen of summary; bench/results/zc.md gets the tables (its part
# below the history marker is kept); raw runs in BUILD_DIR/bench/zc/.
set -euo pipefail
# all in one function, read whole before it runs: editing this file while
# a run goes on does not derail that run
main() {
cd "$(dirname "$0")/.."
B=${1:-build-rel}
REPS=${2:-3}
SIZES=${3:-}
SRC=$PWD
RES=bench/results/zc.md
D=$B/bench/zc
CPU=${ZC_CPU:-1} # the harness is one thread: both stacks, one CPU
# ZC_PARTS: which parts run (default "cg time"); "time": the accounted runs
# only; "" rewrites the report from the runs in BUILD_DIR/bench/zc/
PARTS=${ZC_PARTS-cg time}
# glibc would pick rep movsb under valgrind and skew copies (notes/measuring.md)
export GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295
export LYRA_COMPONENT_PATH=$SRC/$B/lib/lyra
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)"; exit 1; }
[ -x "$B/bench/ipb" ] || { echo "$B/bench/ipb is not built (see the top of $0)"; exit 1; }
btype=$(grep CMAKE_BUILD_TYPE: "$B/CMakeCache.txt" | cut -d= -f2)
cflags=$(grep '^CMAKE_C_FLAGS:' "$B/CMakeCache.txt" | cut -d= -f2-)
[ "$btype" = Release ] || echo "warning: $B is a $btype build; the figures are for Release"
case " $cflags " in *" -g "*) ;; *) echo "$B needs -DCMAKE_C_FLAGS=-g (callgrind maps code to files by debug info)"; exit 1 ;; esac
# shellcheck source=bench/cg_lib.sh
. bench/cg_lib.sh
case " $PARTS " in *" cg "*) rm -f "$D"/*.cg "$D"/*.line "$D"/*.log "$D"/*.top.txt ;; esac
case " $PARTS " in *" time "*) rm -f "$D"/*.json "$D"/*.json.out ;; esac
mkdir -p "$D"
say() { echo "zc.sh [$(date -u +%T)] $*" >&2; }

# Which sides exist: the zc assemblies once skb_zc is merged.
ZC=1
for a in zc-pio zc-dma; do [ -f "assemblies/$a.lyra" ] || ZC=0; done
probe=$("$B/bench/ipb" zc-pio zc-pio 1 1 2>&1 || true)
case $probe in *"not built"*) ZC=0 ;; esac
ASMS="copy"
[ $ZC = 1 ] && ASMS="copy zc"
say "sides: $ASMS (zc: $([ $ZC = 1 ] && echo built || echo 'not measured: skb_zc not merged'))"

# workload -> "writes len rlen" (time) and the two write counts of the slope
declare -A WL=([send]="2920 8192 8192" [recv]="102400 1460 1448")
declare -A CG=([send]="1460 2920" [recv]="10240 20480")
declare -A SIDE=([send]=a [recv]=b)
# each side's ipb flags, overrides and assembly: ovr, flags, asm_of
# shellcheck source=bench/zc_sides.sh
. bench/zc_sides.sh
# the sides of a workload
sides() { # sides WORKLOAD
    if [ $ZC = 0 ]; then echo copy; elif [ "$1" = send ]; then echo copy zc zcmsg zcmsgpkt; else echo copy zc zcloan zcnext; fi
}

# --- 1. instructions per byte -------------------------------------------------
cg_rows=""
declare -A IPB
for wl in send recv; do
    read -r _ len rlen <<<"${WL[$wl]}"
    read -r n1 n2 <<<"${CG[$wl]}"
    for nic in pio dma; do
        for side in $(sides $wl); do
            kind=$([ "$side" = copy ] && echo "$nic" || echo "zc-$nic")
            name=$wl.$side-$nic
            case " $PARTS " in
            *" cg "*)
                say "callgrind $name ($n1 and $n2 writes of $len B)"
                # shellcheck disable=SC2046 # ovr and flags give word lists
                cg_run "$D/$name.$n1.cg" "$D/$name.$n1.log" $(flags "$side") --rlen "$rlen" "$kind" "$kind" "$n1" "$len" $(ovr "$side") >"$D/$name.$n1.line"
                # shellcheck disable=SC2046
                cg_run "$D/$name.$n2.cg" "$D/$name.$n2.log" $(flags "$side") --rlen "$rlen" "$kind" "$kind" "$n2" "$len" $(ovr "$side") >"$D/$name.$n2.line"
                python3 bench/callgrind_stack.py "$SRC" "$D/$name.$n2.cg" --top 30 | tail -n +2 >"$D/$name.top.txt"
                ;;
            esac
            [ -f "$D/$name.$n2.line" ] || continue
            a=$(cat "$D/$name.$n1.line")
            b=$(cat "$D/$name.$n2.line")
            [ "$(kv "$b" wrong)" = 0 ] || { echo "wrong data in $name" >&2; exit 1; }
            db=$(($(kv "$b" bytes) - $(kv "$a" bytes)))
            per() { awk -v x=$(($(kv0 "$b" "$1") - $(kv0 "$a" "$1"))) -v by="$db" 'BEGIN {printf "%.3f", x / by}'; }
            IPB[$name]=$(per stack)
            cg_rows+="| $wl | $nic | $side | ${IPB[$name]} | $(per csum) | $(per libc_mem) | $(per os) | $(per device) |"$'\n'
        done
    done
done

# --- 2. accounted time ----------------------------------------------------------
for nic in pio dma; do
    for side in $ASMS; do
        for mode in min full; do
            python3 bench/zc_acct.py manifest $mode "assemblies/$side-$nic.lyra" "$D/$side-$nic.$mode.lyra"
        done
    done
done
INDEX=$D/index.txt
case " $PARTS " in *" time "*) echo "# workload side assembly nic mode cache rep json" >"$INDEX" ;; *) REPS_RUN=0 ;; esac
total=$((2 * 2 * 2 * REPS * 2)) # each step runs copy and the workload's zc modes
k=0
for rep in $(seq "${REPS_RUN:-$REPS}"); do
    for wl in send recv; do
        read -r n len rlen <<<"${WL[$wl]}"
        for temp in warm cold; do
            rot=()
            [ $temp = cold ] && rot=(--rotate 64M)
            for nic in pio dma; do
                for mode in min full; do
                    k=$((k + 1))
                    say "time $k/$total: $wl $temp $nic ($mode accounting), run $rep of $REPS: $(sides $wl)"
                    # copy and zc one after the other, so drift hits both
                    for side in $(sides $wl); do
                        m=$D/$(asm_of $side)-$nic.$mode.lyra
                        j=$D/$wl.$temp.$side-$nic.$mode.$rep.json
                        # shellcheck disable=SC2046 # ovr and flags give word lists
                        taskset -c "$CPU" "$B/bench/ipb" "${rot[@]}" $(flags "$side") --rlen "$rlen" --json "$j" \
                            "$m" "$m" "$n" "$len" $(ovr "$side") >"$j.out" 2>&1 ||
                            { cat "$j.out" >&2; echo "run failed: $j" >&2; exit 1; }
                        echo "$wl ${SIDE[$wl]} $side-$nic $nic $mode $temp $rep $j" >>"$INDEX"
                    done
                done
            done
        done
    done
done
summary=$(python3 bench/zc_acct.py report "$D/tables.md" "$INDEX")

# --- 3. code size -------------------------------------------------------------------
size_note="not run (bench/zc.sh $B $REPS --sizes, or bench/sizes.sh: four -Os builds)"
if [ "$SIZES" = --sizes ]; then
    say "code size: bench/sizes.sh (four -Os builds)"
    bench/sizes.sh >&2
    size_note="bench/results/sizes.md, section \"Zero copy against copy\" (bench/sizes.sh)"
fi
size_rows=$(sed -n '/^## Zero copy against copy/,/^## /p' bench/results/sizes.md 2>/dev/null |
    grep '^| ' || true)
[ -z "$size_rows" ] || [ "$SIZES" = --sizes ] ||
    size_note="bench/results/sizes.md as bench/sizes.sh last wrote it (git log bench/results/sizes.md)"

# --- the report -----------------------------------------------------------------------
history=""
[ -f "$RES" ] && history=$(sed -n '/^<!-- history: kept by zc.sh -->$/,$p' "$RES")
[ -n "$history" ] || history="<!-- history: kept by zc.sh -->"
cc_=$(grep CMAKE_C_COMPILER:FILEPATH= "$B/CMakeCache.txt" | cut -d= -f2)
{
    echo "# Zero copy against copy (issue 12.6)"
    echo
    echo "Machine: $(uname -m), $(nproc --all) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
    echo "shared with other work while measured; compiler: $($cc_ --version | head -1); build: $btype,"
    echo "C flags '$cflags'; $(valgrind --version); date: $(date -u +%F)."
    echo "Sides measured: send $(sides send), recv $(sides recv).$([ $ZC = 1 ] || echo ' **zc: not measured (skb_zc not merged)**')"
    echo
    echo "Command: \`bench/zc.sh $B $REPS\` after"
    echo "\`cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-g && cmake --build $B -j2\`;"
    echo "code size: \`bench/zc.sh $B $REPS --sizes\` or \`bench/sizes.sh\`. Raw runs: \`$D/\`."
    echo
    echo "Workloads, two stacks of one assembly in one process over the in-process wire, driven"
    echo "by bench/ipb (lyra-ttcp's transfer on one thread polling both stacks), buffers from"
    echo "lyra_pkt_alloc (\`--pkt\`: packet memory on zc, page-aligned heap memory on copy):"
    echo "- send: 2920 writes of 8192 B; the sending stack is measured;"
    echo "- recv: 102,400 writes of 1460 B read 1448 B (one segment with timestamps) at a time"
    echo "  into page-stride slots (p + k * 4096, where zc can remap); the receiving stack."
    echo "- zero-copy modes, each a row of its own against the same copy runs: \`zc\` (copy on"
    echo "  write on send, page remapping on receive: \`--pkt\`), \`zcmsg\` (send: SO_ZEROCOPY and"
    echo "  MSG_ZEROCOPY from heap memory, referenced without page protection, each page checked"
    echo "  readable (os mem_check: one read of it); completions read with recvmsg(MSG_ERRQUEUE)"
    echo "  every 16 sends and at ENOBUFS, timed as socket calls), \`zcmsgpkt\` (the same from"
    echo "  lyra_pkt_alloc memory, which os_posix knows is mapped: no page read), \`zcloan\` (recv:"
    echo "  lyra_recv_loan and lyra_loan_return, both timed; no sink buffer, so cold differs from"
    echo "  warm only in the sender's source) and \`zcnext\` (recv: lyra_loan_next, which returns the"
    echo "  loan it holds and lends the next in one call, timed);"
    echo "- warm: one source buffer, one sink slot; cold: \`--rotate 64M\`, the source and the"
    echo "  reads move through 64 MiB (the reads write 64 MiB before reusing a slot), twice the"
    echo "  32 MiB L3 of one CCD of this EPYC (getconf reports 508 MiB for the VM, which is not"
    echo "  one cache any core sees)."
    echo
    echo "## Instructions per payload byte (callgrind)"
    echo
    echo "Slope between two transfer sizes (send: ${CG[send]/ / and } writes; recv: ${CG[recv]/ / and }"
    echo "writes), both stacks' code (bench/callgrind_stack.py: components/ and framework/ with"
    echo "the libc they call), GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295."
    echo "Kernel work is not in it: a page remap or protection change is one system call to"
    echo "callgrind, so zc's receive and copy on write look cheaper here than in time."
    echo
    echo "| workload | NIC | side | stack instr/B | of it checksum | memcpy, memset | os adapter (not counted) | device model (not counted) |"
    echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    printf '%s' "$cg_rows"
    if [ $ZC = 0 ]; then
        echo "| send, recv | pio, dma | zc | not measured (skb_zc not merged) | | | | |"
    fi
    echo
    echo "## Protocol time per payload byte (binding accounting)"
    echo
    echo "Protocol time as the paper defines it: time in the stack's components (socket layer"
    echo "with the socket API, tcp, udp, ip, eth, skb), without the driver, device model and"
    echo "link, and without the application. From one run with eth's lower binding accounted"
    echo "(\"min\": one timed call per frame each way): the application's send/recv calls"
    echo "(timed by bench/ipb) + frames handed up by the driver + the due timers (tcp's"
    echo "receive-batch end, delayed ACK) - frames handed down to the driver. The framework"
    echo "times poll hooks and timers when any binding is accounted (stack.c). Each timed"
    echo "interval holds one clock read (~30 ns here) beyond what it times: taken off per"
    echo "interval (bench/zc_acct.py). Median of $REPS runs, pinned to CPU $CPU (one thread"
    echo "runs both stacks); spread = (max - min) / median. Reduction = 1 - zc / copy, of"
    echo "the medians (the target is judged on it), of the minima, and paired: each run of"
    echo "zc against the copy run of the same round (copy runs first in each round, the zero-"
    echo "copy modes right after it), so that the machine's drift between rounds (other"
    echo "tenants of the host) falls out."
    echo
    cat "$D/tables.md" | sed '/<!-- components -->/,$d'
    echo
    echo "The paper (Chiang and Li 2006) measured one LyraNET stack on a 200 MHz ARM board"
    echo "against a PC, with real NE2000 and DMA NICs; here both ends are our stacks in one"
    echo "process on a 2-core VM, the devices are models, the wire is in memory, and a copy"
    echo "costs a fraction of what it cost there: the same cut in copies is a smaller share."
    echo
    echo "## Own time per component (every binding accounted)"
    echo
    echo "\"full\" runs: every binding between the stack's components accounted; a component's"
    echo "own time = what enters it - what it calls out (tcp: with the timers; sock: the"
    echo "application's calls; nic: its poll hook and xmit less what it hands up = driver +"
    echo "device model + link; dev: the model's own poll hook). Each accounted call costs two"
    echo "clock reads, so these runs are slower than the min ones; the split is what they are"
    echo "for. ns per payload byte, median of $REPS."
    echo
    sed -n '/<!-- components -->/,$p' "$D/tables.md" | tail -n +2
    echo
    echo "## Code size: zc assembly against its copy twin"
    echo
    echo "Target: at most +2% (paper: +1.1 to +1.7%). Source: $size_note."
    echo
    if [ -n "$size_rows" ]; then printf '%s\n' "$size_rows"; else echo "not measured"; fi
    echo
    echo "$history"
} >"$RES"
echo
echo "== bench/zc.sh: zero copy against copy (details: $RES, $D/) =="
for wl in send recv; do
    for nic in pio dma; do
        line="instr/B $wl $nic: copy ${IPB[$wl.copy-$nic]:-not run}"
        for side in $(sides $wl); do
            [ "$side" = copy ] || line+=", $side ${IPB[$wl.$side-$nic]:-not run}"
        done
        echo "$line"
    done
done
printf '%s\n' "$summary"
[ $ZC = 1 ] || echo "zc side: not measured (skb_zc not merged)"
if [ -n "$size_rows" ]; then
    echo "code size, zc against copy (text+rodata; target <= +2%, paper +1.1 to +1.7%):"
    grep -v -e "^| build" -e "^| ---" <<<"$size_rows" | awk -F' [|] ' '{printf "  %s, %s: %s\n", $1, $4, $6}' | sed 's/^  | /  /; s/ |$//'
else
    echo "code size: not measured (bench/sizes.sh)"
fi
echo "paper: protocol time cut 49-63% send, 23-46% receive; targets cache-cold >= 60% send, >= 46% receive"
}
main "$@"
