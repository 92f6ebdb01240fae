#!/bin/sh
# lyranet run --services under traffic, stopped by SIGINT/SIGTERM at random
# moments: it must exit 0 promptly (service threads end with ECANCELED,
# loop returns, stats printed), without sanitizer reports. The traffic is a
# lyra-ping UDP echo flood from a second process on the same wire.
#   tests/stress/signal_services.sh BUILD_DIR [ROUNDS]
# Also: lyra-ping itself interrupted by SIGINT while it waits for a reply.
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
B=$(cd "${1:?usage: signal_services.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-20}
export LYRA_COMPONENT_PATH="$B/lib/lyra"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
tmp=$(mktemp -d)
fail=0
i=0
while [ $i -lt "$rounds" ]; do
    i=$((i + 1))
    wire="sigsv-$$-$i"
    "$B/bin/lyranet" run "$src/assemblies/copy-dma.lyra" "dev.link=wire:$wire" \
        --services echo,discard,chargen --stats >"$tmp/run.out" 2>"$tmp/run.err" &
    run=$!
    sleep 0.3
    "$B/bin/lyra-ping" -q -u 7 -s 1000 -i 0 -c 1000000 -W 1 \
        --stack "$src/assemblies/copy-pio.lyra" "dev.link=wire:$wire" 192.0.2.3 \
        >"$tmp/ping.out" 2>"$tmp/ping.err" &
    ping=$!
    # a random moment in the flood
    sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 9 + 1))"
    sig=INT
    [ $((i % 2)) -eq 0 ] && sig=TERM
    t0=$(date +%s%N)
    kill -$sig $run
    wait $run
    rc=$?
    dt=$(( ($(date +%s%N) - t0) / 1000000 ))
    kill -INT $ping 2>/dev/null
    wait $ping
    if [ $rc -ne 0 ] || [ $dt -gt 2000 ] || grep -q "Sanitizer\|runtime error" "$tmp/run.err"; then
        echo "round $i: lyranet run exit $rc after SIG$sig in $dt ms"
        sed 's/^/  stderr: /' "$tmp/run.err" | head -30
        fail=1
    else
        echo "round $i: SIG$sig -> exit 0 in $dt ms ($(grep -c . "$tmp/run.out") stats lines)"
    fi
    if grep -q "Sanitizer\|runtime error" "$tmp/ping.err"; then
        echo "round $i: lyra-ping:"; head -30 "$tmp/ping.err"; fail=1
    fi
done
# lyra-ping's own SIGINT while it waits (-W 20) for a reply that never comes
"$B/bin/lyra-ping" -c 3 -W 20 --stack "$src/assemblies/copy-pio.lyra" "dev.link=wire:sigp-$$" \
    192.0.2.99 >"$tmp/p.out" 2>&1 &
p=$!
sleep 1.5
t0=$(date +%s%N)
kill -INT $p
wait $p
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "lyra-ping -W 20, SIGINT while waiting for a reply: exit after $dt ms"
[ $dt -gt 2000 ] && { echo "  (SIGINT does not end the blocked recvfrom: it waits out -W)"; fail=1; }
rm -rf "$tmp"
exit $fail
