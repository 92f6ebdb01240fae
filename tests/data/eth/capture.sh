#!/bin/sh
# Regenerates the Linux captures in this directory (see README.txt).
# Needs root (network namespaces), iproute2, iputils-arping, iputils-ping,
# tshark. Nothing leaves the two private namespaces it creates.
set -eu

OUT=${1:-$(dirname "$0")}
A=lyracapA$$ # the Linux side: 192.0.2.1, 02:01:00:00:00:01 on vA
B=lyracapB$$ # plays the stack:  192.0.2.2, 02:02:00:00:00:02 on vB
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
    # No IPv6: keeps router solicitations and MLD reports out of the captures.
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
sleep 1

# capture FILE COMMAND...: runs COMMAND in $A while tshark listens on vA.
capture() {
    file=$1
    shift
    ip netns exec "$A" tshark -q -i vA -F pcap -w "$TMP/$file" >"$TMP/$file.log" 2>&1 &
    pid=$!
    sleep 2 # let dumpcap open the interface
    ip netns exec "$A" "$@"
    sleep 1
    kill -INT "$pid"
    wait "$pid" || true
    cp "$TMP/$file" "$OUT/$file"
    chmod 644 "$OUT/$file"
}

# arp-linux.pcap: arping's request for 192.0.2.2 and the kernel's reply,
# then an unsolicited (gratuitous) request and a gratuitous reply for .1.
capture arp-linux.pcap sh -c '
    arping -c 1 -w 2 -I vA 192.0.2.2
    arping -U -c 1 -w 1 -I vA 192.0.2.1 || true
    arping -A -c 1 -w 1 -I vA 192.0.2.1 || true'

# ping-linux.pcap: the kernel resolves 192.0.2.2 itself (ARP request with a
# zero target MAC), then two ICMP echoes.
ip -n "$A" neigh flush dev vA
ip -n "$B" neigh flush dev vB
capture ping-linux.pcap ping -c 2 -i 0.2 192.0.2.2

ip netns del "$A"
ip netns del "$B"
tshark -r "$OUT/arp-linux.pcap"
tshark -r "$OUT/ping-linux.pcap"
