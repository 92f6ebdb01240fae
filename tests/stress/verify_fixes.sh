#!/bin/sh
# Checks the proposed fixes (tests/stress/fixes/*.diff) without touching the
# tree: copies the sources they change into BUILD/stress-fixed/src, applies
# every diff there, builds the patched framework objects (linked into the
# stress programs ahead of liblyra_core.a), the patched socket and os_posix
# components (searched first through LYRA_COMPONENT_PATH) and a patched
# lyra-ping, then runs the reproducers.
#   tests/stress/verify_fixes.sh BUILD_DIR [asan|tsan]
# BUILD_DIR must be built (and tests/stress/build.sh run for it) first.
set -e
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
B=$(cd "${1:?usage: verify_fixes.sh BUILD_DIR [asan|tsan]}" && pwd)
san=${2:-asan}
CC=${CC:-cc}
case $san in
asan) SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
tsan) SAN="-fsanitize=thread" ;;
*) SAN="" ;;
esac
F="$B/stress-fixed"
rm -rf "$F"
mkdir -p "$F/src" "$F/lib/lyra" "$F/bin" "$F/obj"
(cd "$src" && tar cf - framework/include framework/src components/socket os_adapters/posix \
    components/nic_pio/ne2k_regs.h tools/ping tools/services) | (cd "$F/src" && tar xf -)
for d in "$here"/fixes/*.diff; do
    patch -s -p1 -d "$F/src" <"$d"
    echo "applied $(basename "$d")"
done
CF="-std=c11 -D_GNU_SOURCE -g -O1 -fPIC $SAN -I$F/src/framework/include"
# the framework: stack.c and socket_api.c
for f in stack socket_api; do
    $CC $CF -c "$F/src/framework/src/$f.c" -o "$F/obj/$f.o"
done
# components: socket (with lyra_core) and os_posix
$CC $CF -shared -I"$F/src/components/socket" "$F/src/components/socket/socket.c" \
    "$F/src/components/socket/fd_table.c" -o "$F/lib/lyra/lyra_socket.so"
$CC $CF -shared -I"$F/src/os_adapters/posix" $(ls "$F"/src/os_adapters/posix/os_*.c \
    "$F"/src/os_adapters/posix/link*.c "$F"/src/os_adapters/posix/pcap_writer.c) \
    -o "$F/lib/lyra/lyra_os_posix.so" -lpthread
# stress programs
for f in "$here"/*.c; do
    n=$(basename "$f" .c)
    $CC $CF -Wall -rdynamic -I"$src/framework/include" "$f" "$F/obj/stack.o" \
        "$F/obj/socket_api.o" -o "$F/bin/$n" "$B/lib/liblyra_manifest.a" \
        "$B/lib/liblyra_core.a" -ldl -lpthread
done
# lyra-ping
$CC $CF -I"$src/tools/services" -I"$src/tools/ping" "$F/src/tools/ping/lyra_ping.c" \
    "$F/obj/stack.o" "$F/obj/socket_api.o" -o "$F/bin/lyra-ping" "$B/lib/liblyra_ping_args.a" \
    "$B/lib/liblyra_services.a" "$B/lib/liblyra_manifest.a" "$B/lib/liblyra_core.a" -ldl -lpthread
# the project's own tests of this area, relinked with the patched framework
T="-I$src/tests/support -I$src/tests/fakes -I$src/tools/services"
L="$B/lib/liblyra_manifest.a $B/lib/liblyra_test_support.a $B/lib/liblyra_core.a -lcriterion -ldl -lpthread"
$CC $CF $T "$src/tests/unit/socket/test_socket.c" "$F/obj/stack.o" "$F/obj/socket_api.o" \
    -o "$F/bin/test_socket" $L
$CC $CF $T "$src/tests/unit/framework/test_stack.c" "$F/obj/stack.o" "$F/obj/socket_api.o" \
    -o "$F/bin/test_stack" "$B/lib/liblyra_toy_components.a" $L
$CC $CF $T "$src/tests/integration/test_udp_wire.c" "$F/obj/stack.o" "$F/obj/socket_api.o" \
    -o "$F/bin/test_integ_udp_wire" $L
$CC $CF $T "$src/tests/integration/test_services.c" "$F/obj/stack.o" "$F/obj/socket_api.o" \
    -o "$F/bin/test_services" "$B/lib/liblyra_services.a" $L
echo "built patched programs in $F/bin"

export LYRA_COMPONENT_PATH="$F/lib/lyra:$B/lib/lyra"
export LYRA_SOURCE_DIR="$src"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0}"
fail=0
run() {
    printf '%s\n' "--- $*"
    if ! "$F/bin/$@"; then
        echo "    ^ FAILED"
        fail=1
    fi
}
export LYRA_BUILD_DIR="$B"
# (Criterion itself crashes under TSan here: its tests run with asan/none)
if [ "$san" != tsan ]; then
    for t in test_socket test_stack test_integ_udp_wire test_services; do
        run $t --jobs 1
    done
fi
run app_poll_theft 20000 drive
run app_poll_theft 5000 loop
run zero_len_recv 0 loop send
run zero_len_recv 0 drive send
run zero_len_recv 0 loop poll
run zero_len_recv 0 drive poll
run zero_len_recv 1 loop send
run two_loops run 2
run two_loops slices 2
run close_wakeup 200 reuse loop
run close_wakeup 200 reuse drive
run close_wakeup 200 plain loop
run sockopt_edge
run idle_cpu 2
run timeouts 2 60
run hammer 100 7
run hammer_wire 30 8
run wire_destroy 20
# lyra-ping interrupted while it waits for a reply
"$F/bin/lyra-ping" -c 3 -W 20 --stack "$src/assemblies/copy-pio.lyra" "dev.link=wire:vf-$$" \
    192.0.2.99 >/dev/null 2>&1 &
p=$!
sleep 1.5
t0=$(date +%s%N)
kill -INT $p
wait $p || true
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "--- patched lyra-ping -W 20: SIGINT -> exit after $dt ms"
[ $dt -gt 2000 ] && fail=1
exit $fail
