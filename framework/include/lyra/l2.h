/* Interface `l2` 2.0: Ethernet as the layers above see it.
 *
 * Several users (ip, a test, ...) share one provider: each registers the
 * ethertypes it handles at start, with its own events table. ARP answers for
 * the protocol addresses users add with add_addr.
 *
 * Contexts (issue 8.6): ops and events run on the stack's context (poll step,
 * or an application thread holding the stack lock), never from an interrupt.
 * rx and tx_ready are called from eth's netdev events in the poll step; a
 * user may call output from inside them. output may call the netdev below,
 * never a user's events re-entrantly.
 *
 * skb ownership (2.0, the rule of netdev xmit; issue 8.1): output and
 * output_mac return 0 when they took the skb (sent, or queued for the NIC or
 * for ARP: l2 frees it later, also if it is then dropped); on any negative
 * return the caller keeps the skb, as it handed it in, and frees or retries
 * it. 1.0 took the skb whatever it returned: the major version changed so
 * that a 1.x user, which would leak every refused skb, cannot bind. */
#ifndef LYRA_L2_H
#define LYRA_L2_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_L2_IFACE "l2"
#define LYRA_L2_MAJOR 2
#define LYRA_L2_MINOR 2 /* 2.1: rx may hand a run (skb 2.6 LYRA_SKB_F_GRO);
                         * 2.2: the unreachable event */

#define LYRA_ETHERTYPE_IPV4 0x0800
#define LYRA_ETHERTYPE_ARP 0x0806

#define LYRA_L2_BROADCAST 0xffffffffu /* next hop meaning "link broadcast" */

/* What a user learns with a received packet. */
struct lyra_l2_rxinfo {
    uint8_t src[6];
    uint8_t dst[6];
    uint16_t ethertype;
    uint16_t flags; /* LYRA_SKB_F_BCAST / MCAST / HOST */
};

struct lyra_l2_events {
    struct lyra_ops_hdr hdr;
    /* A packet of a registered ethertype; data points past the Ethernet
     * header. The user takes the skb. 2.1: to events of 2.1 or later it may
     * be the head of a run of TCP segments (skb.h LYRA_SKB_F_GRO); an older
     * user gets the segments one by one, each at its IPv4 header. */
    void (*rx)(void *user, struct lyra_skb *skb, const struct lyra_l2_rxinfo *info);
    /* Transmit room is back (the NIC was busy). */
    void (*tx_ready)(void *user);
    /* 2.2: a packet of the user's ethertype that output queued and l2 gave
     * up on: its next hop never answered ARP (RFC 1122 2.3.2.2; Linux
     * reports this as "host unreachable"). data at the L3 header, as the
     * user handed it to output; the user reads it and does not take it.
     * Not raised for packets dropped to make room in the queue. Raised
     * from l2's timer, never from inside output. */
    void (*unreachable)(void *user, const struct lyra_skb *skb);
};

/* Does events table ev have event `field` (by its minor and size)? */
#define LYRA_L2E_HAS(ev, minor_, field)                                                 \
    ((ev)->hdr.minor >= (minor_) &&                                                     \
     (ev)->hdr.size >= offsetof(struct lyra_l2_events, field) + sizeof((ev)->field) && (ev)->field)

struct lyra_l2_ops {
    struct lyra_ops_hdr hdr;
    /* Delivers `ethertype` to (ev, user). -EEXIST if taken, -ENOSPC if the
     * table is full. */
    int (*register_proto)(void *self, uint16_t ethertype, const struct lyra_l2_events *ev,
                          void *user);
    /* Protocol (IPv4, host order) addresses that ARP answers for. */
    int (*add_addr)(void *self, uint32_t ipv4);
    int (*del_addr)(void *self, uint32_t ipv4);
    /* Sends a packet (data at the L3 header) to an IPv4 next hop (host
     * order; LYRA_L2_BROADCAST for broadcast), resolving with ARP; it may
     * wait in a bounded queue for resolution. 0: sent or queued, taken.
     * Negative, the caller keeps the skb: -ENETDOWN, -EMSGSIZE (over the
     * MTU; a TSO frame, skb.h gso_size, over LYRA_TSO_MAX: the NIC checks
     * its segments), -EHOSTUNREACH (next hop 0), -ENOBUFS (no headroom, no ARP
     * queue), -EAGAIN (NIC and transmit queue full; tx_ready follows), or
     * the NIC's error. Each refusal is counted. */
    int (*output)(void *self, struct lyra_skb *skb, uint16_t ethertype, uint32_t next_hop);
    /* Sends to a known MAC. Returns and ownership as output. */
    int (*output_mac)(void *self, struct lyra_skb *skb, uint16_t ethertype,
                      const uint8_t dst[6]);
    /* Link properties: MAC, MTU, offloads of the NIC below. */
    int (*caps)(void *self, struct lyra_netdev_caps *caps);
    /* Headroom a user must leave below its header for l2 and the NIC. */
    uint32_t (*headroom)(void *self);
};

#ifdef __cplusplus
}
#endif
#endif
