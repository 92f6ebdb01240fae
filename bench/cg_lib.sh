# Shell helpers bench/ipb.sh and bench/zc.sh share (sourced, not run):
# bench/ipb under callgrind, and KEY=VALUE lines. Expects B (build dir) and
# SRC (absolute source tree); GLIBC_TUNABLES set by the caller.

# cg_run OUT LOG IPB-ARGS... -> ipb's KEY=VALUE line, then the stack's
# split (bench/callgrind_stack.py --by-dir), on one line; 1 on failure.
cg_run() {
    local out=$1 log=$2 line
    shift 2
    line=$(valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=transfer_phase \
        "$B/bench/ipb" "$@" 2>"$log") || { echo "ipb $* failed (see $log)" >&2; return 1; }
    echo "$line $(python3 bench/callgrind_stack.py "$SRC" "$out" --by-dir)"
}
kv() { # kv "K=V ..." KEY
    tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'
}
kv0() { # kv, 0 when KEY is absent
    tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {v = $2} END {printf "%.0f\n", v + 0}'
}
median() { sort -g | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "-"}'; }
