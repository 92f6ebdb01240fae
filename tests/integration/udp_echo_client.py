#!/usr/bin/env python3
"""UDP helper for tests/integration/test_ipv4.c, run inside the test's
network namespace (Linux's side of the TAP).

  udp_echo_client.py echo HOST PORT SIZE...   send one datagram of each size
        (a pattern that differs per datagram), wait for it to come back, and
        check it is identical; prints "echo SIZE ok" per size; exit 1 on the
        first missing or different reply.
  udp_echo_client.py refused HOST PORT        connect()ed socket: send, then
        recv must raise ConnectionRefusedError (the peer's ICMP port
        unreachable); prints "ECONNREFUSED"; exit 1 otherwise.
  udp_echo_client.py server ADDR PORT SECONDS  a UDP echo server (RFC 862) for
        at most SECONDS; prints "ready" once bound.
"""
import socket
import sys
import time


def pattern(seq, size):
    return bytes(((i * 7 + seq * 13 + 1) & 0xFF) for i in range(size))


def echo(host, port, sizes):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3.0)
    for seq, size in enumerate(sizes):
        data = pattern(seq, size)
        s.sendto(data, (host, port))
        try:
            back, frm = s.recvfrom(65535)
        except socket.timeout:
            print(f"echo {size}: no reply within 3 s")
            return 1
        if frm != (host, port):
            print(f"echo {size}: reply from {frm}, not {host}:{port}")
            return 1
        if back != data:
            print(f"echo {size}: reply of {len(back)} bytes differs from the {size} sent")
            return 1
        print(f"echo {size} ok")
    return 0


def refused(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3.0)
    s.connect((host, port))
    s.send(b"is anyone there?")
    try:
        s.recv(100)
    except ConnectionRefusedError:
        print("ECONNREFUSED")
        return 0
    except socket.timeout:
        print("no error within 3 s (no ICMP port unreachable came)")
        return 1
    print("a reply came from a port that should be closed")
    return 1


def server(addr, port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            data, frm = s.recvfrom(65535)
        except socket.timeout:
            continue
        s.sendto(data, frm)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "echo":
        return echo(argv[2], int(argv[3]), [int(x) for x in argv[4:]])
    if len(argv) == 4 and argv[1] == "refused":
        return refused(argv[2], int(argv[3]))
    if len(argv) == 5 and argv[1] == "server":
        return server(argv[2], int(argv[3]), float(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
