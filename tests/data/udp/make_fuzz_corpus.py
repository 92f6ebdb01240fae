#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_udp.c (see its header for the
input format) into tests/fuzz/corpus/udp, from udp-linux.pcap's datagrams
and hand-made scripts. Usage: make_fuzz_corpus.py [OUTDIR]"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../fuzz/corpus/udp")


def read_pcap(path):
    b = open(path, "rb").read()
    off, res = 24, []
    while off + 16 <= len(b):
        incl = struct.unpack("<I", b[off + 8:off + 12])[0]
        res.append(b[off + 16:off + 16 + incl])
        off += 16 + incl
    return res


def H(v):
    return struct.pack("!H", v)


def put(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


# UDP header and data of each frame (14 bytes Ethernet, 20 bytes IP)
fr = [f[34:] for f in read_pcap(os.path.join(HERE, "udp-linux.pcap"))]
# deliver() flags: destination 1 = 192.0.2.2, 2 = 192.0.2.255 with F_BCAST
flags = [1, 1, 2 | 0x10, 1, 1, 1]

# mode 0: datagrams to the fixed endpoints
for i, (u, fl) in enumerate(zip(fr, flags)):
    put("dgram%d" % (i + 1), bytes([0, fl]) + H(len(u)) + u)
put("dgrams_all", b"\x00" + b"".join(bytes([fl]) + H(len(u)) + u for u, fl in zip(fr, flags)))
pad = fr[0] + b"\xa5" * 6
bad = bytearray(fr[1])
bad[20] ^= 0xFF
longlen = bytearray(fr[0])
longlen[5] = 0x40
odd = [(pad, 1), (bad, 1), (fr[0][:6], 1), (longlen, 1), (bad, 1 | 0x40),
       (fr[0], 5 | 0x20 | 0x80), (fr[0], 8 | 1 | 0x80), (fr[2], 3 | 0x10 | 0x80)]
put("dgrams_bad", b"\x00" + b"".join(bytes([fl]) + H(len(u)) + bytes(u) for u, fl in odd))
# a broadcast for three endpoints on port 9, then over the small queue
put("dgrams_bcast", b"\x00" + (bytes([2 | 0x10 | 0x80]) + H(len(fr[2])) + fr[2]) * 6)

# mode 1: scripts
s = b"\x00"                                 # open h0
s += b"\x02\x00\x04" + H(7)                 # bind h0 0.0.0.0:7
s += b"\x00"                                # open h1
s += b"\x03\x01\x00" + H(7)                 # connect h1 192.0.2.1:7
s += b"\x04\x01\x08" + H(0) + H(5)          # send h1 (no `to`) 5 bytes
s += b"\x04\x00\x00" + H(9) + H(100)        # send h0 to 192.0.2.1:9
s += b"\x08\x81\x00\x0d" + fr[0]            # receive frame 1 to 192.0.2.2:7
s += b"\x08\x81\x81\x0d" + fr[0]            # the same to h1's port from its peer
s += b"\x05\x00" + H(3) + b"\x01"           # recv h0 3 bytes PEEK
s += b"\x05\x00" + H(3) + b"\x02"           # recv h0 TRUNC
s += b"\x05\x00" + H(3) + b"\x00"           # recv h0: -EAGAIN
s += b"\x05\x01" + H(100) + b"\x00"         # recv h1
s += b"\x0a\x01"                            # poll and names of h1
s += b"\x01\x00\x01\x01"                    # close h0, h1
put("script_basic", b"\x01" + s)

s = b"\x00\x00"                             # open h0, h1
s += b"\x03\x00\x00" + H(9)                 # connect h0 192.0.2.1:9
s += b"\x09\x03\x03\x40\x00\x00\x00\x00"    # port unreachable about h0's datagram
s += b"\x0a\x00"                            # poll: ERR
s += b"\x04\x00\x08" + H(0) + H(1)          # send: -ECONNREFUSED
s += b"\x09\x0b\x00\x40\x00\x00\x00\x00"    # time exceeded about h0's
s += b"\x07\x00\x01"                        # getopt SO_ERROR
s += b"\x09\x03\x00\x40\x00\x00\x00\x00"    # net unreachable
s += b"\x05\x00" + H(10) + b"\x00"          # recv: the error
s += b"\x09\x0c\x00\x40\x00\x00\x00\x00"    # parameter problem
s += b"\x09\x03\x03\xc0\x00\x00\x00\x00"    # quoting TCP: not ours
s += b"\x09\x03\x03\x00" + H(60000) + H(9)  # a guessed port
s += b"\x0b\x00\x02"                        # shutdown both
s += b"\x05\x00" + H(10) + b"\x00"          # recv: 0 (end)
put("script_icmp", b"\x01" + s)

s = b"\x00"
s += b"\x06\x00\x02" + H(1)                 # SO_BROADCAST
s += b"\x06\x00\x06" + H(5)                 # IP_TTL 5
s += b"\x06\x00\x07" + H(0x10)              # IP_TOS
s += b"\x04\x00\x02" + H(9) + H(10)         # to 192.0.2.255
s += b"\x04\x00\x03" + H(9) + H(10)         # to 255.255.255.255
s += b"\x0c\x08"                            # UDP checksum offload
s += b"\x04\x00\x00" + H(9) + H(333)
s += b"\x0c\x12"                            # output -EAGAIN, headroom 0
s += b"\x04\x00\x00" + H(9) + H(3)
s += b"\x0c\x01"                            # no route
s += b"\x04\x00\x06" + H(9) + H(3)
s += b"\x0c\x00"
s += b"\x04\x00\x80" + H(9) + H(0)          # 65507 bytes (no buffer that big)
s += b"\x04\x00\x81" + H(9) + H(1)          # 65508: -EMSGSIZE
s += b"\x0d"                                # tx_ready
put("script_send", b"\x01" + s)

s = b"\x00" * 9                             # open 8, and one too many
for k in range(8):                          # 6 ephemeral ports only
    s += b"\x04" + bytes([k]) + b"\x00" + H(9) + H(1)
s += b"\x0e\x27"                            # hold 39 skbs: the pool is empty
s += b"\x04\x00\x00" + H(9) + H(1)          # -EAGAIN
s += b"\x08\x81\x80\x0d" + fr[0]            # received with no buffer left
s += b"\x0f"                                # release them
s += b"\x02\x00\x04" + H(0) + b"\x02\x01\x04" + H(0)  # bind to port 0
put("script_ports", b"\x01" + s)

s = b""
for k in range(3):                          # three endpoints on 0.0.0.0:9
    s += b"\x00" + b"\x06" + bytes([k]) + b"\x03" + H(1)
    s += b"\x02" + bytes([k]) + b"\x04" + H(9)
s += b"\x06\x00\x04" + H(12)                # SO_RCVBUF 12 on h0
for k in range(6):                          # broadcast, right checksum
    s += b"\x08\x92\x00\x0d" + fr[2]
s += b"\x05\x01" + H(100) + b"\x00" + b"\x05\x02" + H(100) + b"\x04"
put("script_bcast", b"\x01" + s)
