/* ne2k_model: DP8390 + NE2000 board model behind `bus` (see ne2k_model.h).
 *
 * Register semantics follow the DP8390D datasheet; where QEMU's ne2000
 * differs, the `quirks` parameter picks one side (see ne2k_model.h): the
 * receive count with or without the CRC (and the CRC in the ring), the
 * unicast filter on the PROM or on PAR0-5, transmit ending at once or at
 * the next poll. Both pad short received frames and wrap remote DMA at
 * PSTOP. Everything lives in the instance: card RAM, PROM, a frame buffer
 * and the test transmit queue.
 *
 * This file: the bus ops, the test API and the component. The register
 * file is in ne2k_model_regs.c, card memory and remote DMA in
 * ne2k_model_rdma.c, transmit and receive in ne2k_model_wire.c. */
#include "ne2k_model_int.h"

#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/inet_csum.h"

/* ----- bus ops ----------------------------------------------------------- */

static int bus_info(void *self, struct lyra_bus_info *info)
{
    (void)self;
    memset(info, 0, sizeof(*info));
    info->has_pio = 1;
    info->irq = 9;
    info->pio_size = NE_IO_SIZE;
    return 0;
}

static uint8_t bus_inb(void *self, uint32_t port)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port < 0x10)
        return ne2km_reg_read(m, port);
    if (port == NE_DATA)
        return (uint8_t)ne2km_dma_in(m, 1);
    if (port == NE_RESET) {
        ne2km_chip_reset(m);
        return 0;
    }
    return 0xff;
}

static uint16_t bus_inw(void *self, uint32_t port)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port == NE_DATA)
        return ne2km_dma_in(m, ne2km_width_of(m));
    return bus_inb(self, port);
}

static uint32_t bus_inl(void *self, uint32_t port)
{
    (void)self;
    (void)port;
    return 0xffffffffu;
}

static void bus_outb(void *self, uint32_t port, uint8_t v)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port < 0x10)
        ne2km_reg_write(m, port, v);
    else if (port == NE_DATA)
        ne2km_dma_out(m, v, 1);
    /* the reset port ignores writes (the end of the reset pulse) */
}

static void bus_outw(void *self, uint32_t port, uint16_t v)
{
    struct ne2k_model *m = self;
    port &= NE_IO_SIZE - 1;
    if (port == NE_DATA)
        ne2km_dma_out(m, v, ne2km_width_of(m));
    else
        bus_outb(self, port, (uint8_t)v);
}

static void bus_outl(void *self, uint32_t port, uint32_t v)
{
    (void)self;
    (void)port;
    (void)v;
}

static void bus_insw(void *self, uint32_t port, void *buf, size_t count)
{
    uint8_t *b = buf;
    for (size_t i = 0; i < count; i++) {
        uint16_t w = bus_inw(self, port);
        b[2 * i] = (uint8_t)(w & 0xff);
        b[2 * i + 1] = (uint8_t)(w >> 8);
    }
}

/* insw with the sum of the words (bus 1.1): a word read from the data
 * port is its two bytes in little-endian order (DCR.BOS clear), so the
 * sum of the words read is the sum in little-endian order, swapped to
 * network order at the end (RFC 1071 2(B)), whatever the host's order. */
static uint16_t bus_insw_csum(void *self, uint32_t port, void *buf, size_t count)
{
    uint8_t *b = buf;
    uint32_t sum = 0; /* a frame's words cannot carry it past 32 bits */
    for (size_t i = 0; i < count; i++) {
        uint16_t w = bus_inw(self, port);
        b[2 * i] = (uint8_t)(w & 0xff);
        b[2 * i + 1] = (uint8_t)(w >> 8);
        sum += w;
    }
    uint16_t s = lyra_csum_fold(sum);
    return (uint16_t)(s << 8 | s >> 8);
}

static void bus_outsw(void *self, uint32_t port, const void *buf, size_t count)
{
    const uint8_t *b = buf;
    for (size_t i = 0; i < count; i++)
        bus_outw(self, port, (uint16_t)(b[2 * i] | (b[2 * i + 1] << 8)));
}

/* outsw with the sum of the words (bus 1.2), as bus_insw_csum's. */
static uint16_t bus_outsw_csum(void *self, uint32_t port, const void *buf, size_t count)
{
    const uint8_t *b = buf;
    uint32_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        uint16_t w = (uint16_t)(b[2 * i] | (b[2 * i + 1] << 8));
        bus_outw(self, port, w);
        sum += w;
    }
    uint16_t s = lyra_csum_fold(sum);
    return (uint16_t)(s << 8 | s >> 8);
}

static bool bus_irq_pending(void *self)
{
    struct ne2k_model *m = self;
    return (m->isr & m->imr & 0x7f) != 0;
}

static void bus_irq_enable(void *self, bool on)
{
    struct ne2k_model *m = self;
    m->irq_on = on;
}

static void bus_delay_us(void *self, unsigned us)
{
    (void)self;
    (void)us; /* the model does everything at once: nothing to wait for */
}

static const struct lyra_bus_ops model_bus_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .info = bus_info,
    .inb = bus_inb,
    .inw = bus_inw,
    .inl = bus_inl,
    .outb = bus_outb,
    .outw = bus_outw,
    .outl = bus_outl,
    .insw = bus_insw,
    .outsw = bus_outsw,
    .insw_csum = bus_insw_csum,
    .outsw_csum = bus_outsw_csum,
    .irq_pending = bus_irq_pending,
    .irq_enable = bus_irq_enable,
    .delay_us = bus_delay_us,
};

static int bus_attach(void *self, const void *events, void *user)
{
    struct ne2k_model *m = self;
    const struct lyra_bus_events *ev = events;
    if (ev && ev->hdr.major != LYRA_BUS_MAJOR)
        return -EPROTO;
    m->ev = ev;
    m->drv = user;
    return 0;
}

/* ----- test API ---------------------------------------------------------- */

int ne2k_model_inject(void *self, const void *frame, size_t len)
{
    return ne2km_receive(self, frame, len);
}

size_t ne2k_model_take_tx(void *self, void *buf, size_t cap)
{
    struct ne2k_model *m = self;
    if (!m->txq_n)
        return 0;
    unsigned k = m->txq_head;
    size_t len = m->txq_len[k];
    memcpy(buf, m->txq[k], len < cap ? len : cap);
    m->txq_head = (k + 1) % NE2K_MODEL_TXQ;
    m->txq_n--;
    return len;
}

void ne2k_model_set_faults(void *self, unsigned faults)
{
    struct ne2k_model *m = self;
    m->faults = faults;
}

/* ----- component --------------------------------------------------------- */

enum {
    P_MAC, P_LINK, P_PCAP, P_LOSS, P_DUP, P_REORDER, P_REORDER_DEPTH, P_DELAY, P_CORRUPT,
    P_RATE, P_TX_DEFER, P_QUIRKS, P_RX_LOSS, P_RX_DUP, P_RX_REORDER, P_RX_REORDER_DEPTH,
    P_RX_DELAY, P_RX_CORRUPT, P_RX_RATE, P__COUNT
};

/* Rules the parameter table cannot say (check hook, ABI 0.1): the quirks
 * enumeration and the link's syntax, so `lyranet check` refuses what create
 * and the link's open would. */
static int model_check(const struct lyra_value *p, struct lyra_diag *d)
{
    int bad = 0;
    const char *q = p[P_QUIRKS].u.s;
    if (q && strcmp(q, "qemu") && strcmp(q, "datasheet")) {
        lyra_diag_add(d, LYRA_E_RANGE, P_QUIRKS + 1, "'%s' is neither qemu nor datasheet", q);
        bad++;
    }
    const char *l = p[P_LINK].set ? p[P_LINK].u.s : NULL;
    if (l && !((!strncmp(l, "wire:", 5) && l[5]) || (!strncmp(l, "tap:", 4) && l[4]))) {
        lyra_diag_add(d, LYRA_E_RANGE, P_LINK + 1, "'%s': expected wire:NAME or tap:IFNAME", l);
        bad++;
    } else if (l && ((l[0] == 't' && strlen(l + 4) > 15) || strlen(l) > 95)) {
        /* Linux interface names: 15 characters; wire names: 90 */
        lyra_diag_add(d, LYRA_E_RANGE, P_LINK + 1, "'%s': name too long (tap: 15, wire: 90)", l);
        bad++;
    }
    return bad;
}

static int model_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct ne2k_model *m = self;
    memset(m, 0, sizeof(*m));
    memcpy(m->mac, p[P_MAC].u.mac, 6);
    if (m->mac[0] & 1) {
        lyra_diag_add(d, LYRA_E_RANGE, 0, "ne2k_model.mac: must be a unicast address");
        return -EINVAL;
    }
    m->link_spec = p[P_LINK].set ? p[P_LINK].u.s : NULL;
    m->lp.pcap = p[P_PCAP].set ? p[P_PCAP].u.s : NULL;
    m->lp.loss_ppm = (uint32_t)p[P_LOSS].u.i;
    m->lp.dup_ppm = (uint32_t)p[P_DUP].u.i;
    m->lp.reorder_ppm = (uint32_t)p[P_REORDER].u.i;
    m->lp.reorder_depth = (uint32_t)p[P_REORDER_DEPTH].u.i;
    m->lp.delay_ns = (uint64_t)p[P_DELAY].u.i;
    m->lp.corrupt_ppm = (uint32_t)p[P_CORRUPT].u.i;
    m->lp.rate_bps = (uint64_t)p[P_RATE].u.i;
    m->lp.rx_loss_ppm = (uint32_t)p[P_RX_LOSS].u.i;
    m->lp.rx_dup_ppm = (uint32_t)p[P_RX_DUP].u.i;
    m->lp.rx_reorder_ppm = (uint32_t)p[P_RX_REORDER].u.i;
    m->lp.rx_reorder_depth = (uint32_t)p[P_RX_REORDER_DEPTH].u.i;
    m->lp.rx_delay_ns = (uint64_t)p[P_RX_DELAY].u.i;
    m->lp.rx_corrupt_ppm = (uint32_t)p[P_RX_CORRUPT].u.i;
    m->lp.rx_rate_bps = (uint64_t)p[P_RX_RATE].u.i;
    m->tx_defer = p[P_TX_DEFER].u.b;
    const char *q = p[P_QUIRKS].u.s;
    if (!strcmp(q, "datasheet")) {
        m->datasheet = true;
    } else if (strcmp(q, "qemu")) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "ne2k_model.quirks: '%s' is neither qemu nor datasheet", q);
        return -EINVAL;
    }
    /* The address PROM: each byte doubled; bytes 14-15 'W' 'W' mark an
     * NE2000 (as QEMU's). */
    for (unsigned i = 0; i < 6; i++)
        m->prom[2 * i] = m->prom[2 * i + 1] = m->mac[i];
    m->prom[14] = m->prom[15] = 0x57;
    ne2km_chip_reset(m);
    m->st.resets = 0;
    return 0;
}

static int model_start(void *self)
{
    struct ne2k_model *m = self;
    if (!m->os.ops)
        return -ENOTCONN;
    m->fault_armed = false; /* a power cycle ends a fault (ne2k_model_rx_fault) */
    if (m->link_spec && *m->link_spec) {
        if (!m->os.ops->link_open) {
            lyra_log(&m->os, LYRA_LOG_ERROR, WHO, "link %s: the os provides no links",
                     m->link_spec);
            return -ENOTSUP;
        }
        int r = m->os.ops->link_open(m->os.self, m->link_spec, &m->lp, &m->link);
        if (r) {
            /* the os said which link and why, and what to do */
            m->link = NULL;
            return r;
        }
    } else if (m->lp.pcap) {
        lyra_log(&m->os, LYRA_LOG_WARN, WHO, "pcap is only written on a link: ignored");
    }
    return 0;
}

static void model_stop(void *self)
{
    struct ne2k_model *m = self;
    if (m->link && m->os.ops->link_close)
        m->os.ops->link_close(m->os.self, m->link);
    m->link = NULL;
}

static void model_destroy(void *self)
{
    model_stop(self);
}


static int model_poll(void *self, unsigned budget)
{
    struct ne2k_model *m = self;
    int work = 0;
    if (m->tx_busy) {
        ne2km_finish_tx(m);
        work++;
    }
    if (!m->link || !m->os.ops->link_recv)
        return work;
    for (unsigned i = 0; i < budget; i++) {
        if (!m->datasheet && !m->stopped && !ne2km_ring_can_take_max(m)) {
            m->st.rx_held++;
            break;
        }
        int r = m->os.ops->link_recv(m->os.self, m->link, m->buf, sizeof(m->buf));
        if (r == -EMSGSIZE) {
            m->st.rx_oversize++;
            continue;
        }
        if (r <= 0)
            break;
        ne2km_receive(m, m->buf, (size_t)r);
        work++;
    }
    return work;
}

static void model_stats(void *self, struct lyra_stats_sink *sink)
{
    struct ne2k_model *m = self;
#define MS_EMIT(n) lyra_stat(sink, #n, m->st.n);
    MODEL_STATS(MS_EMIT)
#undef MS_EMIT
}

static const struct lyra_provide model_provides[] = {
    {
        .iface = LYRA_BUS_IFACE,
        .major = LYRA_BUS_MAJOR,
        .minor = LYRA_BUS_MINOR,
        .ops = &model_bus_ops,
        .attach = bus_attach,
        .max_users = 1,
        .doc = "the board's 32-port I/O window (ISA, no PCI, no MMIO, no DMA)",
    },
};

static const struct lyra_slot model_slots[] = {
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 1,
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct ne2k_model, os.ops, os.self),
        .doc = "the link (os 2.1 link ops: rx_ impairment) and logging",
    },
};

#define NS_PER_S 1000000000ll
#define PPM_ALL (100 * LYRA_PPM_PER_PERCENT)

static const struct lyra_param model_params[P__COUNT] = {
    [P_MAC] = {"mac", LYRA_P_MAC, "02:00:00:00:00:10", 1, 0,
               "the address in the board's PROM (what the driver reads)"},
    [P_LINK] = {"link", LYRA_P_STRING, NULL, 1, 0,
                "wire:NAME or tap:IFNAME; unset: no link (frames only through the test API)"},
    [P_PCAP] = {"pcap", LYRA_P_STRING, NULL, 1, 0,
                "capture the link's frames, both directions, to this pcap file"},
    [P_LOSS] = {"loss", LYRA_P_PERCENT, "0%", 0, PPM_ALL, "frames sent that the link loses"},
    [P_DUP] = {"dup", LYRA_P_PERCENT, "0%", 0, PPM_ALL, "frames sent that arrive twice"},
    [P_REORDER] = {"reorder", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                   "frames sent that are held back behind later ones"},
    [P_REORDER_DEPTH] = {"reorder_depth", LYRA_P_INT, "3", 1, 64,
                         "how many later frames a reordered frame waits for"},
    [P_DELAY] = {"delay", LYRA_P_DURATION, "0", 0, 60 * NS_PER_S,
                 "one-way delay of frames sent (bare number: ms)"},
    [P_CORRUPT] = {"corrupt", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                   "frames sent with one byte flipped"},
    [P_RATE] = {"rate", LYRA_P_INT, "0", 0, 100000000000ll,
                "link rate in bit/s for frames sent; 0: unlimited"},
    [P_TX_DEFER] = {"tx_defer", LYRA_P_BOOL, "off", 1, 0,
                    "a transmission ends at the model's next poll (CR.TXP stays set until "
                    "then) instead of at once as in QEMU; always so with quirks=datasheet"},
    [P_QUIRKS] = {"quirks", LYRA_P_STRING, "qemu", 1, 0,
                  "qemu: behave as QEMU's ne2000 (receive count without the CRC, unicast "
                  "filter on the PROM, transmit ends at once); datasheet: as the DP8390D "
                  "(count includes the 4 CRC bytes, which follow the frame in the ring; "
                  "unicast filter on PAR0-5; transmit ends at the next poll)"},
    /* the same for what the link receives, before the card sees it (os 2.1) */
    [P_RX_LOSS] = {"rx_loss", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                   "frames received that the link loses"},
    [P_RX_DUP] = {"rx_dup", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                  "frames received that arrive twice"},
    [P_RX_REORDER] = {"rx_reorder", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                      "frames received that are held back behind later ones"},
    [P_RX_REORDER_DEPTH] = {"rx_reorder_depth", LYRA_P_INT, "3", 1, 64,
                            "how many later frames a reordered received frame waits for"},
    [P_RX_DELAY] = {"rx_delay", LYRA_P_DURATION, "0", 0, 60 * NS_PER_S,
                    "delay of frames received (bare number: ms)"},
    [P_RX_CORRUPT] = {"rx_corrupt", LYRA_P_PERCENT, "0%", 0, PPM_ALL,
                      "frames received with one byte flipped"},
    [P_RX_RATE] = {"rx_rate", LYRA_P_INT, "0", 0, 100000000000ll,
                   "link rate in bit/s for frames received; 0: unlimited"},
};

LYRA_EXPORT const struct lyra_component lyra_component_ne2k_model = {
    LYRA_COMPONENT_HDR,
    .flags = LYRA_COMP_F_HOST, /* not in an embedded image: RAM report */
    .name = "ne2k_model",
    .version = "1.0.0",
    .summary = "NE2000 (DP8390) board model behind bus, attached to a link",
    .doc = "@component ne2k_model\n"
           "@summary NE2000 (DP8390) board model\n"
           "@provides bus 1.0 (port I/O; one driver)\n"
           "@uses os os 2.1 (links, rx_ impairment)\n"
           "As strict as the DP8390D datasheet: 16 KiB card RAM at 0x4000, the PROM with "
           "doubled bytes, remote DMA ending with ISR.RDC, transmit from TPSR, receive into "
           "the ring with a 4-byte header. Where QEMU's ne2000 differs from the datasheet, "
           "param quirks picks the side: quirks=qemu (default) counts the frame without its "
           "CRC, filters unicast against the PROM and ends a transmission at once; "
           "quirks=datasheet writes the frame's CRC-32 after it and counts it, filters "
           "unicast against PAR0-5 and ends a transmission at the next poll. A full "
           "ring raises OVW; frames are then missed until the driver runs the datasheet's "
           "recovery (STOP, loopback, START, clear OVW). Received frames under 60 bytes are "
           "padded, over 1514 dropped. The poll hook pulls frames from the link.\n"
           "@stat rx_frames rx_bytes: written to the ring; rx_padded; rx_oversize; "
           "rx_missed (stopped, loopback, overflow lock); rx_filtered (address filter); "
           "rx_overflow (ring full, OVW); rx_bad_ring (ring registers unusable)\n"
           "@stat tx_frames tx_bytes: on the wire; tx_runt (under 60 bytes); tx_abort (bad "
           "TPSR/TBCR); tx_loopback; tx_overlap (TXP while sending); txq_drop; link_tx_fail\n"
           "@stat rdma_misuse (data port without a matching remote DMA); rdma_send_cmd; "
           "resets; rx_fcs (frames stored with their CRC, quirks=datasheet); rx_held (polls that "
           "left frames on the link because the ring could not take a full-size one, as QEMU "
           "does; quirks=qemu)\n",
    .provides = model_provides,
    .n_provides = LYRA_COUNT(model_provides),
    .slots = model_slots,
    .n_slots = LYRA_COUNT(model_slots),
    .params = model_params,
    .n_params = LYRA_COUNT(model_params),
    .instance_size = sizeof(struct ne2k_model),
    .create = model_create,
    .start = model_start,
    .stop = model_stop,
    .destroy = model_destroy,
    .poll = model_poll,
    .stats = model_stats,
    .check = model_check,
};
