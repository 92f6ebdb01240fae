#!/usr/bin/env bash
# The README's quick-start commands. Each works alone from a fresh clone on
# a fresh Debian 12 machine as root: it installs what it needs, builds, runs.
#   tools/dev.sh demo   the main job (no root needed once packages are in)
#   tools/dev.sh test   every test: gcc, clang, ASan+UBSan, fuzz replays and
#                       a short libFuzzer run of each target
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)

PKGS=(cmake make gcc clang libclang-rt-14-dev libcriterion-dev pkg-config binutils
      graphviz tshark python3 iproute2 iputils-ping iputils-arping socat procps
      curl netcat-openbsd ninja-build)

# only `test` needs these: the Cortex-M4 cross build (bench/sizes.sh)
PKGS_TEST=(gcc-arm-none-eabi libnewlib-arm-none-eabi)

install_deps() { # install_deps [extra packages...]
    local missing=()
    for p in "${PKGS[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "dev.sh: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        exit 1
    fi
    echo "dev.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # apt's chatter (debconf notes) to a log, shown when something fails
    local log=/tmp/dev-sh-apt.$$.log
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "dev.sh: installing ${missing[*]} failed (log: $log)" >&2
        exit 1
    fi
    rm -f "$log"
}

# New build trees use Ninja: on 2 cores it builds this tree in 70% of the
# time of CMake's Makefiles (94 s against 134 s), whose per-target helper
# steps cost the rest. An existing tree keeps the generator it was made with.
export CMAKE_GENERATOR=${CMAKE_GENERATOR:-Ninja}

build() { # build DIR [--target T] [cmake args...]
    local dir=$1 tgt=()
    shift
    if [ "${1:-}" = --target ]; then
        tgt=(--target "$2")
        shift 2
    fi
    cmake -S . -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j"$JOBS" "${tgt[@]}"
}

# build quietly: the log goes to a file, shown (its end) only when it fails
build_quiet() { # build_quiet DIR LOG [cmake args...]
    local dir=$1 log=$2
    shift 2
    mkdir -p "$(dirname "$log")"
    if ! build "$dir" "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "dev.sh: build of $dir failed; full log: $log" >&2
        exit 1
    fi
}

demo() {
    install_deps
    build_quiet build build/demo-build.log
    echo "== built in build/ (log: build/demo-build.log)"
    local bin=build/bin n=0
    for m in assemblies/*.lyra; do
        local base
        base=build/$(basename "$m" .lyra)
        "$bin/lyranet" check "$m" >/dev/null
        "$bin/lyranet" graph "$m" >"$base.dot"
        if command -v dot >/dev/null; then dot -Tpng "$base.dot" -o "$base.png"; fi
        n=$((n + 1))
    done
    echo "== $n manifests check (lyranet check); their graphs: build/*.dot, build/*.png"
    # Two stacks in one process on the in-process wire (no root, no TAP):
    # copy-pio (NE2000, 192.0.2.2) and copy-dma (e1000, 192.0.2.3). The
    # --peer stack runs the echo service; lyra-ping checks every reply byte.
    local w="dev.link=wire:demo$$"
    echo "== copy-pio pings copy-dma (ICMP echo, 56 bytes)"
    "$bin/lyra-ping" -c 3 -i 0.2 --stack assemblies/copy-pio.lyra "$w" \
        --peer assemblies/copy-dma.lyra "$w" 192.0.2.3
    echo "== copy-dma pings copy-pio with 3000 bytes (fragmented and reassembled both ways)"
    "$bin/lyra-ping" -q -c 3 -s 3000 -i 0.2 --stack assemblies/copy-dma.lyra "$w" \
        --peer assemblies/copy-pio.lyra "$w" 192.0.2.2
    echo "== copy-pio sends 8000-byte UDP datagrams to copy-dma's echo service (port 7)"
    "$bin/lyra-ping" -q -u 7 -c 3 -s 8000 -i 0.1 --stats-json build/demo-stats.json \
        --stack assemblies/copy-pio.lyra "$w" --peer assemblies/copy-dma.lyra "$w" 192.0.2.3
    echo "== counters of the UDP run (all of them: build/demo-stats.json; or add --stats)"
    python3 tools/stats_summary.py build/demo-stats.json
    # the e1000 stack sends: its summary shows TSO (tcp hands up to 23
    # segments down as one frame, the card cuts them: docs/buffers.md)
    echo "== copy-dma sends 24 MB over TCP to copy-pio (lyra-ttcp; the receiver checks every byte)"
    "$bin/lyra-ttcp" -t -q -n 3000 --stats-json build/demo-tcp-stats.json \
        --stack assemblies/copy-dma.lyra "$w" --peer assemblies/copy-pio.lyra "$w" 192.0.2.2
    python3 tools/stats_summary.py build/demo-tcp-stats.json
    # the paper's zero-copy stacks: the sender's payload is referenced from
    # packet memory (lyra_pkt_alloc, copy on write), not copied; the receiver
    # reads one segment (1448 B) at a time into packet memory, where its pages
    # are remapped, not copied (writes of 5 segments keep the reads on
    # segment boundaries); the "payload" lines come from each stack's "copy"
    # object (issue 12). Remapping costs two mmap calls per page: slower
    # than a copy on this kind of VM (bench/results/zc.md)
    echo "== zc-pio sends 24 MB over TCP to zc-dma, packet memory both ends (lyra-ttcp --pkt -l 7240 --rlen 1448)"
    "$bin/lyra-ttcp" -t -q -n 3400 -l 7240 --rlen 1448 --pkt --stats-json build/demo-zc-stats.json \
        --stack assemblies/zc-pio.lyra "$w" --peer assemblies/zc-dma.lyra "$w" 192.0.2.5 |
        grep -E '^ttcp-t: .* bytes in|stream checked'
    python3 tools/stats_summary.py build/demo-zc-stats.json
}

run_ctest() { # run_ctest LABEL DIR [ctest args]: progress, then a one-line result (tools/ctest_run.py)
    local label=$1 dir=$2
    shift 2
    # one test per core (CTEST_JOBS overrides): two per core made tests
    # miss their timing under load (a SACK-against-NewReno time ratio, UDP
    # arrivals, a TAP peer's timeout); entries that mostly wait run their
    # cases at once instead (lyra_add_test_part's JOBS)
    python3 tools/ctest_run.py run "$label" "$dir" -j"${CTEST_JOBS:-$JOBS}" --timeout 600 "$@"
}

# fuzz_one NAME: one libFuzzer target for FUZZ_SECONDS from its corpus (a
# scratch copy grows, the checked-in corpus does not); exit code to NAME.rc
fuzz_one() {
    local name=$1 tmp rc=0
    tmp=$(mktemp -d)
    build-fuzz/fuzz/"$name" "$tmp" "tests/fuzz/corpus/${name#fuzz_}" -max_total_time="${FUZZ_SECONDS:-10}" \
        -print_final_stats=1 -artifact_prefix=build-fuzz/ >"build-fuzz/$name.log" 2>&1 || rc=$?
    echo "$rc" >"build-fuzz/$name.rc"
    rm -rf "$tmp"
}
export -f fuzz_one

# Every step runs even when one fails, so the summary at the end is complete.
test_all() {
    install_deps "${PKGS_TEST[@]}"
    local failed=() d
    rm -f build*/test-summary.json build-sizes/test-summary.json
    echo "== gcc build (log: build/build.log) and tests"
    build_quiet build build/build.log
    python3 tools/check_structure.py --build build || failed+=(structure) # layering, file sizes, writable globals
    run_ctest gcc build || failed+=(gcc)
    # clang's own warnings and code generation; the long and TAP tests (bulk
    # transfers, Linux interop) already ran on gcc and run again under ASan
    echo "== clang build (warnings are errors; log: build-clang/build.log) and tests but the long and TAP ones"
    build_quiet build-clang build-clang/build.log -DCMAKE_C_COMPILER=clang
    run_ctest clang build-clang -LE 'long|tap' || failed+=(clang)
    echo "== ASan+UBSan build (log: build-asan/build.log) and tests"
    build_quiet build-asan build-asan/build.log -DCMAKE_BUILD_TYPE=Debug -DLYRA_SANITIZE=ON -DLYRA_BENCH=OFF
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        CTEST_JOBS=$JOBS run_ctest asan build-asan || failed+=(asan)
    echo "== libFuzzer build (log: build-fuzz/build.log): ${FUZZ_SECONDS:-10}s per target"
    build_quiet build-fuzz build-fuzz/build.log --target fuzz_all -DCMAKE_C_COMPILER=clang -DLYRA_FUZZ=ON \
        -DLYRA_BENCH=OFF
    # the targets are single-threaded: $JOBS of them at once (each its own
    # corpus copy and log); results are printed in name order at the end
    local n=0 ok=0 bad=() t0=$SECONDS f name
    rm -f build-fuzz/fuzz_*.rc
    find build-fuzz/fuzz -maxdepth 1 -name 'fuzz_*' -type f -perm -u+x -printf '%f\n' | sort |
        FUZZ_SECONDS=${FUZZ_SECONDS:-10} xargs -P "$JOBS" -I{} bash -c 'fuzz_one "$@"' _ {}
    for f in build-fuzz/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        name=$(basename "$f")
        n=$((n + 1))
        if [ "$(cat "build-fuzz/$name.rc" 2>/dev/null)" = 0 ]; then
            ok=$((ok + 1))
            echo "  fuzz: $name ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' \
                "build-fuzz/$name.log" | grep -o '[0-9]*$') inputs (log build-fuzz/$name.log)"
        else
            bad+=("$name")
            echo "  fuzz: $name FAILED (crash input under build-fuzz/; log build-fuzz/$name.log)"
            tail -n 20 "build-fuzz/$name.log"
        fi
    done
    printf '{"label": "fuzz", "run": %d, "passed": %d, "failed": %d, "skipped": 0, "seconds": %d}\n' \
        "$n" "$ok" "${#bad[@]}" $((SECONDS - t0)) >build-fuzz/test-summary.json
    [ ${#bad[@]} -eq 0 ] || failed+=(fuzz)
    echo "== Cortex-M4 (arm-none-eabi-gcc -Os) and x86-64 -Os builds of the components; size table"
    t0=$SECONDS
    if bench/sizes.sh; then
        printf '{"label": "cortex-m4", "run": 4, "passed": 4, "failed": 0, "skipped": 0, "seconds": %d}\n' \
            $((SECONDS - t0)) >build-sizes/test-summary.json
    else
        failed+=(cortex-m4)
    fi
    echo "== summary (fuzz: targets run ${FUZZ_SECONDS:-10}s each; details in each build's ctest.log)"
    for d in build build-clang build-asan build-fuzz build-sizes; do echo "$d/test-summary.json"; done |
        xargs python3 tools/ctest_run.py summary
    if [ ${#failed[@]} -ne 0 ]; then
        echo "dev.sh test: FAILED: ${failed[*]}"
        exit 1
    fi
    echo "dev.sh test: all passed"
}

case "${1:-}" in
demo) demo ;;
test) test_all ;;
*)
    echo "usage: tools/dev.sh demo|test" >&2
    exit 1
    ;;
esac
