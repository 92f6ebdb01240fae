#!/bin/sh
# Runs one stress program with the component path of its build tree:
#   tests/stress/run.sh build-review idle_cpu 3
#   STRESS_PPOLL_DELAY_US=200 tests/stress/run.sh build-review app_poll_theft 2000
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
B=$(cd "${1:?usage: run.sh BUILD_DIR PROGRAM [ARGS...]}" && pwd)
prog=${2:?program}
shift 2
export LYRA_COMPONENT_PATH="$B/lib/lyra"
export LYRA_SOURCE_DIR="$src"
# leak checks are for the unit tests; these programs abort() on failure
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 second_deadlock_stack=1 history_size=4}"
exec "$B/stress/$prog" "$@"
