/* nic_dma (the e1000 driver) against e1000_model, fake_os and skb_copy.
 *
 * The driver's bus slot goes through a spy that forwards every op to the
 * model and remembers DMA allocations and mappings, so tests can look at
 * the descriptors the driver wrote. A small netdev user records what comes
 * up. Every fixture ends with leak checks: no skb out of the pool, no DMA
 * mapping left, no os memory held.
 *
 * The key scenarios run against both behaviours of the model
 * (quirks=qemu: CTRL.RST resets nothing, RAL0/RAH0 preloaded with the MAC;
 * quirks=datasheet: CTRL.RST resets every register, RAL/RAH empty until
 * the driver writes them): FOR_EACH_QUIRKS loops over them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* registers and bits the tests look at (8254x manual) */
#define R_CTRL 0x0000
#define R_EERD 0x0014
#define R_ICR 0x00c0
#define R_IMC 0x00d8
#define R_RCTL 0x0100
#define R_TCTL 0x0400
#define R_RDBAL 0x2800
#define R_RDLEN 0x2808
#define R_RDH 0x2810
#define R_RDT 0x2818
#define R_TDBAL 0x3800
#define R_TDBAH 0x3804
#define R_TDLEN 0x3808
#define R_TDH 0x3810
#define R_TDT 0x3818
#define R_RAL0 0x5400
#define R_RAH0 0x5404
#define PCI_CMD 0x04

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t peer[6] = {0x02, 0x01, 0, 0, 0, 0x01};
static const uint8_t def_mac[6] = {0x02, 0, 0, 0, 0, 0x20};

/* ----- spy bus ------------------------------------------------------------ */

#define SPY_MAX 16

struct spy_alloc {
    uint8_t *p;
    uint64_t bus;
    size_t size;
};

struct spy {
    const struct lyra_bus_ops *real;
    void *rs;
    struct spy_alloc alloc[SPY_MAX];
    unsigned nalloc;
    unsigned maps, unmaps;
    unsigned tdt_writes;
    bool drop_cfg_write; /* a host that never lets the driver enable mastering */
};

static int s_info(void *s, struct lyra_bus_info *i)
{
    struct spy *y = s;
    return y->real->info(y->rs, i);
}
static uint8_t s_inb(void *s, uint32_t p)
{
    struct spy *y = s;
    return y->real->inb(y->rs, p);
}
static uint16_t s_inw(void *s, uint32_t p)
{
    struct spy *y = s;
    return y->real->inw(y->rs, p);
}
static uint32_t s_inl(void *s, uint32_t p)
{
    struct spy *y = s;
    return y->real->inl(y->rs, p);
}
static void s_outb(void *s, uint32_t p, uint8_t v)
{
    struct spy *y = s;
    y->real->outb(y->rs, p, v);
}
static void s_outw(void *s, uint32_t p, uint16_t v)
{
    struct spy *y = s;
    y->real->outw(y->rs, p, v);
}
static void s_outl(void *s, uint32_t p, uint32_t v)
{
    struct spy *y = s;
    y->real->outl(y->rs, p, v);
}
static void s_insw(void *s, uint32_t p, void *b, size_t n)
{
    struct spy *y = s;
    y->real->insw(y->rs, p, b, n);
}
static void s_outsw(void *s, uint32_t p, const void *b, size_t n)
{
    struct spy *y = s;
    y->real->outsw(y->rs, p, b, n);
}
static uint32_t s_read32(void *s, uint32_t off)
{
    struct spy *y = s;
    return y->real->read32(y->rs, off);
}
static void s_write32(void *s, uint32_t off, uint32_t v)
{
    struct spy *y = s;
    if (off == R_TDT)
        y->tdt_writes++;
    y->real->write32(y->rs, off, v);
}
static uint32_t s_cfg_read(void *s, uint32_t off, unsigned size)
{
    struct spy *y = s;
    return y->real->cfg_read(y->rs, off, size);
}
static void s_cfg_write(void *s, uint32_t off, unsigned size, uint32_t v)
{
    struct spy *y = s;
    if (!y->drop_cfg_write)
        y->real->cfg_write(y->rs, off, size, v);
}
static void *s_dma_alloc(void *s, size_t size, size_t align, uint64_t *bus)
{
    struct spy *y = s;
    void *p = y->real->dma_alloc(y->rs, size, align, bus);
    if (p && y->nalloc < SPY_MAX)
        y->alloc[y->nalloc++] = (struct spy_alloc){p, *bus, size};
    return p;
}
static void s_dma_free(void *s, void *p, size_t size)
{
    struct spy *y = s;
    y->real->dma_free(y->rs, p, size);
}
static int s_dma_map(void *s, const void *p, size_t len, uint64_t *bus)
{
    struct spy *y = s;
    y->maps++;
    return y->real->dma_map(y->rs, p, len, bus);
}
static void s_dma_unmap(void *s, const void *p, size_t len)
{
    struct spy *y = s;
    y->unmaps++;
    y->real->dma_unmap(y->rs, p, len);
}
static bool s_irq_pending(void *s)
{
    struct spy *y = s;
    return y->real->irq_pending(y->rs);
}
static void s_irq_enable(void *s, bool on)
{
    struct spy *y = s;
    y->real->irq_enable(y->rs, on);
}
static void s_delay_us(void *s, unsigned us)
{
    struct spy *y = s;
    y->real->delay_us(y->rs, us);
}

static const struct lyra_bus_ops spy_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .info = s_info, .inb = s_inb, .inw = s_inw, .inl = s_inl, .outb = s_outb, .outw = s_outw,
    .outl = s_outl, .insw = s_insw, .outsw = s_outsw, .read32 = s_read32, .write32 = s_write32,
    .cfg_read = s_cfg_read, .cfg_write = s_cfg_write, .dma_alloc = s_dma_alloc,
    .dma_free = s_dma_free, .dma_map = s_dma_map, .dma_unmap = s_dma_unmap,
    .irq_pending = s_irq_pending, .irq_enable = s_irq_enable, .delay_us = s_delay_us,
};

/* Host address of DMA memory the driver allocated. */
static uint8_t *spy_host(struct spy *y, uint64_t bus)
{
    for (unsigned i = 0; i < y->nalloc; i++)
        if (bus >= y->alloc[i].bus && bus < y->alloc[i].bus + y->alloc[i].size)
            return y->alloc[i].p + (bus - y->alloc[i].bus);
    return NULL;
}

/* ----- the netdev user ---------------------------------------------------- */

struct user {
    unsigned rx;
    uint8_t last[2048];
    uint32_t last_len;
    uint16_t last_flags;
    uint64_t rx_bytes;
    unsigned tx_ready;
    unsigned link_events;
    bool link;
    unsigned keep;                /* hold up to this many received skbs */
    struct lyra_skb *kept[64];
    unsigned nkept;
};

static void u_rx(void *user, struct lyra_skb *skb)
{
    struct user *u = user;
    u->rx++;
    u->last_len = lyra_skb_flatten(skb, u->last, sizeof(u->last));
    u->last_flags = skb->flags;
    u->rx_bytes += lyra_skb_total(skb);
    if (u->nkept < u->keep && u->nkept < 64)
        u->kept[u->nkept++] = skb;
    else
        lyra_skb_free(skb);
}

static void u_release(struct user *u)
{
    while (u->nkept)
        lyra_skb_free(u->kept[--u->nkept]);
}

static void u_tx_ready(void *user)
{
    ((struct user *)user)->tx_ready++;
}

static void u_link(void *user, bool up)
{
    struct user *u = user;
    u->link_events++;
    u->link = up;
}

static const struct lyra_netdev_events user_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = u_rx,
    .tx_ready = u_tx_ready,
    .link = u_link,
};

/* ----- fixture ------------------------------------------------------------ */

struct fx {
    struct lt_inst *os, *skb, *dev, *nic;
    const struct lyra_netdev_ops *nd;
    const struct lyra_bus_ops *bus; /* the model's own ops (tests poke it directly) */
    const struct lyra_skb_ops *so;
    struct spy spy;
    struct user u;
};

static void fx_build_skb(struct fx *f, const char *const *skb_p, const char *const *dev_p,
                         const char *const *nic_p)
{
    memset(f, 0, sizeof(*f));
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->skb = lt_create(&lyra_component_skb_copy, skb_p);
    f->dev = lt_create(&lyra_component_e1000_model, dev_p);
    f->nic = lt_create(&lyra_component_nic_dma, nic_p);
    cr_assert(f->os && f->skb && f->dev && f->nic);
    cr_assert_eq(lt_bind(f->skb, "os", f->os), 0);
    cr_assert_eq(lt_bind(f->dev, "os", f->os), 0);
    f->bus = lt_ops(f->dev, "bus");
    cr_assert_not_null(f->bus);
    f->spy.real = f->bus;
    f->spy.rs = f->dev->self;
    cr_assert_eq(lt_bind_raw(f->nic, "bus", &spy_ops, &f->spy), 0);
    cr_assert_eq(lt_bind(f->nic, "skb", f->skb), 0);
    cr_assert_eq(lt_bind(f->nic, "os", f->os), 0);
    const struct lyra_provide *pv = &lyra_component_nic_dma.provides[0];
    cr_assert_eq(pv->attach(f->nic->self, &user_ev, &f->u), 0);
    cr_assert_eq(pv->attach(f->nic->self, &user_ev, &f->u), -EBUSY, "netdev has one user");
    f->nd = lt_ops(f->nic, "netdev");
    f->so = lt_ops(f->skb, "skb");
}

static void fx_build(struct fx *f, const char *const *dev_p, const char *const *nic_p)
{
    fx_build_skb(f, (const char *const[]){"count=128", NULL}, dev_p, nic_p);
}

static void fx_start(struct fx *f, bool start_nic)
{
    cr_assert_eq(lt_start(f->os), 0);
    cr_assert_eq(lt_start(f->skb), 0);
    cr_assert_eq(lt_start(f->dev), 0);
    if (start_nic)
        cr_assert_eq(lt_start(f->nic), 0);
}

static void fx_make(struct fx *f, const char *const *dev_p, const char *const *nic_p,
                    bool start_nic)
{
    fx_build(f, dev_p, nic_p);
    fx_start(f, start_nic);
}

static void fx_up(struct fx *f)
{
    fx_make(f, NULL, NULL, true);
}

/* The model's behaviours; index q in the tests. */
static const char *const quirks[] = {"quirks=qemu", "quirks=datasheet"};
#define NQUIRKS 2
#define Q_QEMU 0
#define Q_DATASHEET 1
#define FOR_EACH_QUIRKS(q) for (unsigned q = 0; q < NQUIRKS; q++)

/* fx_make with the model in behaviour q (dev_p plus quirks[q]). */
static void fx_makeq(struct fx *f, const char *const *dev_p, const char *const *nic_p,
                     bool start_nic, unsigned q)
{
    const char *buf[16];
    unsigned n = 0;
    while (dev_p && dev_p[n] && n < 14) {
        buf[n] = dev_p[n];
        n++;
    }
    buf[n++] = quirks[q];
    buf[n] = NULL;
    fx_make(f, buf, nic_p, start_nic);
}

static uint64_t st(struct lt_inst *i, const char *name)
{
    uint64_t v = lt_stat(i, name);
    cr_assert_neq(v, UINT64_MAX, "%s reports no counter %s", i->c->name, name);
    return v;
}

static void fx_down(struct fx *f)
{
    lt_stop(f->nic);
    cr_assert_eq(st(f->skb, "in_use"), 0, "skbs leaked: %llu",
                 (unsigned long long)st(f->skb, "in_use"));
    cr_assert_eq(st(f->skb, "bad_free"), 0);
    cr_assert_eq(st(f->dev, "dma_maps_live"), 0, "DMA mappings left");
    cr_assert_eq(f->spy.maps, f->spy.unmaps);
    lt_stop(f->dev);
    cr_assert_eq(fake_os_links_open(f->os->self), 0, "the model closes its link at stop");
    lt_stop(f->skb);
    cr_assert_eq(fake_os_mem_in_use(f->os->self), 0, "os memory leaked");
    lt_destroy(f->nic);
    lt_destroy(f->dev);
    lt_destroy(f->skb);
    lt_destroy(f->os);
}

static int poll(struct fx *f)
{
    lt_poll(f->dev, 64);
    return lt_poll(f->nic, 64);
}

/* A frame: dst, our source, ethertype 0x88b5, payload byte i = seed + i. */
static uint32_t mkframe(uint8_t *b, uint32_t len, const uint8_t dst[6], uint8_t seed)
{
    memcpy(b, dst, 6);
    memcpy(b + 6, peer, 6);
    b[12] = 0x88;
    b[13] = 0xb5;
    for (uint32_t i = 14; i < len; i++)
        b[i] = (uint8_t)(seed + i);
    return len;
}

/* A linear skb holding a copy of frame. */
static struct lyra_skb *mkskb(struct fx *f, const uint8_t *frame, uint32_t len)
{
    struct lyra_skb *s = f->so->alloc(f->skb->self, 0, len);
    cr_assert_not_null(s);
    uint8_t *p = lyra_skb_put(s, len);
    cr_assert_not_null(p);
    memcpy(p, frame, len);
    return s;
}

static size_t take(struct fx *f, uint8_t *buf, size_t cap)
{
    return e1000_model_take_tx(f->dev->self, buf, cap);
}

/* ----- MAC from the EEPROM ------------------------------------------------ */

static void mac_from_eeprom_82540(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, true, q);
    struct lyra_netdev_caps c;
    cr_assert_eq(f.nd->caps(f.nic->self, &c), 0);
    cr_assert_arr_eq(c.mac, def_mac, 6);
    cr_assert_eq(c.mtu, 1500);
    cr_assert(c.link_up);
    struct lyra_bus_info bi;
    f.bus->info(f.dev->self, &bi);
    cr_assert_eq(bi.device, 0x100e);
    cr_assert(f.u.link_events == 1 && f.u.link, "link reported at start");
    cr_assert_eq(st(f.nic, "eeprom_csum_bad"), 0, "the model's EEPROM sums to 0xbaba");
    /* bus mastering was switched on */
    cr_assert(f.bus->cfg_read(f.dev->self, PCI_CMD, 2) & 0x4);
    fx_down(&f);
}

Test(nic_dma, mac_from_eeprom_82540)
{
    FOR_EACH_QUIRKS(q)
    mac_from_eeprom_82540(q);
}

static void mac_from_eeprom_82574(unsigned q)
{
    struct fx f;
    static const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    fx_makeq(&f, (const char *const[]){"variant=82574", "mac=02:aa:bb:cc:dd:ee", NULL}, NULL,
            true, q);
    struct lyra_netdev_caps c;
    cr_assert_eq(f.nd->caps(f.nic->self, &c), 0);
    cr_assert_arr_eq(c.mac, mac, 6);
    struct lyra_bus_info bi;
    f.bus->info(f.dev->self, &bi);
    cr_assert_eq(bi.device, 0x10d3);
    /* the receive filter holds it: a unicast frame to it is taken */
    uint8_t b[64];
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, mac, 1)), 0);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, def_mac, 1)), -EACCES);
    poll(&f);
    cr_assert_eq(f.u.rx, 1);
    fx_down(&f);
}

Test(nic_dma, mac_from_eeprom_82574)
{
    FOR_EACH_QUIRKS(q)
    mac_from_eeprom_82574(q);
}

Test(nic_dma, model_rejects_bad_variant)
{
    struct lt_inst *i = NULL;
    cr_assert_neq(lt_try_create(&lyra_component_e1000_model,
                                (const char *const[]){"variant=82541", NULL}, &i),
                  0);
}

Test(nic_dma, ring_sizes_must_be_multiples_of_8)
{
    struct lt_inst *i = NULL;
    cr_assert_neq(lt_try_create(&lyra_component_nic_dma,
                                (const char *const[]){"rx_ring=12", NULL}, &i),
                  0);
    cr_assert_neq(lt_try_create(&lyra_component_nic_dma,
                                (const char *const[]){"tx_ring=20", NULL}, &i),
                  0);
}

/* ----- transmit ------------------------------------------------------------ */

static void tx_segments_one_descriptor_each(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, true, q);
    /* page aligned: no segment crosses a page (that would split it) */
    static _Alignas(4096) uint8_t seg_a[300];
    static _Alignas(4096) uint8_t seg_b[700];
    static _Alignas(4096) uint8_t seg_c[5];
    memset(seg_a, 0xa1, sizeof(seg_a));
    memset(seg_b, 0xb2, sizeof(seg_b));
    memset(seg_c, 0xc3, sizeof(seg_c));
    uint8_t hdr[42];
    mkframe(hdr, sizeof(hdr), bcast, 7);
    struct lyra_skb *s = mkskb(&f, hdr, sizeof(hdr));
    const uint8_t *segs[3] = {seg_a, seg_b, seg_c};
    uint32_t lens[3] = {sizeof(seg_a), sizeof(seg_b), sizeof(seg_c)};
    for (unsigned i = 0; i < 3; i++)
        cr_assert_not_null(lt_skb_add_seg(s, segs[i], lens[i], 0));
    uint32_t tdt0 = f.bus->read32(f.dev->self, R_TDT);
    unsigned maps0 = f.spy.maps, unmaps0 = f.spy.unmaps; /* receive buffers posted at start */
    cr_assert_eq(st(f.nic, "tx_pending"), 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(st(f.nic, "tx_pending"), 1, "one frame (four descriptors) held");
    uint32_t tdt1 = f.bus->read32(f.dev->self, R_TDT);
    cr_assert_eq(tdt1 - tdt0, 4, "one descriptor per part");
    /* the descriptors: EOP (and RS) on the last only, IFCS on all */
    uint64_t ring = (uint64_t)f.bus->read32(f.dev->self, R_TDBAH) << 32 |
                    f.bus->read32(f.dev->self, R_TDBAL);
    uint8_t *d = spy_host(&f.spy, ring);
    cr_assert_not_null(d);
    uint32_t want_len[4] = {42, 300, 700, 5};
    for (unsigned i = 0; i < 4; i++) {
        uint8_t *x = d + 16 * (tdt0 + i);
        uint8_t cmd = x[11];
        cr_assert_eq((uint32_t)(x[8] | x[9] << 8), want_len[i]);
        cr_assert(cmd & 0x02, "IFCS");
        cr_assert_eq((cmd & 0x01) != 0, i == 3, "EOP on the last only (desc %u)", i);
        cr_assert_eq((cmd & 0x08) != 0, i == 3, "RS on the last only (desc %u)", i);
        cr_assert_eq((x[12] & 1) != 0, i == 3, "DD written back only with RS");
    }
    uint8_t out[2048], want[2048];
    size_t n = take(&f, out, sizeof(out));
    cr_assert_eq(n, 42 + 300 + 700 + 5);
    memcpy(want, hdr, 42);
    memcpy(want + 42, seg_a, 300);
    memcpy(want + 342, seg_b, 700);
    memcpy(want + 1042, seg_c, 5);
    cr_assert_arr_eq(out, want, n);
    poll(&f); /* reclaims: the skb goes back, mappings are released */
    cr_assert_eq(st(f.nic, "tx_frames"), 1);
    cr_assert_eq(st(f.nic, "tx_bytes"), 1047);
    cr_assert_eq(st(f.nic, "tx_pending"), 0, "given back at the poll");
    cr_assert_eq(f.spy.maps - maps0, 4);
    cr_assert_eq(f.spy.unmaps - unmaps0, 4);
    fx_down(&f);
}

Test(nic_dma, tx_segments_one_descriptor_each)
{
    FOR_EACH_QUIRKS(q)
    tx_segments_one_descriptor_each(q);
}

Test(nic_dma, tx_segment_crossing_a_page_is_split)
{
    struct fx f;
    fx_up(&f);
    struct lyra_netdev_caps c;
    f.nd->caps(f.nic->self, &c);
    cr_assert(c.page_contig);
    static _Alignas(4096) uint8_t mem[8192];
    for (unsigned i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 3);
    uint8_t hdr[14], out[2048];
    mkframe(hdr, sizeof(hdr), bcast, 1);
    struct lyra_skb *s = mkskb(&f, hdr, sizeof(hdr));
    cr_assert_not_null(lt_skb_add_seg(s, mem + 4096 - 100, 300, 0));
    uint32_t tdt0 = f.bus->read32(f.dev->self, R_TDT);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(f.bus->read32(f.dev->self, R_TDT) - tdt0, 3, "header, then the segment in two");
    cr_assert_eq(take(&f, out, sizeof(out)), 314);
    cr_assert_arr_eq(out + 14, mem + 3996, 300);
    poll(&f);
    fx_down(&f);
}

/* More pieces than the driver gathers (TX_MAX_PARTS): the frame goes out
 * from one linear copy (the shared lyra_skb_bounce), counted as a copy;
 * the original is freed at once (its completion runs). */
static void done_count(void *ctx, struct lyra_skb *s)
{
    (void)s;
    ++*(int *)ctx;
}

Test(nic_dma, tx_more_pieces_than_descriptors_bounced)
{
    struct fx f;
    fx_up(&f);
    static _Alignas(4096) uint8_t mem[4096];
    for (unsigned i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 5 + 1);
    uint8_t hdr[14], out[2048];
    mkframe(hdr, sizeof(hdr), bcast, 1);
    struct lyra_skb *s = mkskb(&f, hdr, sizeof(hdr));
    for (unsigned i = 0; i < 40; i++)
        cr_assert_not_null(lt_skb_add_seg(s, mem + 30 * i, 30, 0));
    int done = 0;
    lyra_skb_set_done(s, done_count, &done);
    uint64_t c0 = st(f.nic, "copy_bytes");
    uint32_t tdt0 = f.bus->read32(f.dev->self, R_TDT);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(done, 1, "the original is done with once copied");
    uint32_t nd = f.bus->read32(f.dev->self, R_TDT) - tdt0;
    cr_assert(nd == 1 || nd == 2, "one linear copy (in two if it crosses a page): %u", nd);
    cr_assert_eq(take(&f, out, sizeof(out)), 14 + 1200);
    cr_assert_arr_eq(out, hdr, 14);
    cr_assert_arr_eq(out + 14, mem, 1200);
    cr_assert_eq(st(f.nic, "tx_bounced"), 1);
    cr_assert_eq(st(f.nic, "copy_bytes") - c0, 1214);
    poll(&f);
    fx_down(&f);
}

static void tx_short_frame_padded_by_psp(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, true, q);
    uint8_t b[42], out[128];
    mkframe(b, sizeof(b), bcast, 3);
    cr_assert_eq(f.nd->xmit(f.nic->self, mkskb(&f, b, sizeof(b))), 0);
    cr_assert_eq(take(&f, out, sizeof(out)), 60);
    cr_assert_arr_eq(out, b, 42);
    for (int i = 42; i < 60; i++)
        cr_assert_eq(out[i], 0);
    cr_assert_eq(st(f.dev, "tx_padded"), 1);
    fx_down(&f);
}

Test(nic_dma, tx_short_frame_padded_by_psp)
{
    FOR_EACH_QUIRKS(q)
    tx_short_frame_padded_by_psp(q);
}

static void tx_ring_full_eagain_then_tx_ready(unsigned q)
{
    struct fx f;
    /* page_contig off: each frame one descriptor wherever its buffer lies */
    fx_makeq(&f, NULL, (const char *const[]){"tx_ring=8", "page_contig=off", NULL}, true, q);
    /* the card stalls: no bus mastering, so no descriptor comes back */
    f.bus->cfg_write(f.dev->self, PCI_CMD, 2, 0x0003);
    uint8_t b[100];
    mkframe(b, sizeof(b), bcast, 9);
    for (int i = 0; i < 7; i++)
        cr_assert_eq(f.nd->xmit(f.nic->self, mkskb(&f, b, sizeof(b))), 0, "frame %d", i);
    struct lyra_skb *s = mkskb(&f, b, sizeof(b));
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EAGAIN);
    cr_assert_eq(st(f.nic, "tx_busy"), 1);
    poll(&f);
    cr_assert_eq(f.u.tx_ready, 0, "nothing came back yet");
    cr_assert_gt(st(f.dev, "dma_refused"), 0);
    uint8_t out[256];
    cr_assert_eq(take(&f, out, sizeof(out)), 0);
    /* mastering back: the ring drains, descriptors come back, tx_ready */
    f.bus->cfg_write(f.dev->self, PCI_CMD, 2, 0x0007);
    poll(&f);
    cr_assert_eq(f.u.tx_ready, 1);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    unsigned n = 0;
    while (take(&f, out, sizeof(out)) == 100)
        n++;
    cr_assert_eq(n, 8);
    poll(&f);
    fx_down(&f);
}

Test(nic_dma, tx_ring_full_eagain_then_tx_ready)
{
    FOR_EACH_QUIRKS(q)
    tx_ring_full_eagain_then_tx_ready(q);
}

static void count_done(void *ctx, struct lyra_skb *s)
{
    (void)s;
    ++*(unsigned *)ctx;
}

/* skb 1.3 send completion: done runs when the card has sent the frame and
 * the driver reclaimed its descriptor, not when xmit returns. */
Test(nic_dma, send_completion_after_the_card_is_done)
{
    struct fx f;
    fx_up(&f);
    f.bus->cfg_write(f.dev->self, PCI_CMD, 2, 0x0003); /* the card stalls */
    uint8_t b[100];
    mkframe(b, sizeof(b), bcast, 9);
    unsigned done = 0;
    struct lyra_skb *s = mkskb(&f, b, sizeof(b));
    lyra_skb_set_done(s, count_done, &done);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    poll(&f);
    cr_assert_eq(done, 0, "on the ring, not sent: not done");
    f.bus->cfg_write(f.dev->self, PCI_CMD, 2, 0x0007);
    poll(&f);
    uint8_t out[256];
    cr_assert_eq(take(&f, out, sizeof(out)), 100);
    poll(&f);
    cr_assert_eq(done, 1, "sent and reclaimed: done");
    fx_down(&f);
}

Test(nic_dma, tx_errors_leave_the_skb_with_the_caller)
{
    struct fx f;
    fx_up(&f);
    uint8_t b[1600];
    struct lyra_skb *s = f.so->alloc(f.skb->self, 0, 1515);
    mkframe(lyra_skb_put(s, 1515), 1515, bcast, 1);
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EMSGSIZE);
    lyra_skb_free(s);
    s = mkskb(&f, b, mkframe(b, 60, bcast, 1));
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 300); /* beyond the frame */
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EINVAL);
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 54); /* the field ends 2 past it */
    s->csum_off = 6;
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EINVAL);
    cr_assert_gt(lyra_skb_headroom(s), 34);
    s->csum_start = 34; /* counted from data, not head: before the frame */
    s->csum_off = 6;
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EINVAL);
    lyra_skb_free(s);
    cr_assert_eq(st(f.nic, "tx_errors"), 4);
    cr_assert_eq(st(f.nic, "tx_csum_offload"), 0);
    fx_down(&f);
}

/* ----- receive ------------------------------------------------------------- */

static void rx_every_length_60_to_1514(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, true, q);
    uint8_t b[1514];
    uint64_t bytes = 0;
    for (uint32_t len = 60; len <= 1514; len++) {
        mkframe(b, len, def_mac, (uint8_t)len);
        cr_assert_eq(e1000_model_inject(f.dev->self, b, len), 0, "len %u", len);
        poll(&f);
        cr_assert_eq(f.u.rx, len - 59, "%s: len %u", quirks[q], len);
        cr_assert_eq(f.u.last_len, len, "%s: len %u", quirks[q], len);
        cr_assert_arr_eq(f.u.last, b, len, "%s: len %u", quirks[q], len);
        cr_assert(f.u.last_flags & LYRA_SKB_F_RX);
        bytes += len;
    }
    cr_assert_eq(st(f.nic, "rx_frames"), 1455);
    cr_assert_eq(st(f.nic, "rx_bytes"), bytes);
    cr_assert_eq(st(f.nic, "copy_bytes"), 0, "frames land in posted skbs: nothing copied");
    cr_assert_eq(st(f.nic, "rx_errors"), 0);
    fx_down(&f);
}

Test(nic_dma, rx_every_length_60_to_1514)
{
    FOR_EACH_QUIRKS(q)
    rx_every_length_60_to_1514(q);
}

Test(nic_dma, rx_short_frames_padded)
{
    struct fx f;
    fx_up(&f);
    uint8_t b[60];
    for (uint32_t len = 14; len < 60; len++) {
        memset(b, 0xee, sizeof(b));
        mkframe(b, len, bcast, 5);
        cr_assert_eq(e1000_model_inject(f.dev->self, b, len), 0);
        poll(&f);
        cr_assert_eq(f.u.last_len, 60);
        cr_assert_arr_eq(f.u.last, b, len);
        for (uint32_t i = len; i < 60; i++)
            cr_assert_eq(f.u.last[i], 0, "len %u byte %u", len, i);
    }
    cr_assert_eq(st(f.dev, "rx_padded"), 46);
    fx_down(&f);
}

Test(nic_dma, rx_oversize_dropped_and_counted)
{
    struct fx f;
    fx_up(&f);
    uint8_t b[1600];
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 1515, def_mac, 1)), -EMSGSIZE);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 1600, def_mac, 1)), -EMSGSIZE);
    /* 802.1Q-tagged frames may be 4 bytes longer */
    mkframe(b, 1518, def_mac, 1);
    b[12] = 0x81;
    b[13] = 0x00;
    cr_assert_eq(e1000_model_inject(f.dev->self, b, 1518), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 1);
    cr_assert_eq(f.u.last_len, 1518);
    cr_assert_eq(st(f.dev, "rx_oversize"), 2);
    fx_down(&f);
}

static void rx_filter(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, true, q);
    uint8_t b[64];
    static const uint8_t other[6] = {0x02, 0, 0, 0, 0, 0x99};
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, other, 1)), -EACCES);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, mcast, 1)), -EACCES);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, bcast, 1)), 0);
    cr_assert_eq(f.nd->set_rx_mode(f.nic->self, true, false), 0);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, mcast, 1)), 0);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, other, 1)), -EACCES);
    cr_assert_eq(f.nd->set_rx_mode(f.nic->self, false, true), 0);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, other, 1)), 0);
    /* the multicast table: 01:00:5e:00:00:01 hashes (MO 0, bits 47:36)
     * to 0x010, bit 16 of MTA[0] */
    cr_assert_eq(f.nd->set_rx_mode(f.nic->self, false, false), 0);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, mcast, 1)), -EACCES);
    f.bus->write32(f.dev->self, 0x5200, 1u << 16);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 64, mcast, 1)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 4);
    cr_assert_eq(st(f.dev, "rx_filtered"), 4);
    fx_down(&f);
}

Test(nic_dma, rx_filter)
{
    FOR_EACH_QUIRKS(q)
    rx_filter(q);
}

Test(nic_dma, stop_with_frames_in_flight)
{
    struct fx f;
    fx_up(&f);
    f.bus->cfg_write(f.dev->self, PCI_CMD, 2, 0x0003); /* nothing completes */
    uint8_t b[100];
    mkframe(b, sizeof(b), bcast, 9);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(f.nd->xmit(f.nic->self, mkskb(&f, b, sizeof(b))), 0);
    uint64_t posted = st(f.nic, "rx_posted");
    cr_assert_eq(posted, 63, "rx_ring - 1 receive buffers posted");
    cr_assert_eq(st(f.nic, "tx_pending"), 5, "nothing came back");
    cr_assert_eq(st(f.skb, "in_use"), 5 + posted, "the ring's skbs are tx_pending + rx_posted");
    cr_assert_eq(st(f.dev, "dma_maps_live"), 5 + posted);
    fx_down(&f); /* stop gives them all back */
}

static void rx_overflow_counted_then_recovers(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, (const char *const[]){"rx_ring=8", NULL}, true, q);
    uint8_t b[200];
    int ok = 0, full = 0;
    for (int i = 0; i < 12; i++) {
        int r = e1000_model_inject(f.dev->self, b, mkframe(b, 200, def_mac, (uint8_t)i));
        if (r == 0)
            ok++;
        else if (r == -ENOBUFS)
            full++;
    }
    cr_assert_eq(ok, 7, "RDT starts at N-1: 7 of 8 descriptors are the card's");
    cr_assert_eq(full, 5);
    cr_assert_eq(st(f.dev, "rx_overflow"), 5);
    cr_assert_eq(f.bus->read32(f.dev->self, 0x40a0), 5, "RNBC");
    poll(&f);
    cr_assert_eq(f.u.rx, 7);
    cr_assert_eq(st(f.nic, "rx_overruns"), 1, "ICR.RXO seen");
    /* recovery: the ring is the card's again, and it wraps */
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 7; i++)
            cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 200, def_mac, 3)), 0);
        poll(&f);
    }
    cr_assert_eq(f.u.rx, 42);
    cr_assert_eq(st(f.dev, "rx_overflow"), 5);
    fx_down(&f);
}

Test(nic_dma, rx_overflow_counted_then_recovers)
{
    FOR_EACH_QUIRKS(q)
    rx_overflow_counted_then_recovers(q);
}

Test(nic_dma, rx_frame_across_descriptors_dropped_whole)
{
    struct fx f;
    fx_up(&f);
    /* 256-byte buffers (BSEX off, BSIZE 11b): a 1000-byte frame takes 4 */
    uint32_t rctl = f.bus->read32(f.dev->self, R_RCTL);
    f.bus->write32(f.dev->self, R_RCTL, (rctl & ~(1u << 25)) | 3u << 16);
    uint8_t b[1000];
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 1000, def_mac, 1)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 0);
    cr_assert_eq(st(f.nic, "rx_errors"), 1, "one frame, counted once");
    f.bus->write32(f.dev->self, R_RCTL, rctl);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 2)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 1);
    cr_assert_arr_eq(f.u.last, b, 100);
    fx_down(&f);
}

Test(nic_dma, irq_line_follows_icr_and_ims)
{
    struct fx f;
    fx_up(&f);
    (void)f.bus->read32(f.dev->self, R_ICR);
    cr_assert(!f.bus->irq_pending(f.dev->self));
    uint8_t b[100];
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 1)), 0);
    cr_assert(f.bus->irq_pending(f.dev->self), "RXT0 is enabled in IMS by the driver");
    poll(&f); /* the driver reads ICR: the line drops */
    cr_assert(!f.bus->irq_pending(f.dev->self));
    f.bus->write32(f.dev->self, R_IMC, 0xffffffffu);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 1)), 0);
    cr_assert(!f.bus->irq_pending(f.dev->self), "masked");
    poll(&f);
    cr_assert_eq(f.u.rx, 2, "poll mode does not need the line");
    fx_down(&f);
}

Test(nic_dma, too_little_dma_memory_fails_start_cleanly)
{
    struct fx f;
    /* the receive ring (32 KiB) fits and gets its buffers posted, the
     * transmit ring (64 KiB) does not: the posted skbs go back */
    fx_make(&f, (const char *const[]){"dma_mem=64k", NULL},
            (const char *const[]){"rx_ring=2048", "tx_ring=4096", NULL}, false);
    cr_assert_eq(lt_start(f.nic), -ENOMEM);
    cr_assert_gt(st(f.skb, "alloc_rx"), 0, "buffers were posted before the failure");
    fx_down(&f);
}

/* Receive-buffer posting (netdev 1.1): a frame whose descriptor cannot get
 * a fresh buffer still goes up; the descriptor stays bare (rx_nobuf) and is
 * refilled at a later poll step once buffers are back. */
Test(nic_dma, rx_pool_empty_leaves_descriptor_bare_then_refills)
{
    struct fx f;
    fx_up(&f);
    cr_assert_eq(st(f.nic, "rx_posted"), 63);
    struct lyra_skb *held[128];
    unsigned n = 0;
    while (n < 128 && (held[n] = f.so->alloc(f.skb->self, 0, 100)))
        n++;
    cr_assert_eq(n, 128 - 63, "the ring holds 63 of the pool's 128 buffers");
    uint8_t b[100];
    f.u.keep = 1;
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 1)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 1, "the frame was already in an skb: it goes up");
    cr_assert_arr_eq(f.u.last, b, 100);
    cr_assert_eq(st(f.nic, "rx_nobuf"), 1);
    cr_assert_eq(st(f.nic, "rx_posted"), 62, "the user holds it: the descriptor stays bare");
    poll(&f);
    cr_assert_eq(st(f.nic, "rx_posted"), 62, "nothing to refill it with");
    u_release(&f.u);
    poll(&f);
    cr_assert_eq(st(f.nic, "rx_posted"), 63, "refilled once the buffer came back");
    /* a user that frees during rx gives the buffer back within the step:
     * the descriptor is bare only until the step's last refill */
    f.u.keep = 0;
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 2)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 2);
    cr_assert_eq(st(f.nic, "rx_nobuf"), 2);
    cr_assert_eq(st(f.nic, "rx_posted"), 63);
    while (n)
        lyra_skb_free(held[--n]);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 3)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 3);
    cr_assert_eq(st(f.nic, "rx_nobuf"), 2, "a fresh buffer was there");
    cr_assert_eq(st(f.nic, "rx_posted"), 63);
    fx_down(&f);
}

/* The user keeps every received skb and the pool has nothing else: the ring
 * runs dry, the card drops and the driver counts it (MPC: rx_missed); once
 * the user lets go, the ring is refilled and frames flow again (no stall). */
static void rx_ring_dry_counts_drops_and_recovers(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, (const char *const[]){"rx_ring=8", NULL}, true, q);
    cr_assert_eq(st(f.nic, "rx_posted"), 7);
    struct lyra_skb *held[128];
    unsigned n = 0;
    while (n < 128 && (held[n] = f.so->alloc(f.skb->self, 0, 100)))
        n++;
    f.u.keep = 64;
    uint8_t b[200];
    for (int i = 0; i < 7; i++)
        cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 200, def_mac, (uint8_t)i)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 7);
    cr_assert_eq(f.u.nkept, 7);
    cr_assert_eq(st(f.nic, "rx_posted"), 0, "every buffer is the user's now");
    cr_assert_eq(st(f.nic, "rx_nobuf"), 7);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 200, def_mac, 9)), -ENOBUFS);
    poll(&f);
    cr_assert_eq(st(f.nic, "rx_missed"), 3, "the card's drops, counted");
    cr_assert_eq(st(f.nic, "rx_overruns"), 1);
    cr_assert_eq(f.u.rx, 7);
    /* the user lets go of what it kept: the next step posts them again */
    f.u.keep = 0;
    u_release(&f.u);
    poll(&f);
    cr_assert_eq(st(f.nic, "rx_posted"), 7);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 7; i++)
            cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 200, def_mac, 4)), 0);
        poll(&f);
    }
    cr_assert_eq(f.u.rx, 28);
    cr_assert_arr_eq(f.u.last, b, 200);
    while (n)
        lyra_skb_free(held[--n]);
    fx_down(&f);
}

Test(nic_dma, rx_ring_dry_counts_drops_and_recovers)
{
    FOR_EACH_QUIRKS(q)
    rx_ring_dry_counts_drops_and_recovers(q);
}

/* A provider whose buffers cannot hold a frame is refused at start. */
Test(nic_dma, rx_buffers_too_small_refused_at_start)
{
    struct fx f;
    fx_build_skb(&f, (const char *const[]){"buf_size=1024", NULL}, NULL, NULL);
    fx_start(&f, false);
    cr_assert_eq(lt_start(f.nic), -EMSGSIZE);
    fx_down(&f);
}

/* ----- bus mastering -------------------------------------------------------- */

Test(nic_dma, bus_mastering_off_means_no_dma)
{
    struct fx f;
    fx_make(&f, NULL, NULL, false);
    f.spy.drop_cfg_write = true; /* the driver cannot turn it on */
    cr_assert_eq(lt_start(f.nic), 0);
    uint8_t b[100], out[256];
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 1)), -EIO);
    cr_assert_eq(f.nd->xmit(f.nic->self, mkskb(&f, b, 100)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 0);
    cr_assert_eq(take(&f, out, sizeof(out)), 0, "no DMA: nothing sent");
    cr_assert_eq(f.bus->read32(f.dev->self, R_TDH), 0);
    cr_assert_geq(st(f.dev, "dma_refused"), 2);
    /* once on, the waiting frame goes */
    f.bus->cfg_write(f.dev->self, PCI_CMD, 2, 0x0007);
    cr_assert_eq(take(&f, out, sizeof(out)), 100);
    poll(&f);
    fx_down(&f);
}

/* ----- checksum offload ------------------------------------------------------ */

static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t s)
{
    for (uint32_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* Ethernet + IPv4 (checksum right) + UDP (len payload bytes); the UDP
 * checksum holds the pseudo-header sum (seed) or the full checksum. */
static uint32_t mkudp(uint8_t *b, uint32_t payload, bool full_csum)
{
    uint32_t ulen = 8 + payload, tot = 20 + ulen;
    memset(b, 0, 14 + tot);
    memcpy(b, def_mac, 6);
    memcpy(b + 6, peer, 6);
    b[12] = 0x08;
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, (uint8_t[]){192, 0, 2, 1, 192, 0, 2, 2}, 8);
    uint16_t ic = (uint16_t)~fold(sum16(ip, 20, 0));
    ip[10] = (uint8_t)(ic >> 8);
    ip[11] = (uint8_t)ic;
    uint8_t *u = ip + 20;
    u[0] = 0x30;
    u[1] = 0x39;
    u[2] = 0x00;
    u[3] = 0x07;
    u[4] = (uint8_t)(ulen >> 8);
    u[5] = (uint8_t)ulen;
    for (uint32_t i = 0; i < payload; i++)
        u[8 + i] = (uint8_t)(i * 7 + 1);
    uint32_t pseudo = sum16(ip + 12, 8, 0) + 17 + ulen;
    uint16_t c = full_csum ? (uint16_t)~fold(sum16(u, ulen, pseudo)) : fold(pseudo);
    if (full_csum && c == 0)
        c = 0xffff;
    u[6] = (uint8_t)(c >> 8);
    u[7] = (uint8_t)c;
    return 14 + tot;
}

static bool udp_ok(const uint8_t *b, uint32_t len)
{
    const uint8_t *ip = b + 14;
    uint32_t ulen = (uint32_t)(ip[24] << 8 | ip[25]);
    if (14 + 20 + ulen > len)
        return false;
    uint32_t pseudo = sum16(ip + 12, 8, 0) + 17 + ulen;
    return fold(sum16(ip + 20, ulen, pseudo)) == 0xffff;
}

Test(nic_dma, csum_tx_offload_on)
{
    struct fx f;
    fx_up(&f);
    struct lyra_netdev_caps c;
    f.nd->caps(f.nic->self, &c);
    cr_assert_eq(c.csum_tx, LYRA_CSUM_TCP | LYRA_CSUM_UDP);
    uint8_t b[1514], out[2048];
    for (int k = 0; k < 2; k++) {
        uint32_t len = mkudp(b, 100 + 333 * (uint32_t)k, false);
        cr_assert(!udp_ok(b, len));
        /* header linear, payload as a segment */
        struct lyra_skb *s = mkskb(&f, b, 42);
        cr_assert_not_null(lt_skb_add_seg(s, b + 42, len - 42, 0));
        s->flags |= LYRA_SKB_F_CSUM_TX;
        s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 34); /* from head */
        s->csum_off = 6;
        cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
        size_t n = take(&f, out, sizeof(out));
        cr_assert_eq(n, len);
        cr_assert(udp_ok(out, len), "the card inserted the UDP checksum");
        poll(&f);
    }
    cr_assert_eq(st(f.dev, "tx_csum_inserted"), 2);
    cr_assert_eq(st(f.nic, "tx_ctx_desc"), 1, "the context is reused while it holds");
    cr_assert_eq(st(f.nic, "tx_csum_offload"), 2);
    fx_down(&f);
}

/* skb.h counts csum_start from head, so a transport sets it once, at its
 * header, and the layers below push theirs without touching it, however
 * much headroom the pool left in front: the card gets the offsets in the
 * frame (css 34, cso 40 each time, so one context serves them all) and the
 * checksum it inserts is the one computed here in software. 600 bytes of
 * headroom put csum_start beyond what a CSS field (8 bits) could hold. */
Test(nic_dma, csum_tx_offload_with_extra_headroom)
{
    struct fx f;
    fx_up(&f);
    static const uint32_t extra[] = {0, 1, 7, 250, 600};
    uint8_t seeded[400], want[400], out[2048];
    uint32_t len = mkudp(seeded, 300, false);
    cr_assert_eq(mkudp(want, 300, true), len);
    cr_assert(udp_ok(want, len) && !udp_ok(seeded, len));
    for (unsigned k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
        /* as udp, ip and eth build it: payload, then headers pushed down */
        struct lyra_skb *s = f.so->alloc(f.skb->self, 42 + extra[k], len - 42);
        cr_assert_not_null(s);
        cr_assert_geq(lyra_skb_headroom(s), 42 + extra[k]);
        memcpy(lyra_skb_put(s, len - 42), seeded + 42, len - 42);
        memcpy(lyra_skb_push(s, 8), seeded + 34, 8);
        s->flags |= LYRA_SKB_F_CSUM_TX;
        s->csum_start = (uint16_t)lyra_skb_headroom(s); /* once, at the UDP header */
        s->csum_off = 6;
        uint16_t cs = s->csum_start;
        memcpy(lyra_skb_push(s, 20), seeded + 14, 20);
        memcpy(lyra_skb_push(s, 14), seeded, 14);
        cr_assert_eq(lyra_skb_headroom(s) + 34, cs);
        cr_assert_eq(f.nd->xmit(f.nic->self, s), 0, "extra headroom %u", extra[k]);
        size_t n = take(&f, out, sizeof(out));
        cr_assert_eq(n, len);
        cr_assert_arr_eq(out, want, len, "extra headroom %u: the card's checksum is not ours",
                         extra[k]);
        poll(&f);
    }
    cr_assert_eq(st(f.dev, "tx_csum_inserted"), 5);
    cr_assert_eq(st(f.nic, "tx_csum_offload"), 5);
    cr_assert_eq(st(f.nic, "tx_ctx_desc"), 1, "the same frame offsets: one context");
    cr_assert_eq(st(f.nic, "tx_errors"), 0);
    fx_down(&f);
}

Test(nic_dma, csum_tx_offload_off)
{
    struct fx f;
    fx_make(&f, NULL, (const char *const[]){"csum_tx=off", NULL}, true);
    struct lyra_netdev_caps c;
    f.nd->caps(f.nic->self, &c);
    cr_assert_eq(c.csum_tx, 0);
    uint8_t b[300], out[512];
    uint32_t len = mkudp(b, 50, true);
    struct lyra_skb *s = mkskb(&f, b, len);
    s->flags |= LYRA_SKB_F_CSUM_TX;
    s->csum_start = (uint16_t)(lyra_skb_headroom(s) + 34);
    s->csum_off = 6;
    cr_assert_eq(f.nd->xmit(f.nic->self, s), -EOPNOTSUPP);
    s->flags &= (uint16_t)~LYRA_SKB_F_CSUM_TX;
    cr_assert_eq(f.nd->xmit(f.nic->self, s), 0);
    cr_assert_eq(take(&f, out, sizeof(out)), len);
    cr_assert_arr_eq(out, b, len, "sent as it was: the card did not touch it");
    cr_assert_eq(st(f.dev, "tx_csum_inserted"), 0);
    poll(&f);
    fx_down(&f);
}

Test(nic_dma, csum_rx_status)
{
    struct fx f;
    fx_up(&f);
    uint8_t b[300];
    uint32_t len = mkudp(b, 77, true);
    cr_assert(udp_ok(b, len));
    cr_assert_eq(e1000_model_inject(f.dev->self, b, len), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 1);
    cr_assert(f.u.last_flags & LYRA_SKB_F_CSUM_OK);
    cr_assert(f.u.last_flags & LYRA_SKB_F_L3CSUM_OK, "the card checked the IPv4 header");
    b[60] ^= 0x40; /* payload corrupted: the card says so */
    cr_assert_eq(e1000_model_inject(f.dev->self, b, len), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 2);
    cr_assert(!(f.u.last_flags & LYRA_SKB_F_CSUM_OK));
    cr_assert(f.u.last_flags & LYRA_SKB_F_L3CSUM_OK, "the IPv4 header is still right");
    cr_assert_eq(st(f.nic, "rx_csum_bad"), 1);
    cr_assert_eq(st(f.nic, "rx_csum_ok"), 1);
    b[60] ^= 0x40;
    b[14 + 8] ^= 1; /* TTL changed, header checksum not: IPE */
    cr_assert_eq(e1000_model_inject(f.dev->self, b, len), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 3);
    cr_assert(!(f.u.last_flags & LYRA_SKB_F_L3CSUM_OK), "a bad IPv4 header vouched for");
    cr_assert(!(f.u.last_flags & LYRA_SKB_F_CSUM_OK));
    cr_assert_eq(st(f.nic, "rx_csum_bad"), 2);
    fx_down(&f);
}

Test(nic_dma, csum_rx_off)
{
    struct fx f;
    fx_make(&f, NULL, (const char *const[]){"csum_rx=off", NULL}, true);
    uint8_t b[300];
    uint32_t len = mkudp(b, 77, true);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, len), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 1);
    cr_assert(!(f.u.last_flags & LYRA_SKB_F_CSUM_OK));
    cr_assert(!(f.u.last_flags & LYRA_SKB_F_L3CSUM_OK));
    struct lyra_netdev_caps c;
    f.nd->caps(f.nic->self, &c);
    cr_assert_eq(c.csum_rx, 0);
    fx_down(&f);
}

/* ----- link ------------------------------------------------------------------ */

Test(nic_dma, link_change_reported)
{
    struct fx f;
    fx_up(&f);
    e1000_model_set_link(f.dev->self, false);
    poll(&f);
    cr_assert_eq(f.u.link_events, 2);
    cr_assert(!f.u.link);
    e1000_model_set_link(f.dev->self, true);
    poll(&f);
    cr_assert(f.u.link);
    cr_assert_eq(st(f.nic, "link_changes"), 2);
    fx_down(&f);
}

Test(nic_dma, model_link_needs_os_links)
{
    struct lt_inst *os = lt_create(&lyra_component_fake_os, NULL);
    struct lt_inst *dev = lt_create(&lyra_component_e1000_model,
                                    (const char *const[]){"link=wire:x", NULL});
    /* an os without links (bare metal, or an os 1.0 provider) */
    struct lyra_os_ops nolinks = *(const struct lyra_os_ops *)lt_ops(os, "os");
    nolinks.link_open = NULL;
    nolinks.link_close = NULL;
    nolinks.link_send = NULL;
    nolinks.link_recv = NULL;
    cr_assert_eq(lt_bind_raw(dev, "os", &nolinks, os->self), 0);
    cr_assert_eq(lt_start(os), 0);
    cr_assert_neq(lt_start(dev), 0, "a link was asked for and the os has none");
    cr_assert_eq(fake_os_mem_in_use(os->self), 0);
    lt_destroy(dev);
    lt_destroy(os);
}

Test(nic_dma, link_alone_through_fake_os)
{
    struct fx f;
    fx_make(&f, (const char *const[]){"link=wire:t", NULL}, NULL, true);
    cr_assert_eq(fake_os_links_open(f.os->self), 1);
    uint8_t b[1600], out[2048];
    /* transmit goes to the link, not to the capture */
    cr_assert_eq(f.nd->xmit(f.nic->self, mkskb(&f, b, mkframe(b, 42, bcast, 1))), 0);
    cr_assert_eq(take(&f, out, sizeof(out)), 0);
    cr_assert_eq(fake_os_link_take(f.os->self, "wire:t", out, sizeof(out)), 60);
    cr_assert_arr_eq(out, b, 42);
    /* the poll hook moves frames from the link into the ring */
    cr_assert_eq(fake_os_link_inject(f.os->self, "wire:t", b, mkframe(b, 300, def_mac, 2)), 0);
    cr_assert_eq(fake_os_link_inject(f.os->self, "wire:t", b, mkframe(b, 1600, def_mac, 3)), 0);
    cr_assert_eq(fake_os_link_inject(f.os->self, "wire:t", b, mkframe(b, 20, bcast, 4)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 2);
    cr_assert_eq(f.u.last_len, 60, "padded");
    cr_assert_eq(st(f.dev, "rx_oversize"), 1);
    fx_down(&f);
}

Test(nic_dma, two_cards_on_a_wire)
{
    struct fx a, b;
    fx_build(&a, (const char *const[]){"link=wire:w", NULL}, NULL);
    fx_build(&b, (const char *const[]){"link=wire:w", "variant=82574", "mac=02:00:00:00:00:21",
                                       NULL},
             NULL);
    cr_assert_eq(fake_os_link_pair(a.os->self, b.os->self, "w"), 0);
    fx_start(&a, true);
    fx_start(&b, true);
    static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x21};
    uint8_t fr[1514];
    for (uint32_t len = 60; len <= 1514; len += 97) {
        mkframe(fr, len, mac_b, (uint8_t)len);
        cr_assert_eq(a.nd->xmit(a.nic->self, mkskb(&a, fr, len)), 0);
        poll(&a);
        poll(&b);
        cr_assert_eq(b.u.last_len, len);
        cr_assert_arr_eq(b.u.last, fr, len);
    }
    cr_assert_eq(b.u.rx, 15);
    /* and back, to a's MAC only */
    mkframe(fr, 100, def_mac, 1);
    cr_assert_eq(b.nd->xmit(b.nic->self, mkskb(&b, fr, 100)), 0);
    mkframe(fr, 100, mac_b, 1);
    cr_assert_eq(b.nd->xmit(b.nic->self, mkskb(&b, fr, 100)), 0);
    poll(&b);
    poll(&a);
    cr_assert_eq(a.u.rx, 1);
    cr_assert_eq(st(a.dev, "rx_filtered"), 1);
    fx_down(&a);
    fx_down(&b);
}

static void restart(unsigned q)
{
    struct fx f;
    fx_makeq(&f, NULL, NULL, true, q);
    uint8_t b[100], out[256];
    lt_stop(f.nic);
    cr_assert_eq(lt_start(f.nic), 0);
    cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 100, def_mac, 1)), 0);
    cr_assert_eq(f.nd->xmit(f.nic->self, mkskb(&f, b, 100)), 0);
    poll(&f);
    cr_assert_eq(f.u.rx, 1);
    cr_assert_eq(take(&f, out, sizeof(out)), 100);
    fx_down(&f);
}

Test(nic_dma, restart)
{
    FOR_EACH_QUIRKS(q)
    restart(q);
}

/* ----- QEMU's reset and receive address vs the manual's -------------------- */

/* The model alone: what CTRL.RST does and what RAL0/RAH0 hold. */
Test(nic_dma, model_reset_and_receive_address_quirks)
{
    FOR_EACH_QUIRKS(q)
    {
        struct lt_inst *os = lt_create(&lyra_component_fake_os, NULL);
        struct lt_inst *dev =
            lt_create(&lyra_component_e1000_model, (const char *const[]){quirks[q], NULL});
        cr_assert(os && dev);
        cr_assert_eq(lt_bind(dev, "os", os), 0);
        cr_assert_eq(lt_start(os), 0);
        cr_assert_eq(lt_start(dev), 0);
        const struct lyra_bus_ops *b = lt_ops(dev, "bus");
        void *d = dev->self;
        uint32_t ral = b->read32(d, R_RAL0), rah = b->read32(d, R_RAH0);
        if (q == Q_QEMU) {
            cr_assert_eq(ral, 0x00000002u, "RAL0 preloaded");
            cr_assert_eq(rah, 0x80002000u, "RAH0 preloaded, AV");
        } else {
            cr_assert_eq(ral, 0, "RAL0 empty");
            cr_assert_eq(rah, 0, "RAH0 empty, AV clear");
        }
        b->write32(d, R_RDLEN, 1024);
        b->write32(d, R_RAL0, 0x11223344u);
        b->write32(d, R_CTRL, b->read32(d, R_CTRL) | (1u << 26));
        cr_assert_eq(b->read32(d, R_CTRL) & (1u << 26), 0, "RST self-clears");
        cr_assert_eq(b->read32(d, R_RDLEN), q == Q_QEMU ? 1024u : 0u, "%s", quirks[q]);
        cr_assert_eq(b->read32(d, R_RAL0), q == Q_QEMU ? 0x11223344u : 0u, "%s", quirks[q]);
        cr_assert_eq(st(dev, "resets"), q == Q_QEMU ? 0u : 1u);
        cr_assert_eq(st(dev, "resets_ignored"), q == Q_QEMU ? 1u : 0u);
        lt_destroy(dev);
        lt_destroy(os);
    }
}

/* The driver writes its receive address after the reset: with the manual's
 * empty RAL/RAH the card takes unicast frames to it all the same. */
Test(nic_dma, driver_writes_receive_address)
{
    FOR_EACH_QUIRKS(q)
    {
        struct fx f;
        fx_makeq(&f, (const char *const[]){"mac=02:aa:bb:cc:dd:ee", NULL}, NULL, true, q);
        cr_assert_eq(f.bus->read32(f.dev->self, R_RAL0), 0xccbbaa02u, "%s", quirks[q]);
        cr_assert_eq(f.bus->read32(f.dev->self, R_RAH0), 0x8000eeddu, "%s", quirks[q]);
        cr_assert_eq(st(f.dev, q == Q_QEMU ? "resets_ignored" : "resets"), 1);
        static const uint8_t mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
        uint8_t b[300];
        cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 300, mac, 4)), 0);
        poll(&f);
        cr_assert_eq(f.u.rx, 1);
        cr_assert_eq(f.u.last_len, 300);
        cr_assert_arr_eq(f.u.last, b, 300, "%s", quirks[q]);
        /* a restart resets the card again (or not, under QEMU): still fine */
        lt_stop(f.nic);
        cr_assert_eq(lt_start(f.nic), 0);
        cr_assert_eq(e1000_model_inject(f.dev->self, b, mkframe(b, 300, mac, 5)), 0);
        poll(&f);
        cr_assert_eq(f.u.rx, 2);
        cr_assert_arr_eq(f.u.last, b, 300, "%s", quirks[q]);
        fx_down(&f);
    }
}

/* ----- DMA faults: the model alone ----------------------------------------- */

static void txd(uint8_t *d, uint64_t addr, uint16_t len, uint8_t cmd)
{
    memset(d, 0, 16);
    for (int i = 0; i < 8; i++)
        d[i] = (uint8_t)(addr >> (8 * i));
    d[8] = (uint8_t)len;
    d[9] = (uint8_t)(len >> 8);
    d[11] = cmd;
}

Test(nic_dma, model_flags_wild_tx_address)
{
    struct e1000_bare x;
    e1000_bare_up(&x);
    uint64_t rbus, bbus;
    uint8_t *ring = x.b->dma_alloc(x.s, 128, 128, &rbus);
    uint8_t *buf = x.b->dma_alloc(x.s, 256, 64, &bbus);
    cr_assert(ring && buf);
    memset(buf, 0x5a, 256);
    txd(ring, 0xdead0000ull, 100, 0x0b);      /* wild */
    txd(ring + 16, bbus + 200, 100, 0x0b);    /* runs off the end of its region */
    txd(ring + 32, bbus, 100, 0x0b);          /* fine */
    x.b->write32(x.s, R_TDBAL, (uint32_t)rbus);
    x.b->write32(x.s, R_TDBAH, (uint32_t)(rbus >> 32));
    x.b->write32(x.s, R_TDLEN, 128);
    x.b->write32(x.s, R_TDH, 0);
    x.b->write32(x.s, R_TDT, 0);
    x.b->write32(x.s, R_TCTL, 0x2);
    x.b->write32(x.s, R_TDT, 3);
    cr_assert_eq(lt_stat(x.dev, "dma_faults"), 2);
    cr_assert_eq(lt_stat(x.dev, "tx_frames"), 1, "only the good frame went out");
    uint8_t out[256];
    cr_assert_eq(e1000_model_take_tx(x.s, out, sizeof(out)), 100);
    cr_assert_eq(e1000_model_take_tx(x.s, out, sizeof(out)), 0);
    /* a mapped buffer is reachable while mapped, a fault after unmap */
    static uint8_t user[64];
    uint64_t ubus;
    cr_assert_eq(x.b->dma_map(x.s, user, sizeof(user), &ubus), 0);
    txd(ring + 48, ubus, 64, 0x0b);
    x.b->write32(x.s, R_TDT, 4);
    cr_assert_eq(e1000_model_take_tx(x.s, out, sizeof(out)), 64);
    x.b->dma_unmap(x.s, user, sizeof(user));
    txd(ring + 64, ubus, 64, 0x0b);
    x.b->write32(x.s, R_TDT, 5);
    cr_assert_eq(lt_stat(x.dev, "dma_faults"), 3);
    /* a ring outside DMA memory */
    x.b->write32(x.s, R_TDBAL, 0x1000);
    x.b->write32(x.s, R_TDBAH, 0);
    x.b->write32(x.s, R_TDH, 0);
    x.b->write32(x.s, R_TDT, 1);
    cr_assert_eq(lt_stat(x.dev, "dma_faults"), 4);
    x.b->dma_free(x.s, buf, 256);
    x.b->dma_free(x.s, ring, 128);
    e1000_bare_down(&x);
}

Test(nic_dma, model_flags_wild_rx_address)
{
    struct e1000_bare x;
    e1000_bare_up(&x);
    uint64_t rbus;
    uint8_t *ring = x.b->dma_alloc(x.s, 128, 128, &rbus);
    for (int i = 0; i < 8; i++)
        txd(ring + 16 * i, 0xbad00000ull + (uint64_t)i * 4096, 0, 0);
    x.b->write32(x.s, R_RDBAL, (uint32_t)rbus);
    x.b->write32(x.s, R_RDLEN, 128);
    x.b->write32(x.s, R_RDH, 0);
    x.b->write32(x.s, R_RDT, 7);
    x.b->write32(x.s, R_RCTL, 0x2 | (1u << 15) | (1u << 26));
    uint8_t f[64];
    mkframe(f, 64, bcast, 1);
    cr_assert_eq(e1000_model_inject(x.s, f, 64), -EFAULT);
    cr_assert_eq(lt_stat(x.dev, "dma_faults"), 1);
    cr_assert_eq(x.b->read32(x.s, R_RDH), 0, "the descriptor was not consumed");
    cr_assert_eq(ring[12], 0, "no status written back");
    x.b->dma_free(x.s, ring, 128);
    e1000_bare_down(&x);
}

static uint32_t crc32_le(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

Test(nic_dma, model_appends_fcs_without_secrc)
{
    struct e1000_bare x;
    e1000_bare_up(&x);
    uint64_t rbus, bbus;
    uint8_t *ring = x.b->dma_alloc(x.s, 128, 128, &rbus);
    uint8_t *buf = x.b->dma_alloc(x.s, 2048, 2048, &bbus);
    txd(ring, bbus, 0, 0);
    x.b->write32(x.s, R_RDBAL, (uint32_t)rbus);
    x.b->write32(x.s, R_RDLEN, 128);
    x.b->write32(x.s, R_RDH, 0);
    x.b->write32(x.s, R_RDT, 1);
    x.b->write32(x.s, R_RCTL, 0x2 | (1u << 15)); /* EN, BAM; 2048-byte buffers; SECRC off */
    uint8_t f[100];
    mkframe(f, sizeof(f), bcast, 4);
    cr_assert_eq(e1000_model_inject(x.s, f, sizeof(f)), 0);
    cr_assert_eq(ring[12] & 3, 3, "DD and EOP");
    cr_assert_eq(ring[8] | ring[9] << 8, 104, "the length counts the FCS");
    cr_assert_arr_eq(buf, f, 100);
    cr_assert_eq(crc32_le(buf, 104), 0x2144df1cu, "the CRC residue of a good frame");
    cr_assert_eq(x.b->read32(x.s, R_RDH), 1);
    cr_assert(x.b->read32(x.s, R_ICR) & 0x80, "RXT0");
    cr_assert_eq(x.b->read32(x.s, R_ICR), 0, "ICR is read to clear");
    x.b->dma_free(x.s, buf, 2048);
    x.b->dma_free(x.s, ring, 128);
    e1000_bare_down(&x);
}

/* ----- scripted fake bus: the bring-up sequence ----------------------------- */

#define LOG_MAX 2048

struct fb_entry {
    char op; /* 'r' 'w' 'c' (config write) */
    uint32_t off, v;
};

struct fake_bus {
    uint16_t device;
    uint16_t cmd;
    uint32_t regs[0x6000 / 4];
    unsigned eerd_reads_left, rst_reads_left;
    struct fb_entry log[LOG_MAX];
    unsigned n;
    void *allocs[8];
    size_t sizes[8];
    unsigned nalloc;
    unsigned eeprom_variant; /* 82540 or 82574 */
};

static void fb_log(struct fake_bus *b, char op, uint32_t off, uint32_t v)
{
    if (b->n < LOG_MAX)
        b->log[b->n++] = (struct fb_entry){op, off, v};
}

static int fb_info(void *s, struct lyra_bus_info *i)
{
    struct fake_bus *b = s;
    memset(i, 0, sizeof(*i));
    i->vendor = 0x8086;
    i->device = b->device;
    i->is_pci = i->has_mmio = 1;
    i->mmio_size = 128 * 1024;
    return 0;
}
static uint8_t fb_inb(void *s, uint32_t p) { return 0xff; }
static uint16_t fb_inw(void *s, uint32_t p) { return 0xffff; }
static uint32_t fb_inl(void *s, uint32_t p) { return 0xffffffffu; }
static void fb_outb(void *s, uint32_t p, uint8_t v) {}
static void fb_outw(void *s, uint32_t p, uint16_t v) {}
static void fb_outl(void *s, uint32_t p, uint32_t v) {}
static void fb_insw(void *s, uint32_t p, void *buf, size_t n) {}
static void fb_outsw(void *s, uint32_t p, const void *buf, size_t n) {}

static uint32_t fb_read32(void *s, uint32_t off)
{
    struct fake_bus *b = s;
    uint32_t v = off < sizeof(b->regs) ? b->regs[off / 4] : 0;
    if (off == R_CTRL && (v & (1u << 26)) && b->rst_reads_left && !--b->rst_reads_left)
        v = b->regs[0] &= ~(1u << 26);
    if (off == R_EERD && b->eerd_reads_left && !--b->eerd_reads_left) {
        /* done now: the word is 0x1122 * (address + 1) */
        bool e = b->eeprom_variant == 82574;
        uint32_t a = e ? (v >> 2) & 0x3fff : (v >> 8) & 0xff;
        v = b->regs[off / 4] = v | (e ? 2u : 0x10u) | (0x1122u * (a + 1)) << 16;
    }
    fb_log(b, 'r', off, v);
    return v;
}

static void fb_write32(void *s, uint32_t off, uint32_t v)
{
    struct fake_bus *b = s;
    fb_log(b, 'w', off, v);
    if (off >= sizeof(b->regs))
        return;
    b->regs[off / 4] = v;
    if (off == R_CTRL && (v & (1u << 26)))
        b->rst_reads_left = 2;
    if (off == R_EERD)
        b->eerd_reads_left = 3; /* DONE on the third read */
}

static uint32_t fb_cfg_read(void *s, uint32_t off, unsigned size)
{
    struct fake_bus *b = s;
    return off == PCI_CMD ? b->cmd : 0;
}
static void fb_cfg_write(void *s, uint32_t off, unsigned size, uint32_t v)
{
    struct fake_bus *b = s;
    fb_log(b, 'c', off, v);
    if (off == PCI_CMD)
        b->cmd = (uint16_t)v;
}
static void *fb_dma_alloc(void *s, size_t size, size_t align, uint64_t *bus)
{
    struct fake_bus *b = s;
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    cr_assert(p && b->nalloc < 8);
    b->allocs[b->nalloc] = p;
    b->sizes[b->nalloc++] = size;
    *bus = (uint64_t)(uintptr_t)p;
    return p;
}
static void fb_dma_free(void *s, void *p, size_t size)
{
    free(p);
}
static int fb_dma_map(void *s, const void *p, size_t len, uint64_t *bus)
{
    *bus = (uint64_t)(uintptr_t)p;
    return 0;
}
static void fb_dma_unmap(void *s, const void *p, size_t len) {}
static bool fb_irq_pending(void *s) { return false; }
static void fb_irq_enable(void *s, bool on) {}
static void fb_delay_us(void *s, unsigned us) {}

static const struct lyra_bus_ops fake_bus_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .info = fb_info, .inb = fb_inb, .inw = fb_inw, .inl = fb_inl, .outb = fb_outb,
    .outw = fb_outw, .outl = fb_outl, .insw = fb_insw, .outsw = fb_outsw,
    .read32 = fb_read32, .write32 = fb_write32, .cfg_read = fb_cfg_read,
    .cfg_write = fb_cfg_write, .dma_alloc = fb_dma_alloc, .dma_free = fb_dma_free,
    .dma_map = fb_dma_map, .dma_unmap = fb_dma_unmap, .irq_pending = fb_irq_pending,
    .irq_enable = fb_irq_enable, .delay_us = fb_delay_us,
};

/* Index of the first log entry at or after `from` matching op/off, or -1. */
static int find(const struct fake_bus *b, int from, char op, uint32_t off)
{
    for (unsigned i = (unsigned)from; i < b->n; i++)
        if (b->log[i].op == op && b->log[i].off == off)
            return (int)i;
    return -1;
}

static void scripted_init(uint16_t device, unsigned variant, uint32_t eerd_shift)
{
    struct fake_bus *b = calloc(1, sizeof(*b));
    b->device = device;
    b->cmd = 0x0103;
    b->eeprom_variant = variant;
    struct lt_inst *os = lt_create(&lyra_component_fake_os, NULL);
    struct lt_inst *skb = lt_create(&lyra_component_skb_copy, NULL);
    struct lt_inst *nic = lt_create(&lyra_component_nic_dma,
                                    (const char *const[]){"rx_ring=16", "tx_ring=32", NULL});
    cr_assert_eq(lt_bind(skb, "os", os), 0);
    cr_assert_eq(lt_bind_raw(nic, "bus", &fake_bus_ops, b), 0);
    cr_assert_eq(lt_bind(nic, "skb", skb), 0);
    cr_assert_eq(lt_bind(nic, "os", os), 0);
    cr_assert_eq(lt_start(os), 0);
    cr_assert_eq(lt_start(skb), 0);
    cr_assert_eq(lt_start(nic), 0);

    /* bus mastering (and memory space) on, keeping what was there */
    int c = find(b, 0, 'c', PCI_CMD);
    cr_assert_geq(c, 0);
    cr_assert_eq(b->log[c].v, 0x0107);
    /* interrupts masked, then the reset, waited for */
    int imc = find(b, c, 'w', R_IMC);
    int rst = find(b, 0, 'w', R_CTRL);
    cr_assert(imc >= 0 && rst > imc);
    cr_assert(b->log[rst].v & (1u << 26));
    cr_assert_eq(b->regs[0] & (1u << 26), 0);
    /* three EEPROM words in the variant's EERD layout, each polled to DONE */
    int at = rst;
    for (uint32_t w = 0; w < 3; w++) {
        at = find(b, at + 1, 'w', R_EERD);
        cr_assert_geq(at, 0, "EERD word %u", w);
        cr_assert_eq(b->log[at].v, w << eerd_shift | 1, "EERD word %u", w);
    }
    /* MAC into RAL0/RAH0 with AV: words 0x1122, 0x2244, 0x3366 */
    int ral = find(b, at, 'w', R_RAL0), rah = find(b, at, 'w', R_RAH0);
    cr_assert(ral > at && rah > at);
    cr_assert_eq(b->log[ral].v, 0x22441122u);
    cr_assert_eq(b->log[rah].v, 0x80003366u);
    /* receive ring: length a multiple of 128, RDT = N-1, RCTL.EN after */
    int rdlen = find(b, 0, 'w', R_RDLEN);
    cr_assert_eq(b->log[rdlen].v, 16 * 16);
    cr_assert_eq(b->log[rdlen].v % 128, 0);
    int rdt = find(b, rdlen, 'w', R_RDT);
    cr_assert_eq(b->log[rdt].v, 15);
    int rctl = rdt;
    do
        rctl = find(b, rctl + 1, 'w', R_RCTL);
    while (rctl >= 0 && !(b->log[rctl].v & 2));
    cr_assert_gt(rctl, rdt, "receiver enabled after the ring is set");
    cr_assert(b->log[rctl].v & (1u << 26), "SECRC");
    cr_assert(b->log[rctl].v & (1u << 15), "BAM");
    /* BSIZE 2048 (BSEX off, bits 17:16 zero), LPE off */
    cr_assert_eq(b->log[rctl].v & (3u << 16 | 1u << 25 | 1u << 5), 0, "BSIZE 2048, LPE off");
    /* the receive descriptors point at skbs posted from the provider */
    uint8_t *ring = NULL;
    for (unsigned i = 0; i < b->nalloc; i++)
        if (b->sizes[i] == 16 * 16 && (uint32_t)(uintptr_t)b->allocs[i] == b->regs[R_RDBAL / 4])
            ring = b->allocs[i];
    cr_assert_not_null(ring);
    uint64_t a0 = 0, a1 = 0;
    memcpy(&a0, ring, 8);
    memcpy(&a1, ring + 16, 8);
    cr_assert(a0 && a1 && a0 != a1);
    cr_assert_eq(lt_stat(skb, "alloc_rx"), 15, "15 of 16 descriptors hold an skb");
    cr_assert_eq(lt_stat(nic, "rx_posted"), 15);
    /* transmit ring, then TCTL.EN with PSP */
    int tdlen = find(b, 0, 'w', R_TDLEN);
    cr_assert_eq(b->log[tdlen].v, 32 * 16);
    int tctl = tdlen;
    do
        tctl = find(b, tctl + 1, 'w', R_TCTL);
    while (tctl >= 0 && !(b->log[tctl].v & 2));
    cr_assert_gt(tctl, tdlen);
    cr_assert(b->log[tctl].v & (1u << 3), "PSP");
    cr_assert_eq(b->regs[R_TDT / 4], 0);
    cr_assert_eq(lt_stat(nic, "eeprom_csum_bad"), 1, "the script's EEPROM has no checksum");
    /* a poll reads ICR (read to clear) */
    unsigned before = b->n;
    lt_poll(nic, 8);
    cr_assert_geq(find(b, (int)before, 'r', R_ICR), 0);
    lt_destroy(nic);
    lt_destroy(skb);
    cr_assert_eq(fake_os_mem_in_use(os->self), 0);
    lt_destroy(os);
    free(b);
}

Test(nic_dma, scripted_init_82540)
{
    scripted_init(0x100e, 82540, 8);
}

Test(nic_dma, scripted_init_82574)
{
    scripted_init(0x10d3, 82574, 2);
}

Test(nic_dma, wrong_device_refused)
{
    struct fake_bus *b = calloc(1, sizeof(*b));
    b->device = 0x1234;
    struct lt_inst *os = lt_create(&lyra_component_fake_os, NULL);
    struct lt_inst *skb = lt_create(&lyra_component_skb_copy, NULL);
    struct lt_inst *nic = lt_create(&lyra_component_nic_dma, NULL);
    cr_assert_eq(lt_bind(skb, "os", os), 0);
    /* refused at bind, from bus info alone, so `lyranet check` reports it */
    cr_assert_eq(lt_bind_raw(nic, "bus", &fake_bus_ops, b), -ENODEV);
    cr_assert_eq(b->n, 0, "no register touched");
    lt_destroy(nic);
    lt_destroy(skb);
    lt_destroy(os);
    free(b);
}
