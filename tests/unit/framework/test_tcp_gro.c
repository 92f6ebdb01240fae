/* The drivers' receive coalescing (lyra/tcp_gro.h) in isolation: hand-built
 * Ethernet/IPv4/TCP frames in the skbs of a small fake provider (which
 * counts frees and fails on a double free), and an `up` that records what
 * it is handed.
 *
 * The rules are skb.h's for LYRA_SKB_F_GRO and mirror Linux's
 * tcp4_gro_receive: contiguous full segments of one flow go up as one head
 * (still at its Ethernet header, LYRA_SKB_F_GRO) whose `next` chains the
 * rest, each chained skb cut to its TCP segment (data at the TCP header)
 * and keeping LYRA_SKB_F_CSUM_OK; anything that differs (checksums not
 * verified, IP header checksum wrong, IP options, fragments, SYN/FIN/RST/
 * URG, no payload, another flow, ACK, window, options or header length, a
 * sequence gap) does not join; PSH ends a run at once; a run holds at most
 * LYRA_GRO_MAX segments; frames go up in arrival order; flush hands the run
 * up and drop frees it; nothing leaks and nothing is freed twice. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lyra/skb.h"
#include "lyra/tcp_gro.h"

#define ETH_HLEN 14u
#define MSS 1448u
#define TS_HLEN 32u /* TCP header with NOP NOP TS */
#define HEADROOM 64u
#define BUF 2048u
#define POOL 64u

/* ----- fake skb provider ---------------------------------------------------- */

struct pool {
    struct lyra_skb skb[POOL];
    uint8_t mem[POOL][BUF];
    uint8_t want[POOL][BUF]; /* the frame as built */
    uint32_t want_len[POOL];
    bool out[POOL];
    unsigned allocs, frees;
};

static struct pool P;

static void p_free(void *self, struct lyra_skb *s)
{
    struct pool *p = self;
    cr_assert(s >= p->skb && s < p->skb + POOL, "free of an skb that is not the pool's");
    cr_assert(p->out[s->pool_index], "double free of skb %u", s->pool_index);
    p->out[s->pool_index] = false;
    p->frees++;
}

static const struct lyra_skb_ops pool_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_SKB_IFACE, LYRA_SKB_MAJOR, LYRA_SKB_MINOR, struct lyra_skb_ops),
    .free = p_free,
};

static struct lyra_skb *p_get(void)
{
    for (unsigned i = 0; i < POOL; i++) {
        if (P.out[i])
            continue;
        struct lyra_skb *s = &P.skb[i];
        memset(s, 0, sizeof(*s));
        memset(P.mem[i], 0xee, BUF);
        s->head = P.mem[i];
        s->data = s->head + HEADROOM;
        s->size = BUF;
        s->refcnt = 1;
        s->owner_ops = &pool_ops;
        s->owner = &P;
        s->pool_index = i;
        P.out[i] = true;
        P.allocs++;
        return s;
    }
    cr_assert_fail("pool empty");
    return NULL;
}

/* ----- the receiver (`up`) -------------------------------------------------- */

struct ups {
    struct lyra_skb *s[POOL];
    unsigned n;
};

static struct ups U;

static void up(void *ctx, struct lyra_skb *skb)
{
    struct ups *u = ctx;
    cr_assert_lt(u->n, POOL, "too many up calls");
    u->s[u->n++] = skb;
}

/* Frees what went up and is still held, then checks every skb is back
 * exactly once (p_free fails on a second free). */
static void release_and_check(void)
{
    for (unsigned i = 0; i < U.n; i++)
        if (P.out[U.s[i]->pool_index])
            lyra_skb_free(U.s[i]);
    for (unsigned i = 0; i < POOL; i++)
        cr_assert(!P.out[i], "skb %u leaked", i);
    cr_assert_eq(P.frees, P.allocs, "frees %u, allocs %u", P.frees, P.allocs);
}

static void setup(void)
{
    memset(&P, 0, sizeof(P));
    memset(&U, 0, sizeof(U));
}

TestSuite(gro, .init = setup);
TestSuite(gro_nojoin, .init = setup);

/* ----- frame builder -------------------------------------------------------- */

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_CWR 0x80

struct fp {
    uint16_t ethertype;
    uint8_t dst_mac_last;
    uint8_t tos, ttl;
    uint8_t src_last, dst_last; /* 192.0.2.x */
    uint16_t ipid;
    uint16_t frag;   /* flags and offset; DF is the default */
    bool ip_opt;     /* IHL 6: four option bytes */
    bool bad_ipcsum; /* store a wrong IP header checksum */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win, urg;
    bool ts;
    uint32_t tsval, tsecr;
    uint32_t pay;    /* payload bytes */
    uint32_t pad_to; /* Ethernet padding up to this frame length */
    bool csum_ok;    /* LYRA_SKB_F_CSUM_OK */
    bool l3csum_ok;  /* LYRA_SKB_F_L3CSUM_OK: the card checked the IPv4 header */
};

/* A full segment with timestamps, as the sender of a bulk transfer sends.
 * The ACK number's top bytes (0x80, 0x10) are chosen so that a parser that
 * ignored IHL and read the TCP header 20 bytes into an IHL-6 header (whose
 * four option bytes are EOL, zero) would see data offset 8 and flags ACK:
 * a plausible segment, so the IHL-6 case fails on that mistake. */
static struct fp seg(uint32_t seq)
{
    return (struct fp){
        .ethertype = 0x0800, .dst_mac_last = 0x02, .ttl = 64, .src_last = 1, .dst_last = 2, .ipid = 0x1000, .frag = 0x4000,
        .sport = 40000, .dport = 80, .seq = seq, .ack = 0x8010abcd, .flags = F_ACK,
        .win = 502, .ts = true, .tsval = 0xa0a0a0a0, .tsecr = 0x0b0b0b0b, .pay = MSS,
        .csum_ok = true,
    };
}

static void st16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, v >> 16);
    st16(p + 2, v);
}

/* RFC 1071: the complement of the ones'-complement sum of 16-bit words. */
static uint16_t rfc1071(const uint8_t *p, uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t ip_hlen(const struct fp *f)
{
    return f->ip_opt ? 24u : 20u;
}

static uint32_t tcp_hlen(const struct fp *f)
{
    return f->ts ? TS_HLEN : 20u;
}

/* An skb holding the frame f describes, data at its Ethernet header. */
static struct lyra_skb *frame(const struct fp *f)
{
    struct lyra_skb *s = p_get();
    uint8_t *e = s->data;
    uint32_t ih = ip_hlen(f), th = tcp_hlen(f);
    uint32_t len = ETH_HLEN + ih + th + f->pay;
    if (len < f->pad_to) {
        memset(e + len, 0, f->pad_to - len);
        len = f->pad_to;
    }
    cr_assert_leq(HEADROOM + len, BUF);

    /* Ethernet */
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
    memcpy(e, dst, 6);
    e[5] = f->dst_mac_last;
    memcpy(e + 6, src, 6);
    st16(e + 12, f->ethertype);

    /* IPv4 */
    uint8_t *ip = e + ETH_HLEN;
    ip[0] = (uint8_t)(0x40 | ih / 4);
    ip[1] = f->tos;
    st16(ip + 2, ih + th + f->pay);
    st16(ip + 4, f->ipid);
    st16(ip + 6, f->frag);
    ip[8] = f->ttl;
    ip[9] = 6;
    st16(ip + 10, 0);
    st32(ip + 12, 0xc0000200 | f->src_last); /* 192.0.2.1 */
    st32(ip + 16, 0xc0000200 | f->dst_last); /* 192.0.2.2 */
    if (f->ip_opt)
        memset(ip + 20, 0, 4); /* EOL and padding */
    uint16_t c = rfc1071(ip, ih);
    if (f->bad_ipcsum)
        c ^= 0x0101;
    st16(ip + 10, c);

    /* TCP */
    uint8_t *t = ip + ih;
    st16(t, f->sport);
    st16(t + 2, f->dport);
    st32(t + 4, f->seq);
    st32(t + 8, f->ack);
    t[12] = (uint8_t)(th / 4 << 4);
    t[13] = f->flags;
    st16(t + 14, f->win);
    st16(t + 16, 0xbeef); /* not checked here: the card did (CSUM_OK) */
    st16(t + 18, f->urg);
    if (f->ts) {
        t[20] = t[21] = 0x01;
        t[22] = 8;
        t[23] = 10;
        st32(t + 24, f->tsval);
        st32(t + 28, f->tsecr);
    }
    for (uint32_t i = 0; i < f->pay; i++)
        t[th + i] = (uint8_t)(f->seq + i); /* the stream's byte at its offset */

    s->len = len;
    s->flags = LYRA_SKB_F_RX | (f->csum_ok ? LYRA_SKB_F_CSUM_OK : 0) |
               (f->l3csum_ok ? LYRA_SKB_F_L3CSUM_OK : 0);
    memcpy(P.want[s->pool_index], e, len);
    P.want_len[s->pool_index] = len;
    return s;
}

static struct lyra_skb *rx(struct lyra_gro *g, const struct fp *f)
{
    struct lyra_skb *s = frame(f);
    lyra_gro_rx(g, s, up, &U);
    return s;
}

/* s went up as built: at its Ethernet header, its whole frame, no chain. */
static void assert_plain(const struct lyra_skb *s, const char *what)
{
    unsigned i = s->pool_index;
    cr_assert_eq(s->data, P.mem[i] + HEADROOM, "%s: data moved", what);
    cr_assert_eq(s->len, P.want_len[i], "%s: len %u, want %u", what, s->len, P.want_len[i]);
    cr_assert_eq(memcmp(s->data, P.want[i], s->len), 0, "%s: bytes changed", what);
    cr_assert_eq(s->flags & LYRA_SKB_F_GRO, 0, "%s: LYRA_SKB_F_GRO set", what);
}

/* s is chained in a run: linear, data at its TCP header (frame + 34), its
 * length that of its TCP segment, CSUM_OK kept. */
static void assert_chained(const struct lyra_skb *s, uint32_t seglen, const char *what)
{
    unsigned i = s->pool_index;
    cr_assert_eq(s->data, P.mem[i] + HEADROOM + 34, "%s: data not at the TCP header", what);
    cr_assert_eq(s->len, seglen, "%s: len %u, want %u", what, s->len, seglen);
    cr_assert_eq(s->nseg, 0, "%s: not linear", what);
    cr_assert_eq(memcmp(s->data, P.want[i] + 34, seglen), 0, "%s: bytes changed", what);
    cr_assert(s->flags & LYRA_SKB_F_CSUM_OK, "%s: CSUM_OK lost", what);
}

/* ----- 1: a run of three ---------------------------------------------------- */

Test(gro, three_full_segments_one_run)
{
    struct lyra_gro g = {.on = true};
    const uint32_t s0 = 1000000;
    struct lyra_skb *k[3];
    for (unsigned i = 0; i < 3; i++) {
        struct fp f = seg(s0 + i * MSS);
        f.ipid = (uint16_t)(0x1000 + i); /* identification may differ */
        k[i] = rx(&g, &f);
    }
    cr_assert_eq(U.n, 0, "a run went up before flush");
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 1);

    struct lyra_skb *h = U.s[0];
    cr_assert_eq(h, k[0], "the head is not the first skb");
    cr_assert(h->flags & LYRA_SKB_F_GRO);
    cr_assert(h->flags & LYRA_SKB_F_CSUM_OK);
    cr_assert_eq(h->data, P.mem[k[0]->pool_index] + HEADROOM, "head moved off its Ethernet header");
    cr_assert_eq(h->len, ETH_HLEN + 20 + TS_HLEN + MSS);
    cr_assert_eq(memcmp(h->data, P.want[k[0]->pool_index], h->len), 0);

    uint64_t bytes = 0;
    cr_assert_eq(lyra_skb_chained(h, &bytes), 2);
    cr_assert_eq(bytes, 2 * (TS_HLEN + MSS));
    cr_assert_eq(h->next, k[1]);
    cr_assert_eq(k[1]->next, k[2]);
    cr_assert_null(k[2]->next);
    assert_chained(k[1], TS_HLEN + MSS, "2nd");
    assert_chained(k[2], TS_HLEN + MSS, "3rd");
    cr_assert_eq(g.st.rx_gro_runs, 1);
    cr_assert_eq(g.st.rx_gro_chained, 2);
    cr_assert_null(g.head, "the run is still held after flush");

    lyra_skb_free(h);
    cr_assert_eq(P.frees, 3, "freeing the head freed %u skbs", P.frees);
    release_and_check();
}

/* The card's word on the IPv4 header is taken (skb.h L3CSUM_OK): the
 * header is not summed again, so a header the card vouched for joins even
 * with a sum that is wrong here; without the flag it goes alone (the
 * NOJOIN case bad_ip_header_csum). */
Test(gro, card_checked_ip_header_not_summed_again)
{
    struct lyra_gro g = {.on = true};
    struct fp a = seg(5000), b = seg(5000 + MSS);
    a.l3csum_ok = b.l3csum_ok = true;
    b.bad_ipcsum = true;
    struct lyra_skb *ka = rx(&g, &a);
    struct lyra_skb *kb = rx(&g, &b);
    cr_assert_eq(U.n, 0, "a frame went up before flush");
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 1);
    cr_assert_eq(U.s[0], ka);
    cr_assert_eq(ka->next, kb, "the card-checked frame did not join");
    cr_assert_eq(g.st.rx_gro_chained, 1);
    lyra_skb_free(ka);
    release_and_check();
}

/* Sequence numbers wrap inside a run (serial arithmetic). */
Test(gro, run_across_sequence_wrap)
{
    struct lyra_gro g = {.on = true};
    const uint32_t s0 = 0xfffffa00u; /* the 3rd segment starts at 0x550 */
    for (unsigned i = 0; i < 3; i++) {
        struct fp f = seg(s0 + i * MSS);
        rx(&g, &f);
    }
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 1);
    uint64_t bytes = 0;
    cr_assert_eq(lyra_skb_chained(U.s[0], &bytes), 2);
    release_and_check();
}

/* A short last segment with Ethernet padding: chained, cut to its TCP
 * segment (the padding dropped). */
Test(gro, padded_short_segment_is_trimmed)
{
    struct lyra_gro g = {.on = true};
    struct fp a = seg(5000), b = seg(5000 + 100);
    a.ts = b.ts = false;
    a.pay = 100;
    b.pay = 4;
    b.pad_to = 60; /* 14 + 20 + 20 + 4 = 58 */
    struct lyra_skb *ka = rx(&g, &a), *kb = frame(&b);
    cr_assert_eq(kb->len, 60, "the frame as received is padded");
    lyra_gro_rx(&g, kb, up, &U);
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 1);
    cr_assert_eq(U.s[0], ka);
    cr_assert(ka->flags & LYRA_SKB_F_GRO);
    cr_assert_eq(ka->next, kb);
    assert_chained(kb, 20 + 4, "padded");
    release_and_check();
}

/* ----- 2: off ---------------------------------------------------------------- */

Test(gro, off_passes_each_frame)
{
    struct lyra_gro g = {.on = false};
    struct lyra_skb *k[3];
    for (unsigned i = 0; i < 3; i++) {
        struct fp f = seg(1000 + i * MSS);
        k[i] = rx(&g, &f);
        cr_assert_eq(U.n, i + 1, "frame %u not passed up at once", i);
    }
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(U.s[i], k[i], "up %u out of order", i);
        assert_plain(k[i], "off");
    }
    cr_assert_eq(g.st.rx_gro_runs, 0);
    cr_assert_eq(g.st.rx_gro_chained, 0);
    release_and_check();
}

/* ----- 3: what does not join ----------------------------------------------- */

/* Frame 1 a full segment, frame 2 the next one changed by mut. Frame 1 goes
 * up alone when frame 2 arrives; frame 2 is then held (its own run: up at
 * flush) when `held`, else goes up at once; both unchanged, in order. */
static void check_nojoin(const char *name, void (*mut)(struct fp *), bool held)
{
    struct lyra_gro g = {.on = true};
    struct fp a = seg(77777), b = seg(77777 + MSS);
    b.ipid = (uint16_t)(a.ipid + 1);
    mut(&b);
    struct lyra_skb *ka = rx(&g, &a);
    cr_assert_eq(U.n, 0, "%s: the first frame was not held", name);
    struct lyra_skb *kb = rx(&g, &b);
    cr_assert_eq(U.n, held ? 1u : 2u, "%s: %u up calls after the second frame, want %u", name,
                 U.n, held ? 1u : 2u);
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 2, "%s: %u up calls, want 2", name, U.n);
    cr_assert_eq(U.s[0], ka, "%s: the first frame did not go up first", name);
    cr_assert_eq(U.s[1], kb, "%s: the second frame did not go up second", name);
    assert_plain(ka, name);
    assert_plain(kb, name);
    cr_assert_eq(g.st.rx_gro_chained, 0, "%s: chained", name);
    cr_assert_eq(g.st.rx_gro_runs, 0, "%s: a run counted", name);
    release_and_check();
}

#define NOJOIN(name, held, body)                \
    static void mut_##name(struct fp *f)        \
    {                                           \
        body;                                   \
    }                                           \
    Test(gro_nojoin, name)                      \
    {                                           \
        check_nojoin(#name, mut_##name, held);  \
    }

/* not a candidate: goes up at once */
NOJOIN(no_csum_ok, false, f->csum_ok = false)
NOJOIN(bad_ip_header_csum, false, f->bad_ipcsum = true)
NOJOIN(ip_options_ihl6, false, f->ip_opt = true)
NOJOIN(fragment_mf, false, f->frag = 0x2000)
NOJOIN(fragment_offset, false, f->frag = 0x0001)
NOJOIN(syn, false, f->flags = F_SYN | F_ACK)
NOJOIN(fin, false, f->flags = F_FIN | F_ACK)
NOJOIN(rst, false, f->flags = F_RST | F_ACK)
NOJOIN(urg, false, (f->flags = F_URG | F_ACK, f->urg = 1))
NOJOIN(cwr, false, f->flags = F_CWR | F_ACK)
NOJOIN(no_ack_flag, false, f->flags = 0)
NOJOIN(no_payload, false, f->pay = 0)
/* a candidate of another flow or not continuing: starts its own run */
NOJOIN(other_source_port, true, f->sport++)
NOJOIN(other_dest_port, true, f->dport++)
NOJOIN(sequence_gap, true, f->seq += 1)
NOJOIN(sequence_overlap, true, f->seq -= 1)
NOJOIN(other_ack, true, f->ack += MSS)
NOJOIN(other_window, true, f->win++)
NOJOIN(other_timestamp, true, f->tsval++)
NOJOIN(other_tcp_header_len, true, f->ts = false)
NOJOIN(other_urgent_field, true, f->urg = 7)
NOJOIN(other_ttl, true, f->ttl--)
NOJOIN(other_tos, true, f->tos = 0x10)
NOJOIN(other_df, true, f->frag = 0)
NOJOIN(other_dst_mac, true, f->dst_mac_last = 0x03)
NOJOIN(other_src_ip, true, f->src_last = 3)
NOJOIN(other_dst_ip, true, f->dst_last = 4)

/* ----- 4: PSH ---------------------------------------------------------------- */

Test(gro, psh_ends_the_run_at_once)
{
    struct lyra_gro g = {.on = true};
    struct fp a = seg(9000), b = seg(9000 + MSS), c = seg(9000 + 2 * MSS);
    b.flags = F_ACK | F_PSH;
    struct lyra_skb *ka = rx(&g, &a), *kb = rx(&g, &b);
    cr_assert_eq(U.n, 1, "the PSH run did not go up at once");
    cr_assert_eq(U.s[0], ka);
    cr_assert(ka->flags & LYRA_SKB_F_GRO);
    uint64_t bytes = 0;
    cr_assert_eq(lyra_skb_chained(ka, &bytes), 1);
    cr_assert_eq(bytes, TS_HLEN + MSS);
    cr_assert_eq(ka->next, kb);
    assert_chained(kb, TS_HLEN + MSS, "psh");
    cr_assert_null(g.head);

    struct lyra_skb *kc = rx(&g, &c);
    cr_assert_eq(U.n, 1, "the segment after PSH was not held");
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 2);
    cr_assert_eq(U.s[1], kc);
    assert_plain(kc, "after psh");
    cr_assert_eq(g.st.rx_gro_runs, 1);
    cr_assert_eq(g.st.rx_gro_chained, 1);
    release_and_check();
}

/* A PSH segment with nothing held goes up at once, alone. */
Test(gro, psh_alone_goes_up_at_once)
{
    struct lyra_gro g = {.on = true};
    struct fp a = seg(9000);
    a.flags = F_ACK | F_PSH;
    struct lyra_skb *ka = rx(&g, &a);
    cr_assert_eq(U.n, 1);
    cr_assert_eq(U.s[0], ka);
    assert_plain(ka, "psh alone");
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 1);
    release_and_check();
}

/* ----- 5: the cap ------------------------------------------------------------ */

Test(gro, run_capped_at_max)
{
    struct lyra_gro g = {.on = true};
    struct lyra_skb *k[LYRA_GRO_MAX + 1];
    for (unsigned i = 0; i < LYRA_GRO_MAX + 1; i++) {
        struct fp f = seg(1 + i * MSS);
        k[i] = rx(&g, &f);
    }
    cr_assert_eq(U.n, 1, "%u up calls before flush, want 1", U.n);
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 2);
    cr_assert_eq(U.s[0], k[0]);
    uint64_t bytes = 0;
    cr_assert_eq(lyra_skb_chained(k[0], &bytes), LYRA_GRO_MAX - 1);
    cr_assert_eq(bytes, (uint64_t)(LYRA_GRO_MAX - 1) * (TS_HLEN + MSS));
    struct lyra_skb *c = k[0]->next;
    for (unsigned i = 1; i < LYRA_GRO_MAX; i++, c = c->next)
        cr_assert_eq(c, k[i], "chain position %u", i);
    cr_assert_eq(U.s[1], k[LYRA_GRO_MAX]);
    assert_plain(k[LYRA_GRO_MAX], "after the cap");
    cr_assert_eq(g.st.rx_gro_runs, 1);
    cr_assert_eq(g.st.rx_gro_chained, LYRA_GRO_MAX - 1);
    release_and_check();
}

/* ----- 6: drop --------------------------------------------------------------- */

Test(gro, drop_frees_the_run)
{
    struct lyra_gro g = {.on = true};
    for (unsigned i = 0; i < 3; i++) {
        struct fp f = seg(1 + i * MSS);
        rx(&g, &f);
    }
    cr_assert_eq(U.n, 0);
    lyra_gro_drop(&g);
    cr_assert_eq(P.frees, 3, "drop freed %u", P.frees);
    cr_assert_null(g.head);
    lyra_gro_flush(&g, up, &U);
    cr_assert_eq(U.n, 0, "flush after drop called up");
    lyra_gro_drop(&g); /* nothing held: nothing freed */
    cr_assert_eq(P.frees, 3);
    release_and_check();
}

/* ----- 7: not TCP/IPv4 ------------------------------------------------------ */

/* A held segment, then s: the segment goes up first, then s unchanged. */
static void check_alone(struct lyra_gro *g, struct lyra_skb *s, const char *what)
{
    struct fp a = seg(100);
    struct lyra_skb *ka = rx(g, &a);
    lyra_gro_rx(g, s, up, &U);
    cr_assert_eq(U.n, 2, "%s: %u up calls, want 2", what, U.n);
    cr_assert_eq(U.s[0], ka, "%s: order", what);
    cr_assert_eq(U.s[1], s, "%s: order", what);
    assert_plain(ka, what);
    assert_plain(s, what);
    lyra_gro_flush(g, up, &U);
    cr_assert_eq(U.n, 2, "%s: something still held", what);
}

Test(gro, short_frame_goes_alone)
{
    struct lyra_gro g = {.on = true};
    struct fp f = seg(100 + MSS);
    struct lyra_skb *s = frame(&f);
    s->len = 40;
    P.want_len[s->pool_index] = 40;
    check_alone(&g, s, "40-byte frame");
    release_and_check();
}

Test(gro, non_ipv4_goes_alone)
{
    struct lyra_gro g = {.on = true};
    struct fp f = seg(100 + MSS);
    f.ethertype = 0x86dd;
    check_alone(&g, frame(&f), "ethertype 0x86dd");
    release_and_check();
}

/* An skb with a segment (here two bytes of Ethernet padding outside the
 * linear part) does not take part: chained skbs are linear. */
Test(gro, segmented_skb_goes_alone)
{
    static const uint8_t padding[2];
    static struct lyra_skb_seg sg = {.ptr = padding, .len = 2};
    struct lyra_gro g = {.on = true};
    struct fp f = seg(100 + MSS);
    struct lyra_skb *s = frame(&f);
    lyra_skb_seg_append(s, &sg);
    check_alone(&g, s, "segmented");
    cr_assert_eq(s->nseg, 1);
    cr_assert_eq(s->seg_len, 2);
    release_and_check();
}
