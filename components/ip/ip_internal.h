/* The ip instance, for the files of components/ip and for the unit tests
 * that look inside it. Nothing outside components/ip and tests/unit/ip may
 * include this. */
#ifndef LYRA_IP_INTERNAL_H
#define LYRA_IP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "icmp_sock.h"
#include "ipv4_wire.h"
#include "lyra/l2.h"
#include "lyra/l3.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "pmtu.h"
#include "reass.h"
#include "route.h"

/* Upper bound of max_protos (the table lives in the instance, so users may
 * register before start) and the size of the routing table. */
#define IP_PROTOS_CAP 32
#define IP_ROUTES_CAP 8

/* RFC 1812 section 4.3.2.3: an ICMP error holds as much of the datagram as
 * fits in 576 bytes (Linux does the same); at least header + 8 bytes. */
#define IP_ICMP_ERR_MAX 576

/* Every counter, in the order `stats` reports them; one per drop reason.
 * Reassembly counters come from struct reass_stats (ip_stats). */
#define IP_STATS(X)            \
    X(rx_packets)              \
    X(rx_bytes)                \
    X(rx_down)                 \
    X(rx_nonlinear)            \
    X(rx_short)                \
    X(rx_version)              \
    X(rx_hdrlen)               \
    X(rx_totlen)               \
    X(rx_csum)                 \
    X(rx_bad_src)              \
    X(rx_not_ours)             \
    X(rx_l2_bcast)             \
    X(rx_ttl)                  \
    X(rx_frags)                \
    X(rx_delivered)            \
    X(rx_proto_unreach)        \
    X(tx_packets)              \
    X(tx_bytes)                \
    X(tx_fragmented)           \
    X(tx_fragments)            \
    X(tx_down)                 \
    X(tx_noroute)              \
    X(tx_bad_src)              \
    X(tx_headroom)             \
    X(tx_nobuf)                \
    X(tx_too_big)              \
    X(tx_df_too_big)           \
    X(tx_bad_csum)             \
    X(tx_gso)                  \
    X(tx_gso_refused)          \
    X(tx_l2_error)             \
    X(tx_link_unreachable)     \
    X(icmp_in)                 \
    X(icmp_in_short)           \
    X(icmp_in_csum)            \
    X(icmp_echo_requests)      \
    X(icmp_echo_replies)       \
    X(icmp_echo_bcast)         \
    X(icmp_echo_nobuf)         \
    X(icmp_in_errors)          \
    X(icmp_in_frag_needed)     \
    X(icmp_in_mtu_guessed)     \
    X(icmp_in_error_bad)       \
    X(icmp_in_error_unclaimed) \
    X(icmp_in_ignored)         \
    X(icmp_in_delivered)       \
    X(icmp_in_unhandled)       \
    X(icmp_out_errors)         \
    X(icmp_err_suppressed)     \
    X(icmp_rate_limited)       \
    X(icmp_out_nobuf)          \
    X(icmp_echo_reply_in)      \
    X(icmp_sock_rx)            \
    X(icmp_sock_no_endpoint)   \
    X(icmp_sock_queue_full)    \
    X(icmp_sock_tx)            \
    X(icmp_sock_tx_nobuf)      \
    X(icmp_sock_errors)

struct ip_stats {
#define IP_STAT_FIELD(n) uint64_t n;
    IP_STATS(IP_STAT_FIELD)
#undef IP_STAT_FIELD
};

struct ip_proto {
    uint8_t proto;
    const struct lyra_l3_events *ev;
    void *user;
};

/* Token bucket for ICMP errors (RFC 1122 3.2.2 / RFC 1812 4.3.2.8): level
 * in billionths of a token, refilled at `rate` tokens per second up to
 * `burst` tokens. */
struct ip_tbucket {
    uint64_t level;
    uint64_t last;
    uint32_t rate, burst;
};

struct ip {
    /* parameters */
    bool addr_set, gw_set;
    uint32_t addr; /* host order */
    uint8_t plen;
    /* made from addr and plen with them (ip_create): whether the subnet
     * has broadcast forms (plen <= 30, RFC 3021), its directed broadcast
     * and its obsolete all-zeros form, so that the receive path does not
     * rebuild them for every datagram */
    bool bcast_subnet;
    uint32_t bcast_dir, bcast_net;
    uint32_t gw;
    uint8_t ttl;
    uint32_t reass_max, reass_bytes;
    uint64_t reass_timeout;
    uint32_t icmp_rate, icmp_burst;
    uint32_t max_protos;
    uint32_t icmp_sockets;
    uint32_t pmtu_entries, pmtu_min;
    uint64_t pmtu_timeout;

    /* slots */
    const struct lyra_l2_ops *l2;
    void *l2_self;
    const struct lyra_skb_ops *skb;
    void *skb_self;
    struct lyra_os os;

    /* state */
    bool started;
    bool registered; /* 0x0800 registered with l2 once (l2 has no unregister) */
    uint32_t mtu;    /* of the link below */
    uint8_t csum_tx;
    uint8_t gso_segs; /* l3 2.2: caps.tso_segs, at most 255 (0: no TSO) */
    uint32_t l2_headroom;
    uint16_t next_id;
    struct route routes_mem[IP_ROUTES_CAP];
    struct route_table routes;
    /* The last destination ip_resolve_cached resolved (a stream sends to
     * one destination over and over; tcp asks for its route and then
     * outputs, two lookups per segment). Routes and addresses change only
     * at start, which empties it, as stop does (ip_rcache_clear). */
    struct ip_rcache {
        bool valid;
        uint32_t dst, next_hop, src;
    } rcache;
    struct reass_dgram *reass_mem; /* reass_max entries, os mem_alloc at start */
    struct reass reass;
    struct lyra_timer timer;
    bool timer_armed;
    uint64_t timer_at;
    struct ip_tbucket icmp_tb;
    struct ip_proto protos[IP_PROTOS_CAP];
    unsigned nprotos;
    struct icmp_ep *socks_mem; /* icmp_sockets entries, os mem_alloc at start */
    struct icmp_socks socks;
    struct pmtu_entry *pmtu_mem; /* pmtu_entries entries, os mem_alloc at start */
    struct pmtu_table pmtu;

    struct ip_stats st;
    /* payload bytes ip copied (fragments, ICMP echo and error bodies, ping
     * sockets); `copy_bytes` reports it plus reassembly's (issue 8.1) */
    uint64_t copy_bytes;
};

/* ip.c */
/* Sends payload skb (data at the transport header) as one datagram, or
 * fragments. ttl 0: the ttl parameter. l3 2.0 output: 0 = taken; negative
 * = refused (counted), the caller keeps the skb as handed in (but for a
 * transport checksum ip completed in software before fragmenting). */
int ip_output_keep(struct ip *ip, struct lyra_skb *skb, uint32_t src, uint32_t dst,
                   uint8_t proto, uint8_t ttl, uint8_t tos, int df);
/* ip_output_keep for ip's own packets (ICMP): takes the skb on every return. */
int ip_output(struct ip *ip, struct lyra_skb *skb, uint32_t src, uint32_t dst, uint8_t proto,
              uint8_t ttl, uint8_t tos, int df);
const struct ip_proto *ip_proto_find(const struct ip *ip, uint8_t proto);
/* ip_run.c: runs of TCP segments (skb 2.6 LYRA_SKB_F_GRO, l3 2.3) */
void ip_count_run(struct ip *ip, const struct lyra_skb *head);
/* Hands the run to p (to one built before l3 2.3: one by one); takes it. */
void ip_deliver_run(struct ip *ip, const struct ip_proto *p, struct lyra_skb *head,
                    const struct lyra_l3_rxinfo *info);
/* Where a datagram to dst goes: its next hop and source. 0, or
 * -ENETUNREACH (also while stopped). */
int ip_resolve(const struct ip *ip, uint32_t dst, uint32_t *next_hop, uint32_t *src);
/* ip_resolve, keeping a unicast destination's result in ip->rcache. */
int ip_resolve_fill(struct ip *ip, uint32_t dst, uint32_t *next_hop, uint32_t *src);
/* ip_resolve through ip->rcache (a unicast destination's result is kept;
 * the rest are resolved every time). Inline: twice per datagram sent. */
static inline int ip_resolve_cached(struct ip *ip, uint32_t dst, uint32_t *next_hop,
                                    uint32_t *src)
{
    if (ip->rcache.valid && ip->rcache.dst == dst && ip->started) {
        *next_hop = ip->rcache.next_hop;
        *src = ip->rcache.src;
        return 0;
    }
    return ip_resolve_fill(ip, dst, next_hop, src);
}
/* Forgets the cached route: whenever the routes, the address or `started`
 * change. */
static inline void ip_rcache_clear(struct ip *ip)
{
    ip->rcache.valid = false;
}
/* Broadcast forms we accept: 255.255.255.255 and our subnet's (inline: the
 * receive path asks it of every datagram's source and destination). */
static inline bool ip_addr_is_bcast(const struct ip *ip, uint32_t a)
{
    /* the subnet's broadcast, and its obsolete all-zeros form, which RFC
     * 1122 section 3.3.6 says a host SHOULD still accept; /31 and /32
     * have neither (RFC 3021) */
    return a == IPV4_BCAST || (ip->bcast_subnet && (a == ip->bcast_dir || a == ip->bcast_net));
}
uint32_t ip_headroom(const struct ip *ip);
/* l3 route and pmtu_update (ip_route_query.c). */
int ip_l3_route(void *self, uint32_t dst, struct lyra_l3_route *rt);
int ip_l3_pmtu_update(void *self, uint32_t dst, uint32_t mtu);
/* The path MTU to dst (pmtu.c's table; the link MTU when it has none). */
uint32_t ip_path_mtu(struct ip *ip, uint32_t dst);

/* icmp.c */
/* A received ICMP message (data at the ICMP header). Takes the skb. */
void icmp_input(struct ip *ip, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info);
/* l2 2.2 unreachable: the datagram's sender hears host unreachable. */
void icmp_link_unreachable(struct ip *ip, const struct lyra_skb *skb);
/* An ICMP error about orig (not taken): 0, or -EAGAIN when RFC 1122's rules
 * or the rate limit suppress it, or an output error. `mtu` is the next-hop
 * MTU for fragmentation needed, else 0. */
int icmp_send_error(struct ip *ip, const struct lyra_skb *orig, uint8_t type, uint8_t code,
                    uint32_t mtu);
void icmp_tb_init(struct ip_tbucket *tb, uint32_t rate, uint32_t burst, uint64_t now);
/* Takes one token: true, or false when the bucket is empty. */
bool icmp_tb_take(struct ip_tbucket *tb, uint64_t now);

#endif
