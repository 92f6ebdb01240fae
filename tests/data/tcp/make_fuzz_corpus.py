#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz_tcp_wire.c (one TCP segment per
file) from tcp-linux.pcap: every distinct segment layout of the capture,
plus hand-made malformed headers, one per parse error (see README.txt).
Standard library only.

  python3 tests/data/tcp/make_fuzz_corpus.py [OUTDIR]"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "fuzz", "corpus", "tcp_wire")

# frame number -> file name (see README.txt for what each frame is)
FRAMES = {1: "syn", 2: "syn_ack", 3: "ack_ts", 4: "data_odd", 6: "fin",
          9: "syn_mss200", 12: "data_full", 19: "sack1", 22: "sack2", 30: "sack_fin"}


def frames(path):
    with open(path, "rb") as f:
        buf = f.read()
    magic = struct.unpack("<I", buf[:4])[0]
    end = "<" if magic == 0xA1B2C3D4 else ">"
    off = 24
    while off + 16 <= len(buf):
        incl = struct.unpack(end + "I", buf[off + 8:off + 12])[0]
        yield buf[off + 16:off + 16 + incl]
        off += 16 + incl


def tcp_of(frame):
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    tot = struct.unpack("!H", ip[2:4])[0]
    return ip[ihl:tot]


def hdr(doff, opts, data=b""):
    h = struct.pack("!HHIIBBHHH", 40000, 5001, 1, 2, doff << 4, 0x10, 100, 0, 0)
    return h + opts + data


BAD = {
    "bad_short": hdr(5, b"")[:19],
    "bad_doff_small": hdr(4, b"", b"x" * 8),
    "bad_doff_beyond": hdr(8, b"\x01" * 4),
    "bad_opt_trunc": hdr(6, b"\x01\x01\x01\x02"),
    "bad_opt_len0": hdr(6, b"\x63\x00\x01\x01"),
    "bad_opt_overrun": hdr(6, b"\x63\x05\x00\x00"),
    "bad_mss_len": hdr(6, b"\x02\x03\x05\x01"),
    "bad_ws_len": hdr(6, b"\x03\x02\x01\x01"),
    "bad_sack_perm_len": hdr(6, b"\x04\x03\x00\x01"),
    "bad_sack_len": hdr(8, b"\x01\x01\x05\x0b" + b"\x00" * 8),
    "bad_ts_len": hdr(7, b"\x08\x08" + b"\x00" * 6),
    "ws_clamped_unknown": hdr(7, b"\x01\x03\x03\x0f\x1e\x04\x00\x00"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for n, fr in enumerate(frames(os.path.join(HERE, "tcp-linux.pcap")), 1):
        if n in FRAMES:
            with open(os.path.join(OUT, FRAMES[n]), "wb") as f:
                f.write(tcp_of(fr))
    for name, seg in BAD.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(seg)


if __name__ == "__main__":
    main()
