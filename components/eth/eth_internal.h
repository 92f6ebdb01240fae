/* The eth instance, for eth.c, eth_arp.c and the unit tests that look inside it.
 * Nothing outside components/eth and tests/unit/eth may include this. */
#ifndef LYRA_ETH_INTERNAL_H
#define LYRA_ETH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "arp_cache.h"
#include "eth_wire.h"
#include "lyra/l2.h"
#include "lyra/netdev.h"
#include "lyra/os.h"
#include "lyra/skb.h"

/* Upper bounds of the max_protos and max_addrs parameters: the tables live
 * in the instance, so users may register before start. */
#define ETH_PROTOS_CAP 32
#define ETH_ADDRS_CAP 16

/* Every counter, in the order `stats` reports them. One per drop reason. */
#define ETH_STATS(X)        \
    X(rx_frames)            \
    X(rx_bytes)             \
    X(rx_short)             \
    X(rx_not_ours)          \
    X(rx_bad_src)           \
    X(rx_unknown_type)      \
    X(rx_delivered)         \
    X(rx_down)              \
    X(tx_frames)            \
    X(tx_bytes)             \
    X(tx_busy)              \
    X(tx_drop)              \
    X(tx_error)             \
    X(tx_headroom)          \
    X(tx_too_big)           \
    X(tx_bad_dst)           \
    X(tx_down)              \
    X(arp_requests_sent)    \
    X(arp_replies_sent)     \
    X(arp_gratuitous_sent)  \
    X(arp_nobuf)            \
    X(arp_requests_rcvd)    \
    X(arp_replies_rcvd)     \
    X(arp_malformed)        \
    X(arp_unsupported)      \
    X(arp_bogus)            \
    X(arp_conflict)         \
    X(arp_cache_evict)      \
    X(arp_cache_expired)    \
    X(arp_failed)           \
    X(arp_unresolved)       \
    X(arp_queue_full)       \
    X(stop_purged)

struct eth_stats {
#define ETH_STAT_FIELD(n) uint64_t n;
    ETH_STATS(ETH_STAT_FIELD)
#undef ETH_STAT_FIELD
};

struct eth_proto {
    uint16_t type;
    const struct lyra_l2_events *ev;
    void *user;
};

struct eth {
    /* parameters */
    uint8_t mac_param[ETH_ALEN];
    bool mac_set;
    bool gratuitous;
    bool promisc;
    uint32_t arp_entries;
    uint32_t arp_retries;
    uint32_t arp_queue;
    uint32_t max_protos;
    uint32_t max_addrs;
    uint32_t txq_max;
    uint64_t arp_timeout;
    uint64_t arp_retry;

    /* slots */
    const struct lyra_netdev_ops *nd;
    void *nd_self;
    const struct lyra_skb_ops *skb;
    void *skb_self;
    struct lyra_os os;

    /* state */
    bool started;
    bool link_up;
    bool timer_armed;
    uint8_t mac[ETH_ALEN]; /* the MAC in use: parameter, else the NIC's */
    uint32_t mtu;
    uint64_t timer_at;
    struct lyra_timer timer;
    struct arp_entry *cache_mem; /* arp_entries entries, os mem_alloc at start */
    struct arp_cache cache;
    /* L3 packets waiting for resolution (cb[0] next hop, cb[1] ethertype),
     * arp_queue at most in all */
    struct lyra_skb_queue pending;
    /* whole frames the NIC refused with -EAGAIN, txq at most, in order */
    struct lyra_skb_queue txq;
    struct eth_proto protos[ETH_PROTOS_CAP];
    unsigned nprotos;
    uint32_t addrs[ETH_ADDRS_CAP]; /* host order; addrs[0] is the ARP sender address */
    unsigned naddrs;

    struct eth_stats st;
};

static inline bool eth_ipv4_is_mcast(uint32_t a)
{
    return (a >> 28) == 0xe; /* 224.0.0.0/4 (RFC 5771) */
}

/* eth.c: frames an L3 packet to dst and sends it. 0: taken; negative: the
 * caller keeps the skb, as it was (l2 2.0). */
int eth_send_to(struct eth *e, struct lyra_skb *skb, const uint8_t dst[ETH_ALEN], uint16_t type);

/* eth_arp.c (RFC 826) */
bool eth_addr_is_ours(const struct eth *e, uint32_t ip);
void eth_arp_request(struct eth *e, uint32_t ip);
void eth_arp_announce(struct eth *e, uint32_t ip);
void eth_arp_announce_all(struct eth *e);
/* Queues skb for ip until it resolves. 0: taken; -ENOBUFS: the caller keeps it. */
int eth_arp_pending_add(struct eth *e, struct lyra_skb *skb, uint32_t ip, uint16_t type);
/* ip will not resolve: its waiting packets are dropped (counted). */
void eth_arp_pending_drop(struct eth *e, uint32_t ip);
/* The registered user of an ethertype, or NULL. */
const struct eth_proto *eth_proto_find(const struct eth *e, uint16_t type);
/* A cache entry was replaced to make room (old: what it held). */
void eth_arp_evicted(struct eth *e, const struct arp_entry *old);
void eth_arp_timer_rearm(struct eth *e);
void eth_arp_timer(void *ctx, struct lyra_timer *t);
/* Takes the skb (data at the ARP header). */
void eth_arp_input(struct eth *e, struct lyra_skb *skb);

#endif
