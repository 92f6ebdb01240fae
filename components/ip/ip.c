/* Component `ip`: IPv4 for a host (RFC 791, RFC 1122 section 3): input
 * checks, delivery by registered protocol, reassembly (reass.c), routing
 * (route.c), output with fragmentation (ip_output.c, frag.c), and ICMP (icmp.c).
 *
 * Below: one l2 (slot `lower`), where ip registers ethertype 0x0800 and its
 * address (for ARP) at start. Above: any number of l3 users, each
 * registering the IP protocols it handles. No forwarding: datagrams not for
 * us are dropped and counted.
 *
 * Ownership: every skb ip receives (from l2, or from a user through
 * output) is freed exactly once by whoever holds it last; each path below
 * ends in a hand-over (l2 output, a user's rx, the reassembly table), a
 * refusal that leaves it with the caller (l2 2.0 / l3 2.0 output: negative
 * return), or a lyra_skb_free next to the counter that says why. */
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "frag.h"
#include "icmp_wire.h"
#include "ip_internal.h"
#include "lyra/component.h"
#include "lyra/diag.h"

#define WHO "ip"

/* ----- addresses ---------------------------------------------------------- */

static bool addr_is_local(const struct ip *ip, uint32_t a)
{
    return (ip->addr_set && a == ip->addr) || ip_addr_is_bcast(ip, a);
}

uint32_t ip_headroom(const struct ip *ip)
{
    return IPV4_HDR_LEN + ip->l2_headroom;
}

const struct ip_proto *ip_proto_find(const struct ip *ip, uint8_t proto)
{
    for (unsigned i = 0; i < ip->nprotos; i++)
        if (ip->protos[i].proto == proto)
            return &ip->protos[i];
    return NULL;
}

/* ----- routing ------------------------------------------------------------ */

int ip_resolve(const struct ip *ip, uint32_t dst, uint32_t *next_hop, uint32_t *src)
{
    if (!ip->started)
        return -ENETUNREACH;
    *src = ip->addr;
    if (ip_addr_is_bcast(ip, dst)) {
        *next_hop = LYRA_L2_BROADCAST; /* RFC 1122 3.3.6: link-layer broadcast */
        return 0;
    }
    if (ipv4_is_mcast(dst)) {
        *next_hop = dst; /* l2 maps groups to MACs (RFC 1112 6.4) */
        return 0;
    }
    if (dst == 0 || ipv4_is_class_e(dst))
        return -ENETUNREACH;
    const struct route *rt = route_lookup(&ip->routes, dst);
    if (!rt)
        return -ENETUNREACH;
    *next_hop = route_next_hop(rt, dst);
    if (rt->src)
        *src = rt->src;
    return 0;
}

int ip_resolve_fill(struct ip *ip, uint32_t dst, uint32_t *next_hop, uint32_t *src)
{
    int r = ip_resolve(ip, dst, next_hop, src);
    /* only what the table decided: broadcast and multicast next hops are
     * cheap to tell and would push a unicast destination out */
    if (!r && *next_hop != LYRA_L2_BROADCAST && !ipv4_is_mcast(dst))
        ip->rcache = (struct ip_rcache){.valid = true, .dst = dst, .next_hop = *next_hop,
                                        .src = *src};
    return r;
}

/* Output is ip_output.c. */

/* Counts a drop by its reason and frees the skb; returns err. */
static int drop(struct lyra_skb *skb, uint64_t *counter, int err)
{
    *counter += 1 + (skb ? lyra_skb_chained(skb, NULL) : 0); /* skb 2.6: each of a run */
    lyra_skb_free(skb);
    return err;
}

/* ----- reassembly timer --------------------------------------------------- */

static void timer_rearm(struct ip *ip)
{
    uint64_t d = reass_next_deadline(&ip->reass);
    if (ip->timer_armed && ip->timer_at == d)
        return;
    if (ip->timer_armed) {
        ip->os.ops->timer_cancel(ip->os.self, &ip->timer);
        ip->timer_armed = false;
    }
    if (d != UINT64_MAX) {
        ip->os.ops->timer_arm(ip->os.self, &ip->timer, d);
        ip->timer_armed = true;
        ip->timer_at = d;
    }
}

static void reass_timer(void *ctx, struct lyra_timer *t)
{
    struct ip *ip = ctx;
    (void)t;
    ip->timer_armed = false;
    if (!ip->started)
        return;
    uint64_t now = lyra_now(&ip->os);
    struct lyra_skb *f0;
    while (reass_expire(&ip->reass, now, &f0)) {
        /* RFC 1122 3.3.2: time exceeded (reassembly) if fragment zero came */
        if (f0) {
            icmp_send_error(ip, f0, ICMP_TIME_EXCEEDED, ICMP_CODE_REASS_TIME, 0);
            lyra_skb_free(f0);
        }
    }
    timer_rearm(ip);
}

/* ----- input -------------------------------------------------------------- */

/* A whole datagram for us, checked (data at its IP header, trimmed):
 * to ICMP, to the registered user, or protocol unreachable. Takes it.
 * checked: the caller's view of this very skb (an unfragmented datagram),
 * or NULL (a reassembled one: its header is read here). */
static void deliver(struct ip *ip, struct lyra_skb *skb, uint8_t l3flags,
                    const struct ipv4_view *checked)
{
    struct ipv4_view v;
    if (checked) {
        v = *checked;
    } else if (ipv4_view_init(&v, skb->data, skb->len) != IPV4_OK) {
        ip->st.rx_hdrlen += 1 + lyra_skb_chained(skb, NULL);
        lyra_skb_free(skb);
        return;
    }
    struct lyra_l3_rxinfo info = {.src = ipv4_view_src(&v), .dst = ipv4_view_dst(&v),
                                  .proto = ipv4_view_proto(&v), .ttl = ipv4_view_ttl(&v),
                                  .tos = ipv4_view_tos(&v), .flags = l3flags};
    if (skb->flags & LYRA_SKB_F_CSUM_OK)
        info.flags |= LYRA_L3_F_CSUM_OK;
    skb->l3_off = (uint32_t)(skb->data - skb->head);
    lyra_skb_pull(skb, ipv4_view_hlen(&v)); /* options skipped: none is acted on */
    skb->l4_off = (uint32_t)(skb->data - skb->head);
    if (info.proto == LYRA_IPPROTO_ICMP) {
        ip->st.rx_delivered++;
        icmp_input(ip, skb, &info);
        return;
    }
    const struct ip_proto *p = ip_proto_find(ip, info.proto);
    if (!p) {
        /* RFC 1122 3.2.2.1: protocol unreachable (the rules and the rate
         * limit may suppress it; the drop is counted either way) */
        ip->st.rx_proto_unreach += 1 + lyra_skb_chained(skb, NULL);
        icmp_send_error(ip, skb, ICMP_DEST_UNREACH, ICMP_CODE_PROTO_UNREACH, 0);
        lyra_skb_free(skb);
        return;
    }
    ip->st.rx_delivered++;
    if (skb->flags & LYRA_SKB_F_GRO)
        ip_deliver_run(ip, p, skb, &info);
    else
        p->ev->rx(p->user, skb, &info);
}

/* l2 event: a received IPv4 packet (data at the IP header). Takes it. */
static void l2_rx(void *user, struct lyra_skb *skb, const struct lyra_l2_rxinfo *l2i)
{
    struct ip *ip = user;
    if (!skb)
        return;
    ip->st.rx_packets++;
    ip->st.rx_bytes += lyra_skb_total(skb);
    if (skb->flags & LYRA_SKB_F_GRO)
        ip_count_run(ip, skb); /* skb 2.6: each datagram of a run counts */
    if (!ip->started)
        return (void)drop(skb, &ip->st.rx_down, 0);
    if (!lyra_skb_is_linear(skb)) {
        /* A received skb may carry segments (skb 2.0): ip parses, checks
         * and reassembles linear datagrams, so it pulls the whole datagram
         * up (a counted copy), or drops it when the buffer has no room. */
        uint32_t before = skb->len;
        if (!lyra_skb_pull_up(skb, lyra_skb_total(skb)))
            return (void)drop(skb, &ip->st.rx_nonlinear, 0);
        ip->copy_bytes += skb->len - before;
    }
    struct ipv4_view v;
    switch (ipv4_view_init(&v, skb->data, skb->len)) {
    case IPV4_OK:
        break;
    case IPV4_E_SHORT:
        return (void)drop(skb, &ip->st.rx_short, 0);
    case IPV4_E_VERSION:
        return (void)drop(skb, &ip->st.rx_version, 0);
    case IPV4_E_HDRLEN:
        return (void)drop(skb, &ip->st.rx_hdrlen, 0);
    case IPV4_E_TOTLEN:
        return (void)drop(skb, &ip->st.rx_totlen, 0);
    }
    /* the card may have summed the header already (skb.h) */
    if (!(skb->flags & LYRA_SKB_F_L3CSUM_OK) && !ipv4_view_csum_ok(&v))
        return (void)drop(skb, &ip->st.rx_csum, 0);
    lyra_skb_trim(skb, (uint32_t)v.len); /* Ethernet padding is not ours */
    if (l2i)
        skb->flags |= (uint16_t)(l2i->flags & (LYRA_SKB_F_BCAST | LYRA_SKB_F_MCAST |
                                                LYRA_SKB_F_HOST));
    uint32_t src = ipv4_view_src(&v), dst = ipv4_view_dst(&v);
    /* RFC 1122 3.2.1.3: a source that is not one host is discarded. */
    if (ipv4_is_mcast(src) || ip_addr_is_bcast(ip, src) || ipv4_is_class_e(src))
        return (void)drop(skb, &ip->st.rx_bad_src, 0);
    /* No forwarding: ours or a broadcast we accept, else dropped. A TTL
     * of 0 or 1 is fine for us (RFC 1122 3.2.1.7): rx_ttl stays 0 until
     * ip forwards. */
    if (!addr_is_local(ip, dst))
        return (void)drop(skb, &ip->st.rx_not_ours, 0);
    bool bcast = ip_addr_is_bcast(ip, dst);
    /* RFC 1122 3.3.6: link-layer broadcast to a unicast IP address. */
    if (!bcast && (skb->flags & (LYRA_SKB_F_BCAST | LYRA_SKB_F_MCAST)))
        return (void)drop(skb, &ip->st.rx_l2_bcast, 0);
    uint8_t l3flags = bcast ? LYRA_L3_F_BCAST : 0;
    skb->l3_off = (uint32_t)(skb->data - skb->head);
    if (ipv4_view_is_frag(&v)) {
        ip->st.rx_frags++;
        struct lyra_skb *whole;
        bool done = reass_input(&ip->reass, skb, lyra_now(&ip->os), &whole);
        timer_rearm(ip);
        if (done)
            deliver(ip, whole, l3flags, NULL);
        return;
    }
    /* v still describes skb: trim only shortened it to v.len */
    deliver(ip, skb, l3flags, &v);
}

static void l2_tx_ready(void *user)
{
    struct ip *ip = user;
    if (!ip->started)
        return;
    /* Tell each registered user once. */
    for (unsigned i = 0; i < ip->nprotos; i++) {
        const struct ip_proto *p = &ip->protos[i];
        bool seen = false;
        for (unsigned k = 0; k < i && !seen; k++)
            seen = ip->protos[k].user == p->user && ip->protos[k].ev == p->ev;
        if (!seen && p->ev->tx_ready)
            p->ev->tx_ready(p->user);
    }
}

static void l2_unreachable(void *user, const struct lyra_skb *skb)
{
    icmp_link_unreachable(user, skb);
}

static const struct lyra_l2_events ip_l2_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_events),
    .rx = l2_rx,
    .tx_ready = l2_tx_ready,
    .unreachable = l2_unreachable,
};

/* ----- l3 ops ------------------------------------------------------------- */

static int l3_register_proto(void *self, uint8_t proto, const struct lyra_l3_events *ev,
                             void *user)
{
    struct ip *ip = self;
    if (!ev || !ev->rx || ev->hdr.major != LYRA_L3_MAJOR)
        return -EINVAL;
    if (ip_proto_find(ip, proto))
        return -EEXIST;
    if (ip->nprotos >= ip->max_protos)
        return -ENOSPC;
    ip->protos[ip->nprotos++] = (struct ip_proto){.proto = proto, .ev = ev, .user = user};
    return 0;
}

static int l3_output(void *self, struct lyra_skb *skb, uint32_t src, uint32_t dst, uint8_t proto,
                     uint8_t ttl, uint8_t tos, int df)
{
    return ip_output_keep(self, skb, src, dst, proto, ttl, tos, df);
}

static int l3_icmp_error(void *self, const struct lyra_skb *orig, uint8_t type, uint8_t code)
{
    struct ip *ip = self;
    return icmp_send_error(ip, orig, type, code, ip->mtu);
}

static uint32_t l3_headroom(void *self)
{
    struct ip *ip = self;
    if (!ip->started && ip->l2 && ip->l2->headroom)
        return IPV4_HDR_LEN + ip->l2->headroom(ip->l2_self);
    return ip_headroom(ip);
}

static int l3_is_local(void *self, uint32_t addr)
{
    return addr_is_local(self, addr);
}

static const struct lyra_l3_ops ip_l3_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_ops),
    .register_proto = l3_register_proto,
    .route = ip_l3_route,
    .output = l3_output,
    .icmp_error = l3_icmp_error,
    .headroom = l3_headroom,
    .is_local = l3_is_local,
    .pmtu_update = ip_l3_pmtu_update,
};

static int l3_attach(void *self, const void *events, void *user)
{
    const struct lyra_l3_events *ev = events;
    (void)self;
    (void)user;
    /* Users register their protocols (and events) at their start. */
    if (ev && ev->hdr.major != LYRA_L3_MAJOR)
        return -EPROTO;
    return 0;
}

/* ----- lifecycle ---------------------------------------------------------- */

enum {
    P_ADDR,
    P_GATEWAY,
    P_TTL,
    P_REASS_MAX,
    P_REASS_BYTES,
    P_REASS_TIMEOUT,
    P_ICMP_RATE,
    P_ICMP_BURST,
    P_MAX_PROTOS,
    P_ICMP_SOCKETS,
    P_PMTU_ENTRIES,
    P_PMTU_MIN,
    P_PMTU_TIMEOUT,
    P__COUNT
};

static bool host_addr_valid(uint32_t a)
{
    return a != 0 && !ipv4_is_mcast(a) && !ipv4_is_class_e(a) && !ipv4_is_loopback(a);
}

static int ip_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct ip *ip = self;
    memset(ip, 0, sizeof(*ip));
    int bad = 0;
    if (p[P_ADDR].set) {
        ip->addr = p[P_ADDR].u.ip.addr;
        ip->plen = p[P_ADDR].u.ip.len;
        ip->addr_set = true;
        uint32_t m = ipv4_mask(ip->plen);
        ip->bcast_subnet = ip->plen <= 30;
        ip->bcast_net = ip->addr & m;
        ip->bcast_dir = ip->bcast_net | ~m;
        if (!host_addr_valid(ip->addr) || ip->plen == 0 ||
            (ip->plen <= 30 && ((ip->addr & ~m) == 0 || (ip->addr & ~m) == ~m))) {
            lyra_diag_add(d, LYRA_E_RANGE, 0,
                          "addr: must be a unicast host address with a prefix of 1..32 bits, "
                          "neither the network nor the broadcast address of its subnet");
            bad = 1;
        }
    }
    if (p[P_GATEWAY].set) {
        ip->gw = p[P_GATEWAY].u.ip.addr;
        ip->gw_set = true;
        uint32_t m = ipv4_mask(ip->plen);
        if (!host_addr_valid(ip->gw) || !ip->addr_set || ip->gw == ip->addr ||
            (ip->gw & m) != (ip->addr & m)) {
            lyra_diag_add(d, LYRA_E_RANGE, 0,
                          "gateway: must be a unicast address inside addr's subnet, other than "
                          "addr (and addr must be set)");
            bad = 1;
        }
    }
    ip->ttl = (uint8_t)p[P_TTL].u.i;
    ip->reass_max = (uint32_t)p[P_REASS_MAX].u.i;
    ip->reass_bytes = (uint32_t)p[P_REASS_BYTES].u.i;
    ip->reass_timeout = (uint64_t)p[P_REASS_TIMEOUT].u.i;
    ip->icmp_rate = (uint32_t)p[P_ICMP_RATE].u.i;
    ip->icmp_burst = (uint32_t)p[P_ICMP_BURST].u.i;
    ip->max_protos = (uint32_t)p[P_MAX_PROTOS].u.i;
    ip->icmp_sockets = (uint32_t)p[P_ICMP_SOCKETS].u.i;
    ip->pmtu_entries = (uint32_t)p[P_PMTU_ENTRIES].u.i;
    ip->pmtu_min = (uint32_t)p[P_PMTU_MIN].u.i;
    ip->pmtu_timeout = (uint64_t)p[P_PMTU_TIMEOUT].u.i;
    if (ip->ttl == 0 || ip->max_protos == 0 || ip->max_protos > IP_PROTOS_CAP ||
        ip->icmp_burst == 0 || ip->reass_timeout == 0 || ip->icmp_sockets > ICMP_SOCK_MAX ||
        ip->pmtu_entries == 0 || ip->pmtu_min < FRAG_MIN_MTU || ip->pmtu_timeout == 0) {
        lyra_diag_add(d, LYRA_E_RANGE, 0, "a parameter is outside its documented range");
        bad = 1;
    }
    route_init(&ip->routes, ip->routes_mem, IP_ROUTES_CAP);
    return bad ? -EINVAL : 0;
}

static void release(struct ip *ip)
{
    icmp_sock_purge(&ip->socks); /* queued echo replies go back to the pool */
    icmp_sock_init(&ip->socks, NULL, 0);
    if (ip->socks_mem)
        ip->os.ops->mem_free(ip->os.self, ip->socks_mem);
    ip->socks_mem = NULL;
    struct pmtu_stats pkeep = ip->pmtu.st; /* counters outlive a stop */
    pmtu_init(&ip->pmtu, NULL, 0, ip->pmtu_min, ip->pmtu_timeout);
    ip->pmtu.st = pkeep;
    if (ip->pmtu_mem)
        ip->os.ops->mem_free(ip->os.self, ip->pmtu_mem);
    ip->pmtu_mem = NULL;
    if (ip->reass_mem)
        ip->os.ops->mem_free(ip->os.self, ip->reass_mem);
    ip->reass_mem = NULL;
    struct reass_stats keep = ip->reass.st; /* counters outlive a stop */
    reass_init(&ip->reass, NULL, 0, 0, 0, NULL, NULL, 0);
    ip->reass.st = keep;
    route_init(&ip->routes, ip->routes_mem, IP_ROUTES_CAP);
}

/* check hook (ABI 0.1): start refuses an ip without an address, so
 * `lyranet check` does too, at the instance's line. */
static int ip_check(const struct lyra_value *p, struct lyra_diag *d)
{
    if (p[P_ADDR].set)
        return 0;
    lyra_diag_add(d, LYRA_E_RANGE, 0, "no address: set addr (e.g. addr = 192.0.2.2/24)");
    return 1;
}

static int ip_start(void *self)
{
    struct ip *ip = self;
    if (!ip->l2 || !ip->skb || !ip->os.ops)
        return -ENOTCONN;
    if (!ip->addr_set) {
        lyra_log(&ip->os, LYRA_LOG_ERROR, WHO,
                 "no address: set ip.addr (e.g. ip.addr=192.0.2.2/24); ip cannot start without one");
        return -EADDRNOTAVAIL;
    }
    struct lyra_netdev_caps caps;
    memset(&caps, 0, sizeof(caps));
    int r = ip->l2->caps(ip->l2_self, &caps);
    if (r)
        return r;
    ip->mtu = caps.mtu ? caps.mtu : LYRA_ETH_MTU;
    if (ip->mtu < FRAG_MIN_MTU) {
        lyra_log(&ip->os, LYRA_LOG_ERROR, WHO, "link MTU %u is below IPv4's minimum of 68",
                 (unsigned)ip->mtu);
        return -EINVAL;
    }
    if (ip->mtu > IPV4_MAX_LEN)
        ip->mtu = IPV4_MAX_LEN;
    ip->csum_tx = caps.csum_tx;
    /* TSO only with the NIC summing TCP (each segment's sum is its) */
    ip->gso_segs = (caps.csum_tx & LYRA_CSUM_TCP) ? (uint8_t)(caps.tso_segs > 255 ? 255 : caps.tso_segs) : 0;
    ip->l2_headroom = ip->l2->headroom ? ip->l2->headroom(ip->l2_self) : 0;

    if (ip->reass_max) {
        ip->reass_mem = ip->os.ops->mem_alloc(
            ip->os.self, (size_t)ip->reass_max * sizeof(struct reass_dgram),
            alignof(struct reass_dgram));
        if (!ip->reass_mem)
            return -ENOMEM;
    }
    struct reass_stats keep = ip->reass.st;
    reass_init(&ip->reass, ip->reass_mem, ip->reass_max, ip->reass_bytes, ip->reass_timeout,
               ip->skb, ip->skb_self, ip_headroom(ip));
    ip->reass.st = keep;
    if (ip->icmp_sockets) {
        ip->socks_mem = ip->os.ops->mem_alloc(
            ip->os.self, (size_t)ip->icmp_sockets * sizeof(struct icmp_ep),
            alignof(struct icmp_ep));
        if (!ip->socks_mem) {
            release(ip);
            return -ENOMEM;
        }
    }
    icmp_sock_init(&ip->socks, ip->socks_mem, ip->icmp_sockets);
    ip->pmtu_mem = ip->os.ops->mem_alloc(ip->os.self,
                                         (size_t)ip->pmtu_entries * sizeof(struct pmtu_entry),
                                         alignof(struct pmtu_entry));
    if (!ip->pmtu_mem) {
        release(ip);
        return -ENOMEM;
    }
    struct pmtu_stats pkeep = ip->pmtu.st;
    pmtu_init(&ip->pmtu, ip->pmtu_mem, ip->pmtu_entries, ip->pmtu_min, ip->pmtu_timeout);
    ip->pmtu.st = pkeep;

    route_init(&ip->routes, ip->routes_mem, IP_ROUTES_CAP);
    ip_rcache_clear(ip); /* the table is made anew */
    r = route_add(&ip->routes, ip->addr, ip->plen, 0, ip->addr); /* connected */
    if (!r && ip->gw_set)
        r = route_add(&ip->routes, 0, 0, ip->gw, ip->addr); /* default */
    if (r) {
        release(ip);
        return r;
    }

    uint8_t rnd[2];
    ip->os.ops->random(ip->os.self, rnd, sizeof(rnd));
    ip->next_id = ip_ld16(rnd);
    icmp_tb_init(&ip->icmp_tb, ip->icmp_rate, ip->icmp_burst, lyra_now(&ip->os));
    lyra_timer_init(&ip->timer, reass_timer, ip);
    ip->timer_armed = false;

    r = ip->l2->register_proto(ip->l2_self, LYRA_ETHERTYPE_IPV4, &ip_l2_events, ip);
    if (r == -EEXIST && ip->registered)
        r = 0; /* registered at an earlier start (l2 has no unregister) */
    if (r) {
        lyra_log(&ip->os, LYRA_LOG_ERROR, WHO, "l2 refused ethertype 0x0800 (%d)", r);
        release(ip);
        return r;
    }
    ip->registered = true;
    r = ip->l2->add_addr(ip->l2_self, ip->addr);
    if (r && r != -EEXIST) {
        lyra_log(&ip->os, LYRA_LOG_ERROR, WHO, "l2 refused the address for ARP (%d)", r);
        release(ip);
        return r;
    }
    ip->started = true;
    return 0;
}

static void ip_stop(void *self)
{
    struct ip *ip = self;
    if (!ip->started)
        return;
    ip->started = false;
    ip_rcache_clear(ip);
    if (ip->timer_armed)
        ip->os.ops->timer_cancel(ip->os.self, &ip->timer);
    ip->timer_armed = false;
    reass_purge(&ip->reass);
    if (ip->l2->del_addr)
        ip->l2->del_addr(ip->l2_self, ip->addr);
    release(ip);
}

static void ip_destroy(void *self)
{
    ip_stop(self); /* nothing else is held after stop */
}

static void ip_stats(void *self, struct lyra_stats_sink *sink)
{
    struct ip *ip = self;
    const struct reass_stats *rs = &ip->reass.st;
#define IP_STAT_EMIT(n) lyra_stat(sink, #n, ip->st.n);
    IP_STATS(IP_STAT_EMIT)
#undef IP_STAT_EMIT
    lyra_stat(sink, "reass_frags", rs->frags);
    lyra_stat(sink, "reass_ok", rs->reassembled);
    lyra_stat(sink, "reass_timeout", rs->timeout);
    lyra_stat(sink, "reass_overlap", rs->overlap);
    lyra_stat(sink, "reass_dup", rs->dup);
    lyra_stat(sink, "reass_full", rs->full);
    lyra_stat(sink, "reass_too_big", rs->too_big);
    lyra_stat(sink, "reass_nobuf", rs->nobuf);
    lyra_stat(sink, "reass_bad", rs->bad);
    lyra_stat(sink, "reass_copy_bytes", rs->copy_bytes);
    lyra_stat(sink, "copy_bytes", ip->copy_bytes + rs->copy_bytes);
    lyra_stat(sink, "reass_in_progress", reass_count(&ip->reass));
    lyra_stat(sink, "reass_bytes_held", ip->reass.bytes_held);
    const struct pmtu_stats *ps = &ip->pmtu.st;
    lyra_stat(sink, "pmtu_updates", ps->lowered);
    lyra_stat(sink, "pmtu_not_lower", ps->not_lower);
    lyra_stat(sink, "pmtu_below_min", ps->below_min);
    lyra_stat(sink, "pmtu_expired", ps->expired);
    lyra_stat(sink, "pmtu_evicted", ps->evicted);
    lyra_stat(sink, "pmtu_entries", ip->pmtu.n);
}

/* ----- descriptor --------------------------------------------------------- */

static const struct lyra_provide ip_provides[] = {
    {
        .iface = LYRA_L3_IFACE,
        .major = LYRA_L3_MAJOR,
        .minor = LYRA_L3_MINOR,
        .ops = &ip_l3_ops,
        .attach = l3_attach,
        .max_users = 0,
        .doc = LYRA_DOC("IPv4 to any number of transports, each registering its protocol numbers"),
    },
    {
        .iface = LYRA_L4_IFACE,
        .major = LYRA_L4_MAJOR,
        .minor = LYRA_L4_MINOR,
        .ops = &icmp_sock_l4_ops,
        .attach = icmp_sock_attach,
        .max_users = 0,
        .doc = LYRA_DOC("ICMP echo sockets (SOCK_DGRAM, protocol 1) as Linux's ping sockets: "
               "icmp_sockets endpoints"),
    },
};

static const struct lyra_slot ip_slots[] = {
    {
        .name = "lower",
        .iface = LYRA_L2_IFACE,
        .major = LYRA_L2_MAJOR,
        .minor = LYRA_L2_MINOR,
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct ip, l2, l2_self),
        .doc = LYRA_DOC("the link layer: ethertype 0x0800 and ARP for addr, registered at start"),
    },
    {
        .name = "skb",
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = 0, /* skb 2.0 */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct ip, skb, skb_self),
        .doc = LYRA_DOC("buffers for fragments, reassembled datagrams, ICMP messages and what ping "
               "sockets send"),
    },
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 0, /* 2.0 is all ip uses */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct ip, os.ops, os.self),
        .doc = LYRA_DOC("time and the reassembly timer, randomness for the IP ID and ping identifiers, "
               "logging, the reassembly, ping socket and path MTU tables' memory at start"),
    },
};

#define NS_PER_S 1000000000ll

static const struct lyra_param ip_params[P__COUNT] = {
    [P_ADDR] = {"addr", LYRA_P_PREFIX, NULL, 1, 0,
                LYRA_DOC("our address and subnet, e.g. 192.0.2.2/24 (a connected route); unset: "
                "start fails")},
    [P_GATEWAY] = {"gateway", LYRA_P_IPV4, NULL, 1, 0,
                   LYRA_DOC("default router, inside addr's subnet; unset: only the subnet is reachable")},
    [P_TTL] = {"ttl", LYRA_P_INT, "64", 1, 255,
               LYRA_DOC("TTL of the datagrams ip sends (users passing ttl 0 get it too)")},
    [P_REASS_MAX] = {"reass_max", LYRA_P_INT, "8", 0, 256,
                     LYRA_DOC("datagrams reassembled at once (full: the oldest is dropped); 0: fragments "
                     "are dropped")},
    [P_REASS_BYTES] = {"reass_bytes", LYRA_P_SIZE, "64k", 1024, 16 * 1024 * 1024,
                       LYRA_DOC("buffer bytes fragments may hold (skb buffer sizes, all datagrams); "
                       "beyond it the oldest datagrams are dropped")},
    [P_REASS_TIMEOUT] = {"reass_timeout", LYRA_P_DURATION, "30s", 1000000, 255 * NS_PER_S,
                         LYRA_DOC("a datagram not complete this long after its first fragment is "
                         "dropped (and ICMP time exceeded sent if fragment zero came)")},
    [P_ICMP_RATE] = {"icmp_rate", LYRA_P_INT, "10", 0, 10000,
                     LYRA_DOC("ICMP errors sent per second at most (token bucket); 0: none are sent")},
    [P_ICMP_BURST] = {"icmp_burst", LYRA_P_INT, "10", 1, 1000,
                      LYRA_DOC("ICMP errors that may be sent back to back (the bucket's size)")},
    [P_MAX_PROTOS] = {"max_protos", LYRA_P_INT, "8", 1, IP_PROTOS_CAP,
                      LYRA_DOC("IP protocols transports may register")},
    [P_ICMP_SOCKETS] = {"icmp_sockets", LYRA_P_INT, "4", 0, ICMP_SOCK_MAX,
                        LYRA_DOC("ICMP echo (ping) socket endpoints, each queueing up to 8 echo "
                        "replies; 0: no ping sockets")},
    [P_PMTU_ENTRIES] = {"pmtu_entries", LYRA_P_INT, "8", 1, 1024,
                        LYRA_DOC("destinations whose path MTU (RFC 1191) is kept below the link's; "
                        "full: an aged-out entry, else the one lowered longest ago, is replaced")},
    [P_PMTU_MIN] = {"pmtu_min", LYRA_P_INT, "552", FRAG_MIN_MTU, 65535,
                    LYRA_DOC("smallest path MTU believed: a \"fragmentation needed\" claiming less is "
                    "ignored (RFC 5927 section 7; Linux's min_pmtu; RFC 1191 allows 68)")},
    [P_PMTU_TIMEOUT] = {"pmtu_timeout", LYRA_P_DURATION, "10min", NS_PER_S, 86400 * NS_PER_S,
                        LYRA_DOC("a lowered path MTU goes back to the link's this long after it was "
                        "last lowered (RFC 1191 6.3: 10 minutes)")},
};

LYRA_EXPORT const struct lyra_component lyra_component_ip = {
    LYRA_COMPONENT_HDR,
    .name = "ip",
    .version = "1.0.0",
    .summary = LYRA_DOC("IPv4 host (RFC 791, 1122): ICMP, fragmentation, reassembly, routing"),
    .doc = LYRA_DOC("@component ip\n"
           "@summary IPv4 for a host: input checks, demultiplexing, ICMP, fragmentation and "
           "reassembly, a small routing table\n"
           "@provides l3 2.4 (any number of users; protocols by register_proto; a user of "
           "protocol 1 gets the ICMP messages ip does not handle itself, e.g. echo replies "
           "no ping socket takes; 2.4: icmp_error's local marks the link's give-up)\n"
           "@provides l4 1.1 (type SOCK_DGRAM, protocol 1: ICMP echo sockets as Linux's "
           "ping sockets; icmp_sockets endpoints)\n"
           "@uses lower l2 2.0 (events rx, tx_ready; 2.2: unreachable); skb skb 2.0; os os 2.0\n"
           "@context task (the stack's poll step; the reassembly timer runs from os timers)\n"
           "@rfc 791 (IP), 792 (ICMP), 815 (reassembly), 1122 3.2-3.3 (host rules), 1812 "
           "4.3.2 (ICMP error size and TOS), 5722 (overlapping fragments), 6633 (source quench), "
           "1191 (path MTU discovery), 5927 (ICMP attacks: the floor)\n"
           "Input accepts datagrams for addr and for the broadcasts of its subnet; there is "
           "no forwarding. Output routes by longest prefix (the subnet on-link, the gateway "
           "for the rest), fragments to the link MTU unless DF, and takes the IP ID from a "
           "counter seeded from os random. Reassembly keeps fragments as skbs and copies a "
           "complete datagram into one skb, a big one from skb_copy's big buffers when it "
           "needs one: a datagram no buffer can hold, or one needing a big buffer when none "
           "is free, is dropped (reass_too_big); an empty pool drops it too (reass_nobuf). "
           "Fragments sent are always copied into normal buffers. ICMP errors are never sent "
           "about broadcasts, non-first fragments or ICMP errors, and are rate-limited "
           "(icmp_rate, icmp_burst).\n"
           "Path MTU (RFC 1191): a table of pmtu_entries destinations whose path MTU is below "
           "the link's. A \"fragmentation needed\" goes up to the transport with the "
           "router's next-hop MTU (or, when the router sent 0, the largest RFC 1191 plateau "
           "below the quoted datagram's length: icmp_in_mtu_guessed); the transport, once it "
           "has checked the message is about a datagram it has in flight, calls pmtu_update, "
           "which only lowers the estimate, never below pmtu_min (a smaller claim is ignored: "
           "pmtu_below_min) nor above the link MTU. An estimate goes back to the link MTU "
           "pmtu_timeout after its last lowering. route reports the path MTU (and the link's "
           "as link_mtu); output fragments to it, and refuses a DF datagram larger than it "
           "(EMSGSIZE, tx_df_too_big).\n"
           "TSO (l3 2.2): route's gso_segs is the NIC's caps.tso_segs (with TCP checksum offload); "
           "output sends a TCP datagram with gso_size whole (DF, at most gso_segs segments, each "
           "within the path MTU) for the NIC to cut.\n"
           "Ping sockets (l4): send takes an ICMP echo request (type 8 code 0, 8-byte header "
           "and data; the checksum is ignored), puts the endpoint's identifier (its port: "
           "bind, else an ephemeral one from os random, unique) and the checksum in, and "
           "sends it; an echo reply with that identifier (to the bound address, from the "
           "connected peer if any) is queued on the endpoint (8 at most) and recv returns "
           "its ICMP header and data, from = its source with port 0. An ICMP error quoting "
           "one of our echo requests sets SO_ERROR on a connected endpoint (Linux's errno "
           "for the type and code). Options SO_ERROR, IP_TTL, IP_TOS; listen, accept and "
           "shutdown: EOPNOTSUPP. Broadcast destinations: EACCES.\n"
           "@stat rx_packets rx_bytes; rx_down: received while stopped; rx_nonlinear: skb with "
           "segments\n"
           "@stat rx_short rx_version rx_hdrlen rx_totlen rx_csum: malformed headers\n"
           "@stat rx_bad_src: broadcast/multicast source; rx_not_ours: not for us (no "
           "forwarding); rx_l2_bcast: link broadcast to a unicast address; rx_ttl: always 0 "
           "(a host accepts TTL 0 and 1)\n"
           "@stat rx_frags rx_delivered rx_proto_unreach (no user for the protocol)\n"
           "@stat tx_packets tx_bytes tx_fragmented tx_fragments; tx_down tx_noroute tx_bad_src "
           "tx_headroom tx_nobuf tx_too_big tx_df_too_big tx_l2_error; tx_bad_csum: checksum "
           "offload offsets outside a datagram that must be fragmented\n"
           "@stat tx_gso tx_gso_refused: TSO datagrams sent; refused (no TSO, no DF, too big)\n"
           "@stat tx_link_unreachable: datagrams the link gave up on (no ARP answer), reported to "
           "their sender as host unreachable\n"
           "@stat icmp_in icmp_in_short icmp_in_csum icmp_echo_requests icmp_echo_replies "
           "icmp_echo_bcast (ignored) icmp_echo_nobuf icmp_in_errors icmp_in_error_bad "
           "icmp_in_error_unclaimed icmp_in_ignored icmp_in_delivered icmp_in_unhandled\n"
           "@stat icmp_in_frag_needed: fragmentation needed received (passed to the transport); "
           "icmp_in_mtu_guessed: of those, without a next-hop MTU (RFC 1191 plateau)\n"
           "@stat pmtu_updates: path MTU estimates lowered; pmtu_not_lower: claims at or above the "
           "estimate (ignored); pmtu_below_min: claims below pmtu_min (ignored); pmtu_expired: "
           "estimates aged out (pmtu_timeout); pmtu_evicted: estimates replaced in a full table; "
           "pmtu_entries: destinations with an estimate now\n"
           "@stat icmp_out_errors icmp_err_suppressed (RFC 1122 rules) icmp_rate_limited "
           "icmp_out_nobuf\n"
           "@stat icmp_echo_reply_in: echo replies received; icmp_sock_rx: queued on a ping "
           "socket; icmp_sock_no_endpoint: no socket (nor protocol 1 user) for the "
           "identifier; icmp_sock_queue_full: the socket's queue held 8\n"
           "@stat icmp_sock_tx: echo requests sent by sockets; icmp_sock_tx_nobuf: no buffer "
           "for one; icmp_sock_errors: errors posted to connected sockets\n"
           "@stat reass_frags reass_ok reass_timeout reass_overlap reass_dup reass_full "
           "reass_too_big reass_nobuf reass_bad reass_copy_bytes reass_in_progress "
           "reass_bytes_held\n"
           "@stat copy_bytes: payload bytes ip copied, by itself or through the skb provider "
           "(fragments, reassembly, ICMP echo replies and error quotes, ping sockets)\n"),
    .provides = ip_provides,
    .n_provides = LYRA_COUNT(ip_provides),
    .slots = ip_slots,
    .n_slots = LYRA_COUNT(ip_slots),
    .params = ip_params,
    .n_params = LYRA_COUNT(ip_params),
    .instance_size = sizeof(struct ip),
    .create = ip_create,
    .start = ip_start,
    .stop = ip_stop,
    .destroy = ip_destroy,
    .poll = NULL,
    .stats = ip_stats,
    .check = ip_check,
};
