#!/bin/sh
# Regenerates the Linux captures in this directory (see README.txt).
# Needs root (network namespaces), iproute2, iputils-ping, bash, tshark.
# Nothing leaves the two private namespaces it creates.
set -eu

OUT=${1:-$(dirname "$0")}
A=lyraipA$$ # the Linux side: 192.0.2.1, 02:01:00:00:00:01 on vA
B=lyraipB$$ # plays the stack:  192.0.2.2, 02:02:00:00:00:02 on vB
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
# Resolve both ways first: the captures then hold IPv4 only.
sleep 1
ip netns exec "$A" ping -c 1 -W 2 192.0.2.2 >/dev/null

# capture FILE COMMAND...: runs COMMAND in $A while tshark listens on vA.
capture() {
    file=$1
    shift
    ip netns exec "$A" tshark -q -i vA -f ip -F pcap -w "$TMP/$file" >"$TMP/$file.log" 2>&1 &
    pid=$!
    sleep 2 # let dumpcap open the interface
    ip netns exec "$A" "$@"
    sleep 1
    kill -INT "$pid"
    wait "$pid" || true
    cp "$TMP/$file" "$OUT/$file"
    chmod 644 "$OUT/$file"
}

# ping-frag-linux.pcap: two echo requests of 3000 data bytes (a 3028-byte
# datagram, three fragments at MTU 1500) and the kernel's fragmented replies.
capture ping-frag-linux.pcap ping -c 2 -i 0.5 -s 3000 -p 4c79726121 192.0.2.2

# udp-unreach-linux.pcap: a UDP datagram to a closed port of 192.0.2.2 and
# the kernel's ICMP port unreachable quoting it.
capture udp-unreach-linux.pcap bash -c 'echo lyranet > /dev/udp/192.0.2.2/9; sleep 0.5'

ip netns del "$A"
ip netns del "$B"
tshark -r "$OUT/ping-frag-linux.pcap"
tshark -r "$OUT/udp-unreach-linux.pcap"
