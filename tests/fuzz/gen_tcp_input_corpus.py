#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tcp_input (tests/fuzz/corpus/tcp_input):
a few inputs per starting state, in the operation format that
fuzz_tcp_input.c describes (run_ops). Seeds are kept in git; run this
again only to change them:  python3 tests/fuzz/gen_tcp_input_corpus.py"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tcp_input")

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
# setup bits (byte 0)
NOOPT, SMALL, ACTIVE, SPLIT = 0x10, 0x20, 0x40, 0x80
ST = dict(LISTEN=0, SYN_SENT=1, SYN_RCVD=2, ESTABLISHED=3, FIN_WAIT_1=4, FIN_WAIT_2=5,
          CLOSE_WAIT=6, CLOSING=7, LAST_ACK=8, TIME_WAIT=9, O_FIN_WAIT_1=10, O_FIN_WAIT_2=11,
          O_CLOSING=12, O_LAST_ACK=13, O_TIME_WAIT=14, OOO=15)


def s16(v):
    return struct.pack(">h", v)


def u16(v):
    return struct.pack(">H", v & 0xffff)


def seg(flags, seq_base=0, seq_off=0, ack_base=0, ack_off=0, win=65535, length=0, mss=None,
        ws=None, sackp=False, ts=None, sacks=(), urg=None, other_port=False, bad_csum=False,
        seq_x256=False, ack_x256=False):
    """seq_base: 0 p_nxt, 1 p_nxt and move, 2 peer ISS, 3 p_nxt + 2^31;
    ack_base: 0 what the peer received, 1 highest tcp sent, 2 tcp's ISS, 3 + 2^31"""
    sel = seq_base | ack_base << 2 | (0x10 if other_port else 0) | (0x20 if bad_csum else 0) | \
        (0x40 if seq_x256 else 0) | (0x80 if ack_x256 else 0)
    ob = (1 if mss is not None else 0) | (2 if ws is not None else 0) | (4 if sackp else 0) | \
        (8 if ts is not None else 0) | (len(sacks) << 4) | (0x80 if urg is not None else 0)
    b = bytes([0, flags, sel]) + s16(seq_off) + s16(ack_off) + u16(win) + bytes([ob])
    if mss is not None:
        b += u16(mss)
    if ws is not None:
        b += bytes([ws])
    if ts is not None:
        b += bytes([ts])
    for left, right in sacks:
        b += s16(left) + s16(right)
    if urg is not None:
        b += u16(urg)
    return b + u16(length)


def raw(data, fix=3):
    return bytes([1]) + u16(len(data)) + bytes([fix]) + data


def clock(unit, count):
    """unit: 0 1 ms, 1 10 ms, 2 1 s, 3 60 s"""
    return bytes([2, unit, count])


def send(n, h=0):
    return bytes([3, h]) + u16(n)


def recv(n, h=0, fl=0):
    return bytes([4, h]) + u16(n) + bytes([fl])


def shutdown(how, h=0):
    return bytes([5, h, how])


def close(h=0):
    return bytes([6, h])


def setopt(opt, val, h=0):
    return bytes([7, h, opt]) + s16(val)


def misc(what, h=0):
    return bytes([8, h, what])


def l3(c):
    return bytes([9, c])


def hold(k):
    return bytes([10, k])


def release():
    return bytes([11])


def icmp(t, code, mtu=0):
    return bytes([12, t, code]) + u16(mtu)


def tx_ready():
    return bytes([13])


TS = 0  # a right timestamp
ACKALL = seg(ACK, ts=TS, win=512)  # 512 << 7 when scaled: 64 KiB


def data(n, fl=ACK | PSH):
    return seg(fl, seq_base=1, ts=TS, win=512, length=n)


SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT = 10, 12, 13, 14, 15
SO_RCVBUF, TCP_NODELAY, TCP_MAXSEG = 4, 8, 11

seeds = {}


def add(name, state, ops, bits=0):
    seeds[name] = bytes([ST[state] | bits]) + b"".join(ops)


# LISTEN: a handshake, data, close; a SYN flood past the backlog; junk
add("listen_handshake", "LISTEN", [
    seg(SYN, seq_base=1, mss=1460, ws=7, sackp=True, ts=TS),
    seg(ACK, seq_base=0, ack_base=2, ack_off=1, ts=TS, win=512),
    misc(0), data(500), recv(1000), send(2000), clock(1, 5), ACKALL, close()])
add("listen_synflood", "LISTEN", [
    seg(SYN, seq_base=0, seq_off=i * 7, other_port=i % 2 == 1) for i in range(6)] + [
    clock(2, 3), clock(3, 2)])
add("listen_rst_ack", "LISTEN", [seg(ACK), seg(RST), seg(SYN | FIN, seq_base=1), seg(0)])
add("listen_syn_data", "LISTEN", [
    seg(SYN | PSH, seq_base=1, length=300, mss=536), seg(ACK, ack_base=2, ack_off=1),
    misc(0), recv(1000)], NOOPT)
# SYN_SENT
add("synsent_synack", "SYN_SENT", [
    seg(SYN | ACK, seq_base=1, ack_base=2, ack_off=1, mss=1400, ws=3, sackp=True, ts=TS),
    send(5000), clock(1, 20), ACKALL, recv(100), close()])
add("synsent_simopen", "SYN_SENT", [
    seg(SYN, seq_base=1, mss=1460), clock(1, 5), seg(ACK, ack_base=0), send(100)])
add("synsent_rst", "SYN_SENT", [seg(RST | ACK, ack_base=2, ack_off=1), misc(3), send(10)])
add("synsent_timeout", "SYN_SENT", [clock(2, 200), clock(3, 5), misc(3)], SMALL)
add("synsent_badack", "SYN_SENT", [
    seg(SYN | ACK, seq_base=1, ack_base=2, ack_off=5), icmp(3, 3), icmp(3, 1)])
# SYN_RCVD
add("synrcvd_ack_data", "SYN_RCVD", [
    seg(ACK | PSH, seq_base=1, ack_base=2, ack_off=1, ts=TS, win=512, length=100),
    misc(0, 1), recv(200)])
add("synrcvd_rst", "SYN_RCVD", [seg(RST, seq_base=0), misc(0, 1), clock(2, 10)])
add("synrcvd_dupsyn", "SYN_RCVD", [
    seg(SYN, seq_base=2, mss=1460, ws=7, sackp=True, ts=TS), clock(2, 1), clock(2, 2),
    clock(2, 4), close(1)])
add("synrcvd_fin", "SYN_RCVD", [
    seg(ACK | FIN, seq_base=1, ack_base=2, ack_off=1, ts=TS), misc(0, 1), recv(10), close()])
# ESTABLISHED
add("est_bulk", "ESTABLISHED", [
    send(20000), ACKALL, clock(1, 4), ACKALL, recv(5000), data(1448), data(1448), data(1448),
    recv(5000), clock(1, 10), ACKALL])
add("est_dupacks", "ESTABLISHED", [
    send(8000), seg(ACK, ts=TS, win=512, ack_base=2, ack_off=1001), seg(ACK, ts=TS, win=512,
    ack_base=2, ack_off=1001, sacks=[(-1000, 0)]), seg(ACK, ts=TS, win=512, ack_base=2,
    ack_off=1001), seg(ACK, ts=TS, win=512, ack_base=2, ack_off=1001), ACKALL])
add("est_rto", "ESTABLISHED", [clock(2, 1), clock(2, 2), clock(2, 4), ACKALL, clock(3, 30)])
add("est_zero_window", "ESTABLISHED", [
    seg(ACK, ts=TS, win=0), send(3000), clock(2, 1), clock(2, 3), seg(ACK, ts=TS, win=0),
    clock(2, 9), seg(ACK, ts=TS, win=512)])
add("est_rcv_fill", "ESTABLISHED", [
    data(1448), data(1448), data(1448), data(1448), data(1448), clock(1, 1), recv(10000, fl=8),
    clock(1, 5)], SMALL)
add("est_ooo", "OOO", [
    data(100), seg(ACK, seq_base=0, seq_off=400, ts=TS, length=100),
    seg(ACK, seq_base=0, seq_off=-199, ts=TS, length=200), recv(4000), clock(1, 5)])
add("est_rst_inwindow", "ESTABLISHED", [seg(RST, seq_off=10), seg(RST), recv(10), send(10)])
add("est_syn", "ESTABLISHED", [seg(SYN, seq_off=3), seg(SYN, seq_base=2), clock(1, 5)])
add("est_paws", "ESTABLISHED", [seg(ACK, ts=200, length=50), seg(ACK, ts=255, length=50)])
add("est_keepalive", "ESTABLISHED", [
    ACKALL, recv(5000), setopt(SO_KEEPALIVE, 1), setopt(TCP_KEEPIDLE, 1),
    setopt(TCP_KEEPINTVL, 1), setopt(TCP_KEEPCNT, 2), clock(2, 5), clock(2, 5)])
add("est_user_timeout", "ESTABLISHED", [setopt(TCP_USER_TIMEOUT, 500), clock(2, 5)])
add("est_urgent", "ESTABLISHED", [
    seg(ACK | URG | PSH, seq_base=1, ts=TS, win=512, length=10, urg=5), recv(1000, fl=4),
    recv(1000)])
add("est_pool_empty", "ESTABLISHED", [
    hold(200), send(5000), data(500), clock(2, 1), release(), tx_ready(), clock(2, 2)], SMALL)
add("est_output_err", "ESTABLISHED", [
    l3(2), send(3000), ACKALL, clock(2, 2), l3(0), tx_ready(), clock(2, 3), l3(0x18),
    send(3000), l3(1), clock(2, 2)])
add("est_icmp", "ESTABLISHED", [icmp(3, 4, 576), icmp(3, 1), icmp(3, 3), misc(3), send(10)])
add("est_raw", "ESTABLISHED", [
    raw(bytes(range(20, 40)) + bytes([0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0])),
    raw(bytes(60), fix=1), raw(b"\x00\x50\x9c\x40" + bytes(8) + b"\xf0\x12" + bytes(6), 2)])
add("est_split", "ESTABLISHED", [data(1448), l3(0x40), data(700), l3(0xc0), data(300),
                                   recv(4000, fl=1), recv(4000)], SPLIT)
add("est_active_noopt", "ESTABLISHED", [
    send(4000), seg(ACK, ack_base=1), data(536), recv(2000)], ACTIVE | NOOPT)
add("est_shutdown_rd", "ESTABLISHED", [shutdown(0), data(100), recv(10), shutdown(2)])
add("est_linger0", "ESTABLISHED", [setopt(18, 1), close()])  # SO_LINGER 0 (val % 3 - 1)
add("est_sackblocks", "ESTABLISHED", [
    send(10000), seg(ACK, ts=TS, ack_base=2, ack_off=1001,
                     sacks=[(-5000, -3000), (-2000, -1000), (-500, 0)]),
    seg(ACK, ts=TS, ack_base=2, ack_off=1001, sacks=[(100, 50), (-30000, 30000)]),
    clock(2, 1)])
add("est_window_far", "ESTABLISHED", [
    seg(ACK, seq_base=3, ts=TS, length=10), seg(ACK, ack_base=3), seg(ACK, ack_base=1,
    ack_off=100, ack_x256=True), seg(ACK, seq_off=300, seq_x256=True, length=10)])
# FIN_WAIT_1
add("fw1_ack_fin", "FIN_WAIT_1", [ACKALL, clock(3, 2), data(10, ACK | FIN)])
add("fw1_simclose", "FIN_WAIT_1", [
    seg(ACK | FIN, seq_base=1, ts=TS, ack_base=2, ack_off=1001), clock(2, 2), ACKALL,
    clock(3, 2)])
add("fw1_data", "FIN_WAIT_1", [data(1000), recv(2000), clock(2, 1), clock(2, 2)])
add("fw1_rst", "FIN_WAIT_1", [seg(RST | ACK), misc(3), recv(10)])
add("fw1_orphan", "O_FIN_WAIT_1", [data(10), clock(2, 2), ACKALL, clock(3, 2)])
add("fw1_send_after", "FIN_WAIT_1", [send(10), shutdown(2), close()])
# FIN_WAIT_2
add("fw2_fin", "FIN_WAIT_2", [data(50, ACK | FIN | PSH), recv(100), clock(3, 2)])
add("fw2_data", "FIN_WAIT_2", [data(1000), recv(100), clock(1, 5), close()])
add("fw2_orphan_timeout", "O_FIN_WAIT_2", [clock(3, 2), seg(ACK)])
add("fw2_close", "FIN_WAIT_2", [close(), clock(3, 1), data(1, ACK | FIN)])
# CLOSE_WAIT
add("cw_send_close", "CLOSE_WAIT", [send(2000), ACKALL, recv(1000), close(), ACKALL])
add("cw_dup_fin", "CLOSE_WAIT", [seg(ACK | FIN, seq_off=-1, ts=TS), clock(2, 1), data(10)])
add("cw_rst", "CLOSE_WAIT", [seg(RST), recv(10)])
# CLOSING
add("closing_ack", "CLOSING", [ACKALL, clock(3, 2), seg(ACK | FIN, seq_off=-1)])
add("closing_rto", "CLOSING", [clock(2, 1), clock(2, 2), clock(2, 4)])
add("closing_orphan", "O_CLOSING", [ACKALL, clock(3, 1)])
# LAST_ACK
add("lastack_ack", "LAST_ACK", [ACKALL, recv(10), close()])
add("lastack_rto", "LAST_ACK", [clock(2, 3), clock(3, 3)])
add("lastack_orphan", "O_LAST_ACK", [clock(2, 1), ACKALL, seg(ACK)])
# TIME_WAIT
add("tw_fin_again", "TIME_WAIT", [seg(ACK | FIN, seq_off=-1, ts=TS), clock(3, 1), clock(2, 30)])
add("tw_new_syn", "TIME_WAIT", [
    clock(2, 1), seg(SYN, seq_base=1, seq_off=400, seq_x256=True, mss=1460, ws=7, sackp=True, ts=TS),
    seg(ACK, seq_base=0, ack_base=2, ack_off=1, ts=TS), misc(0, 1)])
add("tw_orphan_rst", "O_TIME_WAIT", [seg(RST), seg(ACK), clock(3, 2)])
add("tw_expire", "TIME_WAIT", [clock(3, 1), clock(2, 1), seg(ACK), close()])

# a few setups with the other bits
for st in ("ESTABLISHED", "FIN_WAIT_1", "CLOSE_WAIT", "TIME_WAIT"):
    for bits, tag in ((NOOPT | ACTIVE, "active_noopt"), (SMALL | SPLIT, "small_split")):
        add("%s_%s" % (st.lower(), tag), st, [data(300), ACKALL, send(1000), clock(2, 1),
                                            recv(500), clock(3, 1)], bits)

os.makedirs(OUT, exist_ok=True)
for name, b in sorted(seeds.items()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(b)
print("%d seeds in %s" % (len(seeds), OUT))
