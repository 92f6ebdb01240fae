#!/usr/bin/env bash
# Code size of every component and of lyra_core (what a static assembly links
# from the framework), -Os static libraries, for x86-64 (host gcc) and
# Cortex-M4 (arm-none-eabi-gcc, newlib), each with and without LYRA_NO_DOCS
# (documentation strings and counter names left out). Writes
# bench/results/sizes.md, with each zc assembly against its copy twin
# (issue 12.6). Needs gcc-arm-none-eabi and libnewlib-arm-none-eabi.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
m4=cmake/arm-none-eabi-cortex-m4.cmake
one() { # one DIR [cmake args...]
    local dir=$1
    shift
    echo "sizes: building $dir" >&2
    cmake -S . -B "$dir" -DLYRA_EMBEDDED=ON -DCMAKE_BUILD_TYPE=MinSizeRel "$@" >"$dir.log" 2>&1 &&
        cmake --build "$dir" -j"$JOBS" >>"$dir.log" 2>&1 || {
        tail -n 30 "$dir.log" >&2
        echo "sizes: build of $dir failed (log $dir.log)" >&2
        exit 1
    }
}
mkdir -p build-sizes bench/results
one build-sizes/x86-docs
one build-sizes/x86-nodocs -DLYRA_NO_DOCS=ON
one build-sizes/m4-docs -DCMAKE_TOOLCHAIN_FILE=$m4
one build-sizes/m4-nodocs -DCMAKE_TOOLCHAIN_FILE=$m4 -DLYRA_NO_DOCS=ON
python3 bench/sizes.py bench/results/sizes.md \
    "x86-64, gcc -Os:size:build-sizes/x86-docs/lib" \
    "x86-64, gcc -Os, LYRA_NO_DOCS:size:build-sizes/x86-nodocs/lib" \
    "Cortex-M4, arm-none-eabi-gcc -Os -mthumb:arm-none-eabi-size:build-sizes/m4-docs/lib" \
    "Cortex-M4, arm-none-eabi-gcc -Os -mthumb, LYRA_NO_DOCS:arm-none-eabi-size:build-sizes/m4-nodocs/lib"
echo "sizes: bench/results/sizes.md written" >&2
