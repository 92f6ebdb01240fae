# shellcheck shell=bash
# bench/zc.sh's sides (copy and the zero-copy modes) as bench/ipb runs
# them, sourced by bench/zc.sh and bench/zc_ab.sh so both measure a side
# the same way.
# packet memory for --rotate 64M (source 64 MiB; sink 64M / 1448 pages)
ZC_OVR=(a:skb.pkt_pages=65536 b:skb.pkt_pages=65536)
ovr() { case $1 in zc | zcmsgpkt) echo "${ZC_OVR[@]}" ;; esac; } # ovr SIDE -> overrides
flags() { # flags SIDE -> ipb options
    case $1 in copy | zc) echo --pkt ;; zcmsg) echo --zerocopy ;; zcmsgpkt) echo --zerocopy --pkt ;; zcloan) echo --loan ;; zcnext) echo --loan-next ;; esac
}
asm_of() { [ "$1" = copy ] && echo copy || echo zc; } # asm_of SIDE -> manifest prefix
