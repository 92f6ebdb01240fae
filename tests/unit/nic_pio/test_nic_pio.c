/* nic_pio (NE2000 driver) wired to ne2k_model, skb_copy and fake_os, with
 * a tiny netdev user whose events are below. A scripted fake bus checks
 * the reset/initialisation order and the bounded waits. Every test that
 * uses the model ends with a leak check: every skb back in the pool.
 *
 * The key scenarios run against both behaviours of the model (quirks=qemu:
 * count without CRC, unicast filter on the PROM, transmit ends at once;
 * quirks=datasheet: count with the CRC stored in the ring, filter on PAR,
 * transmit ends at the next poll): FOR_EACH_QUIRKS loops over them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake_os.h"
#include "lt.h"
#include "lyra/bus.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"
#include "lyra/skb_csum.h"
#include "ne2k_model.h"
#include "ne2k_regs.h"

extern const struct lyra_component lyra_component_nic_pio;
extern const struct lyra_component lyra_component_skb_copy;

#define SKB_COUNT 64
static const uint8_t prom_mac[6] = {0x02, 0, 0, 0, 0, 0x10}; /* ne2k_model's default */
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ----- the netdev user ----------------------------------------------------- */

struct tuser {
    unsigned rx_n;
    uint8_t last[2048];
    uint32_t last_len;
    uint16_t last_flags;
    unsigned tx_ready;
    uint32_t seq[64]; /* first 4 payload bytes of the frames received, in order */
    unsigned summed, sum_wrong; /* frames with the read's kept sum; wrong ones */
};

/* RFC 1071 over a flat buffer, as written. */
static uint16_t ref_sum(const uint8_t *b, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += (uint32_t)b[i] << ((i & 1) ? 0 : 8);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* The sum the read kept (bus insw_csum, issue 11.4) is the frame's, and
 * lyra_skb_csum gives a transport's range from it right: headers pulled
 * in front (an odd number of bytes too), bytes cut off behind. */
static void check_kept_sum(struct tuser *u, struct lyra_skb *skb)
{
    if (!skb->lin_csum_len)
        return;
    u->summed++;
    const uint8_t *f = skb->data;
    uint32_t len = skb->len;
    /* over what was read: the frame, and a CRC behind it that was trimmed */
    if (skb->lin_csum_at != (uint32_t)(skb->data - skb->head) || skb->lin_csum_len < len ||
        skb->lin_csum_len > len + 4 || skb->lin_csum != ref_sum(f, skb->lin_csum_len)) {
        u->sum_wrong++;
        return;
    }
    uint32_t front = 14 + len % 7, back = len % 5;
    lyra_skb_pull(skb, front);
    lyra_skb_trim(skb, len - front - back);
    if (lyra_skb_csum(skb, 0, skb->len, 0) != ref_sum(f + front, len - front - back) ||
        lyra_skb_csum(skb, 3, skb->len - 3, 0) != ref_sum(f + front + 3, len - front - back - 3))
        u->sum_wrong++;
    skb->data -= front; /* as it came, for the checks of the frame */
    skb->len = len;
}

static void tu_rx(void *user, struct lyra_skb *skb)
{
    struct tuser *u = user;
    check_kept_sum(u, skb);
    u->last_len = lyra_skb_flatten(skb, u->last, sizeof(u->last));
    u->last_flags = skb->flags;
    if (u->rx_n < 64 && u->last_len >= 18)
        memcpy(&u->seq[u->rx_n], u->last + 14, 4);
    u->rx_n++;
    lyra_skb_free(skb);
}

static void tu_tx_ready(void *user)
{
    ((struct tuser *)user)->tx_ready++;
}

static const struct lyra_netdev_events tu_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = tu_rx,
    .tx_ready = tu_tx_ready,
};

/* ----- fixture -------------------------------------------------------------- */

struct fx {
    struct lt_inst *os, *skb, *dev, *nic;
    const struct lyra_netdev_ops *nd;
    const struct lyra_skb_ops *so;
    struct tuser u;
};

/* The model's behaviours; index q in the tests. */
static const char *const quirks[] = {"quirks=qemu", "quirks=datasheet"};
#define NQUIRKS 2
#define Q_QEMU 0
#define Q_DATASHEET 1
#define FOR_EACH_QUIRKS(q) for (unsigned q = 0; q < NQUIRKS; q++)

/* p followed by quirks[q], in buf (16 entries). */
static const char *const *with_quirks(const char **buf, const char *const *p, unsigned q)
{
    unsigned n = 0;
    while (p && p[n] && n < 14) {
        buf[n] = p[n];
        n++;
    }
    buf[n++] = quirks[q];
    buf[n] = NULL;
    return buf;
}

static void fx_make(struct fx *f, const char *const *nic_p, const char *const *dev_p);

/* The fixture with the model in behaviour q (dev_p plus quirks[q]). */
static void fx_makeq(struct fx *f, const char *const *nic_p, const char *const *dev_p,
                     unsigned q)
{
    const char *buf[16];
    fx_make(f, nic_p, with_quirks(buf, dev_p, q));
}

/* The bus the driver binds to: NULL, the model's; else this table over the
 * model (a bus without an op the model has). */
static const struct lyra_bus_ops *fx_bus;
/* The netdev user: NULL, the fixture's (tu_ev, f->u); else these. */
static const struct lyra_netdev_events *fx_ev;
static void *fx_user;

static void fx_make(struct fx *f, const char *const *nic_p, const char *const *dev_p)
{
    memset(f, 0, sizeof(*f));
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=64", NULL});
    f->dev = lt_create(&lyra_component_ne2k_model, dev_p);
    f->nic = lt_create(&lyra_component_nic_pio, nic_p);
    cr_assert(f->os && f->skb && f->dev && f->nic);
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_bind(f->dev, "os", f->os), 0);
    if (fx_bus)
        cr_assert_eq(lyra_component_nic_pio.slots[0].bind(f->nic->self, 0, fx_bus, f->dev->self), 0);
    else
        cr_assert_eq(lt_bind(f->nic, "bus", f->dev), 0);
    cr_assert_eq(lt_bind(f->nic, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->nic, "os", f->os), 0);
    cr_assert_eq(lyra_component_nic_pio.provides[0].attach(f->nic->self, fx_ev ? fx_ev : &tu_ev,
                                                           fx_ev ? fx_user : &f->u),
                 0);
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    cr_assert_eq(lt_start(f->dev), 0);
    cr_assert_eq(lt_start(f->nic), 0);
    f->nd = lt_ops(f->nic, "netdev");
    f->so = lt_ops(f->skb, "skb");
    cr_assert_eq(f->nd->open(f->nic->self), 0);
}

static void fx_done(struct fx *f)
{
    cr_assert_eq(f->so->avail(f->skb->self), SKB_COUNT, "skbs leaked: %u free of %u",
                 f->so->avail(f->skb->self), SKB_COUNT);
    lt_destroy(f->nic);
    lt_destroy(f->dev);
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

static void frame_make(uint8_t *f, uint32_t len, const uint8_t dst[6], uint32_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, (const uint8_t[]){0x02, 0x01, 0, 0, 0, 0x01}, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (uint32_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
    if (len >= 18)
        memcpy(f + 14, &seed, 4);
}

static uint64_t dev_stat(struct fx *f, const char *n)
{
    return lt_stat(f->dev, n);
}

static uint64_t nic_stat(struct fx *f, const char *n)
{
    return lt_stat(f->nic, n);
}

/* ----- MAC ------------------------------------------------------------------ */

Test(nic_pio, mac_from_prom)
{
    FOR_EACH_QUIRKS(q)
    {
        struct fx f;
        fx_makeq(&f, NULL, NULL, q);
        struct lyra_netdev_caps c;
        cr_assert_eq(f.nd->caps(f.nic->self, &c), 0);
        cr_assert_arr_eq(c.mac, prom_mac, 6, "%s", quirks[q]);
        cr_assert_eq(c.mtu, 1500);
        cr_assert_geq(c.max_segs, 1);
        /* the card takes frames to it, whichever of PROM and PAR it filters on */
        uint8_t fr[100];
        frame_make(fr, 100, prom_mac, 1);
        cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 100), 0, "%s", quirks[q]);
        lt_poll(f.nic, 16);
        cr_assert_eq(f.u.rx_n, 1);
        cr_assert(f.u.last_flags & LYRA_SKB_F_HOST);
        fx_done(&f);

        fx_makeq(&f, NULL, (const char *const[]){"mac=02:aa:00:00:00:07", NULL}, q);
        cr_assert_eq(f.nd->caps(f.nic->self, &c), 0);
        cr_assert_arr_eq(c.mac, ((const uint8_t[]){0x02, 0xaa, 0, 0, 0, 7}), 6);
        fx_done(&f);
    }
}

/* The model filters unicast on the PROM (qemu) or on PAR0-5 (datasheet). */
Test(nic_pio, model_unicast_filter_prom_or_par)
{
    FOR_EACH_QUIRKS(q)
    {
        struct fx f;
        fx_makeq(&f, NULL, NULL, q);
        const struct lyra_bus_ops *b = lt_ops(f.dev, "bus");
        /* PAR0 changed behind the driver's back */
        b->outb(f.dev->self, NE_CR, CR_PS0 | CR_RD2 | CR_STA);
        b->outb(f.dev->self, NE_PAR0 + 5, 0x77);
        b->outb(f.dev->self, NE_CR, CR_RD2 | CR_STA);
        uint8_t fr[100];
        frame_make(fr, 100, prom_mac, 1);
        cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 100), q == Q_QEMU ? 0 : -ENOENT,
                     "%s", quirks[q]);
        lt_poll(f.nic, 16);
        cr_assert_eq(f.u.rx_n, q == Q_QEMU ? 1u : 0u);
        fx_done(&f);
    }
}

/* An address other than the PROM's: the driver cannot tell whether the
 * card filters on PAR (datasheet) or the PROM (QEMU), so it takes every
 * unicast frame (RCR.PRO) and filters itself; only frames to it go up. */
Test(nic_pio, mac_param_overrides_prom_and_filters)
{
    FOR_EACH_QUIRKS(q)
    {
        struct fx f;
        const uint8_t mine[6] = {0x02, 0xbb, 0, 0, 0, 9};
        fx_makeq(&f, (const char *const[]){"mac=02:bb:00:00:00:09", NULL}, NULL, q);
        struct lyra_netdev_caps c;
        f.nd->caps(f.nic->self, &c);
        cr_assert_arr_eq(c.mac, mine, 6);
        uint8_t fr[100], want[100];
        frame_make(fr, 100, mine, 1);
        memcpy(want, fr, 100);
        cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 100), 0, "%s", quirks[q]);
        frame_make(fr, 100, prom_mac, 2); /* the PROM's address is not ours */
        ne2k_model_inject(f.dev->self, fr, 100);
        frame_make(fr, 100, (const uint8_t[]){0x02, 0x09, 0, 0, 0, 9}, 3);
        ne2k_model_inject(f.dev->self, fr, 100);
        frame_make(fr, 100, bcast, 4);
        cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 100), 0);
        lt_poll(f.nic, 16);
        cr_assert_eq(f.u.rx_n, 2, "%s: %u frames up", quirks[q], f.u.rx_n);
        cr_assert_eq(f.u.seq[0], 1);
        cr_assert_eq(f.u.seq[1], 4);
        cr_assert_eq(nic_stat(&f, "rx_filtered"), 2);
        fx_done(&f);
        /* ...and the first one, byte for byte, with the host flag */
        fx_makeq(&f, (const char *const[]){"mac=02:bb:00:00:00:09", NULL}, NULL, q);
        cr_assert_eq(ne2k_model_inject(f.dev->self, want, 100), 0);
        lt_poll(f.nic, 16);
        cr_assert_eq(f.u.rx_n, 1);
        cr_assert_eq(f.u.last_len, 100);
        cr_assert_arr_eq(f.u.last, want, 100, "%s", quirks[q]);
        cr_assert(f.u.last_flags & LYRA_SKB_F_HOST);
        fx_done(&f);
    }
}

/* ----- transmit ------------------------------------------------------------- */

/* An skb of len bytes: min(len, 14) linear, the rest in up to 3 segments
 * of odd and even lengths (pointing into src). */
static struct lyra_skb *skb_gather(struct fx *f, const uint8_t *src, uint32_t len, unsigned v)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, 64, 64);
    cr_assert(s);
    uint32_t lin = len < 14 ? len : 14;
    memcpy(lyra_skb_put(s, lin), src, lin);
    uint32_t off = lin, left = len - lin;
    unsigned k = 0;
    while (left && k < 3) {
        uint32_t n = k == 2 ? left : (left / 3 + v + k) | 1;
        if (n > left)
            n = left;
        cr_assert_not_null(lt_skb_add_seg(s, src + off, n, 0));
        off += n;
        left -= n;
        k++;
    }
    return s;
}

static void tx_every_length(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, q);
    static uint8_t src[1514], out[1600];
    for (uint32_t len = 14; len <= 1514; len++) {
        frame_make(src, len, bcast, len);
        struct lyra_skb *s = skb_gather(&f, src, len, len % 5);
        cr_assert_eq(f.nd->xmit(f.nic->self, s), 0, "%s: len %u", quirks[q], len);
        if (q == Q_DATASHEET) /* nothing is out before the card's next step */
            cr_assert_eq(ne2k_model_take_tx(f.dev->self, out, sizeof(out)), 0);
        lt_poll(f.dev, 8);
        size_t got = ne2k_model_take_tx(f.dev->self, out, sizeof(out));
        uint32_t want = len < 60 ? 60 : len;
        cr_assert_eq(got, want, "%s: len %u: sent %zu", quirks[q], len, got);
        cr_assert_arr_eq(out, src, len, "%s: len %u: content", quirks[q], len);
        for (uint32_t i = len; i < want; i++)
            cr_assert_eq(out[i], 0, "len %u: pad byte %u", len, i);
        lt_poll(f.nic, 8);
    }
    cr_assert_eq(nic_stat(&f, "tx_frames"), 1501, "%s", quirks[q]);
    cr_assert_eq(nic_stat(&f, "tx_errors"), 0);
    cr_assert_eq(dev_stat(&f, "tx_runt"), 0);
    cr_assert_eq(dev_stat(&f, "tx_overlap"), 0);
    cr_assert_eq(dev_stat(&f, "rdma_misuse"), 0);
    fx_done(&f);
}

Test(nic_pio, tx_every_length_gathered_and_padded)
{
    FOR_EACH_QUIRKS(q)
    tx_every_length(q);
}

Test(nic_pio, tx_too_big_refused)
{
    struct fx f;
    fx_make(&f, NULL, NULL);
    static uint8_t src[1515];
    struct lyra_skb *s = skb_gather(&f, src, 1515, 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EMSGSIZE);
    lyra_skb_free(s);
    cr_assert_eq(nic_stat(&f, "tx_too_big"), 1);
    fx_done(&f);
}

/* tx_defer=on: with either quirks the transmission ends at the next poll. */
/* ----- checksum insertion (csum_tx) ------------------------------------------ */

/* A TCP/IPv4 frame of 14 + 20 + hl + plen bytes (UDP: hl 8) between two
 * 192.0.2.0/24 hosts, its L4 checksum field holding the pseudo-header
 * seed (skb.h LYRA_SKB_F_CSUM_TX); *cso: the field's frame offset. */
static uint32_t l4_frame(uint8_t *f, int udp, uint32_t hl, uint32_t plen, uint32_t seed,
                         uint32_t *cso)
{
    uint32_t l4 = hl + plen;
    frame_make(f, 14 + 20 + l4, bcast, seed);
    uint8_t *ip = f + 14, *t = ip + 20;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + l4) >> 8);
    ip[3] = (uint8_t)(20 + l4);
    ip[8] = 64;
    ip[9] = udp ? 17 : 6;
    memcpy(ip + 12, (const uint8_t[]){192, 0, 2, 1, 192, 0, 2, 2}, 8);
    uint16_t c = (uint16_t)~ref_sum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    *cso = 14 + 20 + (udp ? 6u : 16u);
    if (udp) {
        t[4] = (uint8_t)(l4 >> 8);
        t[5] = (uint8_t)l4;
    } else {
        t[12] = (uint8_t)((hl / 4) << 4);
    }
    /* the seed: the pseudo-header's sum, not complemented */
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = ip[9];
    ph[10] = (uint8_t)(l4 >> 8);
    ph[11] = (uint8_t)l4;
    uint16_t sd = ref_sum(ph, 12);
    f[*cso] = (uint8_t)(sd >> 8);
    f[*cso + 1] = (uint8_t)sd;
    return 14 + 20 + l4;
}

/* Whether the L4 checksum of frame f (as l4_frame built it) is right: the
 * pseudo-header and the segment sum to 0xffff. */
static int l4_csum_ok(const uint8_t *f, uint32_t len)
{
    const uint8_t *ip = f + 14;
    uint32_t l4 = len - 34;
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = ip[9];
    ph[10] = (uint8_t)(l4 >> 8);
    ph[11] = (uint8_t)l4;
    uint32_t s = (uint32_t)ref_sum(ph, 12) + ref_sum(f + 34, l4);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s == 0xffff;
}

/* The frame in an skb: lin bytes linear, the rest in segments of odd and
 * even lengths (v varies them); the checksum asked of the NIC. */
static struct lyra_skb *skb_csum_tx(struct fx *f, const uint8_t *src, uint32_t len,
                                    uint32_t lin, uint32_t cso, unsigned v)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, 64, 128);
    cr_assert(s);
    memcpy(lyra_skb_put(s, lin), src, lin);
    uint32_t off = lin;
    for (unsigned k = 0; off < len; k++) {
        uint32_t n = k == 3 ? len - off : (k * 7 + v) | 1;
        if (n > len - off)
            n = len - off;
        cr_assert_not_null(lt_skb_add_seg(s, src + off, n, 0));
        off += n;
    }
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 34);
    s->csum_off = (uint16_t)(cso - 34);
    return s;
}

/* One frame through xmit: on the wire as src, but for a right checksum. */
static void csum_tx_one(struct fx *f, const uint8_t *src, uint32_t len, uint32_t lin,
                        uint32_t cso, unsigned v, const char *what)
{
    static uint8_t out[1600];
    cr_assert_eq(f->nd->xmit(f->nic->self, skb_csum_tx(f, src, len, lin, cso, v)), 0, "%s", what);
    lt_poll(f->dev, 8);
    size_t got = ne2k_model_take_tx(f->dev->self, out, sizeof(out));
    cr_assert_eq(got, len < 60 ? 60 : len, "%s", what);
    cr_assert(l4_csum_ok(out, len), "%s: checksum %02x%02x", what, out[cso], out[cso + 1]);
    cr_assert_arr_eq(out, src, cso, "%s: before the field", what);
    cr_assert_arr_eq(out + cso + 2, src + cso + 2, len - cso - 2, "%s: after the field", what);
    lt_poll(f->nic, 8);
}

/* The driver inserts the TCP and UDP checksums the stack leaves to it:
 * summed in the payload's write (header written last) where the layout
 * allows, summed apart otherwise (a short frame, an odd linear part), on
 * a bus with outsw_csum (the model's) and on one without it. */
static void csum_tx_on(const struct lyra_bus_ops *bus)
{
    struct fx f;
    fx_bus = bus;
    fx_make(&f, NULL, NULL);
    fx_bus = NULL;
    struct lyra_netdev_caps caps;
    cr_assert_eq(f.nd->caps(f.nic->self, &caps), 0);
    cr_assert_eq(caps.csum_tx, LYRA_CSUM_TCP | LYRA_CSUM_UDP, "offered by default");
    static uint8_t src[1514];
    unsigned n = 0, in_write = 0;
    static const uint32_t plens[] = {0, 1, 7, 26, 100, 1000, 1448};
    for (unsigned i = 0; i < sizeof(plens) / sizeof(plens[0]); i++) {
        for (unsigned v = 0; v < 3; v++) {
            char what[64];
            uint32_t cso, len = l4_frame(src, 0, 32, plens[i], i * 3 + v, &cso);
            snprintf(what, sizeof(what), "tcp payload %u v%u", plens[i], v);
            csum_tx_one(&f, src, len, 66, cso, v, what);
            n++;
            in_write += len >= 60 && len > 66;
            /* an odd linear part (the header and one payload byte): apart */
            if (plens[i]) {
                snprintf(what, sizeof(what), "tcp odd linear %u v%u", plens[i], v);
                csum_tx_one(&f, src, len, 67, cso, v, what);
                n++;
            }
            len = l4_frame(src, 1, 8, plens[i], i * 5 + v, &cso);
            snprintf(what, sizeof(what), "udp payload %u v%u", plens[i], v);
            csum_tx_one(&f, src, len, 42, cso, v, what);
            n++;
            in_write += len >= 60 && len > 42;
        }
    }
    cr_assert_eq(nic_stat(&f, "tx_csum_offload"), n);
    cr_assert_eq(nic_stat(&f, "tx_csum_in_write"), in_write);
    cr_assert_eq(nic_stat(&f, "tx_csum_bad"), 0);
    fx_done(&f);
}

Test(nic_pio, tx_checksum_inserted_with_and_without_outsw_csum)
{
    csum_tx_on(NULL); /* the model's bus: outsw_csum */
    /* the same bus without outsw_csum (a 1.1 provider): summed after each write */
    struct fx f;
    fx_make(&f, NULL, NULL);
    static struct lyra_bus_ops old;
    old = *(const struct lyra_bus_ops *)lt_ops(f.dev, "bus");
    fx_done(&f);
    old.hdr.minor = 1;
    old.outsw_csum = NULL;
    csum_tx_on(&old);
}

/* csum_tx=off offers nothing; a checksum asked for where the driver cannot
 * put it (the field beyond the linear part, or before the frame) is
 * refused, counted, and the skb stays the caller's. */
Test(nic_pio, tx_checksum_off_and_bad_offsets)
{
    struct fx f;
    fx_make(&f, (const char *const[]){"csum_tx=off", NULL}, NULL);
    struct lyra_netdev_caps caps;
    cr_assert_eq(f.nd->caps(f.nic->self, &caps), 0);
    cr_assert_eq(caps.csum_tx, 0);
    fx_done(&f);
    fx_make(&f, NULL, NULL);
    static uint8_t src[1514];
    uint32_t cso, len = l4_frame(src, 0, 32, 500, 9, &cso);
    struct lyra_skb *s = skb_csum_tx(&f, src, len, 40, cso, 0); /* field in a segment */
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EINVAL);
    s->csum_start = 0; /* before the frame's start */
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EINVAL);
    lyra_skb_free(s);
    cr_assert_eq(nic_stat(&f, "tx_csum_bad"), 2);
    cr_assert_eq(nic_stat(&f, "tx_csum_offload"), 0);
    lt_poll(f.dev, 8);
    cr_assert_eq(ne2k_model_take_tx(f.dev->self, src, sizeof(src)), 0, "nothing sent");
    fx_done(&f);
}

/* ----- TCP segmentation (tso) ---------------------------------------------- */

/* A TSO frame's headers (Ethernet, IPv4, TCP of thl bytes: 20, or 32 with
 * timestamps) in h, as tcp and ip hand them down for plen payload bytes:
 * the IPv4 length and checksum for the whole frame, FIN and PSH set, and in
 * the TCP checksum field the pseudo-header sum without the TCP length (skb.h
 * gso_size). Returns the header length. */
static uint32_t tso_headers(uint8_t *h, uint32_t thl, uint32_t plen, uint16_t id, uint32_t seq)
{
    uint32_t hl = 34 + thl;
    frame_make(h, hl, bcast, 3);
    uint8_t *ip = h + 14, *t = ip + 20;
    memset(ip, 0, 20 + thl);
    ip[0] = 0x45;
    uint32_t tot = 20 + thl + plen > 0xffff ? 0xffff : 20 + thl + plen;
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[4] = (uint8_t)(id >> 8);
    ip[5] = (uint8_t)id;
    ip[6] = 0x40; /* DF */
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, (const uint8_t[]){192, 0, 2, 1, 192, 0, 2, 2}, 8);
    uint16_t c = (uint16_t)~ref_sum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    t[0] = 0x13, t[1] = 0x89, t[2] = 0xc3, t[3] = 0x50;
    for (int i = 0; i < 4; i++)
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
    t[8] = 0xab, t[9] = 0xcd, t[10] = 0x00, t[11] = 0x01; /* ack */
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = 0x19; /* FIN PSH ACK */
    t[14] = 0x01, t[15] = 0xf5;
    if (thl == 32) /* NOP NOP timestamps */
        memcpy(t + 20, (const uint8_t[]){1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9}, 12);
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0, ph[9] = 6, ph[10] = 0, ph[11] = 0; /* no length */
    uint16_t sd = ref_sum(ph, 12);
    t[16] = (uint8_t)(sd >> 8);
    t[17] = (uint8_t)sd;
    return hl;
}

/* The TSO frame in an skb: the headers linear, plen payload bytes from src
 * in pieces of odd and even lengths. */
static struct lyra_skb *skb_tso(struct fx *f, const uint8_t *h, uint32_t hl, const uint8_t *src,
                                uint32_t plen, uint16_t mss, unsigned v)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, 64, 128);
    cr_assert(s);
    memcpy(lyra_skb_put(s, hl), h, hl);
    for (uint32_t off = 0, k = 0; off < plen; k++) {
        uint32_t n = (k * 613 + v * 7) % 1700 + 1;
        if (n > plen - off)
            n = plen - off;
        cr_assert_not_null(lt_skb_add_seg(s, src + off, n, 0));
        off += n;
    }
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 34);
    s->csum_off = 16;
    s->gso_size = mss;
    return s;
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Segment k of the frame (headers h of hl bytes, payload src) as out holds
 * it: what RFC 793/791 say each segment of the stream is, checked field by
 * field against the frame's headers, not against the driver's code. */
static void tso_seg_ok(const uint8_t *out, size_t got, const uint8_t *h, uint32_t hl,
                       const uint8_t *src, uint32_t plen, uint16_t mss, uint32_t k,
                       const char *what)
{
    uint32_t off = k * mss, n = plen - off < mss ? plen - off : mss;
    bool last = off + n == plen;
    cr_assert_eq(got, hl + n < 60 ? 60 : hl + n, "%s seg %u: %zu bytes", what, k, got);
    cr_assert_arr_eq(out, h, 14, "%s seg %u: Ethernet header", what, k);
    const uint8_t *ip = out + 14, *t = ip + 20;
    cr_assert_eq(ref_sum(ip, 20), 0xffff, "%s seg %u: IPv4 header checksum", what, k);
    cr_assert_eq((uint32_t)(ip[2] << 8 | ip[3]), hl - 14 + n, "%s seg %u: total length", what, k);
    cr_assert_eq((uint16_t)(ip[4] << 8 | ip[5]), (uint16_t)((h[18] << 8 | h[19]) + k),
                 "%s seg %u: identification", what, k);
    cr_assert_arr_eq(ip + 6, h + 20, 4, "%s seg %u: DF, TTL, protocol", what, k);
    cr_assert_arr_eq(ip + 12, h + 26, 8, "%s seg %u: addresses", what, k);
    cr_assert_eq(ld32(t + 4), ld32(h + 38) + off, "%s seg %u: sequence number", what, k);
    cr_assert_eq(t[13], last ? h[47] : (h[47] & ~0x09), "%s seg %u: FIN and PSH on the last only",
                 what, k);
    cr_assert_arr_eq(t + 8, h + 42, 5, "%s seg %u: ack, offset", what, k);
    cr_assert_arr_eq(t + 18, h + 52, hl - 52, "%s seg %u: urgent pointer, options", what, k);
    cr_assert_arr_eq(out + hl, src + off, n, "%s seg %u: payload", what, k);
    cr_assert(l4_csum_ok(out, hl + n), "%s seg %u: TCP checksum %02x%02x", what, k, t[16], t[17]);
}

/* TSO frames of 1 to 8 segments (the model keeps 8 frames), with and
 * without options, a last segment of 1 byte (its frame padded to 60), an
 * MSS that cuts pieces anywhere, odd and even: every segment as RFC 793
 * and 791 want it, on both behaviours of the model (quirks=datasheet: the
 * driver holds the frame and writes a segment each time a buffer frees). */
static void tx_tso_cut(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, q);
    struct lyra_netdev_caps caps;
    cr_assert_eq(f.nd->caps(f.nic->self, &caps), 0);
    cr_assert_eq(caps.tso_segs, 44, "offered by default");
    static uint8_t src[8 * 1460], out[1600], h[80];
    for (uint32_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 13 + (i >> 7));
    static const struct {
        uint32_t thl, plen;
        uint16_t mss;
    } c[] = {{32, 5 * 1448 + 1, 1448}, {20, 1460, 1460}, {20, 2 * 1460 + 1, 1460},
             {32, 3333, 500}, {32, 8 * 1448, 1448}, {20, 1001, 333}, {32, 2, 1}};
    uint64_t segs = 0;
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char what[64];
        snprintf(what, sizeof(what), "%s: %u+%u mss %u", quirks[q], c[i].thl, c[i].plen,
                 c[i].mss);
        uint32_t hl = tso_headers(h, c[i].thl, c[i].plen, (uint16_t)(0xfffe + i),
                                  0xfffff000u + i);
        struct lyra_skb *s = skb_tso(&f, h, hl, src, c[i].plen, c[i].mss, i);
        cr_assert_eq(f.nd->xmit(f.nic->self, s), 0, "%s", what);
        uint32_t n = (c[i].plen + c[i].mss - 1) / c[i].mss;
        for (uint32_t k = 0; k < n; k++) {
            size_t got = ne2k_model_take_tx(f.dev->self, out, sizeof(out));
            for (unsigned w = 0; !got && w < 4; w++) { /* the next buffer's turn */
                lt_poll(f.dev, 8);
                lt_poll(f.nic, 8);
                got = ne2k_model_take_tx(f.dev->self, out, sizeof(out));
            }
            tso_seg_ok(out, got, h, hl, src, c[i].plen, c[i].mss, k, what);
        }
        lt_poll(f.dev, 8);
        lt_poll(f.nic, 8);
        cr_assert_eq(ne2k_model_take_tx(f.dev->self, out, sizeof(out)), 0, "%s: no more", what);
        segs += n;
    }
    cr_assert_eq(nic_stat(&f, "tx_tso_frames"), sizeof(c) / sizeof(c[0]));
    cr_assert_eq(nic_stat(&f, "tx_tso_segments"), segs);
    cr_assert_eq(nic_stat(&f, "tx_frames"), segs);
    cr_assert_eq(dev_stat(&f, "txq_drop") + dev_stat(&f, "tx_overlap"), 0);
    fx_done(&f);
}

Test(nic_pio, tx_tso_frames_cut_into_segments)
{
    FOR_EACH_QUIRKS(q)
    tx_tso_cut(q);
}

/* One TSO frame at a time: another meanwhile is -EAGAIN, then tx_ready
 * once the first is all on the card; a frame held at stop is freed (the
 * leak check). tso=off or csum_tx=off offer none and refuse one; a frame
 * tso cannot cut (no checksum asked, headers not alone in the linear part)
 * is refused and stays the caller's. */
Test(nic_pio, tx_tso_one_at_a_time_and_refused)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, Q_DATASHEET);
    static uint8_t src[6 * 1448], h[80], out[1600];
    uint32_t hl = tso_headers(h, 32, sizeof(src), 1, 1000);
    struct lyra_skb *a = skb_tso(&f, h, hl, src, sizeof(src), 1448, 0);
    struct lyra_skb *b = skb_tso(&f, h, hl, src, sizeof(src), 1448, 1);
    cr_assert_eq(f.nd->xmit(f.nic->self, a), 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, b), -EAGAIN, "the first is still being cut");
    cr_assert_eq(nic_stat(&f, "tx_tso_segments"), 2, "two buffers written, the rest waits");
    for (unsigned w = 0; w < 8 && !f.u.tx_ready; w++) {
        lt_poll(f.dev, 8);
        lt_poll(f.nic, 8);
    }
    cr_assert_eq(f.u.tx_ready, 1, "room once the first frame is on the card");
    cr_assert_eq(nic_stat(&f, "tx_tso_segments"), 6);
    cr_assert_eq(f.nd->xmit(f.nic->self, b), 0);
    while (ne2k_model_take_tx(f.dev->self, out, sizeof(out)))
        ;
    cr_assert_eq(f.so->avail(f.skb->self), SKB_COUNT - 1, "b held, 4 segments unwritten");
    lt_stop(f.nic);
    fx_done(&f); /* and freed at stop */

    fx_make(&f, (const char *const[]){"tso=off", NULL}, NULL);
    struct lyra_netdev_caps caps;
    cr_assert_eq(f.nd->caps(f.nic->self, &caps), 0);
    cr_assert_eq(caps.tso_segs, 0);
    a = skb_tso(&f, h, hl, src, sizeof(src), 1448, 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, a), -EOPNOTSUPP);
    lyra_skb_free(a);
    fx_done(&f);
    fx_make(&f, (const char *const[]){"csum_tx=off", NULL}, NULL);
    cr_assert_eq(f.nd->caps(f.nic->self, &caps), 0);
    cr_assert_eq(caps.tso_segs, 0, "each segment's checksum is the driver's to put");
    fx_done(&f);

    fx_make(&f, NULL, NULL);
    a = skb_tso(&f, h, hl, src, sizeof(src), 1448, 0);
    a->flags &= (uint16_t)~LYRA_SKB_F_CSUM_TX;
    cr_assert_eq(f.nd->xmit(f.nic->self, a), -EINVAL, "no checksum asked of the NIC");
    a->flags |= LYRA_SKB_F_CSUM_TX;
    a->len = hl - 4;                          /* TCP options outside the linear part */
    cr_assert_eq(f.nd->xmit(f.nic->self, a), -EINVAL, "headers not alone in the linear part");
    a->len = hl;
    a->gso_size = 1500; /* segments beyond 1514 bytes */
    cr_assert_eq(f.nd->xmit(f.nic->self, a), -EINVAL);
    lyra_skb_free(a);
    cr_assert_eq(nic_stat(&f, "tx_too_big"), 3);
    cr_assert_eq(nic_stat(&f, "tx_tso_frames"), 0);
    lt_poll(f.dev, 8);
    cr_assert_eq(ne2k_model_take_tx(f.dev->self, out, sizeof(out)), 0, "nothing sent");
    fx_done(&f);
}

/* A frame sent while a TSO frame is still being cut waits for its
 * segments (-EAGAIN, then tx_ready once they are all on the card): on the
 * wire nothing overtakes them. */
Test(nic_pio, tx_nothing_overtakes_the_segments_of_a_tso_frame)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, Q_DATASHEET);
    static uint8_t src[6 * 1448], h[80], out[1600], pl[100];
    uint32_t hl = tso_headers(h, 32, sizeof(src), 1, 1000);
    frame_make(pl, 100, bcast, 9);
    struct lyra_skb *a = skb_tso(&f, h, hl, src, sizeof(src), 1448, 0);
    struct lyra_skb *c = skb_gather(&f, pl, 100, 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, a), 0);
    lt_poll(f.dev, 8); /* the first segment ends, unseen by the driver */
    cr_assert_eq(f.nd->xmit(f.nic->self, c), -EAGAIN, "4 segments still to write");
    size_t lens[8];
    unsigned n = 0;
    for (unsigned w = 0; w < 16 && !f.u.tx_ready; w++) {
        lt_poll(f.nic, 8);
        lt_poll(f.dev, 8);
        while (n < 8 && (lens[n] = ne2k_model_take_tx(f.dev->self, out, sizeof(out))))
            n++;
    }
    cr_assert_eq(f.u.tx_ready, 1);
    cr_assert_eq(f.nd->xmit(f.nic->self, c), 0);
    for (unsigned w = 0; w < 8; w++) {
        lt_poll(f.dev, 8);
        lt_poll(f.nic, 8);
        while (n < 8 && (lens[n] = ne2k_model_take_tx(f.dev->self, out, sizeof(out))))
            n++;
    }
    cr_assert_eq(n, 7, "six segments and the frame");
    for (unsigned k = 0; k < 6; k++)
        cr_assert_eq(lens[k], hl + 1448, "segment %u in order", k);
    cr_assert_eq(lens[6], 100, "the frame last");
    cr_assert_eq(nic_stat(&f, "tx_errors"), 0);
    cr_assert_eq(dev_stat(&f, "tx_overlap"), 0);
    fx_done(&f);
}

/* A remote-DMA write that never completes: a TSO frame whose first
 * segment could not be written is the caller's again (-ETIMEDOUT, as for
 * any frame); a buffer a send freed and then could not fill leaves the
 * transmission still on the wire alone (it ends with its own PTX, never
 * counted as an error before it has). */
Test(nic_pio, tx_rdma_timeouts_with_tso_and_a_transmission_on_the_wire)
{
    struct fx f;
    fx_makeq(&f, (const char *const[]){"wait_spins=50", NULL}, NULL, Q_DATASHEET);
    static uint8_t src[3 * 1448], h[80], fr[3][100];
    uint32_t hl = tso_headers(h, 32, sizeof(src), 1, 1000);
    ne2k_model_set_faults(f.dev->self, NE2K_FAULT_NO_RDC);
    struct lyra_skb *a = skb_tso(&f, h, hl, src, sizeof(src), 1448, 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, a), -ETIMEDOUT);
    cr_assert_eq(f.so->avail(f.skb->self), SKB_COUNT - 1, "still the caller's");
    lyra_skb_free(a);
    ne2k_model_set_faults(f.dev->self, 0);
    struct lyra_skb *s[3];
    for (unsigned i = 0; i < 3; i++) {
        frame_make(fr[i], 100, bcast, i + 1);
        s[i] = skb_gather(&f, fr[i], 100, i);
    }
    cr_assert_eq(f.nd->xmit(f.nic->self, s[0]), 0); /* sending */
    cr_assert_eq(f.nd->xmit(f.nic->self, s[1]), 0); /* loaded */
    cr_assert_eq(f.nd->xmit(f.nic->self, s[2]), -EAGAIN);
    lt_poll(f.dev, 8); /* s[0] ends */
    ne2k_model_set_faults(f.dev->self, NE2K_FAULT_NO_RDC);
    /* the send takes s[0]'s ending (s[1] starts) and fails to write */
    cr_assert_eq(f.nd->xmit(f.nic->self, s[2]), -ETIMEDOUT);
    ne2k_model_set_faults(f.dev->self, 0);
    lt_poll(f.nic, 8); /* a free buffer, s[1] still on the wire */
    cr_assert_eq(f.u.tx_ready, 1, "room said");
    cr_assert_eq(nic_stat(&f, "tx_errors"), 0, "s[1] not retired while it is sent");
    cr_assert_eq(f.nd->xmit(f.nic->self, s[2]), 0);
    for (unsigned w = 0; w < 4; w++) {
        lt_poll(f.dev, 8);
        lt_poll(f.nic, 8);
    }
    cr_assert_eq(nic_stat(&f, "tx_frames"), 3);
    cr_assert_eq(nic_stat(&f, "tx_errors"), 0);
    cr_assert_eq(dev_stat(&f, "tx_overlap"), 0);
    uint8_t out[200];
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(ne2k_model_take_tx(f.dev->self, out, sizeof(out)), 100);
        cr_assert_arr_eq(out, fr[i], 100, "frame %u", i);
    }
    fx_done(&f);
}

/* A bus over the model whose header writes (outsw: payload goes through
 * outsw_csum) stop completing from the fail_at-th on (the model's RDC
 * never set), for a failure in the middle of a TSO frame. */
static unsigned hdr_writes, fail_at;
static const struct lyra_bus_ops *model_bus;

static void failing_outsw(void *self, uint32_t port, const void *buf, size_t count)
{
    if (++hdr_writes == fail_at)
        ne2k_model_set_faults(self, NE2K_FAULT_NO_RDC);
    model_bus->outsw(self, port, buf, count);
}

/* A TSO frame whose second segment's write fails is still taken (its
 * first segment is on the card; tcp sends the rest again): xmit says 0 and
 * the driver frees the frame, once. */
Test(nic_pio, tx_tso_failing_in_the_middle_is_taken)
{
    struct fx f;
    fx_make(&f, NULL, NULL);
    static struct lyra_bus_ops failing;
    model_bus = lt_ops(f.dev, "bus");
    failing = *model_bus;
    failing.outsw = failing_outsw;
    fx_done(&f);
    fx_bus = &failing;
    fx_make(&f, (const char *const[]){"wait_spins=50", NULL}, NULL);
    fx_bus = NULL;
    model_bus = lt_ops(f.dev, "bus");
    hdr_writes = 0;
    fail_at = 2;
    static uint8_t src[4 * 1448], h[80], out[1600];
    uint32_t hl = tso_headers(h, 32, sizeof(src), 1, 1000);
    struct lyra_skb *a = skb_tso(&f, h, hl, src, sizeof(src), 1448, 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, a), 0, "taken: a segment is on the card");
    cr_assert_eq(nic_stat(&f, "tx_rdma_fail"), 1);
    cr_assert_eq(nic_stat(&f, "tx_tso_segments"), 1);
    ne2k_model_set_faults(f.dev->self, 0);
    lt_poll(f.dev, 8);
    lt_poll(f.nic, 8);
    cr_assert_eq(ne2k_model_take_tx(f.dev->self, out, sizeof(out)), hl + 1448);
    cr_assert_eq(lt_stat(f.skb, "bad_free"), 0, "freed once");
    fx_done(&f);
}

/* ----- receive coalescing (gro) -------------------------------------------- */

/* Segment k of a flow (1448-byte payloads from seq 5000) as a received
 * frame with right checksums; `bad`: its TCP checksum off by one. */
static uint32_t flow_seg(uint8_t *fr, uint32_t k, bool bad)
{
    static uint8_t h[80];
    uint32_t n = 1448, hl = tso_headers(h, 32, n, (uint16_t)(7 + k), 5000 + k * n);
    memcpy(fr, h, hl);
    memcpy(fr, prom_mac, 6);
    fr[47] = 0x10; /* ACK alone */
    for (uint32_t i = 0; i < n; i++)
        fr[hl + i] = (uint8_t)(k * 3 + i);
    cr_assert_eq(lt_ipv4_fix_csum(fr + 14, hl - 14 + n), 0);
    lt_ipv4_fix_l4_csum(fr + 14, hl - 14 + n);
    if (bad)
        fr[hl - 15]++; /* the TCP checksum's low byte (offset 34 + 17) */
    return hl + n;
}

struct gro_user {
    unsigned frames, runs, chained, ok, not_ok;
};

static void gu_rx(void *user, struct lyra_skb *skb)
{
    struct gro_user *g = user;
    g->frames++;
    uint64_t bytes = 0;
    uint32_t c = lyra_skb_chained(skb, &bytes);
    g->runs += (skb->flags & LYRA_SKB_F_GRO) != 0;
    g->chained += c;
    for (struct lyra_skb *s = skb; s; s = (skb->flags & LYRA_SKB_F_GRO) ? s->next : NULL)
        if (s->flags & LYRA_SKB_F_CSUM_OK)
            g->ok++;
        else
            g->not_ok++;
    lyra_skb_free(skb);
}

/* Segments of one flow received in one poll step go up as one run (the
 * driver checks each TCP checksum from the sum its read kept: CSUM_OK on
 * each); a segment whose checksum is wrong goes up alone, unmarked, for
 * tcp to count, and ends the run; gro=off hands every frame up alone. */
Test(nic_pio, rx_segments_of_a_flow_go_up_as_a_run)
{
    static const struct lyra_netdev_events gu_ev = {
        .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                            struct lyra_netdev_events),
        .rx = gu_rx,
    };
    for (int run = 0; run < 2 * NQUIRKS; run++) {
        int off = run & 1;
        struct fx f;
        struct gro_user g = {0};
        fx_ev = &gu_ev;
        fx_user = &g;
        fx_makeq(&f, off ? (const char *const[]){"gro=off", NULL} : NULL, NULL,
                 (unsigned)run / 2);
        fx_ev = NULL;
        static uint8_t fr[1600];
        for (uint32_t k = 0; k < 6; k++) { /* 4 good, a bad one, then 1 more */
            uint32_t len = flow_seg(fr, k, k == 4);
            cr_assert_eq(ne2k_model_inject(f.dev->self, fr, len), 0);
        }
        lt_poll(f.nic, 64);
        if (!off) {
            cr_assert_eq(g.frames, 3, "a run of 4, the bad one, the last: %u", g.frames);
            cr_assert_eq(g.runs, 1);
            cr_assert_eq(g.chained, 3);
            cr_assert_eq(g.ok, 5, "every good segment checked");
            cr_assert_eq(g.not_ok, 1, "the bad one unmarked");
            cr_assert_eq(nic_stat(&f, "rx_gro_runs"), 1);
            cr_assert_eq(nic_stat(&f, "rx_gro_chained"), 3);
        } else {
            cr_assert_eq(g.frames, 6);
            cr_assert_eq(g.runs + g.chained, 0);
        }
        fx_done(&f);
    }
}

static void tx_busy_then_tx_ready(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, (const char *const[]){"tx_defer=on", NULL}, q);
    uint8_t src[3][100], out[200];
    struct lyra_skb *s[3];
    for (unsigned i = 0; i < 3; i++) {
        frame_make(src[i], 100, bcast, i + 1);
        s[i] = skb_gather(&f, src[i], 100, i);
    }
    cr_assert_eq(f.nd->xmit(f.nic->self, s[0]), 0); /* sending */
    cr_assert_eq(f.nd->xmit(f.nic->self, s[1]), 0); /* loaded in the other buffer */
    cr_assert_eq(f.nd->xmit(f.nic->self, s[2]), -EAGAIN);
    cr_assert_eq(nic_stat(&f, "tx_busy"), 1);
    cr_assert_eq(f.u.tx_ready, 0);
    lt_poll(f.dev, 8); /* the first transmission ends */
    lt_poll(f.nic, 8); /* PTX: the second starts, room for one */
    cr_assert_eq(f.u.tx_ready, 1);
    cr_assert_eq(f.nd->xmit(f.nic->self, s[2]), 0);
    for (unsigned k = 0; k < 4; k++) {
        lt_poll(f.dev, 8);
        lt_poll(f.nic, 8);
    }
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(ne2k_model_take_tx(f.dev->self, out, sizeof(out)), 100);
        cr_assert_arr_eq(out, src[i], 100, "frame %u out of order or damaged", i);
    }
    cr_assert_eq(ne2k_model_take_tx(f.dev->self, out, sizeof(out)), 0);
    cr_assert_eq(nic_stat(&f, "tx_frames"), 3);
    cr_assert_eq(dev_stat(&f, "tx_overlap"), 0);
    fx_done(&f);
}

Test(nic_pio, tx_busy_then_tx_ready)
{
    FOR_EACH_QUIRKS(q)
    tx_busy_then_tx_ready(q);
}

/* ----- receive -------------------------------------------------------------- */

/* Every length, byte for byte, with the driver's rx_crc nic_p[0] (auto
 * when NULL); want_mode: the rx_fcs_mode the driver ends in. */
static void rx_every_length(unsigned q, const char *const *nic_p, uint64_t want_mode)
{
    struct fx f;
    fx_makeq(&f, nic_p, NULL, q);
    static uint8_t fr[1514];
    const char *crc = nic_p ? nic_p[0] : "rx_crc=auto";
    for (uint32_t len = 60; len <= 1514; len++) {
        frame_make(fr, len, prom_mac, len);
        cr_assert_eq(ne2k_model_inject(f.dev->self, fr, len), 0, "len %u", len);
        unsigned before = f.u.rx_n;
        lt_poll(f.nic, 16);
        cr_assert_eq(f.u.rx_n, before + 1, "%s %s: len %u not received", quirks[q], crc, len);
        cr_assert_eq(f.u.last_len, len, "%s %s: len %u handed up as %u", quirks[q], crc, len,
                     f.u.last_len);
        cr_assert_arr_eq(f.u.last, fr, len, "%s %s: len %u: content", quirks[q], crc, len);
    }
    cr_assert_eq(nic_stat(&f, "rx_frames"), 1455);
    cr_assert_eq(nic_stat(&f, "rx_summed"), 1455, "every frame summed in its read");
    cr_assert_eq(f.u.summed, 1455);
    cr_assert_eq(f.u.sum_wrong, 0, "%s %s: kept sums wrong", quirks[q], crc);
    cr_assert_eq(nic_stat(&f, "rx_bad"), 0);
    cr_assert_eq(nic_stat(&f, "rx_fcs_mode"), want_mode, "%s %s", quirks[q], crc);
    cr_assert_eq(nic_stat(&f, "rx_fcs_stripped"), q == Q_DATASHEET ? 1455u : 0u);
    cr_assert_eq(dev_stat(&f, "rx_fcs"), q == Q_DATASHEET ? 1455u : 0u);
    cr_assert_eq(dev_stat(&f, "rdma_misuse"), 0);
    fx_done(&f);
}

#define FCS_MODE_NONE 1
#define FCS_MODE_COUNTED 2

Test(nic_pio, rx_every_length_through_the_ring)
{
    FOR_EACH_QUIRKS(q)
    rx_every_length(q, NULL, q == Q_QEMU ? FCS_MODE_NONE : FCS_MODE_COUNTED);
}

/* rx_crc set by hand: off for QEMU, on for real boards. */
Test(nic_pio, rx_every_length_rx_crc_forced)
{
    rx_every_length(Q_QEMU, (const char *const[]){"rx_crc=off", NULL}, FCS_MODE_NONE);
    rx_every_length(Q_DATASHEET, (const char *const[]){"rx_crc=on", NULL}, FCS_MODE_COUNTED);
}

static void rx_batch_wraps_in_order_within_budget(unsigned q)
{
    struct fx f;
    fx_makeq(&f, (const char *const[]){"rx_budget=3", NULL}, NULL, q);
    static uint8_t fr[1514];
    for (unsigned round = 0; round < 10; round++) {
        for (unsigned i = 0; i < 8; i++) { /* 8 x 6 pages of the ring's 51 */
            frame_make(fr, 1514 - i * 97, prom_mac, round * 8 + i);
            cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 1514 - i * 97), 0);
        }
        unsigned before = f.u.rx_n;
        cr_assert_eq(lt_poll(f.nic, 64), 3);
        for (unsigned k = 0; k < 4; k++)
            lt_poll(f.nic, 64);
        cr_assert_eq(f.u.rx_n, before + 8);
    }
    for (unsigned i = 0; i < 64; i++)
        cr_assert_eq(f.u.seq[i], i, "frame %u out of order", i);
    cr_assert_eq(f.u.summed, 80, "frames split at the ring's end are summed too");
    cr_assert_eq(f.u.sum_wrong, 0);
    fx_done(&f);
}

Test(nic_pio, rx_batch_wraps_in_order_within_budget)
{
    FOR_EACH_QUIRKS(q)
    rx_batch_wraps_in_order_within_budget(q);
}

static void rx_short_frame_padded(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, q);
    uint8_t fr[42];
    frame_make(fr, 42, bcast, 5);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 42), 0);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.rx_n, 1);
    cr_assert_eq(f.u.last_len, 60);
    cr_assert_arr_eq(f.u.last, fr, 42);
    for (unsigned i = 42; i < 60; i++)
        cr_assert_eq(f.u.last[i], 0);
    cr_assert(f.u.last_flags & LYRA_SKB_F_BCAST);
    cr_assert_eq(dev_stat(&f, "rx_padded"), 1);
    fx_done(&f);
}

Test(nic_pio, rx_short_frame_padded)
{
    FOR_EACH_QUIRKS(q)
    rx_short_frame_padded(q);
}

static void rx_oversize_dropped_and_counted(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, q);
    static uint8_t fr[1600];
    frame_make(fr, 1515, prom_mac, 1);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 1515), -EMSGSIZE);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.rx_n, 0);
    cr_assert_eq(dev_stat(&f, "rx_oversize"), 1);
    frame_make(fr, 1514, prom_mac, 2);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 1514), 0);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.rx_n, 1);
    fx_done(&f);
}

Test(nic_pio, rx_oversize_dropped_and_counted)
{
    FOR_EACH_QUIRKS(q)
    rx_oversize_dropped_and_counted(q);
}

static void rx_filter_broadcast_multicast_promisc(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, q);
    const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    const uint8_t other[6] = {0x02, 0x09, 0, 0, 0, 9};
    uint8_t fr[80];
    frame_make(fr, 80, mc, 1);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 80), -ENOENT);
    frame_make(fr, 80, other, 2);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 80), -ENOENT);
    cr_assert_eq(f.nd->set_rx_mode(f.nic->self, true, false), 0);
    frame_make(fr, 80, mc, 3);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 80), 0);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.rx_n, 1);
    cr_assert(f.u.last_flags & LYRA_SKB_F_MCAST);
    frame_make(fr, 80, other, 4);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 80), -ENOENT);
    cr_assert_eq(f.nd->set_rx_mode(f.nic->self, false, true), 0);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 80), 0);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.rx_n, 2);
    cr_assert_eq(f.u.last_flags & (LYRA_SKB_F_HOST | LYRA_SKB_F_BCAST | LYRA_SKB_F_MCAST), 0);
    fx_done(&f);
}

Test(nic_pio, rx_filter_broadcast_multicast_promisc)
{
    FOR_EACH_QUIRKS(q)
    rx_filter_broadcast_multicast_promisc(q);
}

static void rx_overflow_recovery(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, q);
    static uint8_t fr[1000];
    unsigned ok = 0, refused = 0;
    for (unsigned i = 0; i < 20; i++) { /* 4 pages each: 12 fit in 51 */
        frame_make(fr, 1000, prom_mac, i);
        int r = ne2k_model_inject(f.dev->self, fr, 1000);
        if (r == 0)
            ok++;
        else
            refused++;
    }
    cr_assert_eq(ok, 12);
    cr_assert_eq(dev_stat(&f, "rx_overflow"), 1);
    cr_assert_eq(dev_stat(&f, "rx_missed"), 8); /* the overflowing one and 7 after it */
    /* Until the driver recovers, the card receives nothing. */
    frame_make(fr, 100, prom_mac, 99);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 100), -EAGAIN);
    for (unsigned k = 0; k < 4; k++)
        lt_poll(f.nic, 64);
    cr_assert_eq(nic_stat(&f, "rx_overflow"), 1);
    cr_assert_eq(f.u.rx_n, 12);
    for (unsigned i = 0; i < 12; i++)
        cr_assert_eq(f.u.seq[i], i);
    cr_assert_eq(nic_stat(&f, "rx_missed"), 9);
    /* And receives again. */
    for (unsigned i = 0; i < 5; i++) {
        frame_make(fr, 300, prom_mac, 100 + i);
        cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 300), 0);
    }
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx_n, 17);
    cr_assert_eq(f.u.seq[16], 104);
    cr_assert_eq(f.u.last_len, 300, "%s", quirks[q]);
    cr_assert_arr_eq(f.u.last, fr, 300, "%s", quirks[q]);
    cr_assert_eq(nic_stat(&f, "rx_bad"), 0);
    fx_done(&f);
}

Test(nic_pio, rx_overflow_recovery)
{
    FOR_EACH_QUIRKS(q)
    rx_overflow_recovery(q);
}

static void rx_overflow_with_small_budget_and_no_buffers(unsigned q)
{
    struct fx f;
    fx_makeq(&f, (const char *const[]){"rx_budget=1", NULL}, NULL, q);
    static uint8_t fr[1514];
    /* Hold most skbs so receive runs short of buffers. */
    struct lyra_skb *held[SKB_COUNT];
    unsigned nh = 0;
    while (nh < SKB_COUNT - 2 && (held[nh] = f.so->alloc_rx(f.skb->self, 100)))
        nh++;
    for (unsigned i = 0; i < 12; i++) {
        frame_make(fr, 1514, prom_mac, i);
        ne2k_model_inject(f.dev->self, fr, 1514);
    }
    cr_assert_eq(dev_stat(&f, "rx_overflow"), 1);
    for (unsigned k = 0; k < 20; k++)
        lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx_n + nic_stat(&f, "rx_nobuf"), 8);
    while (nh)
        lyra_skb_free(held[--nh]);
    frame_make(fr, 200, prom_mac, 50);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 200), 0);
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.seq[f.u.rx_n - 1], 50);
    fx_done(&f);
}

Test(nic_pio, rx_overflow_with_small_budget_and_no_buffers)
{
    FOR_EACH_QUIRKS(q)
    rx_overflow_with_small_budget_and_no_buffers(q);
}

/* A burst of full-size frames waiting on the link (a TAP or wire has no
 * line rate): QEMU's card leaves frames on the link while its ring cannot
 * take a full one, so none is lost; the datasheet's card takes them as they
 * come and overflows, as hardware fed faster than the driver drains. */
static void rx_burst_from_link(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, (const char *const[]){"link=wire:burst", NULL}, q);
    static uint8_t fr[1514];
    for (unsigned i = 0; i < 20; i++) {
        frame_make(fr, 1514, prom_mac, i);
        cr_assert_eq(fake_os_link_inject(f.os->self, "wire:burst", fr, 1514), 0);
    }
    for (unsigned k = 0; k < 40; k++) {
        lt_poll(f.dev, 64); /* the model pulls up to 64 frames from the link */
        lt_poll(f.nic, 64);
    }
    if (q == Q_QEMU) {
        cr_assert_eq(dev_stat(&f, "rx_overflow"), 0);
        cr_assert_gt(dev_stat(&f, "rx_held"), 0);
        cr_assert_eq(f.u.rx_n, 20);
        for (unsigned i = 0; i < 20; i++)
            cr_assert_eq(f.u.seq[i], i);
    } else {
        cr_assert_geq(dev_stat(&f, "rx_overflow"), 1);
        cr_assert_eq(dev_stat(&f, "rx_held"), 0);
        cr_assert_lt(f.u.rx_n, 20);
    }
    fx_done(&f);
}

Test(nic_pio, rx_burst_from_the_link_held_as_qemu_or_overflowing_as_the_datasheet)
{
    FOR_EACH_QUIRKS(q)
    rx_burst_from_link(q);
}

/* ----- the CRC in the ring ------------------------------------------------- */

/* CRC-32 of IEEE 802.3, written independently of the driver's. */
static uint32_t crc32_ref(const uint8_t *p, size_t len)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

/* Reads card memory as a driver would (remote DMA, word mode). */
static void card_read(struct fx *f, uint16_t addr, uint8_t *buf, uint16_t len)
{
    const struct lyra_bus_ops *b = lt_ops(f->dev, "bus");
    void *d = f->dev->self;
    uint16_t n = (uint16_t)((len + 1) & ~1u);
    b->outb(d, NE_CR, CR_RD2 | CR_STA);
    b->outb(d, NE_RBCR0, (uint8_t)n);
    b->outb(d, NE_RBCR1, (uint8_t)(n >> 8));
    b->outb(d, NE_RSAR0, (uint8_t)addr);
    b->outb(d, NE_RSAR1, (uint8_t)(addr >> 8));
    b->outb(d, NE_CR, CR_RD0 | CR_STA);
    for (uint16_t i = 0; i < n; i += 2) {
        uint16_t w = b->inw(d, NE_DATA);
        buf[i] = (uint8_t)w;
        if (i + 1 < len)
            buf[i + 1] = (uint8_t)(w >> 8);
    }
    b->outb(d, NE_ISR, ISR_RDC);
}

/* What the model writes to the ring: QEMU counts the frame only, the
 * datasheet's DP8390 counts the CRC too and stores it after the frame; in
 * both the next frame starts where a CRC would have ended. */
Test(nic_pio, model_ring_count_and_crc)
{
    FOR_EACH_QUIRKS(q)
    {
        struct fx f;
        fx_makeq(&f, NULL, NULL, q);
        static uint8_t fr[600], ring[700];
        const uint32_t lens[] = {60, 100, 245, 248, 249, 252, 501};
        uint8_t page = 0x4c;
        for (unsigned k = 0; k < 7; k++) {
            uint32_t len = lens[k];
            frame_make(fr, len, prom_mac, len);
            cr_assert_eq(ne2k_model_inject(f.dev->self, fr, len), 0);
            card_read(&f, (uint16_t)(page << 8), ring, (uint16_t)(len + 8));
            uint32_t count = (uint32_t)(ring[2] | ring[3] << 8);
            uint32_t want = len + 4 + (q == Q_DATASHEET ? 4 : 0);
            cr_assert_eq(count, want, "%s: len %u count %u", quirks[q], len, count);
            cr_assert_arr_eq(ring + 4, fr, len);
            if (q == Q_DATASHEET) {
                uint32_t c = crc32_ref(fr, len);
                uint8_t fcs[4] = {(uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16),
                                  (uint8_t)(c >> 24)};
                cr_assert_arr_eq(ring + 4 + len, fcs, 4, "len %u: the CRC after the frame",
                                 len);
                /* the CRC-32 residue of a frame with its FCS */
                cr_assert_eq(crc32_ref(ring + 4, len + 4), 0x2144df1cu);
            }
            uint8_t next = (uint8_t)(page + (len + 8 + 255) / 256);
            cr_assert_eq(ring[1], next, "%s: len %u next page", quirks[q], len);
            page = next;
            lt_poll(f.nic, 16);
            cr_assert_eq(f.u.last_len, len, "%s", quirks[q]);
            cr_assert_arr_eq(f.u.last, fr, len, "%s: len %u", quirks[q], len);
        }
        fx_done(&f);
    }
}

/* rx_crc=auto: QEMU is known from the first ordinary frame (no CRC at its
 * end); a DP8390 from the first frame whose next-page pointer shows the CRC
 * counted (count 253-256 past a page boundary); until then each frame's
 * CRC is checked and removed. Frames are identical throughout. */
Test(nic_pio, rx_crc_auto_detection)
{
    static uint8_t fr[600];
    struct fx f;
    fx_makeq(&f, NULL, NULL, Q_QEMU);
    cr_assert_eq(nic_stat(&f, "rx_fcs_mode"), 0);
    frame_make(fr, 60, prom_mac, 1);
    ne2k_model_inject(f.dev->self, fr, 60);
    lt_poll(f.nic, 16);
    cr_assert_eq(nic_stat(&f, "rx_fcs_mode"), FCS_MODE_NONE);
    cr_assert_eq(f.u.last_len, 60);
    /* once known, even a frame that ends in its own CRC goes up whole */
    frame_make(fr, 200, prom_mac, 2);
    uint32_t c = crc32_ref(fr, 196);
    for (int i = 0; i < 4; i++)
        fr[196 + i] = (uint8_t)(c >> (8 * i));
    ne2k_model_inject(f.dev->self, fr, 200);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.last_len, 200);
    cr_assert_arr_eq(f.u.last, fr, 200);
    fx_done(&f);

    fx_makeq(&f, NULL, NULL, Q_DATASHEET);
    for (uint32_t len = 60; len < 245; len += 37) { /* no page edge: not known yet */
        frame_make(fr, len, prom_mac, len);
        ne2k_model_inject(f.dev->self, fr, len);
        lt_poll(f.nic, 16);
        cr_assert_eq(f.u.last_len, len);
        cr_assert_arr_eq(f.u.last, fr, len);
        cr_assert_eq(nic_stat(&f, "rx_fcs_mode"), 0, "len %u", len);
    }
    frame_make(fr, 245, prom_mac, 9); /* count 253 */
    ne2k_model_inject(f.dev->self, fr, 245);
    lt_poll(f.nic, 16);
    cr_assert_eq(nic_stat(&f, "rx_fcs_mode"), FCS_MODE_COUNTED);
    cr_assert_eq(f.u.last_len, 245);
    cr_assert_arr_eq(f.u.last, fr, 245);
    for (uint32_t len = 60; len <= 600; len += 67) {
        frame_make(fr, len, prom_mac, len);
        ne2k_model_inject(f.dev->self, fr, len);
        lt_poll(f.nic, 16);
        cr_assert_eq(f.u.last_len, len);
        cr_assert_arr_eq(f.u.last, fr, len);
    }
    fx_done(&f);
}

/* The documented limit of rx_crc=auto under QEMU: before any ordinary
 * frame has come, a frame built to end in its own CRC loses those 4 bytes
 * (rx_crc=off does not). */
Test(nic_pio, rx_crc_auto_limit_crafted_first_frame)
{
    static uint8_t fr[200];
    frame_make(fr, 200, prom_mac, 2);
    uint32_t c = crc32_ref(fr, 196);
    for (int i = 0; i < 4; i++)
        fr[196 + i] = (uint8_t)(c >> (8 * i));
    struct fx f;
    fx_makeq(&f, NULL, NULL, Q_QEMU);
    ne2k_model_inject(f.dev->self, fr, 200);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.last_len, 196);
    cr_assert_eq(nic_stat(&f, "rx_fcs_mode"), 0);
    fx_done(&f);
    fx_makeq(&f, (const char *const[]){"rx_crc=off", NULL}, NULL, Q_QEMU);
    ne2k_model_inject(f.dev->self, fr, 200);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.last_len, 200);
    cr_assert_arr_eq(f.u.last, fr, 200);
    fx_done(&f);
}

Test(nic_pio, bad_params_refused)
{
    struct lt_inst *i = NULL;
    cr_assert_neq(lt_try_create(&lyra_component_nic_pio,
                                (const char *const[]){"rx_crc=maybe", NULL}, &i),
                  0);
    cr_assert_neq(lt_try_create(&lyra_component_ne2k_model,
                                (const char *const[]){"quirks=bochs", NULL}, &i),
                  0);
}

/* ----- bounded waits ------------------------------------------------------- */

Test(nic_pio, model_without_rdc_times_out_counted)
{
    struct fx f;
    fx_make(&f, (const char *const[]){"wait_spins=50", NULL}, NULL);
    ne2k_model_set_faults(f.dev->self, NE2K_FAULT_NO_RDC);
    uint8_t src[100];
    frame_make(src, 100, bcast, 1);
    struct lyra_skb *s = skb_gather(&f, src, 100, 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -ETIMEDOUT);
    lyra_skb_free(s); /* the caller keeps it on error */
    cr_assert_eq(nic_stat(&f, "rdma_timeout"), 1);
    uint8_t fr[100];
    frame_make(fr, 100, prom_mac, 2);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 100), 0);
    lt_poll(f.nic, 16); /* the header read never completes */
    cr_assert_eq(f.u.rx_n, 0);
    cr_assert_geq(nic_stat(&f, "rdma_timeout"), 2);
    ne2k_model_set_faults(f.dev->self, 0);
    lt_poll(f.nic, 16); /* PRX was taken: the frame waits for the next one */
    frame_make(fr, 100, prom_mac, 3);
    cr_assert_eq(ne2k_model_inject(f.dev->self, fr, 100), 0);
    lt_poll(f.nic, 16);
    cr_assert_eq(f.u.rx_n, 2);
    fx_done(&f);
}

/* ----- scripted fake bus --------------------------------------------------- */

struct acc {
    char op; /* 'r' inb, 'w' outb, 'I' inw/insw, 'O' outw/outsw */
    uint8_t page;
    uint8_t port;
    uint16_t v;
};

struct fbus {
    struct acc log[4096];
    unsigned n, delays;
    uint8_t cr;
    bool no_rdc, no_rst;
    unsigned prom_pos;
};

static void rec(struct fbus *b, char op, uint32_t port, uint16_t v)
{
    if (b->n < 4096)
        b->log[b->n++] = (struct acc){op, (uint8_t)(b->cr >> 6), (uint8_t)port, v};
}

static uint8_t fb_inb(void *self, uint32_t port)
{
    struct fbus *b = self;
    uint8_t v = 0;
    if (port == NE_CR)
        v = b->cr;
    else if (port == NE_ISR && (b->cr >> 6) == 0)
        v = (uint8_t)((b->no_rst ? 0 : ISR_RST) | (b->no_rdc ? 0 : ISR_RDC));
    else if (port == NE_RESET)
        b->prom_pos = 0;
    rec(b, 'r', port, v);
    return v;
}

static uint16_t fb_inw(void *self, uint32_t port)
{
    struct fbus *b = self;
    uint16_t v = 0;
    if (port == NE_DATA) {
        unsigned i = b->prom_pos++;
        uint8_t x = i < 6 ? prom_mac[i] : 0;
        v = (uint16_t)(x | (x << 8));
    }
    rec(b, 'I', port, v);
    return v;
}

static void fb_outb(void *self, uint32_t port, uint8_t v)
{
    struct fbus *b = self;
    rec(b, 'w', port, v);
    if (port == NE_CR)
        b->cr = v;
}

static void fb_outw(void *self, uint32_t port, uint16_t v)
{
    rec(self, 'O', port, v);
}

static void fb_insw(void *self, uint32_t port, void *buf, size_t count)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < count; i++) {
        uint16_t w = fb_inw(self, port);
        p[2 * i] = (uint8_t)w;
        p[2 * i + 1] = (uint8_t)(w >> 8);
    }
}

static void fb_outsw(void *self, uint32_t port, const void *buf, size_t count)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < count; i++)
        fb_outw(self, port, (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
}

static void fb_delay(void *self, unsigned us)
{
    ((struct fbus *)self)->delays += us;
}

static const struct lyra_bus_ops fb_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .inb = fb_inb,
    .inw = fb_inw,
    .outb = fb_outb,
    .outw = fb_outw,
    .insw = fb_insw,
    .outsw = fb_outsw,
    .delay_us = fb_delay,
};

struct fbx {
    struct lt_inst *os, *skb, *nic;
};

static int fbx_start(struct fbx *x, struct fbus *b, const char *const *nic_p)
{
    x->os = lt_create(&lyra_component_fake_os, NULL);
    x->skb = lt_create(&lyra_component_skb_copy, (const char *const[]){"count=8", NULL});
    x->nic = lt_create(&lyra_component_nic_pio, nic_p);
    cr_assert_eq(lt_bind(x->skb, "os", x->os), 0);
    cr_assert_eq(lt_bind_raw(x->nic, "bus", &fb_ops, b), 0);
    cr_assert_eq(lt_bind(x->nic, "skb", x->skb), 0);
    cr_assert_eq(lt_bind(x->nic, "os", x->os), 0);
    cr_assert_eq(lt_start(x->os), 0);
    cr_assert_eq(lt_start(x->skb), 0);
    return lt_start(x->nic);
}

static void fbx_done(struct fbx *x)
{
    lt_destroy(x->nic);
    lt_destroy(x->skb);
    lt_destroy(x->os);
}

/* Index of the first access matching, from `from`; fails when absent. */
static unsigned find(const struct fbus *b, unsigned from, char op, int page, uint8_t port, int v)
{
    for (unsigned i = from; i < b->n; i++) {
        const struct acc *a = &b->log[i];
        if (a->op == op && a->port == port && (page < 0 || a->page == page) &&
            (v < 0 || a->v == v))
            return i;
    }
    cr_assert_fail("no %c port 0x%02x page %d value %d after access %u", op, port, page, v,
                   from);
    return 0;
}

Test(nic_pio, init_sequence_order)
{
    static struct fbus b;
    memset(&b, 0, sizeof(b));
    struct fbx x;
    cr_assert_eq(fbx_start(&x, &b, NULL), 0);
    /* reset first */
    cr_assert_eq(b.log[0].op, 'r');
    cr_assert_eq(b.log[0].port, NE_RESET);
    unsigned rst = find(&b, 0, 'r', 0, NE_ISR, -1);
    /* PROM: word mode, 32 bytes from 0, remote read, 16 words */
    unsigned dcr = find(&b, rst, 'w', 0, NE_DCR, DCR_WORD);
    unsigned cnt = find(&b, dcr, 'w', 0, NE_RBCR0, 32);
    unsigned rd = find(&b, cnt, 'w', -1, NE_CR, CR_RD0 | CR_STA);
    unsigned w0 = find(&b, rd, 'I', -1, NE_DATA, -1);
    cr_assert_eq(b.log[w0 + 15].op, 'I');
    /* the datasheet's initialisation */
    unsigned stop = find(&b, w0 + 16, 'w', 0, NE_CR, CR_RD2 | CR_STP);
    unsigned dcr2 = find(&b, stop, 'w', 0, NE_DCR, DCR_WORD);
    unsigned rb0 = find(&b, dcr2, 'w', 0, NE_RBCR0, 0);
    unsigned rcr = find(&b, rb0, 'w', 0, NE_RCR, RCR_MON);
    unsigned tcr = find(&b, rcr, 'w', 0, NE_TCR, TCR_LB0);
    unsigned ps = find(&b, tcr, 'w', 0, NE_PSTART, 0x4c);
    unsigned bn = find(&b, tcr, 'w', 0, NE_BNRY, 0x7f);
    unsigned pe = find(&b, tcr, 'w', 0, NE_PSTOP, 0x80);
    unsigned isr = find(&b, tcr, 'w', 0, NE_ISR, 0xff);
    cr_assert(ps < isr && bn < isr && pe < isr);
    unsigned imr = find(&b, isr, 'w', 0, NE_IMR, -1);
    unsigned par = find(&b, imr, 'w', 1, NE_PAR0, prom_mac[0]);
    for (unsigned i = 1; i < 6; i++)
        find(&b, par, 'w', 1, (uint8_t)(NE_PAR0 + i), prom_mac[i]);
    unsigned curr = find(&b, imr, 'w', 1, NE_CURR, 0x4c);
    unsigned sta = find(&b, curr, 'w', 0, NE_CR, CR_RD2 | CR_STA);
    unsigned tcr0 = find(&b, sta, 'w', 0, NE_TCR, 0);
    unsigned rcr2 = find(&b, sta, 'w', 0, NE_RCR, RCR_AB);
    cr_assert(tcr0 > sta && rcr2 > sta);
    fbx_done(&x);
}

Test(nic_pio, reset_without_answer_is_bounded)
{
    static struct fbus b;
    memset(&b, 0, sizeof(b));
    b.no_rst = true;
    struct fbx x;
    cr_assert_eq(fbx_start(&x, &b, (const char *const[]){"wait_spins=100", NULL}), -ENODEV);
    cr_assert_eq(lt_stat(x.nic, "reset_timeout"), 1);
    cr_assert_leq(b.n, 110);
    fbx_done(&x);
}

Test(nic_pio, rdc_never_set_is_bounded)
{
    static struct fbus b;
    memset(&b, 0, sizeof(b));
    b.no_rdc = true;
    struct fbx x;
    cr_assert_eq(fbx_start(&x, &b, (const char *const[]){"wait_spins=200", NULL}), -ETIMEDOUT);
    cr_assert_eq(lt_stat(x.nic, "rdma_timeout"), 1);
    cr_assert_leq(b.delays, 200 + 10);
    /* the transfer was aborted (RD2) after the timeout */
    unsigned last_isr = 0;
    for (unsigned i = 0; i < b.n; i++)
        if (b.log[i].op == 'r' && b.log[i].port == NE_ISR)
            last_isr = i;
    unsigned k = find(&b, last_isr, 'w', -1, NE_CR, -1);
    cr_assert(b.log[k].v & CR_RD2, "the CR write after the timeout (%#x) does not abort the "
              "remote DMA (RD2, DP8390 CR bits 3-5)", (unsigned)b.log[k].v);
    fbx_done(&x);
}
