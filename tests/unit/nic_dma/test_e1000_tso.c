/* TCP segmentation offload: e1000_model alone (hand-written TSE context and
 * data descriptors, manual 3.3.6, 3.3.7, 3.5) and nic_dma on it (skbs with
 * gso_size, netdev 1.2 caps.tso_segs).
 *
 * Every emitted frame is checked with a checksum routine written here
 * (bytewise, big-endian words), not the model's lyra_csum code path. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "e1000_bare.h"
#include "e1000_model.h"
#include "fake_os.h"
#include "lt.h"
#include "lyra/bus.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_nic_dma;
extern const struct lyra_component lyra_component_skb_copy;

#define R_TCTL 0x0400
#define R_TDBAL 0x3800
#define R_TDBAH 0x3804
#define R_TDLEN 0x3808
#define R_TDH 0x3810
#define R_TDT 0x3818

#define MSS 1448u
#define HLEN (14u + 20u + 32u) /* Ethernet, IPv4, TCP with timestamps */
#define PAYLEN (3u * MSS + 100u)
#define SEQ0 0x11223344u
#define IPID0 0x1234u
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x20};
static const uint8_t mac_b[6] = {0x02, 0x01, 0, 0, 0, 0x01};
static const uint8_t ip_a[4] = {192, 0, 2, 1}, ip_b[4] = {192, 0, 2, 2};

/* ----- an independent checksum ------------------------------------------- */

static uint32_t sum_be(const uint8_t *p, uint32_t n, uint32_t s)
{
    for (uint32_t i = 0; i < n; i++)
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    return s;
}

static uint16_t fold16(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool ip_csum_ok(const uint8_t *ip)
{
    return fold16(sum_be(ip, (ip[0] & 0xfu) * 4u, 0)) == 0xffff;
}

/* The TCP checksum of the segment ip carries (its total length says how
 * long), with the pseudo header. */
static bool tcp_csum_ok(const uint8_t *ip)
{
    uint32_t ihl = (ip[0] & 0xfu) * 4u, tcplen = be16(ip + 2) - ihl;
    uint32_t s = sum_be(ip + 12, 8, 0) + 6 + tcplen;
    return fold16(sum_be(ip + ihl, tcplen, s)) == 0xffff;
}

/* ----- the prototype packet ---------------------------------------------- */

static uint8_t payload[PAYLEN + 4096];

static void fill_payload(void)
{
    for (uint32_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 31 + (i >> 8) + 7);
}

/* Ethernet + IPv4 + TCP with the timestamps option, FIN|PSH|ACK, as tcp
 * builds it for TSO: the TCP checksum field holds the pseudo-header sum
 * WITHOUT the TCP length (skb.h gso_size). ip_csum: the IP header checksum
 * over a total length of tot (what ip writes), or 0 (what the card wants). */
static void mkhdr(uint8_t *h, uint32_t tot, bool ip_csum)
{
    memset(h, 0, HLEN);
    memcpy(h, mac_b, 6);
    memcpy(h + 6, mac_a, 6);
    h[12] = 0x08;
    uint8_t *ip = h + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[4] = IPID0 >> 8;
    ip[5] = IPID0 & 0xff;
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, ip_a, 4);
    memcpy(ip + 16, ip_b, 4);
    if (ip_csum) {
        uint16_t c = (uint16_t)~fold16(sum_be(ip, 20, 0));
        ip[10] = (uint8_t)(c >> 8);
        ip[11] = (uint8_t)c;
    }
    uint8_t *t = ip + 20;
    t[0] = 0x30, t[1] = 0x39, t[2] = 0x00, t[3] = 0x50;
    t[4] = SEQ0 >> 24, t[5] = (SEQ0 >> 16) & 0xff, t[6] = (SEQ0 >> 8) & 0xff, t[7] = SEQ0 & 0xff;
    t[8] = 0xa0, t[11] = 0x01;   /* ack number */
    t[12] = 8 << 4;              /* 32 bytes */
    t[13] = TCP_FIN | TCP_PSH | TCP_ACK;
    t[14] = 0xff, t[15] = 0xff;  /* window */
    t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10; /* NOP NOP TS */
    t[24] = 0xde, t[25] = 0xad, t[26] = 0xbe, t[27] = 0xef;
    t[28] = 0x01, t[29] = 0x02, t[30] = 0x03, t[31] = 0x04;
    uint16_t ph = fold16(sum_be(ip + 12, 8, 0) + 6);
    t[16] = (uint8_t)(ph >> 8);
    t[17] = (uint8_t)ph;
}

/* Every frame of a TSO packet of paylen payload bytes (the header from
 * hdr, the payload from pay), cut at mss, as the card must have made them. */
static void check_frames(uint8_t (*out)[2048], const size_t *len, unsigned nf,
                         const uint8_t *hdr, const uint8_t *pay, uint32_t paylen, uint32_t mss)
{
    unsigned want = (paylen + mss - 1) / mss;
    cr_assert_eq(nf, want, "%u frames, want %u", nf, want);
    for (unsigned k = 0; k < nf; k++) {
        uint32_t n = k + 1 < nf ? mss : paylen - (nf - 1) * mss;
        const uint8_t *f = out[k], *ip = f + 14, *t = ip + 20;
        cr_assert_eq(len[k], HLEN + n, "frame %u: %zu bytes", k, len[k]);
        cr_assert_arr_eq(f, hdr, 14, "frame %u: Ethernet header copied", k);
        cr_assert_eq(be16(ip + 2), 20 + 32 + n, "frame %u: IP total length", k);
        cr_assert_eq(be16(ip + 4), (uint16_t)(IPID0 + k), "frame %u: IP ID", k);
        cr_assert(ip_csum_ok(ip), "frame %u: IP header checksum", k);
        cr_assert_eq(be32(t + 4), SEQ0 + k * mss, "frame %u: sequence number", k);
        bool last = k + 1 == nf;
        cr_assert_eq(t[13] & (TCP_FIN | TCP_PSH), last ? TCP_FIN | TCP_PSH : 0,
                     "frame %u: FIN/PSH on the last only", k);
        cr_assert(t[13] & TCP_ACK, "frame %u: ACK kept", k);
        cr_assert_arr_eq(t + 20, hdr + 14 + 20 + 20, 12, "frame %u: options copied", k);
        cr_assert(tcp_csum_ok(ip), "frame %u: TCP checksum", k);
        cr_assert_arr_eq(f + HLEN, pay + (size_t)k * mss, n, "frame %u: payload slice", k);
    }
}

/* ----- the model alone ----------------------------------------------------- */

/* the model alone (e1000_bare.h) with a transmit ring and a payload buffer */
struct bare {
    struct e1000_bare m;
    uint8_t *ring, *buf;
    uint64_t rbus, bbus;
    uint32_t tdt;
};

#define RING_N 64u
#define BUF_SIZE 65536u

static void bare_up(struct bare *x)
{
    memset(x, 0, sizeof(*x));
    e1000_bare_up(&x->m);
    x->ring = x->m.b->dma_alloc(x->m.s, RING_N * 16, 128, &x->rbus);
    x->buf = x->m.b->dma_alloc(x->m.s, BUF_SIZE, 4096, &x->bbus);
    cr_assert(x->ring && x->buf);
    x->m.b->write32(x->m.s, R_TDBAL, (uint32_t)x->rbus);
    x->m.b->write32(x->m.s, R_TDBAH, (uint32_t)(x->rbus >> 32));
    x->m.b->write32(x->m.s, R_TDLEN, RING_N * 16);
    x->m.b->write32(x->m.s, R_TDH, 0);
    x->m.b->write32(x->m.s, R_TDT, 0);
    x->m.b->write32(x->m.s, R_TCTL, 0x2 | 0x8); /* EN, PSP */
}

static void bare_down(struct bare *x)
{
    x->m.b->dma_free(x->m.s, x->buf, BUF_SIZE);
    x->m.b->dma_free(x->m.s, x->ring, RING_N * 16);
    e1000_bare_down(&x->m);
}

static uint8_t *next_desc(struct bare *x)
{
    uint8_t *d = x->ring + 16 * x->tdt;
    memset(d, 0, 16);
    x->tdt = (x->tdt + 1) % RING_N;
    return d;
}

static void st32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void st64le(uint8_t *p, uint64_t v)
{
    st32le(p, (uint32_t)v);
    st32le(p + 4, (uint32_t)(v >> 32));
}

/* Table 3-13: IPCSS IPCSO IPCSE TUCSS TUCSO TUCSE; PAYLEN 0..19, DTYP 0,
 * TUCMD; STA; HDRLEN; MSS. */
static void ctx_desc(struct bare *x, uint32_t paylen, uint8_t hdrlen, uint16_t mss, uint8_t tucmd)
{
    uint8_t *d = next_desc(x);
    d[0] = 14;             /* IPCSS */
    d[1] = 24;             /* IPCSO */
    d[2] = 33;             /* IPCSE: the byte before TCP */
    d[4] = 34;             /* TUCSS */
    d[5] = 50;             /* TUCSO */
    st32le(d + 8, (paylen & 0xfffff) | 0u << 20 | (uint32_t)(tucmd | 0x20) << 24);
    d[13] = hdrlen;
    d[14] = (uint8_t)mss;
    d[15] = (uint8_t)(mss >> 8);
}

/* A data descriptor (DTYP 1, DEXT) of len bytes at buffer offset off. */
static void data_desc(struct bare *x, uint32_t off, uint32_t len, uint8_t dcmd, uint8_t popts)
{
    uint8_t *d = next_desc(x);
    st64le(d, x->bbus + off);
    st32le(d + 8, (len & 0xfffff) | 1u << 20 | (uint32_t)(dcmd | 0x20) << 24);
    d[13] = popts;
}

static void kick(struct bare *x)
{
    x->m.b->write32(x->m.s, R_TDT, x->tdt);
}

static unsigned take_all(void *dev, uint8_t (*out)[2048], size_t *len, unsigned max)
{
    unsigned n = 0;
    while (n < max && (len[n] = e1000_model_take_tx(dev, out[n], 2048)) != 0)
        n++;
    return n;
}

#define TSE 0x04
#define EOP 0x01
#define IFCS 0x02
#define RS 0x08
#define TUCMD_TSO (0x04 | 0x02 | 0x01) /* TSE IP TCP */
#define POPTS_BOTH 0x03               /* IXSM TXSM */

static uint8_t frames[64][2048];
static size_t flen[64];

/* The packet in the DMA buffer: header at 0, payload behind it. */
static void load_packet(struct bare *x)
{
    fill_payload();
    mkhdr(x->buf, 20 + 32 + PAYLEN, false);
    memcpy(x->buf + HLEN, payload, PAYLEN);
}

Test(e1000_tso, model_cuts_a_packet_as_the_manual_says)
{
    struct bare x;
    bare_up(&x);
    load_packet(&x);
    uint8_t hdr[HLEN];
    memcpy(hdr, x.buf, HLEN);
    /* header alone, then the payload over three descriptors */
    ctx_desc(&x, PAYLEN, HLEN, MSS, TUCMD_TSO);
    data_desc(&x, 0, HLEN, TSE | IFCS, POPTS_BOTH);
    data_desc(&x, HLEN, 2000, TSE | IFCS, POPTS_BOTH);
    data_desc(&x, HLEN + 2000, 1000, TSE | IFCS, POPTS_BOTH);
    data_desc(&x, HLEN + 3000, PAYLEN - 3000, TSE | IFCS | EOP | RS, POPTS_BOTH);
    kick(&x);
    unsigned nf = take_all(x.m.s, frames, flen, 64);
    check_frames(frames, flen, nf, hdr, payload, PAYLEN, MSS);
    cr_assert_eq(nf, 4);
    cr_assert_eq(lt_stat(x.m.dev, "tx_tso_packets"), 1);
    cr_assert_eq(lt_stat(x.m.dev, "tx_tso_frames"), 4);
    cr_assert_eq(lt_stat(x.m.dev, "tx_tso_bad"), 0);
    cr_assert_eq(lt_stat(x.m.dev, "tx_frames"), 4);
    cr_assert(x.ring[16 * 4 + 12] & 1, "DD written back on the RS descriptor");
    bare_down(&x);
}

/* One plain frame after a bad request: it must go out whole and untouched. */
static void plain_frame_goes_out(struct bare *x, unsigned round)
{
    static uint8_t f[300];
    for (unsigned i = 0; i < sizeof(f); i++)
        f[i] = (uint8_t)(i + round);
    memcpy(x->buf + 60000, f, sizeof(f));
    data_desc(x, 60000, sizeof(f), IFCS | EOP | RS, 0);
    kick(x);
    cr_assert_eq(take_all(x->m.s, frames, flen, 64), 1, "round %u", round);
    cr_assert_eq(flen[0], sizeof(f));
    cr_assert_arr_eq(frames[0], f, sizeof(f), "round %u: the frame untouched", round);
}

Test(e1000_tso, model_drops_bad_requests_and_goes_on)
{
    struct bare x;
    bare_up(&x);
    load_packet(&x);
    struct {
        uint32_t paylen;
        uint8_t hdrlen;
        uint16_t mss;
        uint8_t tucmd;
        const char *what;
    } bad[] = {
        {PAYLEN, HLEN, 0, TUCMD_TSO, "MSS 0"},
        {PAYLEN, 0, MSS, TUCMD_TSO, "HDRLEN 0"},
        {0, 250, MSS, TUCMD_TSO, "HDRLEN beyond the header buffer and the data"},
        {PAYLEN - 1, HLEN, MSS, TUCMD_TSO, "PAYLEN short of the data"},
        {PAYLEN + 1, HLEN, MSS, TUCMD_TSO, "PAYLEN beyond the data"},
        {PAYLEN, HLEN, 16384, TUCMD_TSO, "HDRLEN + MSS over a jumbo frame"},
        {PAYLEN, HLEN, MSS, 0x04 | 0x01, "IPv6 (not modelled)"},
        {PAYLEN + HLEN - 40, 40, MSS, TUCMD_TSO, "TCP header beyond HDRLEN"},
    };
    unsigned nbad = sizeof(bad) / sizeof(bad[0]);
    for (unsigned i = 0; i < nbad; i++) {
        ctx_desc(&x, bad[i].paylen, bad[i].hdrlen, bad[i].mss, bad[i].tucmd);
        data_desc(&x, 0, HLEN, TSE | IFCS, POPTS_BOTH);
        data_desc(&x, HLEN, PAYLEN, TSE | IFCS | EOP | RS, POPTS_BOTH);
        kick(&x);
        cr_assert_eq(lt_stat(x.m.dev, "tx_tso_bad"), i + 1, "%s: counted", bad[i].what);
        cr_assert_eq(e1000_model_take_tx(x.m.s, frames[0], 2048), 0, "%s: dropped", bad[i].what);
        plain_frame_goes_out(&x, i);
    }
    /* HDRLEN beyond the data gathered */
    ctx_desc(&x, 0, HLEN, MSS, TUCMD_TSO);
    data_desc(&x, 0, 50, TSE | IFCS | EOP | RS, POPTS_BOTH);
    kick(&x);
    cr_assert_eq(lt_stat(x.m.dev, "tx_tso_bad"), ++nbad);
    plain_frame_goes_out(&x, 98);
    /* TSE on the data without a TSE context */
    ctx_desc(&x, 0, 0, 0, 0x02);
    data_desc(&x, 0, HLEN + 100, TSE | IFCS | EOP | RS, POPTS_BOTH);
    kick(&x);
    cr_assert_eq(lt_stat(x.m.dev, "tx_tso_bad"), nbad + 1);
    plain_frame_goes_out(&x, 99);
    cr_assert_eq(lt_stat(x.m.dev, "tx_tso_packets"), 0);
    cr_assert_eq(lt_stat(x.m.dev, "tx_tso_frames"), 0);
    bare_down(&x);
}

/* ----- nic_dma on the model -------------------------------------------------- */

struct fx {
    struct lt_inst *os, *skb, *dev, *nic;
    const struct lyra_netdev_ops *nd;
    const struct lyra_skb_ops *so;
};

static void fx_up(struct fx *f, const char *const *nic_p)
{
    memset(f, 0, sizeof(*f));
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=128", NULL});
    f->dev = lt_create(&lyra_component_e1000_model, NULL);
    f->nic = lt_create(&lyra_component_nic_dma, nic_p);
    cr_assert(f->os && f->skb && f->dev && f->nic);
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_bind(f->dev, "os", f->os), 0);
    cr_assert_eq(lt_bind(f->nic, "bus", f->dev), 0);
    cr_assert_eq(lt_bind(f->nic, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->nic, "os", f->os), 0);
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    cr_assert_eq(lt_start(f->dev), 0);
    cr_assert_eq(lt_start(f->nic), 0);
    f->nd = lt_ops(f->nic, "netdev");
    f->so = lt_ops(f->skb, "skb");
    cr_assert_geq(f->nd->hdr.minor, 2, "netdev 1.2");
}

static void fx_down(struct fx *f)
{
    for (int i = 0; i < 4; i++) {
        lt_poll(f->dev, 64);
        lt_poll(f->nic, 64);
    }
    lt_stop(f->nic);
    cr_assert_eq(lt_stat(f->skb, "in_use"), 0, "skbs leaked");
    cr_assert_eq(lt_stat(f->dev, "dma_maps_live"), 0, "DMA mappings left");
    lt_stop(f->dev);
    lt_stop(f->skb);
    cr_assert_eq(fake_os_mem_in_use(f->os->self), 0);
    lt_destroy(f->nic);
    lt_destroy(f->dev);
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

static uint16_t tso_segs(struct fx *f)
{
    struct lyra_netdev_caps c;
    memset(&c, 0, sizeof(c));
    cr_assert_eq(f->nd->caps(f->nic->self, &c), 0);
    return c.tso_segs;
}

/* As tcp, ip and eth build a TSO frame: the headers pushed into the linear
 * part (csum_start at the TCP header, counted from head), the payload in
 * caller-owned segments of `chunk` bytes. */
static struct lyra_skb *mk_tso_skb(struct fx *f, struct lyra_skb_seg *g, unsigned *ng,
                                   const uint8_t *pay, uint32_t paylen, uint32_t chunk,
                                   uint16_t gso)
{
    uint8_t hdr[HLEN];
    mkhdr(hdr, 20 + 32 + paylen, true); /* ip's checksum, over the whole length */
    struct lyra_skb *s = f->so->alloc(f->skb->self, HLEN + 16, 0);
    cr_assert_not_null(s);
    memcpy(lyra_skb_push(s, 32), hdr + 34, 32);
    s->csum_start = (uint16_t)lyra_skb_headroom(s);
    s->csum_off = 16;
    s->flags |= LYRA_SKB_F_CSUM_TX;
    memcpy(lyra_skb_push(s, 20), hdr + 14, 20);
    memcpy(lyra_skb_push(s, 14), hdr, 14);
    *ng = 0;
    for (uint32_t off = 0; off < paylen; off += chunk) {
        g[*ng] = (struct lyra_skb_seg){.ptr = pay + off,
                                       .len = paylen - off < chunk ? paylen - off : chunk};
        lyra_skb_seg_append(s, &g[(*ng)++]);
    }
    s->gso_size = gso;
    return s;
}

Test(e1000_tso, driver_sends_a_gso_skb_as_segments)
{
    struct fx f;
    fx_up(&f, NULL);
    uint16_t segs = tso_segs(&f);
    cr_assert_gt(segs, 0, "TSO on by default");
    fill_payload();
    struct lyra_skb_seg g[64];
    unsigned ng;
    /* payload in MSS-sized pieces, as tcp's queued segments; offset 100 so
     * some cross a page and the driver splits them */
    static _Alignas(4096) uint8_t pay[PAYLEN + 4096];
    memcpy(pay + 100, payload, PAYLEN);
    struct lyra_skb *s = mk_tso_skb(&f, g, &ng, pay + 100, PAYLEN, MSS, MSS);
    cr_assert_leq(ng, segs);
    uint8_t hdr[HLEN];
    memcpy(hdr, s->data, HLEN);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    unsigned nf = take_all(f.dev->self, frames, flen, 64);
    check_frames(frames, flen, nf, hdr, payload, PAYLEN, MSS);
    cr_assert_eq(lt_stat(f.nic, "tx_tso_frames"), 1);
    cr_assert_eq(lt_stat(f.nic, "tx_tso_segments"), 4);
    cr_assert_eq(lt_stat(f.dev, "tx_tso_frames"), 4);
    cr_assert_eq(lt_stat(f.dev, "tx_tso_bad"), 0);

    /* a gso_size that does not divide, payload in odd chunks */
    const uint32_t mss2 = 1000, pl2 = 5 * 1000 + 1;
    s = mk_tso_skb(&f, g, &ng, payload, pl2, 777, (uint16_t)mss2);
    memcpy(hdr, s->data, HLEN);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    nf = take_all(f.dev->self, frames, flen, 64);
    check_frames(frames, flen, nf, hdr, payload, pl2, mss2);
    cr_assert_eq(lt_stat(f.nic, "tx_tso_segments"), 4 + 6);
    fx_down(&f);
}

/* The largest frame caps allows: tso_segs segments, 64 KiB in all, with
 * page_contig splitting them; it must be accepted as it is. */
Test(e1000_tso, driver_takes_what_caps_promises)
{
    struct fx f;
    fx_up(&f, NULL);
    uint16_t segs = tso_segs(&f);
    cr_assert_gt(segs, 0);
    uint32_t paylen = LYRA_TSO_MAX - 20 - 32;
    static uint8_t big[LYRA_TSO_MAX + 8192];
    for (uint32_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 13 + 5);
    struct lyra_skb_seg g[64];
    unsigned ng;
    /* segs segments, each starting mid-page: as many splits as can be */
    uint32_t chunk = (paylen + segs - 1) / segs;
    struct lyra_skb *s = mk_tso_skb(&f, g, &ng, big + 4000, paylen, chunk, MSS);
    cr_assert_leq(ng, segs);
    uint8_t hdr[HLEN];
    memcpy(hdr, s->data, HLEN);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(lt_stat(f.nic, "tx_bounced"), 0, "gathered, not copied");
    static uint8_t many[64][2048];
    static size_t mlen[64];
    unsigned nf = take_all(f.dev->self, many, mlen, 64);
    check_frames(many, mlen, nf, hdr, big + 4000, paylen, MSS);
    fx_down(&f);
}

Test(e1000_tso, tso_off_or_csum_off_means_no_tso)
{
    struct fx f;
    fx_up(&f, (const char *const[]){"tso=off", NULL});
    cr_assert_eq(tso_segs(&f), 0);
    fill_payload();
    struct lyra_skb_seg g[8];
    unsigned ng;
    struct lyra_skb *s = mk_tso_skb(&f, g, &ng, payload, PAYLEN, MSS, MSS);
    uint8_t before[HLEN];
    memcpy(before, s->data, HLEN);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EOPNOTSUPP);
    cr_assert_eq(lt_stat(f.nic, "tx_tso_refused"), 1);
    cr_assert_eq(lt_stat(f.nic, "tx_errors"), 1);
    cr_assert_arr_eq(s->data, before, HLEN, "the caller keeps the skb as it was");
    lyra_skb_free(s);
    cr_assert_eq(e1000_model_take_tx(f.dev->self, frames[0], 2048), 0);
    fx_down(&f);

    fx_up(&f, (const char *const[]){"csum_tx=off", NULL});
    cr_assert_eq(tso_segs(&f), 0, "TSO needs the card's checksums");
    s = mk_tso_skb(&f, g, &ng, payload, PAYLEN, MSS, MSS);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EOPNOTSUPP);
    lyra_skb_free(s);
    fx_down(&f);

    fx_up(&f, (const char *const[]){"page_contig=off", NULL});
    cr_assert_gt(tso_segs(&f), 0);
    fx_down(&f);
}

Test(e1000_tso, driver_refuses_what_the_card_cannot_cut)
{
    struct fx f;
    fx_up(&f, NULL);
    fill_payload();
    struct lyra_skb_seg g[8];
    unsigned ng;
    uint64_t refused = 0;
    for (int k = 0; k < 6; k++) {
        struct lyra_skb *s = mk_tso_skb(&f, g, &ng, payload, PAYLEN, MSS, MSS);
        switch (k) {
        case 0: s->flags &= (uint16_t)~LYRA_SKB_F_CSUM_TX; break;
        case 1: s->data[23] = 17; break;                  /* UDP */
        case 2: s->data[12] = 0x86, s->data[13] = 0xdd; break; /* not IPv4 */
        case 3: s->gso_size = 1514 - HLEN + 1; break;     /* headers + gso_size > 1514 */
        case 4: s->csum_off = 6; break;                   /* not the TCP checksum */
        case 5: s->data[14 + 20 + 12] = 5 << 4; break;    /* linear part beyond the TCP header */
        }
        cr_assert_eq(f.nd->xmit(f.nic->self, s), -EINVAL, "case %d", k);
        cr_assert_eq(lt_stat(f.nic, "tx_tso_refused"), ++refused);
        lyra_skb_free(s);
    }
    cr_assert_eq(e1000_model_take_tx(f.dev->self, frames[0], 2048), 0);
    fx_down(&f);
}

/* A UDP datagram (Ethernet + IPv4 + UDP, payload linear) whose checksum the
 * card inserts: the UDP field holds the pseudo-header sum. */
static uint32_t mkudp(uint8_t *b, uint32_t payload_len)
{
    uint32_t ulen = 8 + payload_len, tot = 20 + ulen;
    memset(b, 0, 14 + tot);
    memcpy(b, mac_b, 6);
    memcpy(b + 6, mac_a, 6);
    b[12] = 0x08;
    uint8_t *ip = b + 14;
    ip[0] = 0x45, ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot, ip[8] = 64, ip[9] = 17;
    memcpy(ip + 12, ip_a, 4);
    memcpy(ip + 16, ip_b, 4);
    uint16_t ic = (uint16_t)~fold16(sum_be(ip, 20, 0));
    ip[10] = (uint8_t)(ic >> 8), ip[11] = (uint8_t)ic;
    uint8_t *u = ip + 20;
    u[0] = 0x30, u[1] = 0x39, u[3] = 7, u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen;
    for (uint32_t i = 0; i < payload_len; i++)
        u[8 + i] = (uint8_t)(i * 7 + 1);
    uint16_t ph = fold16(sum_be(ip + 12, 8, 0) + 17 + ulen);
    u[6] = (uint8_t)(ph >> 8), u[7] = (uint8_t)ph;
    return 14 + tot;
}

static bool udp_ok(const uint8_t *b)
{
    const uint8_t *ip = b + 14;
    uint32_t ulen = be16(ip + 24);
    return fold16(sum_be(ip + 20, ulen, sum_be(ip + 12, 8, 0) + 17 + ulen)) == 0xffff;
}

static void send_udp(struct fx *f)
{
    uint8_t b[400];
    uint32_t len = mkudp(b, 200);
    struct lyra_skb *s = f->so->alloc(f->skb->self, 0, len);
    memcpy(lyra_skb_put(s, len), b, len);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 34);
    s->csum_off = 6;
    cr_assert_eq(f->nd->xmit(f->nic->self, s), 0);
    cr_assert_eq(e1000_model_take_tx(f->dev->self, frames[0], 2048), len);
    cr_assert(udp_ok(frames[0]), "the card inserted the UDP checksum at offset 40");
}

/* The driver skips context descriptors while the card holds the offsets a
 * checksum frame needs; a TSO context replaces them (one context in the
 * card), so the next checksum frame must load its own again. */
Test(e1000_tso, checksum_frame_after_tso_gets_its_context_back)
{
    struct fx f;
    fx_up(&f, NULL);
    fill_payload();
    send_udp(&f);
    send_udp(&f);
    cr_assert_eq(lt_stat(f.nic, "tx_ctx_desc"), 1, "the context cached");
    struct lyra_skb_seg g[8];
    unsigned ng;
    struct lyra_skb *s = mk_tso_skb(&f, g, &ng, payload, PAYLEN, MSS, MSS);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(take_all(f.dev->self, frames, flen, 64), 4);
    cr_assert_eq(lt_stat(f.nic, "tx_ctx_desc"), 2);
    send_udp(&f);
    cr_assert_eq(lt_stat(f.nic, "tx_ctx_desc"), 3, "a context again after TSO");
    /* and a second TSO frame writes its own (its PAYLEN) */
    s = mk_tso_skb(&f, g, &ng, payload, PAYLEN, MSS, MSS);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(take_all(f.dev->self, frames, flen, 64), 4);
    s = mk_tso_skb(&f, g, &ng, payload, PAYLEN, MSS, MSS);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(take_all(f.dev->self, frames, flen, 64), 4);
    cr_assert_eq(lt_stat(f.nic, "tx_ctx_desc"), 5);
    cr_assert_eq(lt_stat(f.dev, "tx_tso_bad"), 0);
    fx_down(&f);
}
