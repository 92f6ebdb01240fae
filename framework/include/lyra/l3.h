/* Interface `l3` 2.1: IPv4 as the transports (udp, tcp, raw users) see it.
 *
 * Several users share one provider: each registers the IP protocol numbers
 * it handles at start, with its own events table. Addresses are IPv4 in host
 * byte order.
 *
 * Contexts (issue 8.6): ops and events run on the stack's context (poll step,
 * or an application thread holding the stack lock), never from an interrupt.
 * rx, icmp_error and tx_ready are called in the poll step from ip's l2
 * events, which come from the driver's poll hook (netdev.h): so before the
 * transport's own hook in that step (hooks run in start order, a user's
 * after its providers'), where tcp answers the step's segments. A
 * transport may call output or icmp_error from inside them. output
 * may call l2 below, never a transport's events re-entrantly.
 *
 * skb ownership (2.0, the rule of netdev xmit and l2 2.0 output; issue
 * 8.1): output returns 0 when it took the skb, and on any negative return
 * the caller keeps it, as handed in, to free or retry. icmp_error never
 * takes `orig`; rx hands the skb to the transport. 1.0 output took the skb
 * whatever it returned: the major version changed so that a 1.x transport,
 * which would leak every refused skb, cannot bind.
 *
 * Path MTU (2.1, RFC 1191): ip keeps a path MTU per destination; route's
 * mtu is that path's, link_mtu the interface's. ip learns a path MTU only
 * from a transport: icmp_error hands up "fragmentation needed" with the
 * next-hop MTU (ip's estimate when the router sent none), the transport
 * checks that the message is about a datagram it has in flight (RFC 5927
 * 4.1: TCP by the quoted sequence number) and only then tells ip through
 * pmtu_update, so a forged message cannot lower the MTU for everyone. */
#ifndef LYRA_L3_H
#define LYRA_L3_H

#include <stdint.h>

#include "lyra/component.h"
#include "lyra/skb.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_L3_IFACE "l3"
#define LYRA_L3_MAJOR 2
#define LYRA_L3_MINOR 4 /* 2.1: route's link_mtu, pmtu_update; 2.2: route's gso_segs (TSO);
                         * 2.3: rx may hand a run of TCP segments (skb 2.6 LYRA_SKB_F_GRO);
                         * 2.4: icmp_err's local */

#define LYRA_IPPROTO_ICMP 1
#define LYRA_IPPROTO_TCP 6
#define LYRA_IPPROTO_UDP 17

/* rxinfo.flags */
#define LYRA_L3_F_BCAST 0x1   /* limited or directed broadcast */
#define LYRA_L3_F_MCAST 0x2
#define LYRA_L3_F_CSUM_OK 0x4 /* the NIC verified the transport checksum */

/* What a transport learns with a received datagram (reassembled if it was
 * fragmented). skb->data points at the transport header; skb->l3_off still
 * locates the IP header, which icmp_error needs. */
struct lyra_l3_rxinfo {
    uint32_t src, dst;
    uint8_t proto, ttl, tos;
    uint8_t flags;
};

/* An ICMP error about a datagram we sent: the quoted IP header's addresses
 * and protocol, and the first 8 bytes of its transport header. */
struct lyra_l3_icmp_err {
    uint8_t type, code;
    /* 2.4 (in 2.3's padding, which ip zeroed): 1 when ip made the error
     * itself rather than receiving it: host unreachable because the link
     * gave up on the next hop (l2 2.2 unreachable: no ARP answer). It
     * cannot be forged from the network, and says the host is not on the
     * link now, not that a router somewhere lost a route. */
    uint8_t local;
    uint32_t src, dst; /* of the original datagram (src is ours) */
    uint8_t proto;
    uint8_t l4[8];
    /* "fragmentation needed" (type 3 code 4): the next-hop MTU the router
     * sent, or when it sent 0 (an RFC 1191 section 5 "old-style" message)
     * ip's estimate from the plateau table below the quoted datagram's
     * length (which may be 0 itself for a quote too short to say); else 0 */
    uint32_t mtu;
};

struct lyra_l3_events {
    struct lyra_ops_hdr hdr;
    /* A datagram for a registered protocol; the user takes the skb. 2.3:
     * to events of 2.3 or later it may be the head of a run of TCP
     * segments (skb.h LYRA_SKB_F_GRO: data at the head's TCP header, the
     * chained ones' at theirs, info the same for all); to older events ip
     * hands them one by one. */
    void (*rx)(void *user, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info);
    /* An ICMP error quoting one of our datagrams of this protocol. */
    void (*icmp_error)(void *user, const struct lyra_l3_icmp_err *err);
    /* Transmit room is back after -EAGAIN / -ENOBUFS. */
    void (*tx_ready)(void *user);
};

/* Per-destination facts a transport needs before it builds a datagram. */
struct lyra_l3_route {
    uint32_t src;      /* the source address to use */
    uint32_t next_hop;
    uint32_t mtu;      /* largest IP datagram to dst without fragmenting: the path
                        * MTU ip knows (2.1), at most the link's */
    uint8_t csum_tx;   /* LYRA_CSUM_* the NIC computes (netdev.h) */
    uint8_t gso_segs;  /* 2.2: TCP segmentation offload on this route: the
                        * most segments (skb.h) behind the headers of an skb
                        * with gso_size that output takes to the NIC (netdev
                        * caps.tso_segs, at most 255); 0: none, send
                        * datagrams within mtu. In 2.1's padding. */
    uint16_t link_mtu; /* 2.1: the interface's MTU (0 from a 2.0 provider), what an
                        * MSS announced to the peer is made from (RFC 9293 3.7.1,
                        * RFC 2923 2.3: never from the path MTU) */
};
/* 2.2's gso_segs and 2.1's link_mtu sit in 2.0's padding: the struct keeps its size, so a
 * 2.0 user's route struct has room for what a 2.1 provider writes. */
_Static_assert(sizeof(struct lyra_l3_route) == 16, "lyra_l3_route changed size");

struct lyra_l3_ops {
    struct lyra_ops_hdr hdr;
    /* Delivers IP protocol `proto` to (ev, user). -EEXIST, -ENOSPC. */
    int (*register_proto)(void *self, uint8_t proto, const struct lyra_l3_events *ev, void *user);
    /* Route lookup: 0, or -ENETUNREACH. */
    int (*route)(void *self, uint32_t dst, struct lyra_l3_route *rt);
    /* Sends skb (data at the transport header) from src (0: the route's) to
     * dst, fragmenting to the device MTU unless df; ttl 0 means ip's own
     * `ttl` parameter (RFC 1122 forbids sending TTL 0). 0: sent or queued,
     * taken (once fragmented, a fragment l2 refuses is dropped and counted).
     * Negative, counted, the caller keeps the skb as handed in (a transport
     * checksum left to the NIC may have been completed in software):
     * -ENETDOWN, -ENETUNREACH, -EADDRNOTAVAIL, -EMSGSIZE (df and too big, or
     * over 65535 bytes; 2.2: an skb with gso_size is sent whole, never
     * fragmented, when the route offers gso_segs, df is set, it carries no
     * more segments than that and gso_size + headers fits the MTU: else
     * -EMSGSIZE, and -EOPNOTSUPP without gso_segs), -ENOBUFS (no headroom or no buffers to fragment),
     * -EAGAIN (l2 and the NIC are full; tx_ready follows), -EINVAL. */
    int (*output)(void *self, struct lyra_skb *skb, uint32_t src, uint32_t dst, uint8_t proto,
                  uint8_t ttl, uint8_t tos, int df);
    /* Sends an ICMP error (RFC 1122 3.2.2: type 3 destination unreachable,
     * code e.g. 3 port unreachable) about a received datagram, rate-limited.
     * `orig` is the received skb (not taken). 0, or -EAGAIN when the rate
     * limit or a rule of RFC 1122 (no errors about broadcasts, fragments
     * other than the first, or ICMP errors) suppresses it. */
    int (*icmp_error)(void *self, const struct lyra_skb *orig, uint8_t type, uint8_t code);
    /* Headroom a transport must leave below its header for ip, l2, NIC. */
    uint32_t (*headroom)(void *self);
    /* Is addr one of ours (unicast, or a broadcast we accept)? */
    int (*is_local)(void *self, uint32_t addr);
    /* 2.1: a transport believes a "fragmentation needed" about a datagram
     * it sent to dst: the path MTU to dst is mtu (RFC 1191). The estimate
     * is only ever lowered here (it rises again when it ages out), never
     * above the link's, never below ip's floor. Returns the path MTU to
     * dst now in force (lowered or not: compare), or -ERANGE (below the
     * floor: nothing recorded), -ENETUNREACH (no route, or stopped). */
    int (*pmtu_update)(void *self, uint32_t dst, uint32_t mtu);
};

#ifdef __cplusplus
}
#endif
#endif
