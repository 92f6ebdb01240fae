/* ip and runs of received TCP segments (skb 2.6 LYRA_SKB_F_GRO, l3 2.3):
 * ip checks the head as any datagram and counts every datagram of the run;
 * a protocol built against l3 2.3 gets the run whole, one built before it
 * the segments one by one with the head's rxinfo; a run ip drops goes
 * whole, nothing leaked (fx_down). Fixture: ip_fixture.h. */
#include "ip_fixture.h"

#define SEGS 3
#define TCP_LEN 60u /* what ip sees of each segment: 20-byte header, 40 bytes */

/* A run as a coalescing driver and eth hand it up: the head at its IPv4
 * header (to dst), the chained skbs at their TCP header with their
 * offsets set (skb 2.6). */
static void deliver_run(struct fx *f, uint32_t dst)
{
    struct lyra_skb *head = NULL, *tail = NULL;
    for (unsigned k = 0; k < SEGS; k++) {
        uint32_t ip_len = k ? 0 : IPV4_HDR_LEN;
        struct lyra_skb *s = f->so->alloc_rx(f->skb->self, ETH_HLEN + IPV4_HDR_LEN + TCP_LEN);
        cr_assert_not_null(s, "pool empty");
        uint8_t *d = lyra_skb_put(s, ip_len + TCP_LEN);
        cr_assert_not_null(d);
        memset(d, 0x40 + k, ip_len + TCP_LEN); /* each segment's bytes tell it apart */
        if (!k) {
            uint8_t *h = d;
            memset(h, 0, IPV4_HDR_LEN);
            h[0] = 0x45;
            ip_st16(h + 2, (uint16_t)(IPV4_HDR_LEN + TCP_LEN));
            ip_st16(h + 6, 0x4000); /* DF */
            h[8] = 64;
            h[9] = LYRA_IPPROTO_TCP;
            ip_st32(h + 12, LINUX_IP);
            ip_st32(h + 16, dst);
            ip_st16(h + 10, (uint16_t)~lyra_csum_fold(lyra_csum_add(h, IPV4_HDR_LEN, 0)));
        }
        s->flags |= LYRA_SKB_F_CSUM_OK | LYRA_SKB_F_HOST;
        if (k) { /* a follower's offsets, as the driver sets them */
            s->l4_off = (uint32_t)(s->data - s->head);
            s->l3_off = s->l4_off - IPV4_HDR_LEN;
        }
        if (!head) {
            head = tail = s;
        } else {
            tail->next = s;
            tail = s;
            head->flags |= LYRA_SKB_F_GRO;
        }
    }
    head->l3_off = (uint32_t)(head->data - head->head);
    struct lyra_l2_rxinfo info = {.ethertype = LYRA_ETHERTYPE_IPV4, .flags = LYRA_SKB_F_HOST};
    f->l2.ev->rx(f->l2.user, head, &info);
}

/* ----- a protocol of l3 2.3: the run whole ---------------------------------- */

struct run_user {
    unsigned rx;
    bool gro;
    uint32_t chained;
    uint8_t first[SEGS]; /* each skb's first byte, in order */
    uint32_t len[SEGS];
};

static void run_rx(void *u, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct run_user *r = u;
    r->rx++;
    r->gro = (skb->flags & LYRA_SKB_F_GRO) != 0;
    uint64_t bytes = 0;
    r->chained = lyra_skb_chained(skb, &bytes);
    cr_assert_eq(info->proto, LYRA_IPPROTO_TCP);
    cr_assert_eq(info->src, LINUX_IP);
    unsigned k = 0;
    r->first[k] = skb->data[0];
    r->len[k++] = lyra_skb_total(skb);
    for (struct lyra_skb *c = r->gro ? skb->next : NULL; c && k < SEGS; c = c->next) {
        r->first[k] = c->data[0];
        r->len[k++] = lyra_skb_total(c);
    }
    lyra_skb_free(skb); /* the chain with it */
}

static const struct lyra_l3_events run_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, 3, struct lyra_l3_events),
    .rx = run_rx,
};

Test(ip_run, a_protocol_of_l3_2_3_gets_the_run_whole)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct run_user r = {0};
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_TCP, &run_ev, &r), 0);
    deliver_run(&f, IP(192, 0, 2, 2));
    cr_assert_eq(r.rx, 1);
    cr_assert(r.gro, "the head lost its flag");
    cr_assert_eq(r.chained, SEGS - 1);
    for (unsigned k = 0; k < SEGS; k++) {
        cr_assert_eq(r.first[k], 0x40 + k, "segment %u out of place", k);
        cr_assert_eq(r.len[k], TCP_LEN);
    }
    cr_assert_eq(st(&f, "rx_packets"), SEGS);
    cr_assert_eq(st(&f, "rx_delivered"), SEGS);
    cr_assert_eq(st(&f, "rx_bytes"), SEGS * (IPV4_HDR_LEN + TCP_LEN));
    fx_down(&f);
}

/* ----- a protocol built before l3 2.3: one by one ---------------------------- */

struct old_user {
    unsigned rx;
    uint8_t first[SEGS];
    bool flag_seen, offsets_ok;
};

static void old_rx(void *u, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    struct old_user *o = u;
    cr_assert_eq(info->src, LINUX_IP);
    if (skb->flags & LYRA_SKB_F_GRO)
        o->flag_seen = true;
    if (o->rx < SEGS)
        o->first[o->rx] = skb->data[0];
    o->offsets_ok = skb->l4_off == (uint32_t)(skb->data - skb->head) &&
                    skb->l3_off + IPV4_HDR_LEN == skb->l4_off;
    o->rx++;
    lyra_skb_free(skb);
}

static const struct lyra_l3_events old_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, 2, struct lyra_l3_events),
    .rx = old_rx,
};

Test(ip_run, a_protocol_before_l3_2_3_gets_the_segments_one_by_one)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    struct old_user o = {0};
    cr_assert_eq(f.l3->register_proto(f.ip->self, LYRA_IPPROTO_TCP, &old_ev, &o), 0);
    deliver_run(&f, IP(192, 0, 2, 2));
    cr_assert_eq(o.rx, SEGS);
    cr_assert_not(o.flag_seen, "a run reached a protocol that does not know runs");
    cr_assert(o.offsets_ok);
    for (unsigned k = 0; k < SEGS; k++)
        cr_assert_eq(o.first[k], 0x40 + k, "segment %u out of order", k);
    cr_assert_eq(st(&f, "rx_delivered"), SEGS);
    fx_down(&f);
}

/* ----- dropped runs go whole --------------------------------------------- */

Test(ip_run, a_run_ip_drops_is_freed_whole)
{
    struct fx f;
    fx_up(&f, NULL, NULL);
    deliver_run(&f, IP(192, 0, 2, 99)); /* not ours */
    deliver_run(&f, IP(192, 0, 2, 2));  /* ours, but nobody takes TCP */
    cr_assert_eq(st(&f, "rx_packets"), 2 * SEGS);
    cr_assert_eq(st(&f, "rx_not_ours"), SEGS);
    cr_assert_eq(st(&f, "rx_proto_unreach"), SEGS); /* each datagram of the run */
    fx_down(&f); /* every skb back in the pool */
}
