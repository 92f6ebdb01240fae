/* fake_l3 (see fake_l3.h). */
#include "fake_l3.h"

#include <errno.h>
#include <string.h>

#include "lyra/inet_csum.h"
#include "lyra/l2.h"
#include "lyra/skb.h"

#define FL3_PROTOS 4
#define IPV4_HDR 20

struct fl3_proto {
    uint8_t proto;
    const struct lyra_l3_events *ev;
    void *user;
};

struct fake_l3 {
    const struct lyra_skb_ops *skb;
    void *skb_self;
    struct fake_l3_cfg cfg;
    struct fl3_proto protos[FL3_PROTOS];
    unsigned nprotos;
    uint16_t ip_id;
    unsigned nout, nicmp;
    uint64_t out_total, out_unrecorded, icmp_total, rx_injected, rx_nobuf, pmtu_calls;
    struct fake_l3_out out[FAKE_L3_OUT_MAX];
    struct fake_l3_icmp icmp[FAKE_L3_ICMP_MAX];
};

static uint32_t mask(uint8_t plen)
{
    return plen ? 0xffffffffu << (32 - plen) : 0;
}

static int is_bcast(const struct fake_l3 *f, uint32_t a)
{
    uint32_t m = mask(f->cfg.plen);
    return a == 0xffffffffu || (f->cfg.plen <= 30 && a == ((f->cfg.addr & m) | ~m));
}

static const struct fl3_proto *find(const struct fake_l3 *f, uint8_t proto)
{
    for (unsigned i = 0; i < f->nprotos; i++)
        if (f->protos[i].proto == proto)
            return &f->protos[i];
    return NULL;
}

/* ----- l3 ops ------------------------------------------------------------- */

static int fl3_register(void *self, uint8_t proto, const struct lyra_l3_events *ev, void *user)
{
    struct fake_l3 *f = self;
    if (!ev || !ev->rx)
        return -EINVAL;
    if (find(f, proto))
        return -EEXIST;
    if (f->nprotos >= FL3_PROTOS)
        return -ENOSPC;
    f->protos[f->nprotos++] = (struct fl3_proto){.proto = proto, .ev = ev, .user = user};
    return 0;
}

static int fl3_route(void *self, uint32_t dst, struct lyra_l3_route *rt)
{
    struct fake_l3 *f = self;
    if (f->cfg.route_err)
        return f->cfg.route_err;
    if (dst == 0)
        return -ENETUNREACH;
    uint32_t m = mask(f->cfg.plen);
    memset(rt, 0, sizeof(*rt));
    rt->src = f->cfg.addr;
    rt->mtu = f->cfg.mtu;
    rt->link_mtu = (uint16_t)f->cfg.link_mtu;
    rt->csum_tx = f->cfg.csum_tx;
    rt->gso_segs = f->cfg.gso_segs;
    if (is_bcast(f, dst))
        rt->next_hop = LYRA_L2_BROADCAST;
    else if ((dst >> 28) == 0xe || (dst & m) == (f->cfg.addr & m))
        rt->next_hop = dst;
    else if (f->cfg.gateway)
        rt->next_hop = f->cfg.gateway;
    else
        return -ENETUNREACH;
    return 0;
}

static int fl3_output(void *self, struct lyra_skb *skb, uint32_t src, uint32_t dst, uint8_t proto,
                      uint8_t ttl, uint8_t tos, int df)
{
    struct fake_l3 *f = self;
    if (!skb)
        return -EINVAL;
    f->out_total++;
    if (f->nout < FAKE_L3_OUT_MAX) {
        struct fake_l3_out *o = &f->out[f->nout];
        o->total = lyra_skb_total(skb);
        o->len = lyra_skb_flatten(skb, o->b, sizeof(o->b));
        o->src = src;
        o->dst = dst;
        o->proto = proto;
        o->ttl = ttl;
        o->tos = tos;
        o->df = df;
        o->skb_flags = skb->flags;
        o->csum_start = skb->csum_start;
        o->csum_off = skb->csum_off;
        o->headroom = lyra_skb_headroom(skb);
        o->csum_at = skb->csum_start >= o->headroom ? (int32_t)(skb->csum_start - o->headroom) : -1;
        o->nseg = skb->nseg;
        o->gso_size = skb->gso_size;
        o->lin = skb->len;
        o->tail_fnv = 2166136261u; /* FNV-1a of the bytes past the linear part */
        struct lyra_skb_iter it;
        const uint8_t *pp;
        uint32_t pk, at = 0;
        lyra_skb_iter_init(&it, skb);
        while (lyra_skb_iter_next(&it, &pp, &pk))
            for (uint32_t k = 0; k < pk; k++, at++)
                if (at >= skb->len)
                    o->tail_fnv = (o->tail_fnv ^ pp[k]) * 16777619u;
        if (f->cfg.nic_sum && (skb->flags & LYRA_SKB_F_CSUM_TX) && !skb->gso_size &&
            o->len == o->total && o->csum_at >= 0 &&
            (uint32_t)o->csum_at + skb->csum_off + 2u <= o->len) {
            /* as a NIC: the sum from csum_start (the seed in the field) */
            uint32_t cs = (uint32_t)o->csum_at;
            uint16_t c = (uint16_t)~lyra_csum_fold(lyra_csum_add(o->b + cs, o->len - cs, 0));
            o->b[cs + skb->csum_off] = (uint8_t)(c >> 8); /* network order */
            o->b[cs + skb->csum_off + 1u] = (uint8_t)c;
        }
        uint32_t ko, kn;
        o->kept = lyra_skb_lin_csum(skb, &ko, &kn) ? kn : 0;
        const struct lyra_skb_seg *g;
        LYRA_SKB_FOR_EACH_SEG(skb, g)
            o->kept += (g->flags & LYRA_SEG_F_CSUM) ? g->len : 0;
    } else {
        f->out_unrecorded++;
    }
    f->nout++;
    if (f->cfg.output_err)
        return f->cfg.output_err; /* l3 2.0: refused, the caller keeps the skb */
    lyra_skb_free(skb);
    return 0;
}

static int fl3_icmp_error(void *self, const struct lyra_skb *orig, uint8_t type, uint8_t code)
{
    struct fake_l3 *f = self;
    f->icmp_total++;
    if (orig && f->nicmp < FAKE_L3_ICMP_MAX) {
        struct fake_l3_icmp *c = &f->icmp[f->nicmp];
        memset(c, 0, sizeof(*c));
        c->type = type;
        c->code = code;
        const uint8_t *ip = orig->head + orig->l3_off;
        const uint8_t *end = orig->data + orig->len;
        if (ip >= orig->head && ip <= orig->data) {
            uint32_t n = (uint32_t)(end - ip);
            c->quote_len = n < FAKE_L3_QUOTE ? n : FAKE_L3_QUOTE;
            memcpy(c->quote, ip, c->quote_len);
            c->l4_at = (uint32_t)(orig->data - ip);
        }
    }
    f->nicmp++;
    return f->cfg.icmp_ret;
}

static uint32_t fl3_headroom(void *self)
{
    struct fake_l3 *f = self;
    return f->cfg.headroom;
}

static int fl3_is_local(void *self, uint32_t addr)
{
    struct fake_l3 *f = self;
    return addr == f->cfg.addr || is_bcast(f, addr);
}

/* As ip's (l3.h), with one path MTU for every destination: cfg.mtu. */
static int fl3_pmtu_update(void *self, uint32_t dst, uint32_t mtu)
{
    struct fake_l3 *f = self;
    f->pmtu_calls++;
    f->cfg.pmtu_dst = dst;
    f->cfg.pmtu_claim = mtu;
    if (f->cfg.pmtu_ret)
        return f->cfg.pmtu_ret;
    if (mtu < f->cfg.pmtu_min)
        return -ERANGE;
    if (mtu < f->cfg.mtu)
        f->cfg.mtu = mtu;
    return (int)f->cfg.mtu;
}

static const struct lyra_l3_ops fl3_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_ops),
    .register_proto = fl3_register,
    .route = fl3_route,
    .output = fl3_output,
    .icmp_error = fl3_icmp_error,
    .headroom = fl3_headroom,
    .is_local = fl3_is_local,
    .pmtu_update = fl3_pmtu_update,
};

/* ----- test API ----------------------------------------------------------- */

struct fake_l3_cfg *fake_l3_cfg(void *self)
{
    struct fake_l3 *f = self;
    return &f->cfg;
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, (uint16_t)(v >> 16));
    st16(p + 2, (uint16_t)v);
}

int fake_l3_rx(void *self, const void *l4, uint32_t len, const struct lyra_l3_rxinfo *info)
{
    struct fake_l3 *f = self;
    const struct fl3_proto *p = info ? find(f, info->proto) : NULL;
    if (!p || !f->skb || (!l4 && len))
        return -ENOTCONN;
    int via_add = f->cfg.rx_add_data && len;
    struct lyra_skb *s = f->skb->alloc_rx(f->skb_self, IPV4_HDR + len);
    uint8_t *d = s ? lyra_skb_put(s, IPV4_HDR + (via_add ? 0 : len)) : NULL;
    if (!d) {
        lyra_skb_free(s);
        f->rx_nobuf++;
        return -ENOBUFS;
    }
    memset(d, 0, IPV4_HDR);
    d[0] = 0x45;
    d[1] = info->tos;
    st16(d + 2, (uint16_t)(IPV4_HDR + len));
    st16(d + 4, f->ip_id++);
    d[8] = info->ttl;
    d[9] = info->proto;
    st32(d + 12, info->src);
    st32(d + 16, info->dst);
    st16(d + 10, (uint16_t)~lyra_csum_fold(lyra_csum_add(d, IPV4_HDR, 0)));
    if (len && !via_add)
        memcpy(d + IPV4_HDR, l4, len);
    s->l3_off = (uint32_t)(s->data - s->head);
    lyra_skb_pull(s, IPV4_HDR);
    s->l4_off = (uint32_t)(s->data - s->head);
    if (via_add && f->skb->add_data(f->skb_self, s, l4, len, 0, NULL) != (int)len) {
        lyra_skb_free(s);
        f->rx_nobuf++;
        return -ENOBUFS;
    }
    uint32_t k = f->cfg.rx_split;
    if (!via_add && k && k < len) {
        /* A received skb with segments: the rest moves past the linear
         * part, one rest-length gap further (so a pull-up into the linear
         * tail never overlaps it), and a segment points there. */
        uint32_t rest = len - k;
        uint8_t *far = s->data + len + rest;
        /* the segment's descriptor lives in the buffer too, after it (not
         * the provider's: left alone at free, gone with the buffer) */
        uintptr_t at = ((uintptr_t)(far + rest) + _Alignof(struct lyra_skb_seg) - 1) &
                       ~(uintptr_t)(_Alignof(struct lyra_skb_seg) - 1);
        struct lyra_skb_seg *g = (struct lyra_skb_seg *)at;
        if ((size_t)((uint8_t *)(g + 1) - s->head) > s->size) {
            lyra_skb_free(s);
            f->rx_nobuf++;
            return -ENOBUFS;
        }
        memmove(far, s->data + k, rest);
        s->len = k;
        *g = (struct lyra_skb_seg){.ptr = far, .len = rest};
        lyra_skb_seg_append(s, g);
    }
    if (info->flags & LYRA_L3_F_CSUM_OK)
        s->flags |= LYRA_SKB_F_CSUM_OK;
    f->rx_injected++;
    p->ev->rx(p->user, s, info);
    return 0;
}

int fake_l3_rx_run(void *self, const uint8_t *const *l4, const uint32_t *len, unsigned n,
                   const struct lyra_l3_rxinfo *info)
{
    struct fake_l3 *f = self;
    const struct fl3_proto *p = info ? find(f, info->proto) : NULL;
    if (!p || !f->skb || !n)
        return -ENOTCONN;
    struct lyra_skb *head = NULL, *tail = NULL;
    for (unsigned k = 0; k < n; k++) {
        /* each in a buffer of its own behind an IPv4 header, as a NIC
         * leaves it; the chained ones with data at their TCP header */
        struct lyra_skb *s = f->skb->alloc_rx(f->skb_self, IPV4_HDR + len[k]);
        uint8_t *d = s ? lyra_skb_put(s, IPV4_HDR + len[k]) : NULL;
        if (!d) {
            lyra_skb_free(s);
            lyra_skb_free(head);
            f->rx_nobuf++;
            return -ENOBUFS;
        }
        memset(d, 0, IPV4_HDR);
        memcpy(d + IPV4_HDR, l4[k], len[k]);
        s->l3_off = (uint32_t)(s->data - s->head);
        lyra_skb_pull(s, IPV4_HDR);
        s->l4_off = (uint32_t)(s->data - s->head);
        s->flags |= LYRA_SKB_F_CSUM_OK;
        if (!head) {
            head = tail = s;
        } else {
            tail->next = s;
            tail = s;
            head->flags |= LYRA_SKB_F_GRO;
        }
    }
    f->rx_injected += n;
    p->ev->rx(p->user, head, info);
    return 0;
}

int fake_l3_icmp_error(void *self, const struct lyra_l3_icmp_err *e)
{
    struct fake_l3 *f = self;
    const struct fl3_proto *p = e ? find(f, e->proto) : NULL;
    if (!p || !p->ev->icmp_error)
        return -ENOTCONN;
    p->ev->icmp_error(p->user, e);
    return 0;
}

void fake_l3_tx_ready(void *self)
{
    struct fake_l3 *f = self;
    for (unsigned i = 0; i < f->nprotos; i++)
        if (f->protos[i].ev->tx_ready)
            f->protos[i].ev->tx_ready(f->protos[i].user);
}

int fake_l3_registered(void *self, uint8_t proto)
{
    return find(self, proto) != NULL;
}

unsigned fake_l3_out_count(void *self)
{
    struct fake_l3 *f = self;
    return f->nout;
}

const struct fake_l3_out *fake_l3_out(void *self, unsigned i)
{
    struct fake_l3 *f = self;
    return i < f->nout && i < FAKE_L3_OUT_MAX ? &f->out[i] : NULL;
}

unsigned fake_l3_icmp_count(void *self)
{
    struct fake_l3 *f = self;
    return f->nicmp;
}

const struct fake_l3_icmp *fake_l3_icmp(void *self, unsigned i)
{
    struct fake_l3 *f = self;
    return i < f->nicmp && i < FAKE_L3_ICMP_MAX ? &f->icmp[i] : NULL;
}

void fake_l3_clear(void *self)
{
    struct fake_l3 *f = self;
    f->nout = 0;
    f->nicmp = 0;
}

/* ----- component ---------------------------------------------------------- */

enum { P_ADDR, P_GATEWAY, P_HEADROOM, P_MTU, P_CSUM_TX, P_PMTU_MIN, P__COUNT };

static const struct lyra_param fl3_params[P__COUNT] = {
    [P_ADDR] = {"addr", LYRA_P_PREFIX, "192.0.2.2/24", 1, 0, "our address and subnet"},
    [P_GATEWAY] = {"gateway", LYRA_P_IPV4, NULL, 1, 0,
                   "next hop beyond the subnet; unset: -ENETUNREACH there"},
    [P_HEADROOM] = {"headroom", LYRA_P_INT, "34", 0, 1024, "what headroom() answers"},
    [P_MTU] = {"mtu", LYRA_P_INT, "1500", 68, 65535, "the routes' mtu and link_mtu"},
    [P_CSUM_TX] = {"csum_tx", LYRA_P_INT, "0", 0, 255,
                   "LYRA_CSUM_* mask the routes report (checksum offload)"},
    [P_PMTU_MIN] = {"pmtu_min", LYRA_P_INT, "552", 68, 65535,
                    "pmtu_update refuses a claim below this (-ERANGE), as ip's pmtu_min"},
};

static int fl3_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct fake_l3 *f = self;
    (void)d;
    memset(f, 0, sizeof(*f));
    f->cfg.addr = p[P_ADDR].u.ip.addr;
    f->cfg.plen = p[P_ADDR].u.ip.len;
    f->cfg.gateway = p[P_GATEWAY].set ? p[P_GATEWAY].u.ip.addr : 0;
    f->cfg.headroom = (uint32_t)p[P_HEADROOM].u.i;
    f->cfg.mtu = (uint32_t)p[P_MTU].u.i;
    f->cfg.link_mtu = f->cfg.mtu;
    f->cfg.pmtu_min = (uint32_t)p[P_PMTU_MIN].u.i;
    f->cfg.csum_tx = (uint8_t)p[P_CSUM_TX].u.i;
    return 0;
}

static int fl3_start(void *self)
{
    (void)self;
    return 0;
}

static void fl3_stats(void *self, struct lyra_stats_sink *sink)
{
    struct fake_l3 *f = self;
    lyra_stat(sink, "out", f->out_total);
    lyra_stat(sink, "out_unrecorded", f->out_unrecorded);
    lyra_stat(sink, "icmp_errors", f->icmp_total);
    lyra_stat(sink, "rx_injected", f->rx_injected);
    lyra_stat(sink, "rx_nobuf", f->rx_nobuf);
    lyra_stat(sink, "pmtu_updates", f->pmtu_calls);
}

static const struct lyra_provide fl3_provides[] = {
    {
        .iface = LYRA_L3_IFACE,
        .major = LYRA_L3_MAJOR,
        .minor = LYRA_L3_MINOR,
        .ops = &fl3_ops,
        .attach = NULL,
        .max_users = 0,
        .doc = "IPv4 as a transport sees it, answered from settable fields",
    },
};

static const struct lyra_slot fl3_slots[] = {
    {
        .name = "skb",
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = 0, /* skb 2.0 */
        .min = 0,
        .max = 1,
        LYRA_SLOT_STORE(struct fake_l3, skb, skb_self),
        .doc = "buffers for the datagrams fake_l3_rx delivers",
    },
};

LYRA_EXPORT const struct lyra_component lyra_component_fake_l3 = {
    LYRA_COMPONENT_HDR,
    .flags = LYRA_COMP_F_HOST, /* not in an embedded image: RAM report */
    .name = "fake_l3",
    .version = "1.0.0",
    .summary = "test l3: records what a transport sends, delivers injected datagrams",
    .doc = "Routes, is_local and headroom come from settable fields (fake_l3.h); output and "
           "icmp_error are recorded; fake_l3_rx, fake_l3_icmp_error and fake_l3_tx_ready "
           "raise the registered users' events.",
    .provides = fl3_provides,
    .n_provides = LYRA_COUNT(fl3_provides),
    .slots = fl3_slots,
    .n_slots = LYRA_COUNT(fl3_slots),
    .params = fl3_params,
    .n_params = LYRA_COUNT(fl3_params),
    .instance_size = sizeof(struct fake_l3),
    .create = fl3_create,
    .start = fl3_start,
    .stop = NULL,
    .destroy = NULL,
    .poll = NULL,
    .stats = fl3_stats,
};
