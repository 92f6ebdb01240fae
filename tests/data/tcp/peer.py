#!/usr/bin/env python3
"""Both ends of the TCP connections of tcp-linux.pcap (see README.txt).

  peer.py server      in the server's namespace: 192.0.2.2:5001, takes two
                      connections one after the other, each read to EOF
  peer.py client      in the client's namespace:
                      1. 192.0.2.1:40000 -> :5001, sends "Lyra!" and closes
                      2. 192.0.2.1:40001 -> :5001 with TCP_MAXSEG 200 (so
                         the effective MSS is 188 with timestamps), one
                         write of seven full segments, the data of segment
                         k all letter 'A' + k, then closes
  peer.py offload IF  ethtool -K IF tx off gso off: whole checksums and
                      one capture record per segment

capture.sh drops the segments whose data starts with C and E at the
server's ingress (nftables), so the server answers D, F and G of the second
connection with SACK blocks (RFC 2018)."""
import ctypes
import fcntl
import socket
import struct
import sys
import time


def ethtool_set(ifname, cmd):
    SIOCETHTOOL = 0x8946
    val = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
    ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(val))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCETHTOOL, ifr)


def offload_off(ifname):
    """A veth otherwise hands the capture packets whose checksum field holds
    only the pseudo header's sum (offload's seed, ETHTOOL_STXCSUM), and
    whole bursts as one GSO packet (ETHTOOL_SGSO; TSO goes with tx csum)."""
    ethtool_set(ifname, 0x17)
    ethtool_set(ifname, 0x24)


def read_to_eof(c):
    c.settimeout(20)
    got = b""
    while True:
        b = c.recv(4096)
        if not b:
            return got
        got += b


def server():
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("192.0.2.2", 5001))
    ls.listen(2)
    ls.settimeout(20)
    for _ in range(2):
        c, peer = ls.accept()
        got = read_to_eof(c)
        c.close()
        sys.stderr.write("server: %d bytes from %s\n" % (len(got), peer))
    ls.close()


def connect(port, maxseg=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if maxseg:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
    s.bind(("192.0.2.1", port))
    s.connect(("192.0.2.2", 5001))
    return s


def client():
    s = connect(40000)
    time.sleep(0.1)
    s.sendall(b"Lyra!")
    time.sleep(0.1)
    s.close()
    time.sleep(0.3)
    s = connect(40001, 200)
    time.sleep(0.1)
    mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    s.sendall(b"".join(bytes([0x41 + k]) * mss for k in range(7)))
    time.sleep(0.1)
    s.close()


if __name__ == "__main__":
    {"server": server, "client": client,
     "offload": lambda: offload_off(sys.argv[2])}[sys.argv[1]]()
