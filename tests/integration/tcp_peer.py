#!/usr/bin/env python3
"""Linux's side of tests/integration/test_tcp_tap.c (run inside the test's
network namespace): TCP clients of the stack's services and servers for the
stack's clients, each checking every byte and printing one line of what it
measured. Exit status 0 when all was right, 1 otherwise (the line says why).

  tcp_peer.py echo HOST PORT BYTES     send BYTES (a pattern) to an echo
        service while reading it back; check it byte-exact; then close
        first (Linux closes: FIN from this side).
  tcp_peer.py discard HOST PORT BYTES  send BYTES to a discard service, shut
        down writing, wait for the service's FIN: timed from connect to FIN.
  tcp_peer.py chargen HOST PORT BYTES  read BYTES from a chargen service and
        check RFC 864's lines (tools/services/svc_pattern.h), then close.
  tcp_peer.py http_close HOST PORT BYTES  GET /bytes/BYTES with "Connection:
        close", read to the server's FIN, check the body; close only then
        (the server closes first).
  tcp_peer.py refused HOST PORT        connect() must fail at once with
        ECONNREFUSED (the stack's RST to our SYN).
  tcp_peer.py sink ADDR PORT BYTES     accept one connection and read to
        its end; the stream must be lyra-ttcp's pattern (byte i is i % 251)
        and exactly BYTES long. Prints "ready" once listening.
  tcp_peer.py bytes FILE BYTES         FILE must be exactly what the http
        service sends for /bytes/BYTES (svc_pattern.h: 16-byte lines, each
        its own offset in 15 hex digits and LF); prints its SHA-256.
  tcp_peer.py source ADDR PORT BYTES   connect (retrying while refused, as
        the receiver may not listen yet), send BYTES of lyra-ttcp's
        pattern, shut down writing, wait for the receiver's FIN.
  tcp_peer.py urgent HOST PORT         connect (retrying while refused), send
        b"abc", then b"!" with MSG_OOB (Linux's urgent pointer points just
        after it), then b"def"; shut down writing, wait for the FIN.
  tcp_peer.py syn_flood HOST PORT N    N SYNs from spoofed sources
        (192.0.2.100-199, random ports; a raw socket, root), never
        completed; then a connection of Linux's own through the stack's SYN
        cookie: 100,000 bytes echoed byte-exact, and the options Linux
        negotiated (TCP_INFO: timestamps, SACK, window scale both ways).
  tcp_peer.py urgent_sink ADDR PORT    accept one connection (prints "ready"
        once listening), wait for POLLPRI, read up to the urgent mark
        (SIOCATMARK), take the urgent byte with MSG_OOB (Linux's default,
        no SO_OOBINLINE), read to the end: prints what each step got.
"""
import errno
import socket
import sys
import threading
import time

PERIOD = 251  # tools/ttcp/ttcp.c: byte i of the stream is i % 251
TTCP = bytes(i % PERIOD for i in range(PERIOD + 65536))
CHUNK = 65536


def ttcp_pattern(off, n):
    k = off % PERIOD
    return TTCP[k:k + n]


def echo_pattern(off, n):
    # a different byte per offset (period 65521, prime), so a shifted,
    # repeated or lost segment shows
    return bytes(((off + i) * 2654435761 >> 13) & 0xFF for i in range(n))


def chargen_expected(n):
    out = bytearray()
    line = 0
    while len(out) < n:
        out += bytes(32 + (line + c) % 95 for c in range(72)) + b"\r\n"
        line = (line + 1) % 95
    return bytes(out[:n])


def result(ok, what):
    print(what)
    sys.stdout.flush()
    return 0 if ok else 1


def mbit(n, s):
    return n * 8 / s / 1e6 if s > 0 else 0.0


def echo(host, port, total):
    data = bytearray()
    while len(data) < total:
        data += echo_pattern(len(data), min(CHUNK, total - len(data)))
    data = bytes(data)
    s = socket.create_connection((host, port), timeout=30)
    t0 = time.monotonic()
    err = []

    def writer():
        try:
            s.sendall(data)
        except OSError as e:
            err.append(e)

    w = threading.Thread(target=writer)
    w.start()
    got = bytearray()
    try:
        while len(got) < total:
            b = s.recv(CHUNK)
            if not b:
                break
            got += b
    except OSError as e:
        err.append(e)
    w.join()
    secs = time.monotonic() - t0
    s.close()  # Linux closes first
    ok = not err and bytes(got) == data
    where = ""
    if not ok and len(got):
        d = next((i for i in range(min(len(got), total)) if got[i] != data[i]), None)
        where = f", first difference at {d}" if d is not None else ""
    return result(ok, f"echo: {len(got)} of {total} bytes back, {'byte-exact' if ok else 'WRONG'}"
                  f"{where}, {secs:.3f} s, {mbit(total, secs):.1f} Mbit/s"
                  f"{', error ' + repr(err[0]) if err else ''}")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def spoofed_syn(src, dst, sport, dport, seq):
    ip_src, ip_dst = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = bytearray(sport.to_bytes(2, "big") + dport.to_bytes(2, "big") + seq.to_bytes(4, "big")
                    + bytes(4) + bytes([6 << 4, 0x02]) + (65535).to_bytes(2, "big") + bytes(4)
                    + bytes([2, 4]) + (1460).to_bytes(2, "big"))
    pseudo = ip_src + ip_dst + bytes([0, 6]) + len(tcp).to_bytes(2, "big")
    tcp[16:18] = csum(pseudo + bytes(tcp)).to_bytes(2, "big")
    ip = bytearray(bytes([0x45, 0]) + (20 + len(tcp)).to_bytes(2, "big") + bytes(2)
                   + bytes([0x40, 0, 64, 6]) + bytes(2) + ip_src + ip_dst)
    ip[10:12] = csum(bytes(ip)).to_bytes(2, "big")
    return bytes(ip) + bytes(tcp)


def syn_flood(host, port, n):
    import random
    rnd = random.Random(7)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for _ in range(n):
        src = "192.0.2.%d" % rnd.randrange(100, 200)
        raw.sendto(spoofed_syn(src, host, rnd.randrange(1024, 65536), port,
                               rnd.getrandbits(32)), (host, 0))
    raw.close()
    time.sleep(0.2)
    total = 100000
    data = echo_pattern(0, total)
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(data)
    got = bytearray()
    while len(got) < total:
        b = s.recv(CHUNK)
        if not b:
            break
        got += b
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    s.close()
    opts, ws = info[5], info[6]
    names = [nm for bit, nm in ((1, "timestamps"), (2, "sack"), (4, "wscale")) if opts & bit]
    ok = bytes(got) == data and opts & 7 == 7
    return result(ok, f"syn_flood: {n} spoofed SYNs, then {len(got)} of {total} bytes echoed "
                  f"{'byte-exact' if bytes(got) == data else 'WRONG'}; Linux negotiated "
                  f"{' '.join(names) or 'no options'}, shifts snd {ws & 15} rcv {ws >> 4}")


def discard(host, port, total):
    buf = bytes(CHUNK)
    s = socket.create_connection((host, port), timeout=60)
    t0 = time.monotonic()
    sent = 0
    while sent < total:
        sent += s.send(buf[:min(CHUNK, total - sent)])
    s.shutdown(socket.SHUT_WR)
    extra = 0
    while True:
        b = s.recv(CHUNK)
        if not b:
            break
        extra += len(b)
    secs = time.monotonic() - t0
    s.close()
    return result(extra == 0, f"discard: {sent} bytes in {secs:.3f} s = {mbit(sent, secs):.1f} "
                  f"Mbit/s ({sent / secs / 1e6:.2f} MB/s), service FIN seen, {extra} bytes back")


def chargen(host, port, total):
    want = chargen_expected(total)
    s = socket.create_connection((host, port), timeout=30)
    t0 = time.monotonic()
    got = bytearray()
    while len(got) < total:
        b = s.recv(min(CHUNK, total - len(got)))
        if not b:
            break
        got += b
    secs = time.monotonic() - t0
    s.close()
    ok = bytes(got) == want
    d = next((i for i in range(len(got)) if got[i] != want[i]), None) if not ok else None
    return result(ok, f"chargen: {len(got)} of {total} bytes, RFC 864 lines "
                  f"{'right' if ok else 'WRONG (first difference at %s)' % d}, {secs:.3f} s, "
                  f"{mbit(len(got), secs):.1f} Mbit/s")


def refused(host, port):
    s = socket.socket()
    s.settimeout(5)
    t0 = time.monotonic()
    try:
        s.connect((host, port))
        return result(False, "refused: connect() succeeded")
    except ConnectionRefusedError:
        secs = time.monotonic() - t0
        return result(secs < 1.0, f"refused: ECONNREFUSED after {secs * 1000:.1f} ms")
    except OSError as e:
        return result(False, f"refused: {e!r} after {time.monotonic() - t0:.3f} s")


def accept_one(addr, port, timeout):
    """Listens on addr:port, says "ready" (the test waits for it), accepts
    one connection: (listening socket, connection with this timeout)."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    ls.settimeout(30)
    print("ready")
    sys.stdout.flush()
    s, _ = ls.accept()
    s.settimeout(timeout)
    return ls, s


def sink(addr, port, total):
    _, s = accept_one(addr, port, 30)
    t0 = time.monotonic()
    n = wrong = 0
    while True:
        b = s.recv(CHUNK)
        if not b:
            break
        if b != ttcp_pattern(n, len(b)):
            p = ttcp_pattern(n, len(b))
            wrong += sum(1 for i in range(len(b)) if b[i] != p[i])
        n += len(b)
    secs = time.monotonic() - t0
    s.close()
    return result(n == total and wrong == 0,
                  f"sink: {n} of {total} bytes, {wrong} wrong, {secs:.3f} s, "
                  f"{mbit(n, secs):.1f} Mbit/s")


def source(host, port, total):
    t_end = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection((host, port), timeout=30)
            break
        except ConnectionRefusedError:
            if time.monotonic() > t_end:
                return result(False, "source: refused for 10 s")
            time.sleep(0.1)
    t0 = time.monotonic()
    sent = 0
    while sent < total:
        sent += s.send(ttcp_pattern(sent, min(CHUNK, total - sent)))
    s.shutdown(socket.SHUT_WR)
    while s.recv(CHUNK):
        pass
    secs = time.monotonic() - t0
    s.close()
    return result(True, f"source: {sent} bytes sent, receiver's FIN seen, {secs:.3f} s, "
                  f"{mbit(sent, secs):.1f} Mbit/s")


def urgent(host, port):
    t_end = time.monotonic() + 10
    while True:
        try:
            s = socket.create_connection((host, port), timeout=30)
            break
        except ConnectionRefusedError:
            if time.monotonic() > t_end:
                return result(False, "urgent: refused for 10 s")
            time.sleep(0.1)
    s.sendall(b"abc")
    s.send(b"!", socket.MSG_OOB)
    s.sendall(b"def")
    s.shutdown(socket.SHUT_WR)
    while s.recv(CHUNK):
        pass
    s.close()
    return result(True, "urgent: sent abc, ! (MSG_OOB), def; receiver's FIN seen")


def urgent_sink(addr, port):
    import fcntl
    import select
    import struct
    siocatmark = 0x8905
    ls, s = accept_one(addr, port, 10)
    p = select.poll()
    p.register(s, select.POLLPRI)
    pri = int(any(ev & select.POLLPRI for _, ev in p.poll(10000)))

    def atmark():
        return struct.unpack("i", fcntl.ioctl(s, siocatmark, struct.pack("i", 0)))[0]

    normal = b""
    while not atmark():
        b = s.recv(64)
        if not b:
            break
        normal += b
    oob = b""
    t_end = time.monotonic() + 5
    while not oob and time.monotonic() < t_end:
        try:
            oob = s.recv(1, socket.MSG_OOB)
        except OSError as e:  # the urgent byte not in yet: EAGAIN, EINVAL
            if e.errno not in (errno.EAGAIN, errno.EINVAL):
                raise
            time.sleep(0.05)
    rest = b""
    while True:
        b = s.recv(64)
        if not b:
            break
        rest += b
    s.close()
    ls.close()
    return result(pri == 1 and normal == b"abc" and oob == b"!" and rest == b"def",
                  f"urgent-sink: pri {pri} to-mark {normal!r} oob {oob!r} rest {rest!r}")


def bytes_pattern(total):
    return b"".join(b"%015x\n" % o for o in range(0, total + 15, 16))[:total]


def http_close(host, port, total):
    s = socket.create_connection((host, port), timeout=30)
    t0 = time.monotonic()
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
              % (total, host.encode()))
    got = bytearray()
    while True:
        b = s.recv(CHUNK)
        if not b:
            break
        got += b
    secs = time.monotonic() - t0
    time.sleep(0.2)  # our FIN only after theirs, surely
    s.close()
    head, _, body = bytes(got).partition(b"\r\n\r\n")
    ok = head.startswith(b"HTTP/1.1 200") and body == bytes_pattern(total)
    return result(ok, f"http_close: {len(body)} of {total} body bytes, "
                  f"{'the pattern' if ok else 'WRONG'}, the server's FIN after {secs:.3f} s"
                  f"{'' if ok else ', header ' + repr(head[:200])}")


def http_bytes(path, total):
    import hashlib
    want = bytes_pattern(total)
    with open(path, "rb") as f:
        got = f.read()
    ok = got == want
    d = None
    if not ok:
        d = next((i for i in range(min(len(got), total)) if got[i] != want[i]), None)
    sha = hashlib.sha256(got).hexdigest()
    return result(ok, f"bytes: {len(got)} of {total} bytes, sha256 {sha}"
                  f", {'the pattern' if ok else 'WRONG (first difference at %s)' % d}")


def main(a):
    cmd = a[0] if a else ""
    if cmd in ("echo", "discard", "chargen") and len(a) == 4:
        return {"echo": echo, "discard": discard, "chargen": chargen}[cmd](a[1], int(a[2]),
                                                                        int(a[3]))
    if cmd == "bytes" and len(a) == 3:
        return http_bytes(a[1], int(a[2]))
    if cmd == "http_close" and len(a) == 4:
        return http_close(a[1], int(a[2]), int(a[3]))
    if cmd == "refused" and len(a) == 3:
        return refused(a[1], int(a[2]))
    if cmd in ("urgent", "urgent_sink") and len(a) == 3:
        return (urgent if cmd == "urgent" else urgent_sink)(a[1], int(a[2]))
    if cmd == "syn_flood" and len(a) == 4:
        return syn_flood(a[1], int(a[2]), int(a[3]))
    if cmd in ("sink", "source") and len(a) == 4:
        return (sink if cmd == "sink" else source)(a[1], int(a[2]), int(a[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
