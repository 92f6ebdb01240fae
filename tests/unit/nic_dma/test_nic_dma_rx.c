/* nic_dma's receive-buffer posting (netdev 1.1) in isolation: a fake bus
 * (a register file, identity bus addresses, a table of live dma_map
 * mappings) and a fake skb provider (a small pool whose headroom, size and
 * emptiness the test chooses, recording every skb it hands out). The
 * "card" is the test: it reads the receive ring like the 8254x does (RDH,
 * RDT, descriptor addresses), writes frames where the descriptors point
 * and sets DD.
 *
 * What must hold: every receive descriptor points at the data of an skb the
 * provider handed out, mapped; a received frame goes up in that very skb
 * (same header, same data pointer, nothing copied, its mapping released
 * first) and a fresh skb takes its descriptor; an empty provider leaves
 * descriptors bare (rx_nobuf), the card's drops are counted (rx_missed)
 * and the ring fills again once buffers are back; stop returns every
 * buffer and mapping. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_os.h"
#include "lt.h"
#include "lyra/bus.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"

extern const struct lyra_component lyra_component_nic_dma;

/* 8254x registers and bits the card side needs (manual 13) */
#define R_CTRL 0x0000
#define R_EERD 0x0014
#define R_ICR 0x00c0
#define R_RDBAL 0x2800
#define R_RDBAH 0x2804
#define R_RDLEN 0x2808
#define R_RDH 0x2810
#define R_RDT 0x2818
#define R_MPC 0x4010
#define CTRL_RST (1u << 26)
#define EERD_DONE (1u << 4)
#define ICR_RXO (1u << 6)
#define RXD_DD 0x01
#define RXD_EOP 0x02
#define RXD_ERR_RXE 0x80

#define BUF_LEN 1522u /* what the driver asks of alloc_rx */

/* ----- fake bus ------------------------------------------------------------ */

#define MAPS 64

struct map {
    const uint8_t *p;
    size_t len;
    bool live;
};

struct fbus {
    uint32_t regs[0x6000 / 4];
    struct map map[MAPS];
    unsigned maps, unmaps, map_fail; /* map_fail: refuse the next N maps */
    unsigned rdt_writes;
};

static uint32_t b_read32(void *s, uint32_t off)
{
    struct fbus *b = s;
    if (off >= sizeof(b->regs))
        return 0;
    uint32_t v = b->regs[off / 4];
    if (off == R_ICR || off == R_MPC) /* read to clear */
        b->regs[off / 4] = 0;
    return v;
}

static void b_write32(void *s, uint32_t off, uint32_t v)
{
    struct fbus *b = s;
    if (off >= sizeof(b->regs))
        return;
    if (off == R_CTRL)
        v &= ~CTRL_RST; /* the reset is over at once */
    if (off == R_EERD)
        v |= EERD_DONE; /* word 0: a zero MAC will do */
    if (off == R_RDT)
        b->rdt_writes++;
    b->regs[off / 4] = v;
}

static int b_info(void *s, struct lyra_bus_info *i)
{
    (void)s;
    memset(i, 0, sizeof(*i));
    i->vendor = 0x8086;
    i->device = 0x100e;
    i->is_pci = i->has_mmio = 1;
    i->mmio_size = 128 * 1024;
    return 0;
}

static uint32_t b_cfg_read(void *s, uint32_t off, unsigned size)
{
    (void)s, (void)size;
    return off == 0x04 ? 0x0107 : 0;
}

static void b_cfg_write(void *s, uint32_t off, unsigned size, uint32_t v)
{
    (void)s, (void)off, (void)size, (void)v;
}

static void *b_dma_alloc(void *s, size_t size, size_t align, uint64_t *bus)
{
    (void)s;
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    *bus = (uint64_t)(uintptr_t)p;
    return p;
}

static void b_dma_free(void *s, void *p, size_t size)
{
    (void)s, (void)size;
    free(p);
}

static int b_dma_map(void *s, const void *p, size_t len, uint64_t *bus)
{
    struct fbus *b = s;
    if (b->map_fail) {
        b->map_fail--;
        return -ENOSPC;
    }
    for (unsigned i = 0; i < MAPS; i++) {
        if (!b->map[i].live) {
            b->map[i] = (struct map){p, len, true};
            b->maps++;
            *bus = (uint64_t)(uintptr_t)p;
            return 0;
        }
    }
    return -ENOSPC;
}

static void b_dma_unmap(void *s, const void *p, size_t len)
{
    struct fbus *b = s;
    for (unsigned i = 0; i < MAPS; i++) {
        if (b->map[i].live && b->map[i].p == p && b->map[i].len == len) {
            b->map[i].live = false;
            b->unmaps++;
            return;
        }
    }
    cr_assert_fail("unmap of memory that is not mapped");
}

/* The live mapping holding [p, p+len), or NULL. */
static const struct map *mapped(struct fbus *b, const uint8_t *p, size_t len)
{
    for (unsigned i = 0; i < MAPS; i++) {
        const struct map *m = &b->map[i];
        if (m->live && p >= m->p && p + len <= m->p + m->len)
            return m;
    }
    return NULL;
}

static unsigned live_maps(struct fbus *b)
{
    unsigned n = 0;
    for (unsigned i = 0; i < MAPS; i++)
        n += b->map[i].live;
    return n;
}

static uint8_t n_inb(void *s, uint32_t p) { (void)s, (void)p; return 0xff; }
static uint16_t n_inw(void *s, uint32_t p) { (void)s, (void)p; return 0xffff; }
static uint32_t n_inl(void *s, uint32_t p) { (void)s, (void)p; return 0xffffffffu; }
static void n_outb(void *s, uint32_t p, uint8_t v) { (void)s, (void)p, (void)v; }
static void n_outw(void *s, uint32_t p, uint16_t v) { (void)s, (void)p, (void)v; }
static void n_outl(void *s, uint32_t p, uint32_t v) { (void)s, (void)p, (void)v; }
static void n_insw(void *s, uint32_t p, void *d, size_t n) { (void)s, (void)p, (void)d, (void)n; }
static void n_outsw(void *s, uint32_t p, const void *d, size_t n)
{
    (void)s, (void)p, (void)d, (void)n;
}
static bool n_irq_pending(void *s) { (void)s; return false; }
static void n_irq_enable(void *s, bool on) { (void)s, (void)on; }
static void n_delay_us(void *s, unsigned us) { (void)s, (void)us; }

static const struct lyra_bus_ops fbus_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .info = b_info, .inb = n_inb, .inw = n_inw, .inl = n_inl, .outb = n_outb, .outw = n_outw,
    .outl = n_outl, .insw = n_insw, .outsw = n_outsw, .read32 = b_read32, .write32 = b_write32,
    .cfg_read = b_cfg_read, .cfg_write = b_cfg_write, .dma_alloc = b_dma_alloc,
    .dma_free = b_dma_free, .dma_map = b_dma_map, .dma_unmap = b_dma_unmap,
    .irq_pending = n_irq_pending, .irq_enable = n_irq_enable, .delay_us = n_delay_us,
};

/* ----- the card ------------------------------------------------------------ */

static uint8_t *rx_desc(struct fbus *b, uint32_t i)
{
    uint64_t base = (uint64_t)b->regs[R_RDBAH / 4] << 32 | b->regs[R_RDBAL / 4];
    return (uint8_t *)(uintptr_t)base + 16 * (size_t)i;
}

static uint32_t ring_n(struct fbus *b)
{
    return b->regs[R_RDLEN / 4] / 16;
}

static uint8_t *desc_buf(const uint8_t *d)
{
    uint64_t a;
    memcpy(&a, d, 8); /* little-endian host: the descriptor's own order */
    return (uint8_t *)(uintptr_t)a;
}

/* Receives a frame as the 8254x does: into the buffer of descriptor RDH,
 * when RDH != RDT; else drops it (MPC, ICR.RXO) and returns -ENOBUFS. */
static int card_rx(struct fbus *b, const uint8_t *f, uint16_t len, uint8_t err)
{
    uint32_t n = ring_n(b), h = b->regs[R_RDH / 4];
    if (h == b->regs[R_RDT / 4]) {
        b->regs[R_MPC / 4]++;
        b->regs[R_ICR / 4] |= ICR_RXO;
        return -ENOBUFS;
    }
    uint8_t *d = rx_desc(b, h);
    uint8_t *buf = desc_buf(d);
    cr_assert_not_null(mapped(b, buf, len), "descriptor %u points outside a live mapping", h);
    memcpy(buf, f, len);
    d[8] = (uint8_t)len;
    d[9] = (uint8_t)(len >> 8);
    d[13] = err;
    d[12] = RXD_DD | RXD_EOP;
    b->regs[R_RDH / 4] = (h + 1) % n;
    return 0;
}

/* Descriptors the card may fill now (RDH up to RDT). */
static uint32_t card_room(struct fbus *b)
{
    uint32_t n = ring_n(b);
    return (b->regs[R_RDT / 4] + n - b->regs[R_RDH / 4]) % n;
}

/* ----- fake skb provider ---------------------------------------------------- */

#define POOL 32

struct fskb {
    struct lyra_skb skb[POOL];
    uint8_t mem[POOL][2048];
    bool out[POOL];
    uint32_t headroom, size; /* placement and buffer size the provider chooses */
    uint32_t give_room;      /* 0: honest; else the tailroom alloc_rx gives */
    unsigned limit;          /* buffers it lets out at once */
    unsigned allocs, frees, copies;
    uint32_t asked;          /* size of the last alloc_rx */
};

static const struct lyra_skb_ops fskb_ops;

static unsigned fs_out(const struct fskb *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < POOL; i++)
        n += p->out[i];
    return n;
}

static uint32_t fs_avail(void *self)
{
    struct fskb *p = self;
    unsigned out = fs_out(p);
    return out >= p->limit ? 0 : p->limit - out;
}

static struct lyra_skb *fs_alloc_rx(void *self, uint32_t size)
{
    struct fskb *p = self;
    p->asked = size;
    if (!fs_avail(p) || p->headroom + size > p->size)
        return NULL;
    for (unsigned i = 0; i < POOL; i++) {
        if (p->out[i])
            continue;
        p->out[i] = true;
        p->allocs++;
        struct lyra_skb *s = &p->skb[i];
        memset(s, 0, sizeof(*s));
        memset(p->mem[i], 0xee, sizeof(p->mem[i]));
        s->head = p->mem[i];
        s->data = s->head + p->headroom;
        s->size = p->give_room ? p->headroom + p->give_room : p->size;
        s->refcnt = 1;
        s->flags = LYRA_SKB_F_RX;
        s->owner_ops = &fskb_ops;
        s->owner = p;
        s->pool_index = i;
        return s;
    }
    return NULL;
}

static struct lyra_skb *fs_alloc(void *self, uint32_t headroom, uint32_t size)
{
    (void)self, (void)headroom, (void)size;
    cr_assert_fail("the driver allocates receive buffers with alloc_rx only");
    return NULL;
}

static void fs_free(void *self, struct lyra_skb *s)
{
    struct fskb *p = self;
    cr_assert(s >= p->skb && s < p->skb + POOL, "a stranger's skb");
    cr_assert(p->out[s->pool_index], "double free");
    if (--s->refcnt == 0) {
        p->out[s->pool_index] = false;
        p->frees++;
    }
}

static int fs_add_data(void *self, struct lyra_skb *s, const void *d, uint32_t len, uint32_t fl,
                       uint32_t *copied)
{
    (void)s, (void)d, (void)len, (void)fl, (void)copied;
    ((struct fskb *)self)->copies++;
    return -ENOSPC;
}

static int fs_copy_out(void *self, const struct lyra_skb *s, uint32_t off, void *d, uint32_t len)
{
    (void)s, (void)off, (void)d, (void)len;
    ((struct fskb *)self)->copies++;
    return -EINVAL;
}

static const struct lyra_skb_ops fskb_ops = {
    .hdr = {.iface = LYRA_SKB_IFACE, .major = LYRA_SKB_MAJOR, .minor = 0,
            .size = offsetof(struct lyra_skb_ops, max_alloc)}, /* skb 1.0: all the driver needs */
    .alloc = fs_alloc,
    .alloc_rx = fs_alloc_rx,
    .free = fs_free,
    .add_data = fs_add_data,
    .copy_out = fs_copy_out,
    .avail = fs_avail,
};

/* The provider's skb whose data is p, or NULL. */
static struct lyra_skb *fs_by_data(struct fskb *p, const uint8_t *d)
{
    for (unsigned i = 0; i < POOL; i++)
        if (p->out[i] && p->skb[i].data == d)
            return &p->skb[i];
    return NULL;
}

/* ----- the netdev user ------------------------------------------------------ */

struct user {
    struct fbus *bus;
    unsigned rx;
    struct lyra_skb *got[64];
    const uint8_t *got_data[64];
    uint32_t got_len[64];
    bool mapped_at_rx; /* some skb came up still mapped for the card */
    bool keep;
};

static void u_rx(void *user, struct lyra_skb *skb)
{
    struct user *u = user;
    if (mapped(u->bus, skb->data, 1))
        u->mapped_at_rx = true;
    if (u->rx < 64) {
        u->got[u->rx] = skb;
        u->got_data[u->rx] = skb->data;
        u->got_len[u->rx] = skb->len;
    }
    u->rx++;
    if (!u->keep)
        lyra_skb_free(skb);
}

static const struct lyra_netdev_events user_ev = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_events),
    .rx = u_rx,
};

/* ----- fixture -------------------------------------------------------------- */

struct fx {
    struct lt_inst *os, *nic;
    struct fbus *bus;
    struct fskb *pool;
    struct user u;
};

static void fx_make(struct fx *f, uint32_t headroom, unsigned limit, const char *ring)
{
    memset(f, 0, sizeof(*f));
    f->bus = calloc(1, sizeof(*f->bus));
    f->pool = calloc(1, sizeof(*f->pool));
    cr_assert(f->bus && f->pool);
    f->pool->headroom = headroom;
    f->pool->size = 2048;
    f->pool->limit = limit;
    f->u.bus = f->bus;
    f->os = lt_create(&lyra_component_fake_os, NULL);
    f->nic = lt_create(&lyra_component_nic_dma, (const char *const[]){ring, "tx_ring=8", NULL});
    cr_assert(f->os && f->nic);
    cr_assert_eq(lt_bind_raw(f->nic, "bus", &fbus_ops, f->bus), 0);
    cr_assert_eq(lt_bind_raw(f->nic, "skb", &fskb_ops, f->pool), 0);
    cr_assert_eq(lt_bind(f->nic, "os", f->os), 0);
    cr_assert_eq(lyra_component_nic_dma.provides[0].attach(f->nic->self, &user_ev, &f->u), 0);
    cr_assert_eq(lt_start(f->os), 0);
}

static uint64_t st(struct fx *f, const char *name)
{
    uint64_t v = lt_stat(f->nic, name);
    cr_assert_neq(v, UINT64_MAX, "nic_dma reports no counter %s", name);
    return v;
}

static void fx_down(struct fx *f)
{
    for (unsigned i = 0; f->u.keep && i < f->u.rx && i < 64; i++)
        lyra_skb_free(f->u.got[i]);
    lt_stop(f->nic);
    cr_assert_eq(fs_out(f->pool), 0, "every posted buffer went back at stop");
    cr_assert_eq(live_maps(f->bus), 0, "every mapping released at stop");
    cr_assert_eq(f->pool->copies, 0, "the provider was never asked to copy");
    lt_destroy(f->nic);
    cr_assert_eq(fake_os_mem_in_use(f->os->self), 0);
    lt_destroy(f->os);
    free(f->bus);
    free(f->pool);
}

static uint16_t mkframe(uint8_t *b, uint16_t len, uint8_t seed)
{
    for (uint16_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seed + 7 * i);
    return len;
}

/* ----- tests ---------------------------------------------------------------- */

Test(nic_dma_rx, descriptors_point_at_the_providers_skbs)
{
    struct fx f;
    fx_make(&f, 34, POOL, "rx_ring=8");
    cr_assert_eq(lt_start(f.nic), 0);
    cr_assert_eq(f.pool->allocs, 7, "all but one descriptor get a buffer");
    cr_assert_eq(f.pool->asked, BUF_LEN);
    cr_assert_eq(st(&f, "rx_posted"), 7);
    for (uint32_t i = 0; i < 7; i++) {
        uint8_t *buf = desc_buf(rx_desc(f.bus, i));
        struct lyra_skb *s = fs_by_data(f.pool, buf);
        cr_assert_not_null(s, "descriptor %u: not an skb's data", i);
        cr_assert_eq(s->data - s->head, 34, "the provider's placement, as it chose it");
        cr_assert_not_null(mapped(f.bus, buf, BUF_LEN), "descriptor %u not mapped", i);
    }
    cr_assert_eq(f.bus->regs[R_RDT / 4], 7, "the card owns the 7 posted descriptors");
    cr_assert_eq(card_room(f.bus), 7);
    struct lyra_netdev_caps c;
    memset(&c, 0, sizeof(c));
    const struct lyra_netdev_ops *nd = lt_ops(f.nic, "netdev");
    cr_assert_geq(nd->hdr.minor, 2, "netdev 1.2 (caps.tso_segs)");
    cr_assert_eq(nd->caps(f.nic->self, &c), 0);
    cr_assert_eq(c.rx_post, 7);
    fx_down(&f);
}

Test(nic_dma_rx, frame_goes_up_in_the_posted_skb_uncopied)
{
    struct fx f;
    fx_make(&f, 2, POOL, "rx_ring=8");
    cr_assert_eq(lt_start(f.nic), 0);
    uint8_t fr[1518];
    for (unsigned k = 0; k < 20; k++) { /* around the ring more than twice */
        uint32_t h = f.bus->regs[R_RDH / 4];
        uint8_t *buf = desc_buf(rx_desc(f.bus, h));
        struct lyra_skb *posted = fs_by_data(f.pool, buf);
        cr_assert_not_null(posted);
        uint16_t len = k % 2 ? 1518 : (uint16_t)(60 + k);
        cr_assert_eq(card_rx(f.bus, fr, mkframe(fr, len, (uint8_t)k), 0), 0);
        unsigned allocs = f.pool->allocs;
        lt_poll(f.nic, 64);
        cr_assert_eq(f.u.rx, k + 1);
        cr_assert_eq(f.u.got[k], posted, "the skb the card wrote into went up");
        cr_assert_eq(f.u.got_data[k], buf, "at the address the card wrote");
        cr_assert_eq(f.u.got_len[k], len);
        cr_assert_arr_eq(buf, fr, len);
        cr_assert_eq(f.pool->allocs, allocs + 1, "one fresh buffer in its place");
        cr_assert_eq(st(&f, "rx_posted"), 7);
        cr_assert_eq(card_room(f.bus), 7);
    }
    cr_assert(!f.u.mapped_at_rx, "the mapping is released before the skb goes up");
    cr_assert_eq(st(&f, "rx_frames"), 20);
    cr_assert_eq(st(&f, "copy_bytes"), 0);
    cr_assert_eq(st(&f, "rx_nobuf"), 0);
    fx_down(&f);
}

Test(nic_dma_rx, empty_pool_counted_and_recovers)
{
    struct fx f;
    fx_make(&f, 2, 7, "rx_ring=8"); /* exactly the ring's worth */
    cr_assert_eq(lt_start(f.nic), 0);
    cr_assert_eq(st(&f, "rx_posted"), 7);
    f.u.keep = true; /* the stack holds what it got: nothing comes back */
    uint8_t fr[300];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(card_rx(f.bus, fr, mkframe(fr, 200, (uint8_t)i), 0), 0);
    unsigned rdt_w = f.bus->rdt_writes;
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx, 3, "frames already in skbs go up");
    cr_assert_eq(st(&f, "rx_nobuf"), 3, "three descriptors left bare");
    cr_assert_eq(st(&f, "rx_posted"), 4);
    cr_assert_eq(f.bus->rdt_writes, rdt_w, "nothing posted: RDT stays");
    cr_assert_eq(card_room(f.bus), 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(card_rx(f.bus, fr, mkframe(fr, 200, 9), 0), 0);
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx, 7);
    cr_assert_eq(st(&f, "rx_posted"), 0);
    cr_assert_eq(card_room(f.bus), 0);
    cr_assert_eq(card_rx(f.bus, fr, 200, 0), -ENOBUFS);
    cr_assert_eq(card_rx(f.bus, fr, 200, 0), -ENOBUFS);
    lt_poll(f.nic, 64);
    cr_assert_eq(st(&f, "rx_missed"), 2, "the card's drops");
    cr_assert_eq(st(&f, "rx_overruns"), 1);
    cr_assert_eq(f.u.rx, 7);
    /* the stack lets go: the next poll step posts them again, no frame needed */
    for (unsigned i = 0; i < 7; i++)
        lyra_skb_free(f.u.got[i]);
    f.u.keep = false;
    f.u.rx = 0;
    lt_poll(f.nic, 64);
    cr_assert_eq(st(&f, "rx_posted"), 7);
    cr_assert_eq(card_room(f.bus), 7);
    cr_assert_eq(card_rx(f.bus, fr, mkframe(fr, 300, 5), 0), 0);
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx, 1);
    cr_assert_eq(f.u.got_len[0], 300);
    cr_assert_eq(st(&f, "rx_posted"), 7);
    /* the pool is exactly the ring's worth: while that frame went up its
     * descriptor had no buffer (counted), until the user freed it */
    cr_assert_eq(st(&f, "rx_nobuf"), 8);
    fx_down(&f);
}

Test(nic_dma_rx, errored_frame_reposts_its_buffer)
{
    struct fx f;
    fx_make(&f, 2, POOL, "rx_ring=8");
    cr_assert_eq(lt_start(f.nic), 0);
    uint8_t fr[100];
    uint8_t *buf = desc_buf(rx_desc(f.bus, 0));
    cr_assert_eq(card_rx(f.bus, fr, mkframe(fr, 100, 1), RXD_ERR_RXE), 0);
    unsigned allocs = f.pool->allocs, frees = f.pool->frees;
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx, 0);
    cr_assert_eq(st(&f, "rx_errors"), 1);
    cr_assert_eq(f.pool->allocs, allocs, "no fresh buffer needed");
    cr_assert_eq(f.pool->frees, frees);
    cr_assert_eq(desc_buf(rx_desc(f.bus, 7)), buf, "the same buffer, posted again at the tail");
    cr_assert_eq(st(&f, "rx_posted"), 7);
    cr_assert_eq(card_room(f.bus), 7);
    fx_down(&f);
}

Test(nic_dma_rx, dma_map_failure_counted_and_retried)
{
    struct fx f;
    fx_make(&f, 2, POOL, "rx_ring=8");
    cr_assert_eq(lt_start(f.nic), 0);
    uint8_t fr[100];
    cr_assert_eq(card_rx(f.bus, fr, mkframe(fr, 100, 1), 0), 0);
    f.bus->map_fail = 2; /* the refill after the frame, and the step's last */
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx, 1);
    cr_assert_eq(st(&f, "rx_map_errors"), 2);
    cr_assert_eq(st(&f, "rx_posted"), 6, "the unmappable buffer went back to the pool");
    cr_assert_eq(fs_out(f.pool), 6);
    lt_poll(f.nic, 64);
    cr_assert_eq(st(&f, "rx_posted"), 7, "posted at the next step");
    fx_down(&f);
}

Test(nic_dma_rx, start_posts_what_the_pool_has_and_fills_up_later)
{
    struct fx f;
    fx_make(&f, 2, 3, "rx_ring=8");
    cr_assert_eq(lt_start(f.nic), 0, "a short pool is not an error");
    cr_assert_eq(st(&f, "rx_posted"), 3);
    cr_assert_eq(f.bus->regs[R_RDT / 4], 3);
    f.pool->limit = POOL;
    lt_poll(f.nic, 64);
    cr_assert_eq(st(&f, "rx_posted"), 7);
    cr_assert_eq(f.bus->regs[R_RDT / 4], 7);
    fx_down(&f);
}

Test(nic_dma_rx, buffers_too_small_for_a_frame_refused)
{
    struct fx f;
    fx_make(&f, 2, POOL, "rx_ring=8");
    f.pool->size = 1024; /* alloc_rx refuses 1522 bytes */
    cr_assert_eq(lt_start(f.nic), -EMSGSIZE);
    cr_assert_eq(fs_out(f.pool), 0);
    fx_down(&f);
    /* a provider that hands out less than it was asked for */
    fx_make(&f, 2, POOL, "rx_ring=8");
    f.pool->give_room = 1000;
    cr_assert_eq(lt_start(f.nic), -EMSGSIZE);
    cr_assert_gt(f.pool->frees, 0, "the short buffer went back");
    fx_down(&f);
}

Test(nic_dma_rx, stop_and_restart_post_again)
{
    struct fx f;
    fx_make(&f, 2, POOL, "rx_ring=16");
    cr_assert_eq(lt_start(f.nic), 0);
    cr_assert_eq(fs_out(f.pool), 15);
    lt_stop(f.nic);
    cr_assert_eq(fs_out(f.pool), 0);
    cr_assert_eq(live_maps(f.bus), 0);
    cr_assert_eq(lt_start(f.nic), 0);
    cr_assert_eq(fs_out(f.pool), 15);
    uint8_t fr[64];
    cr_assert_eq(card_rx(f.bus, fr, mkframe(fr, 64, 3), 0), 0);
    lt_poll(f.nic, 64);
    cr_assert_eq(f.u.rx, 1);
    fx_down(&f);
}
