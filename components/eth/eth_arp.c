/* ARP for eth (RFC 826): requests, replies and announcements, the queue of
 * packets waiting for resolution, and the retry/expiry timer. The cache
 * itself (state per address) is arp_cache.c; the wire format arp_wire.c. */
#include <errno.h>
#include <string.h>

#include "arp_wire.h"
#include "eth_internal.h"

/* cb slots of a packet in the pending queue */
#define CB_NEXTHOP 0
#define CB_TYPE 1

/* Sends one ARP packet (RFC 826 format) from our MAC. */
static int arp_send(struct eth *e, uint16_t op, const uint8_t eth_dst[ETH_ALEN], uint32_t spa,
                    const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
    /* ARP is control traffic: it may use the provider's control reserve. */
    struct lyra_skb *skb =
        lyra_skb_alloc_cls(e->skb, e->skb_self, LYRA_SKB_CTL, ETH_HDR_LEN, ARP_LEN);
    uint8_t *p = skb ? lyra_skb_put(skb, ARP_LEN) : NULL;
    if (!p) {
        e->st.arp_nobuf++;
        lyra_skb_free(skb);
        return -ENOBUFS;
    }
    struct arp_repr a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, e->mac, ETH_ALEN);
    memcpy(a.tha, tha, ETH_ALEN);
    arp_repr_emit(&a, p);
    /* The driver pads to 60 bytes (netdev contract). */
    int r = eth_send_to(e, skb, eth_dst, LYRA_ETHERTYPE_ARP);
    if (r)
        lyra_skb_free(skb); /* counted where it failed */
    return r;
}

static const uint8_t zero_mac[ETH_ALEN];

/* A request for ip. The sender address is our first one (0.0.0.0 when we
 * have none yet: the target still answers, as to an RFC 5227 probe). RFC
 * 826 leaves the target hardware address open; it is zero, as in RFC 5227
 * probes (section 2.1.1) and in the requests Linux sends. */
void eth_arp_request(struct eth *e, uint32_t ip)
{
    if (!arp_send(e, ARP_OP_REQUEST, eth_addr_bcast, e->naddrs ? e->addrs[0] : 0, zero_mac, ip))
        e->st.arp_requests_sent++;
}

/* RFC 5227 section 2.3 announcement: a broadcast request with our address
 * as both sender and target, so every host with it cached updates it. */
void eth_arp_announce(struct eth *e, uint32_t ip)
{
    if (!arp_send(e, ARP_OP_REQUEST, eth_addr_bcast, ip, zero_mac, ip))
        e->st.arp_gratuitous_sent++;
}

void eth_arp_announce_all(struct eth *e)
{
    if (!e->gratuitous)
        return;
    for (unsigned i = 0; i < e->naddrs; i++)
        eth_arp_announce(e, e->addrs[i]);
}

/* ----- packets waiting for resolution ------------------------------------ */

/* Moves the packets waiting for ip (all of them when all) from the pending
 * queue to out, in order. */
static void pending_take(struct eth *e, uint32_t ip, struct lyra_skb_queue *out)
{
    struct lyra_skb_queue keep;
    struct lyra_skb *s;
    lyra_skbq_init(&keep);
    while ((s = lyra_skbq_pop(&e->pending)))
        lyra_skbq_push((uint32_t)s->cb[CB_NEXTHOP] == ip ? out : &keep, s);
    e->pending = keep;
}

/* ip resolved to mac: its packets go out now. */
static void pending_release(struct eth *e, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
    struct lyra_skb_queue q;
    struct lyra_skb *s;
    lyra_skbq_init(&q);
    pending_take(e, ip, &q);
    while ((s = lyra_skbq_pop(&q)))
        if (eth_send_to(e, s, mac, (uint16_t)s->cb[CB_TYPE]))
            lyra_skb_free(s); /* counted where it failed */
}

/* ip will not resolve: its packets join out (counted as unresolved). */
static void pending_give_up(struct eth *e, uint32_t ip, struct lyra_skb_queue *out)
{
    uint32_t had = out->len;
    pending_take(e, ip, out);
    e->st.arp_unresolved += out->len - had;
}

/* ip will not resolve: its packets are dropped. */
void eth_arp_pending_drop(struct eth *e, uint32_t ip)
{
    struct lyra_skb_queue q;
    lyra_skbq_init(&q);
    pending_give_up(e, ip, &q);
    lyra_skbq_purge(&q);
}

/* Packets whose next hop never answered: each goes to its ethertype's
 * user as unreachable (l2 2.2; older users are not told), then is freed.
 * Called once the timer is done with the cache: a user may send from the
 * event, which may start resolving again. */
static void report_unreachable(struct eth *e, struct lyra_skb_queue *q)
{
    struct lyra_skb *s;
    while ((s = lyra_skbq_pop(q))) {
        const struct eth_proto *p = eth_proto_find(e, (uint16_t)s->cb[CB_TYPE]);
        if (p && LYRA_L2E_HAS(p->ev, 2, unreachable))
            p->ev->unreachable(p->user, s);
        lyra_skb_free(s);
    }
}

/* Makes room in a full pending queue: the oldest packet for ip if it has
 * any, else the oldest of all. Either way the packet being queued, the
 * latest for its address, is the one kept (RFC 1122 section 2.3.2.2). */
static void pending_drop_oldest(struct eth *e, uint32_t ip)
{
    struct lyra_skb *prev = NULL, *s = e->pending.head, *vprev = NULL;
    for (; s; prev = s, s = s->next)
        if ((uint32_t)s->cb[CB_NEXTHOP] == ip) {
            vprev = prev;
            break;
        }
    if (!s) {
        s = e->pending.head;
        vprev = NULL;
    }
    if (vprev)
        vprev->next = s->next;
    else
        e->pending.head = s->next;
    if (e->pending.tail == s)
        e->pending.tail = vprev;
    e->pending.len--;
    s->next = NULL;
    lyra_skb_free(s);
}

int eth_arp_pending_add(struct eth *e, struct lyra_skb *skb, uint32_t ip, uint16_t type)
{
    if (e->arp_queue == 0) {
        e->st.arp_queue_full++;
        return -ENOBUFS; /* no queue at all: the caller keeps it */
    }
    if (e->pending.len >= e->arp_queue) {
        e->st.arp_queue_full++;
        pending_drop_oldest(e, ip);
    }
    skb->cb[CB_NEXTHOP] = ip;
    skb->cb[CB_TYPE] = type;
    lyra_skbq_push(&e->pending, skb);
    return 0;
}

/* An entry was replaced to make room: an INCOMPLETE one takes its packets. */
void eth_arp_evicted(struct eth *e, const struct arp_entry *old)
{
    if (old->state == ARP_FREE)
        return;
    e->st.arp_cache_evict++;
    if (old->state == ARP_INCOMPLETE)
        eth_arp_pending_drop(e, old->ip);
}

/* ----- timer: retries and expiry ----------------------------------------- */

void eth_arp_timer_rearm(struct eth *e)
{
    uint64_t d = arp_cache_next_deadline(&e->cache);
    if (e->timer_armed && e->timer_at == d)
        return;
    if (e->timer_armed) {
        e->os.ops->timer_cancel(e->os.self, &e->timer);
        e->timer_armed = false;
    }
    if (d != ARP_TIME_NEVER) {
        e->os.ops->timer_arm(e->os.self, &e->timer, d);
        e->timer_armed = true;
        e->timer_at = d;
    }
}

void eth_arp_timer(void *ctx, struct lyra_timer *t)
{
    struct eth *e = ctx;
    (void)t;
    e->timer_armed = false;
    if (!e->started)
        return;
    uint64_t now = lyra_now(&e->os);
    uint32_t cursor = 0, ip;
    enum arp_event ev;
    struct lyra_skb_queue gone;
    lyra_skbq_init(&gone);
    while ((ev = arp_cache_step(&e->cache, now, &cursor, &ip)) != ARP_EV_NONE) {
        switch (ev) {
        case ARP_EV_RETRY:
            eth_arp_request(e, ip);
            break;
        case ARP_EV_UNRESOLVED:
            e->st.arp_failed++;
            pending_give_up(e, ip, &gone);
            break;
        case ARP_EV_EXPIRED:
            e->st.arp_cache_expired++;
            break;
        case ARP_EV_NONE:
            break;
        }
    }
    eth_arp_timer_rearm(e);
    report_unreachable(e, &gone);
}

bool eth_addr_is_ours(const struct eth *e, uint32_t ip)
{
    for (unsigned i = 0; i < e->naddrs; i++)
        if (e->addrs[i] == ip)
            return true;
    return false;
}

/* RFC 826, "Packet Reception". Takes the skb (data at the ARP header). */
void eth_arp_input(struct eth *e, struct lyra_skb *skb)
{
    struct arp_repr a;
    if (skb->len < ARP_LEN)
        (void)lyra_skb_pull_up(skb, ARP_LEN); /* short or no room: the parse says so */
    int r = arp_repr_parse(skb->data, skb->len, &a);
    lyra_skb_free(skb); /* everything needed is in `a` now */
    if (r == -EBADMSG) {
        e->st.arp_malformed++;
        return;
    }
    if (r) {
        e->st.arp_unsupported++;
        return;
    }
    if (a.op == ARP_OP_REQUEST)
        e->st.arp_requests_rcvd++;
    else
        e->st.arp_replies_rcvd++;

    /* A sender hardware address that is a group address or zero cannot be
     * a station (IEEE 802: sources are individual addresses); believing it
     * would send unicast traffic to a group (RFC 1812 section 3.3.2). */
    if (!lyra_eth_addr_is_station(a.sha)) {
        e->st.arp_bogus++;
        return;
    }
    if (eth_addr_eq(a.sha, e->mac))
        return; /* our own packet, looped back: nothing to learn or answer */

    bool for_us = eth_addr_is_ours(e, a.tpa);
    uint64_t now = lyra_now(&e->os);
    if (eth_addr_is_ours(e, a.spa)) {
        /* Someone else claims our address. RFC 826 has no conflict
         * handling; count it and never cache our own address. */
        e->st.arp_conflict++;
    } else if (a.spa != 0 && a.spa != LYRA_L2_BROADCAST && !eth_ipv4_is_mcast(a.spa)) {
        /* RFC 826 merge: update the pair if it is in the table, and add it
         * only when we are the target. A sender of 0.0.0.0 is an RFC 5227
         * probe, which must not be cached. */
        struct arp_entry old;
        enum arp_update u = arp_cache_update(&e->cache, a.spa, a.sha, now, for_us, &old);
        eth_arp_evicted(e, &old);
        if (u == ARP_UPD_RESOLVED)
            pending_release(e, a.spa, a.sha);
        if (u != ARP_UPD_NONE)
            eth_arp_timer_rearm(e);
    }
    /* RFC 826: "?Is the opcode ares_op$REQUEST? (NOW look at the opcode!!)":
     * swap the fields, put ours in the sender fields, and send the reply to
     * the (new) target hardware address. */
    if (for_us && a.op == ARP_OP_REQUEST &&
        !arp_send(e, ARP_OP_REPLY, a.sha, a.tpa, a.sha, a.spa))
        e->st.arp_replies_sent++;
}
