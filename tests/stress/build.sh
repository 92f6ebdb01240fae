#!/bin/sh
# Builds the stress programs against an existing build tree (not wired into
# CMake). The tree must have been built first, with the same sanitizer:
#   cmake -S . -B build-review -DCMAKE_BUILD_TYPE=Debug -DLYRA_SANITIZE=ON
#   cmake --build build-review -j2
#   tests/stress/build.sh build-review asan
# or for ThreadSanitizer:
#   cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-fsanitize=thread \
#         -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread
#   cmake --build build-tsan -j2
#   tests/stress/build.sh build-tsan tsan
# Programs land in BUILD/stress/. Run them through tests/stress/run.sh.
set -e
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
B=$(cd "${1:?usage: build.sh BUILD_DIR [asan|tsan|none]}" && pwd)
san=${2:-asan}
CC=${CC:-cc}
case $san in
asan) SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" ;;
tsan) SAN="-fsanitize=thread" ;;
none) SAN="" ;;
*) echo "sanitizer: asan, tsan or none" >&2; exit 1 ;;
esac
mkdir -p "$B/stress"
for f in "$here"/*.c; do
    n=$(basename "$f" .c)
    # -rdynamic: the ppoll of stress.h interposes os_posix's (a dlopened .so)
    $CC -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Wno-unused-parameter $SAN -rdynamic \
        -I"$src/framework/include" "$f" -o "$B/stress/$n" \
        "$B/lib/liblyra_manifest.a" "$B/lib/liblyra_core.a" -ldl -lpthread
    echo "built $B/stress/$n"
done
