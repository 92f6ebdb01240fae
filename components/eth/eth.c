/* Component `eth`: Ethernet II framing and ARP (RFC 826).
 *
 * Below: one netdev (slot `lower`). Above: any number of l2 users, each
 * registering the ethertypes it handles. ARP is eth's own: it answers for
 * the addresses users add (and the `addr` parameter), resolves next hops
 * for output with a bounded queue of packets waiting for an answer, and
 * announces its addresses (RFC 5227 section 2.3); that part is eth_arp.c.
 *
 * Ownership (l2 2.0, as netdev xmit): output/output_mac return 0 when eth
 * took the skb (sent, or queued for the NIC or for ARP), and a negative
 * error when the caller keeps it, as it was handed in (a pushed Ethernet
 * header is pulled back off). Every skb eth holds, from the NIC or a user,
 * is freed exactly once by whoever holds it last; each path below ends in a
 * hand-over (xmit accepted, a user's rx, a queue), a return to the caller,
 * or a lyra_skb_free next to the counter that says why. */
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "eth_internal.h"
#include "lyra/component.h"
#include "lyra/diag.h"

#define WHO "eth"

/* ----- transmit ----------------------------------------------------------- */

static void txq_push_front(struct lyra_skb_queue *q, struct lyra_skb *s)
{
    s->next = q->head;
    q->head = s;
    if (!q->tail)
        q->tail = s;
    q->len++;
}

/* Queues a frame the NIC cannot take now; refuses it (-EAGAIN, the caller
 * keeps it) when the queue is full. */
static int txq_add(struct eth *e, struct lyra_skb *skb)
{
    if (e->txq.len >= e->txq_max) {
        e->st.tx_drop++;
        return -EAGAIN;
    }
    lyra_skbq_push(&e->txq, skb);
    return 0;
}

/* Hands a whole frame to the NIC. 0: taken; negative: the caller keeps it. */
static int tx_frame(struct eth *e, struct lyra_skb *skb)
{
    uint32_t len = lyra_skb_total(skb); /* read now: a driver may free it in xmit */
    if (e->txq.len) /* frames are waiting: stay behind them, in order */
        return txq_add(e, skb);
    int r = e->nd->xmit(e->nd_self, skb);
    if (r == 0) {
        e->st.tx_frames++;
        e->st.tx_bytes += len;
        return 0;
    }
    if (r == -EAGAIN) {
        e->st.tx_busy++;
        return txq_add(e, skb);
    }
    e->st.tx_error++;
    return r;
}

/* Prepends the Ethernet header. */
static int push_hdr(struct eth *e, struct lyra_skb *skb, const uint8_t dst[ETH_ALEN],
                    uint16_t type)
{
    uint8_t *h = lyra_skb_push(skb, ETH_HDR_LEN);
    if (!h)
        return -ENOBUFS;
    struct eth_repr r;
    memcpy(r.dst, dst, ETH_ALEN);
    memcpy(r.src, e->mac, ETH_ALEN);
    r.type = type;
    eth_repr_emit(&r, h);
    skb->protocol = type;
    return 0;
}

/* Frames an L3 packet to dst and sends it. 0: taken; negative: the caller
 * keeps it, without the Ethernet header. */
int eth_send_to(struct eth *e, struct lyra_skb *skb, const uint8_t dst[ETH_ALEN], uint16_t type)
{
    uint16_t proto = skb->protocol;
    if (push_hdr(e, skb, dst, type)) {
        e->st.tx_headroom++;
        return -ENOBUFS;
    }
    int r = tx_frame(e, skb);
    if (r) {
        lyra_skb_pull(skb, ETH_HDR_LEN);
        skb->protocol = proto;
    }
    return r;
}

const struct eth_proto *eth_proto_find(const struct eth *e, uint16_t type)
{
    for (unsigned i = 0; i < e->nprotos; i++)
        if (e->protos[i].type == type)
            return &e->protos[i];
    return NULL;
}

/* l2 2.1: a run (skb 2.6 LYRA_SKB_F_GRO) for a user built before runs:
 * its segments one by one, each at its IPv4 header again. */
static void eth_deliver_run(const struct eth_proto *p, struct lyra_skb *skb,
                            const struct lyra_l2_rxinfo *info)
{
    struct lyra_skb *chain = lyra_skb_unchain(skb), *c;
    p->ev->rx(p->user, skb, info);
    while ((c = lyra_skb_pop(&chain))) {
        lyra_skb_push(c, (uint32_t)(c->l4_off - c->l3_off));
        c->flags |= info->flags;
        c->protocol = info->ethertype;
        p->ev->rx(p->user, c, info);
    }
}

/* netdev event: a received frame (Ethernet header at data). Takes the skb. */
static void nd_rx(void *user, struct lyra_skb *skb)
{
    struct eth *e = user;
    if (!skb)
        return;
    e->st.rx_bytes += lyra_skb_total(skb);
    uint32_t frames = 1;
    if (skb->flags & LYRA_SKB_F_GRO) { /* skb 2.6: a run; each frame counts, here and below */
        uint32_t n = lyra_skb_chained(skb, &e->st.rx_bytes);
        frames += n;
        e->st.rx_bytes += (uint64_t)n * (ETH_HDR_LEN + 20u); /* their Ethernet and IPv4 headers */
    }
    e->st.rx_frames += frames;
    if (!e->started) {
        e->st.rx_down += frames;
        lyra_skb_free(skb);
        return;
    }
    /* The header must be linear: pulled up when the NIC handed segments
     * (the layers above pull up what they parse). */
    if (skb->len < ETH_HDR_LEN && !lyra_skb_pull_up(skb, ETH_HDR_LEN)) {
        e->st.rx_short += frames;
        lyra_skb_free(skb);
        return;
    }
    struct eth_view v;
    if (eth_view_init(&v, skb->data, skb->len)) {
        e->st.rx_short += frames;
        lyra_skb_free(skb);
        return;
    }
    struct lyra_l2_rxinfo info;
    memcpy(info.dst, eth_view_dst(&v), ETH_ALEN);
    memcpy(info.src, eth_view_src(&v), ETH_ALEN);
    info.ethertype = eth_view_type(&v);
    if (eth_addr_is_bcast(info.dst))
        info.flags = LYRA_SKB_F_BCAST;
    else if (eth_addr_is_mcast(info.dst))
        info.flags = LYRA_SKB_F_MCAST;
    else if (eth_addr_eq(info.dst, e->mac))
        info.flags = LYRA_SKB_F_HOST;
    else
        info.flags = 0;
    if (!info.flags && (!e->promisc || info.ethertype == LYRA_ETHERTYPE_ARP)) {
        /* ARP is never taken from frames for other stations, even when
         * promiscuous: they are not ours to answer or learn from. */
        e->st.rx_not_ours += frames;
        lyra_skb_free(skb);
        return;
    }
    if (eth_addr_is_mcast(info.src)) {
        e->st.rx_bad_src += frames; /* a group address is never a source (IEEE 802) */
        lyra_skb_free(skb);
        return;
    }
    skb->flags |= info.flags;
    skb->protocol = info.ethertype;
    lyra_skb_pull(skb, ETH_HDR_LEN);
    skb->l3_off = (uint32_t)(skb->data - skb->head);

    if (info.ethertype == LYRA_ETHERTYPE_ARP) {
        eth_arp_input(e, skb);
        return;
    }
    /* Below 0x0600 the field is an 802.3 length (LLC follows): no user can
     * register that, so it is counted with the unknown types. */
    const struct eth_proto *p = eth_proto_find(e, info.ethertype);
    if (!p) {
        e->st.rx_unknown_type += frames;
        lyra_skb_free(skb);
        return;
    }
    e->st.rx_delivered += frames;
    if (frames > 1 && p->ev->hdr.minor < 1)
        eth_deliver_run(p, skb, &info); /* l2 2.1: an older user gets them one by one */
    else
        p->ev->rx(p->user, skb, &info);
}

/* Tells each registered user (once, even with several ethertypes) that
 * transmit room is back. */
static void notify_tx_ready(struct eth *e)
{
    for (unsigned i = 0; i < e->nprotos; i++) {
        const struct eth_proto *p = &e->protos[i];
        bool seen = false;
        for (unsigned k = 0; k < i && !seen; k++)
            seen = e->protos[k].user == p->user && e->protos[k].ev == p->ev;
        if (!seen && p->ev->tx_ready)
            p->ev->tx_ready(p->user);
    }
}

/* netdev event: room again after -EAGAIN. Sends what waits, in order. */
static void nd_tx_ready(void *user)
{
    struct eth *e = user;
    struct lyra_skb *s;
    if (!e->started)
        return;
    while ((s = lyra_skbq_pop(&e->txq))) {
        uint32_t len = lyra_skb_total(s);
        int r = e->nd->xmit(e->nd_self, s);
        if (r == -EAGAIN) {
            e->st.tx_busy++;
            txq_push_front(&e->txq, s);
            return;
        }
        if (r == 0) {
            e->st.tx_frames++;
            e->st.tx_bytes += len;
        } else {
            e->st.tx_error++;
            lyra_skb_free(s);
        }
    }
    notify_tx_ready(e);
}

/* netdev event: link state. Coming up, announce again (RFC 5227 section
 * 2.1: the link may now reach a network that has not heard of us). */
static void nd_link(void *user, bool up)
{
    struct eth *e = user;
    bool was = e->link_up;
    e->link_up = up;
    if (e->started && up && !was)
        eth_arp_announce_all(e);
}

static const struct lyra_netdev_events eth_nd_events = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = nd_rx,
    .tx_ready = nd_tx_ready,
    .link = nd_link,
};

/* ----- l2 ops ------------------------------------------------------------- */

static int l2_register_proto(void *self, uint16_t ethertype, const struct lyra_l2_events *ev,
                             void *user)
{
    struct eth *e = self;
    if (!ev || !ev->rx || ev->hdr.major != LYRA_L2_MAJOR)
        return -EINVAL;
    if (ethertype < ETH_TYPE_MIN)
        return -EINVAL; /* an 802.3 length, not a type */
    if (ethertype == LYRA_ETHERTYPE_ARP || eth_proto_find(e, ethertype))
        return -EEXIST; /* ARP is eth's own */
    if (e->nprotos >= e->max_protos)
        return -ENOSPC;
    e->protos[e->nprotos++] = (struct eth_proto){.type = ethertype, .ev = ev, .user = user};
    return 0;
}

static bool addr_valid(uint32_t ip)
{
    return ip != 0 && ip != LYRA_L2_BROADCAST && !eth_ipv4_is_mcast(ip);
}

static int l2_add_addr(void *self, uint32_t ipv4)
{
    struct eth *e = self;
    if (!addr_valid(ipv4))
        return -EINVAL;
    if (eth_addr_is_ours(e, ipv4))
        return -EEXIST;
    if (e->naddrs >= e->max_addrs)
        return -ENOSPC;
    e->addrs[e->naddrs++] = ipv4;
    if (e->started) {
        /* Our own address is never a next hop to resolve. */
        if (arp_cache_remove(&e->cache, ipv4) == ARP_INCOMPLETE)
            eth_arp_pending_drop(e, ipv4);
        if (e->gratuitous)
            eth_arp_announce(e, ipv4);
    }
    return 0;
}

static int l2_del_addr(void *self, uint32_t ipv4)
{
    struct eth *e = self;
    for (unsigned i = 0; i < e->naddrs; i++) {
        if (e->addrs[i] != ipv4)
            continue;
        /* keep the order: addrs[0] is the sender address of requests */
        memmove(&e->addrs[i], &e->addrs[i + 1], (e->naddrs - i - 1) * sizeof(e->addrs[0]));
        e->naddrs--;
        return 0;
    }
    return -ENOENT;
}

/* Checks shared by both outputs; an error when it cannot be sent (the
 * caller keeps the skb). */
static int out_check(struct eth *e, struct lyra_skb *skb)
{
    if (!e->started) {
        e->st.tx_down++;
        return -ENETDOWN;
    }
    /* a TSO frame (skb.h gso_size) is larger: the NIC checks its segments */
    if (lyra_skb_total(skb) > (skb->gso_size ? LYRA_TSO_MAX : e->mtu)) {
        e->st.tx_too_big++;
        return -EMSGSIZE;
    }
    return 0;
}

static int l2_output(void *self, struct lyra_skb *skb, uint16_t ethertype, uint32_t next_hop)
{
    struct eth *e = self;
    if (!skb)
        return -EINVAL;
    int r = out_check(e, skb);
    if (r)
        return r;
    if (next_hop == LYRA_L2_BROADCAST)
        return eth_send_to(e, skb, eth_addr_bcast, ethertype);
    if (eth_ipv4_is_mcast(next_hop)) {
        uint8_t mac[ETH_ALEN];
        eth_ipv4_mcast_mac(next_hop, mac); /* no ARP for groups (RFC 1112 6.4) */
        return eth_send_to(e, skb, mac, ethertype);
    }
    if (next_hop == 0) {
        e->st.tx_bad_dst++;
        return -EHOSTUNREACH;
    }
    uint8_t mac[ETH_ALEN];
    struct arp_entry old;
    uint64_t now = lyra_now(&e->os);
    switch (arp_cache_resolve(&e->cache, next_hop, now, mac, &old)) {
    case ARP_HIT:
        return eth_send_to(e, skb, mac, ethertype);
    case ARP_WAIT:
        return eth_arp_pending_add(e, skb, next_hop, ethertype);
    case ARP_NEW:
        eth_arp_evicted(e, &old);
        r = eth_arp_pending_add(e, skb, next_hop, ethertype);
        eth_arp_request(e, next_hop); /* the request goes out even when the packet did not fit */
        eth_arp_timer_rearm(e);
        return r;
    }
    return -EINVAL;
}

static int l2_output_mac(void *self, struct lyra_skb *skb, uint16_t ethertype,
                         const uint8_t dst[6])
{
    struct eth *e = self;
    if (!skb)
        return -EINVAL;
    int r = out_check(e, skb);
    if (r)
        return r;
    if (!dst) {
        e->st.tx_bad_dst++;
        return -EINVAL;
    }
    return eth_send_to(e, skb, dst, ethertype);
}

static int l2_caps(void *self, struct lyra_netdev_caps *caps)
{
    struct eth *e = self;
    if (!e->nd)
        return -ENOTCONN;
    int r = e->nd->caps(e->nd_self, caps);
    if (r)
        return r;
    if (e->started)
        memcpy(caps->mac, e->mac, ETH_ALEN);
    else if (e->mac_set)
        memcpy(caps->mac, e->mac_param, ETH_ALEN);
    return 0;
}

static uint32_t l2_headroom(void *self)
{
    (void)self;
    return ETH_HDR_LEN; /* + what the NIC needs below the header: none yet */
}

static const struct lyra_l2_ops eth_l2_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_ops),
    .register_proto = l2_register_proto,
    .add_addr = l2_add_addr,
    .del_addr = l2_del_addr,
    .output = l2_output,
    .output_mac = l2_output_mac,
    .caps = l2_caps,
    .headroom = l2_headroom,
};

static int l2_attach(void *self, const void *events, void *user)
{
    const struct lyra_l2_events *ev = events;
    (void)self;
    (void)user;
    /* Users register their ethertypes (and events) at their start. */
    if (ev && ev->hdr.major != LYRA_L2_MAJOR)
        return -EPROTO;
    return 0;
}

/* ----- slots -------------------------------------------------------------- */

/* ----- lifecycle ---------------------------------------------------------- */

enum {
    P_MAC,
    P_ADDR,
    P_ARP_ENTRIES,
    P_ARP_TIMEOUT,
    P_ARP_RETRY,
    P_ARP_RETRIES,
    P_ARP_QUEUE,
    P_GRATUITOUS,
    P_MAX_PROTOS,
    P_MAX_ADDRS,
    P_TXQ,
    P_PROMISC,
    P__COUNT
};

static int eth_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct eth *e = self;
    memset(e, 0, sizeof(*e));
    int bad = 0;
    if (p[P_MAC].set) {
        if (!lyra_eth_addr_is_station(p[P_MAC].u.mac)) {
            lyra_diag_add(d, LYRA_E_RANGE, 0,
                          "mac: a station MAC must be unicast (first octet even) and non-zero");
            bad = 1;
        }
        memcpy(e->mac_param, p[P_MAC].u.mac, ETH_ALEN);
        e->mac_set = true;
    }
    if (p[P_ADDR].set) {
        if (!addr_valid(p[P_ADDR].u.ip.addr)) {
            lyra_diag_add(d, LYRA_E_RANGE, 0,
                          "addr: must be a unicast IPv4 address (not 0.0.0.0, broadcast "
                          "or multicast)");
            bad = 1;
        } else {
            e->addrs[e->naddrs++] = p[P_ADDR].u.ip.addr;
        }
    }
    e->arp_entries = (uint32_t)p[P_ARP_ENTRIES].u.i;
    e->arp_timeout = (uint64_t)p[P_ARP_TIMEOUT].u.i;
    e->arp_retry = (uint64_t)p[P_ARP_RETRY].u.i;
    e->arp_retries = (uint32_t)p[P_ARP_RETRIES].u.i;
    e->arp_queue = (uint32_t)p[P_ARP_QUEUE].u.i;
    e->gratuitous = p[P_GRATUITOUS].u.b;
    e->max_protos = (uint32_t)p[P_MAX_PROTOS].u.i;
    e->max_addrs = (uint32_t)p[P_MAX_ADDRS].u.i;
    e->txq_max = (uint32_t)p[P_TXQ].u.i;
    e->promisc = p[P_PROMISC].u.b;
    if (e->max_protos > ETH_PROTOS_CAP || e->max_addrs > ETH_ADDRS_CAP || e->arp_entries == 0 ||
        e->arp_retries == 0 || e->arp_retry == 0 || e->arp_timeout == 0) {
        lyra_diag_add(d, LYRA_E_RANGE, 0, "a parameter is outside its documented range");
        bad = 1;
    }
    lyra_skbq_init(&e->pending);
    lyra_skbq_init(&e->txq);
    return bad ? -EINVAL : 0;
}

static void release_tables(struct eth *e)
{
    if (e->cache_mem)
        e->os.ops->mem_free(e->os.self, e->cache_mem);
    e->cache_mem = NULL;
    arp_cache_init(&e->cache, NULL, 0, e->arp_timeout, e->arp_retry, e->arp_retries);
}

static int eth_start(void *self)
{
    struct eth *e = self;
    if (!e->nd || !e->skb || !e->os.ops)
        return -ENOTCONN;
    struct lyra_netdev_caps caps;
    memset(&caps, 0, sizeof(caps));
    int r = e->nd->caps(e->nd_self, &caps);
    if (r)
        return r;
    memcpy(e->mac, e->mac_set ? e->mac_param : caps.mac, ETH_ALEN);
    if (!lyra_eth_addr_is_station(e->mac)) {
        lyra_log(&e->os, LYRA_LOG_ERROR, WHO, "the NIC reports no usable MAC: set eth.mac");
        return -EADDRNOTAVAIL;
    }
    e->mtu = caps.mtu ? caps.mtu : LYRA_ETH_MTU;
    e->link_up = caps.link_up;

    e->cache_mem = e->os.ops->mem_alloc(e->os.self, (size_t)e->arp_entries * sizeof(struct arp_entry),
                                        alignof(struct arp_entry));
    if (!e->cache_mem)
        return -ENOMEM;
    arp_cache_init(&e->cache, e->cache_mem, e->arp_entries, e->arp_timeout, e->arp_retry,
                   e->arp_retries);
    lyra_timer_init(&e->timer, eth_arp_timer, e);
    e->timer_armed = false;
    lyra_skbq_init(&e->pending);
    lyra_skbq_init(&e->txq);

    r = e->nd->open ? e->nd->open(e->nd_self) : 0;
    if (r) {
        release_tables(e);
        return r;
    }
    /* A MAC other than the card's only reaches us if the card takes every
     * frame (netdev 1.0 cannot set the card's filter); eth filters then. */
    bool promisc = e->promisc || !eth_addr_eq(e->mac, caps.mac);
    if (promisc && e->nd->set_rx_mode) {
        r = e->nd->set_rx_mode(e->nd_self, false, true);
        if (r)
            lyra_log(&e->os, LYRA_LOG_WARN, WHO, "the NIC refused promiscuous mode (%d)", r);
    }
    e->started = true;
    eth_arp_announce_all(e);
    return 0;
}

static void eth_stop(void *self)
{
    struct eth *e = self;
    if (!e->started)
        return;
    e->started = false;
    if (e->timer_armed)
        e->os.ops->timer_cancel(e->os.self, &e->timer);
    e->timer_armed = false;
    e->st.stop_purged += e->pending.len + e->txq.len;
    lyra_skbq_purge(&e->pending);
    lyra_skbq_purge(&e->txq);
    if (e->nd->close)
        e->nd->close(e->nd_self);
    release_tables(e);
}

static void eth_destroy(void *self)
{
    eth_stop(self); /* nothing else is held after stop */
}

static void eth_stats(void *self, struct lyra_stats_sink *sink)
{
    struct eth *e = self;
#define ETH_STAT_EMIT(n) lyra_stat(sink, #n, e->st.n);
    ETH_STATS(ETH_STAT_EMIT)
#undef ETH_STAT_EMIT
    lyra_stat(sink, "arp_cache_entries", arp_cache_count(&e->cache));
    lyra_stat(sink, "arp_pending", e->pending.len);
    lyra_stat(sink, "txq_len", e->txq.len);
}

/* ----- descriptor --------------------------------------------------------- */

static const struct lyra_provide eth_provides[] = {
    {
        .iface = LYRA_L2_IFACE,
        .major = LYRA_L2_MAJOR,
        .minor = LYRA_L2_MINOR,
        .ops = &eth_l2_ops,
        .attach = l2_attach,
        .max_users = 0,
        .doc = LYRA_DOC("Ethernet II and ARP to any number of users, each registering its ethertypes"),
    },
};

static const struct lyra_slot eth_slots[] = {
    {
        .name = "lower",
        .iface = LYRA_NETDEV_IFACE,
        .major = LYRA_NETDEV_MAJOR,
        .minor = LYRA_NETDEV_MINOR,
        .min = 1,
        .max = 1,
        .events = &eth_nd_events,
        LYRA_SLOT_STORE(struct eth, nd, nd_self),
        .doc = LYRA_DOC("the NIC: frames in (rx, tx_ready, link events) and out"),
    },
    {
        .name = "skb",
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = 0, /* skb 2.0 is all it needs */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct eth, skb, skb_self),
        .doc = LYRA_DOC("buffers for the ARP requests, replies and announcements eth sends itself"),
    },
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 0, /* 2.0 is all eth uses: any os adapter will do */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct eth, os.ops, os.self),
        .doc = LYRA_DOC("time and the ARP timer, logging, the ARP table's memory at start"),
    },
};

#define NS_PER_S 1000000000ll

static const struct lyra_param eth_params[P__COUNT] = {
    [P_MAC] = {"mac", LYRA_P_MAC, NULL, 1, 0,
               LYRA_DOC("station MAC; unset: the NIC's (a different one puts the NIC in promiscuous mode)")},
    [P_ADDR] = {"addr", LYRA_P_IPV4, NULL, 1, 0,
                LYRA_DOC("an IPv4 address ARP answers for without a layer above (tests); unset: none")},
    [P_ARP_ENTRIES] = {"arp_entries", LYRA_P_INT, "32", 1, 4096,
                       LYRA_DOC("ARP table size; when full the least recently used entry is replaced")},
    [P_ARP_TIMEOUT] = {"arp_timeout", LYRA_P_DURATION, "60s", 1000000, 86400 * NS_PER_S,
                       LYRA_DOC("how long a resolved address stays valid without a new ARP packet")},
    [P_ARP_RETRY] = {"arp_retry", LYRA_P_DURATION, "1s", 1000000, 60 * NS_PER_S,
                     LYRA_DOC("time between ARP requests for one address (RFC 1122: at most 1/s)")},
    [P_ARP_RETRIES] = {"arp_retries", LYRA_P_INT, "3", 1, 20,
                       LYRA_DOC("ARP requests sent for an address before its waiting packets are dropped")},
    [P_ARP_QUEUE] = {"arp_queue", LYRA_P_INT, "16", 0, 1024,
                     LYRA_DOC("packets waiting for ARP resolution, all addresses together (when full, "
                     "the oldest goes); 0: none wait")},
    [P_GRATUITOUS] = {"gratuitous", LYRA_P_BOOL, "on", 1, 0,
                      LYRA_DOC("announce each address (RFC 5227 gratuitous ARP) at start, on add_addr "
                      "and when the link comes up")},
    [P_MAX_PROTOS] = {"max_protos", LYRA_P_INT, "8", 1, ETH_PROTOS_CAP,
                      LYRA_DOC("ethertypes users may register")},
    [P_MAX_ADDRS] = {"max_addrs", LYRA_P_INT, "4", 1, ETH_ADDRS_CAP,
                     LYRA_DOC("IPv4 addresses ARP answers for (addr and add_addr together)")},
    [P_TXQ] = {"txq", LYRA_P_INT, "32", 0, 1024,
               LYRA_DOC("frames kept while the NIC is busy (-EAGAIN), sent on tx_ready; more are dropped")},
    [P_PROMISC] = {"promisc", LYRA_P_BOOL, "off", 1, 0,
                   LYRA_DOC("deliver frames for other stations to users too (never to ARP)")},
};

LYRA_EXPORT const struct lyra_component lyra_component_eth = {
    LYRA_COMPONENT_HDR,
    .name = "eth",
    .version = "1.0.0",
    .summary = LYRA_DOC("Ethernet II framing and ARP (RFC 826) with gratuitous announcements"),
    .doc = LYRA_DOC("@component eth\n"
           "@summary Ethernet II framing and ARP (RFC 826)\n"
           "@provides l2 2.2 (any number of users; ethertypes by register_proto; 2.2: unreachable when ARP gives up)\n"
           "@uses lower netdev 1.0 (events rx, tx_ready, link); skb skb 2.0; os os 2.0\n"
           "@context task (the stack's poll step; the ARP timer runs from os timers)\n"
           "@rfc 826 (ARP, merge rule), 1122 2.3.2 (request rate, queueing), 5227 2.3 "
           "(announcements), 1112 6.4 (multicast MACs)\n"
           "Output resolves the next hop in the ARP table; on a miss the packet waits in "
           "one queue of arp_queue packets for all addresses (full: the oldest packet "
           "for the same address, else the oldest of all, is dropped) while a request "
           "is repeated every arp_retry, arp_retries times, after which its packets are dropped "
           "(arp_unresolved). Requests for our addresses are answered; other ARP packets "
           "only refresh entries already in the table.\n"
           "@stat rx_frames rx_bytes: every frame from the NIC\n"
           "@stat rx_short: shorter than the 14-byte header\n"
           "@stat rx_not_ours: for another station (or ARP in promiscuous mode)\n"
           "@stat rx_bad_src: group address as source\n"
           "@stat rx_unknown_type: no user registered the ethertype (802.3 lengths too)\n"
           "@stat rx_delivered: handed to a user; rx_down: received while stopped\n"
           "@stat tx_frames tx_bytes: taken by the NIC; tx_busy: NIC said -EAGAIN\n"
           "@stat tx_drop: transmit queue full; tx_error: NIC refused; tx_down: output "
           "while stopped\n"
           "@stat tx_headroom: user left less than headroom(); tx_too_big: above the MTU; "
           "tx_bad_dst: next hop 0.0.0.0\n"
           "@stat arp_requests_sent arp_replies_sent arp_gratuitous_sent arp_requests_rcvd "
           "arp_replies_rcvd; arp_nobuf: no skb for an ARP packet\n"
           "@stat arp_malformed: short; arp_unsupported: not Ethernet/IPv4 or not "
           "request/reply; arp_bogus: group or zero sender MAC; arp_conflict: another "
           "station claims our address\n"
           "@stat arp_cache_evict arp_cache_expired arp_failed (gave up on an address) "
           "arp_unresolved (packets dropped with it) arp_queue_full stop_purged\n"),
    .provides = eth_provides,
    .n_provides = LYRA_COUNT(eth_provides),
    .slots = eth_slots,
    .n_slots = LYRA_COUNT(eth_slots),
    .params = eth_params,
    .n_params = LYRA_COUNT(eth_params),
    .instance_size = sizeof(struct eth),
    .create = eth_create,
    .start = eth_start,
    .stop = eth_stop,
    .destroy = eth_destroy,
    .poll = NULL,
    .stats = eth_stats,
};
