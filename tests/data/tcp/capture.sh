#!/bin/sh
# Regenerates tcp-linux.pcap in this directory (see README.txt).
# Needs root (network namespaces), iproute2, nftables (nft),
# iputils-ping, python3, tshark. Nothing leaves the two private namespaces
# it creates, both deleted at the end (also on error).
set -eu

OUT=${1:-$(cd "$(dirname "$0")" && pwd)}
HERE=$(cd "$(dirname "$0")" && pwd)
A=lyratcpA$$ # client: 192.0.2.1, 02:01:00:00:00:01 on vA
B=lyratcpB$$ # server: 192.0.2.2, 02:02:00:00:00:02 on vB
TMP=$(mktemp -d)
chmod 777 "$TMP" # dumpcap may drop to another user to write

cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ip netns add "$A"
ip netns add "$B"
for ns in "$A" "$B"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done
ip -n "$A" link add vA address 02:01:00:00:00:01 type veth peer name vB address 02:02:00:00:00:02
ip -n "$A" link set vB netns "$B"
ip -n "$A" addr add 192.0.2.1/24 dev vA
ip -n "$B" addr add 192.0.2.2/24 dev vB
ip -n "$A" link set vA up
ip -n "$B" link set vB up
ip netns exec "$A" python3 "$HERE/peer.py" offload vA
ip netns exec "$B" python3 "$HERE/peer.py" offload vB
sleep 1
ip netns exec "$A" ping -c 1 -W 2 192.0.2.2 >/dev/null

# "Loss" without netem (not in the test kernel; nor are tc actions): an
# nftables rule at vB's ingress drops the segments to port 5001 whose data
# (after the 32-byte TCP header with timestamps) starts with 'C' (0x43) or
# 'E' (0x45): the third and fifth segments of the second connection. The capture on vA still sees them leave.
ip netns exec "$B" nft -f - <<NFT
table netdev loss {
    chain in {
        type filter hook ingress device vB priority 0;
        tcp dport 5001 @th,256,8 { 0x43, 0x45 } drop
    }
}
NFT

ip netns exec "$A" tshark -q -i vA -f tcp -F pcap -w "$TMP/tcp-linux.pcap" >"$TMP/log" 2>&1 &
pid=$!
sleep 2 # let dumpcap open the interface
ip netns exec "$B" python3 "$HERE/peer.py" server &
srv=$!
sleep 0.5
ip netns exec "$A" python3 "$HERE/peer.py" client &
cli=$!
# the second connection's data leaves about 0.7 s in; the drops end at
# 1.5 s, then the retransmissions repair the losses
sleep 1.5
ip netns exec "$B" nft delete table netdev loss
wait "$cli"
wait "$srv"
sleep 1
kill -INT "$pid"
wait "$pid" || true
cp "$TMP/tcp-linux.pcap" "$OUT/tcp-linux.pcap"
chmod 644 "$OUT/tcp-linux.pcap"
tshark -r "$OUT/tcp-linux.pcap"
