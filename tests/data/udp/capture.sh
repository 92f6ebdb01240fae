#!/bin/sh
# Regenerates udp-linux.pcap in this directory (see README.txt).
# Needs root (network namespaces), iproute2, iputils-ping, python3, tshark.
# Nothing leaves the two private namespaces it creates.
set -eu

OUT=${1:-$(cd "$(dirname "$0")" && pwd)}
HERE=$(cd "$(dirname "$0")" && pwd)
A=lyraudpA$$ # the Linux side: 192.0.2.1, 02:01:00:00:00:01 on vA
B=lyraudpB$$ # plays the stack:  192.0.2.2, 02:02:00:00:00:02 on vB
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
    # No IPv6: keeps router solicitations and MLD reports out of the capture.
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
# Resolve first: the capture then holds the UDP datagrams only.
sleep 1
ip netns exec "$A" ping -c 1 -W 2 192.0.2.2 >/dev/null

ip netns exec "$A" tshark -q -i vA -f udp -F pcap -w "$TMP/udp-linux.pcap" >"$TMP/log" 2>&1 &
pid=$!
sleep 2 # let dumpcap open the interface
ip netns exec "$A" python3 "$HERE/send.py"
sleep 1
kill -INT "$pid"
wait "$pid" || true
cp "$TMP/udp-linux.pcap" "$OUT/udp-linux.pcap"
chmod 644 "$OUT/udp-linux.pcap"

ip netns del "$A"
ip netns del "$B"
tshark -r "$OUT/udp-linux.pcap"
