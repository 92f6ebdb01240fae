#!/usr/bin/env python3
"""Sends the datagrams of udp-linux.pcap from 192.0.2.1 (see README.txt).
Run inside the Linux side's network namespace by capture.sh."""
import ctypes
import fcntl
import socket
import struct
import time

DST = "192.0.2.2"
SO_NO_CHECK = 11  # Linux: send with a zero checksum (RFC 768 "none")


def tx_checksum_off(ifname):
    """ethtool -K IF tx off: the veth would otherwise hand its peer (and the
    capture) CHECKSUM_PARTIAL packets, whose field holds only the pseudo
    header's sum (tests/data/ip/udp-unreach-linux.pcap has such a one)."""
    SIOCETHTOOL, ETHTOOL_STXCSUM = 0x8946, 0x17
    val = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
    ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(val))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCETHTOOL, ifr)


def sock(port, bcast=False, nocheck=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if bcast:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if nocheck:
        s.setsockopt(socket.SOL_SOCKET, SO_NO_CHECK, 1)
    s.bind(("192.0.2.1", port))
    return s


def fold(x):
    while x >> 16:
        x = (x & 0xFFFF) + (x >> 16)
    return x


def words(b):
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def payload_summing_to_zero(src, dst, sport, dport, head):
    """head plus two bytes chosen so that the checksum computes to 0, which
    the sender must transmit as 0xffff (RFC 768)."""
    ulen = 8 + len(head) + 2
    s = fold(words(socket.inet_aton(src) + socket.inet_aton(dst)) + 17 + ulen
             + sport + dport + ulen + words(head))
    return head + struct.pack("!H", 0xFFFF - s)


tx_checksum_off("vA")
a = sock(40000)
a.sendto(b"Lyra!", (DST, 7))                                  # 1: odd length
a.sendto(bytes(i % 251 for i in range(1000)), (DST, 9))       # 2: 1000 bytes
time.sleep(0.2)
sock(40001, bcast=True).sendto(b"bcast", ("192.0.2.255", 9))  # 3: broadcast
sock(40002, nocheck=True).sendto(b"nocsum", (DST, 9))         # 4: checksum 0
sock(40003).sendto(payload_summing_to_zero("192.0.2.1", DST, 40003, 9, b"Lyra"),
                   (DST, 9))                                  # 5: sent as 0xffff
a.sendto(b"", (DST, 9))                                       # 6: no data
