#!/usr/bin/env bash
# Wake-ups of blocked socket calls and the loop (issue 8.3). Prints the
# figures of bench/results/wakeups.md:
#   bench/wakeups.sh [BUILD_DIR]
# recv32 and poll N count transport calls (accounting proxy on sock.l4), so
# they do not depend on the machine; the echo run is CPU (user+sys) of
# lyra-ping under /usr/bin/time, 5 runs, and voluntary context switches
# (wake-ups) per echo.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
export LYRA_SOURCE_DIR=$PWD LYRA_COMPONENT_PATH=$PWD/$B/lib/lyra
"$B/bench/wakeups" recv32
for n in 10 100 1000; do "$B/bench/wakeups" poll "$n"; done
for i in 1 2 3 4 5; do
    /usr/bin/time -f "echo run $i: wall %e s, user %U s, sys %S s, voluntary switches %w" \
        "$B/bin/lyra-ping" -q -u 7 -c 5000 -i 0 -s 1472 --stack assemblies/copy-dma.lyra \
        ip.addr=192.0.2.4/24 dev.mac=02:00:00:00:00:04 dev.link=wire:e$$ \
        --peer assemblies/copy-dma.lyra dev.link=wire:e$$ 192.0.2.3 >/dev/null
done
