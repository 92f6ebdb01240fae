#!/bin/sh
# Regenerates tcp-frag-needed-linux.pcap (see README.txt): a Linux router's
# own ICMP "fragmentation needed" about a TCP segment too big for its next
# link. Needs root (network namespaces), iproute2, python3, tshark.
# Nothing leaves the three private namespaces it creates.
#
#   S 192.0.2.2/25 --- 192.0.2.1/25 R 192.0.2.129/25 --- 192.0.2.130/25 P
#   (plays the stack)   (router; its link to P has MTU 1280)   (the peer)
set -eu

OUT=${1:-$(dirname "$0")}
S=lyrapmS$$
R=lyrapmR$$
P=lyrapmP$$
TMP=$(mktemp -d)
chmod 777 "$TMP" # dumpcap may drop to another user to write

cleanup() {
    for ns in "$S" "$R" "$P"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

for ns in "$S" "$R" "$P"; do
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip -n "$S" link add vS address 02:02:00:00:00:02 type veth peer name vR1 address 02:01:00:00:00:01
ip -n "$S" link set vR1 netns "$R"
ip -n "$R" link add vR2 type veth peer name vP
ip -n "$R" link set vP netns "$P"
ip -n "$S" addr add 192.0.2.2/25 dev vS
ip -n "$R" addr add 192.0.2.1/25 dev vR1
ip -n "$R" addr add 192.0.2.129/25 dev vR2
ip -n "$P" addr add 192.0.2.130/25 dev vP
ip -n "$R" link set vR2 mtu 1280
ip -n "$S" link set vS up
ip -n "$R" link set vR1 up
ip -n "$R" link set vR2 up
ip -n "$P" link set vP up
ip -n "$S" route add default via 192.0.2.1
ip -n "$P" route add default via 192.0.2.129
sleep 1
ip netns exec "$S" ping -c 1 -W 2 192.0.2.130 >/dev/null

# P takes 3000 bytes; S sends them in segments of its MSS (1460: P's link
# is 1500), with DF, one write per segment 0.3 s apart (a write of all
# 3000 would leave the veth as one GSO packet, which R quotes with a total
# length of 3052), and R answers the first with "fragmentation needed",
# next-hop MTU 1280. Only ICMP is kept.
ip netns exec "$P" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.130", 9)); s.listen(1); c, _ = s.accept()
n = 0
while n < 3000:
    b = c.recv(65536)
    if not b: break
    n += len(b)
' &
sink=$!
ip netns exec "$S" tshark -q -i vS -f icmp -F pcap -w "$TMP/f.pcap" >"$TMP/f.log" 2>&1 &
pid=$!
sleep 2 # let dumpcap open the interface
ip netns exec "$S" python3 -c '
import socket
import time
s = socket.create_connection(("192.0.2.130", 9))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
d = bytes((i * 7 + 3) & 0xff for i in range(3000))
for o in (0, 1460, 2920):  # one write per segment: no GSO super-packet on the veth
    s.sendall(d[o:o + 1460]); time.sleep(0.3)
s.close()
'
wait "$sink" || true
sleep 1
kill -INT "$pid"
wait "$pid" || true
cp "$TMP/f.pcap" "$OUT/tcp-frag-needed-linux.pcap"
chmod 644 "$OUT/tcp-frag-needed-linux.pcap"
tshark -r "$OUT/tcp-frag-needed-linux.pcap" -V | grep -E "^Frame|Type:|Code:|MTU|Sequence Number|Total Length|Source Address|Destination Address" || true
