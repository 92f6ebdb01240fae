#!/usr/bin/env python3
"""The Linux side of test_services_tap: talks to the services of a stack at
192.0.2.2 with the kernel's sockets and checks every byte.

  svc_linux_client.py echo N       N random bytes to echo 7, back byte-exact
  svc_linux_client.py discard N    N bytes into discard 9, closed after our FIN
  svc_linux_client.py chargen N    N bytes from chargen 19 are RFC 864's lines
  svc_linux_client.py bytes FILE N FILE holds exactly /bytes/N's pattern
  svc_linux_client.py stall        sends to stall 5001 until they block for good

Prints one line of what it measured; exit 1 with the reason otherwise."""
import os
import socket
import sys
import threading
import time

HOST = "192.0.2.2"


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def connect(port):
    s = socket.create_connection((HOST, port), timeout=30)
    return s


def recv_all(s):
    got = bytearray()
    while True:
        x = s.recv(1 << 16)
        if not x:
            return bytes(got)
        got += x


def chargen_pattern(n):
    out = bytearray()
    line = 0
    while len(out) < n:
        out += bytes(32 + (line + k) % 95 for k in range(72)) + b"\r\n"
        line += 1
    return bytes(out[:n])


def bytes_pattern(n):
    return b"".join(b"%015x\n" % o for o in range(0, n, 16))[:n]


def echo(n):
    data = os.urandom(n)
    s = connect(7)
    t0 = time.monotonic()
    w = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
    w.start()
    got = recv_all(s)
    w.join()
    dt = time.monotonic() - t0
    if got != data:
        fail("echo: %d bytes back of %d, first difference at %d" %
             (len(got), n, next((i for i, (a, b) in enumerate(zip(got, data)) if a != b),
                                min(len(got), n))))
    print("echo ok: %d bytes back byte-exact in %.2f s" % (n, dt))


def discard(n):
    s = connect(9)
    block = b"d" * 65536
    t0 = time.monotonic()
    left = n
    while left:
        k = min(left, len(block))
        s.sendall(block[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    rest = recv_all(s)  # discard closes once it read our FIN
    dt = time.monotonic() - t0
    if rest:
        fail("discard sent %d bytes" % len(rest))
    print("discard ok: %d bytes in %.2f s (%.1f MB/s)" % (n, dt, n / dt / 1e6))


def chargen(n):
    s = connect(19)
    got = bytearray()
    while len(got) < n:
        x = s.recv(min(1 << 16, n - len(got)))
        if not x:
            fail("chargen closed after %d bytes" % len(got))
        got += x
    want = chargen_pattern(n)
    if bytes(got) != want:
        fail("chargen: first difference at %d" %
             next(i for i, (a, b) in enumerate(zip(got, want)) if a != b))
    print("chargen ok: %d bytes of RFC 864 lines" % n)


def check_bytes(path, n):
    data = open(path, "rb").read()
    if len(data) != n:
        fail("%s: %d bytes, not %d" % (path, len(data), n))
    if data != bytes_pattern(n):
        fail("%s: the pattern differs" % path)
    print("bytes ok: %d bytes of the pattern" % n)


def stall():
    s = connect(5001)
    s.setblocking(False)
    sent, blocked_since = 0, None
    block = b"s" * 65536
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            sent += s.send(block)
            blocked_since = None
        except BlockingIOError:
            if blocked_since is None:
                blocked_since = time.monotonic()
            elif time.monotonic() - blocked_since > 1.0:
                break
            time.sleep(0.05)
    else:
        fail("sends to stall never blocked for a second (%d bytes taken)" % sent)
    s.setblocking(True)
    s.settimeout(0.5)
    try:
        x = s.recv(1)
        fail("stall answered or closed: %r" % x)
    except socket.timeout:
        pass
    print("stall ok: sends blocked after %d bytes, the connection stays" % sent)


def main():
    a = sys.argv[1:]
    if a[:1] == ["echo"]:
        echo(int(a[1]))
    elif a[:1] == ["discard"]:
        discard(int(a[1]))
    elif a[:1] == ["chargen"]:
        chargen(int(a[1]))
    elif a[:1] == ["bytes"]:
        check_bytes(a[1], int(a[2]))
    elif a == ["stall"]:
        stall()
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
