/* e1000_model: the Intel 82540EM / 82574L as a `bus` provider (see
 * e1000_model.h): the bus ops table, the component's lifecycle and
 * parameters. Written from the 8254x manual, independently of the nic_dma
 * driver (its own register map: e1000_model_regs.h). The topics live apart: registers and reset (e1000_model_regs.c), DMA
 * memory (e1000_model_dma.c), the transmit ring (e1000_model_tx.c), TCP
 * segmentation (e1000_model_tso.c) and the receive ring (e1000_model_rx.c). */
#include "e1000_model_int.h"

#include <errno.h>
#include <string.h>

#include "e1000_model.h"
#include "lyra/component.h"
#include "lyra/diag.h"

/* ----- bus ops ------------------------------------------------------------- */

static int b_info(void *self, struct lyra_bus_info *info)
{
    struct e1000_model *m = self;
    memset(info, 0, sizeof(*info));
    info->vendor = 0x8086;
    info->device = ld16le(&m->cfg[2]);
    info->is_pci = 1;
    info->has_mmio = 1;
    info->irq = m->cfg[0x3c];
    info->mmio_size = MMIO_SIZE;
    return 0;
}

/* no I/O BAR is modelled */
static uint8_t b_inb(void *self, uint32_t port)
{
    ((struct e1000_model *)self)->st.bad_access++;
    return 0xff;
}
static uint16_t b_inw(void *self, uint32_t port)
{
    ((struct e1000_model *)self)->st.bad_access++;
    return 0xffff;
}
static uint32_t b_inl(void *self, uint32_t port)
{
    ((struct e1000_model *)self)->st.bad_access++;
    return 0xffffffffu;
}
static void b_outb(void *self, uint32_t port, uint8_t v)
{
    ((struct e1000_model *)self)->st.bad_access++;
}
static void b_outw(void *self, uint32_t port, uint16_t v)
{
    ((struct e1000_model *)self)->st.bad_access++;
}
static void b_outl(void *self, uint32_t port, uint32_t v)
{
    ((struct e1000_model *)self)->st.bad_access++;
}
static void b_insw(void *self, uint32_t port, void *buf, size_t count)
{
    ((struct e1000_model *)self)->st.bad_access++;
    memset(buf, 0xff, count * 2);
}
static void b_outsw(void *self, uint32_t port, const void *buf, size_t count)
{
    ((struct e1000_model *)self)->st.bad_access++;
}

static bool b_irq_pending(void *self)
{
    struct e1000_model *m = self;
    return (m->icr & m->ims) != 0;
}

static void b_irq_enable(void *self, bool on)
{
    ((struct e1000_model *)self)->irq_on = on;
}

static void b_delay_us(void *self, unsigned us)
{
    ((struct e1000_model *)self)->time_us += us;
}

static const struct lyra_bus_ops e1000_model_bus_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, struct lyra_bus_ops),
    .info = b_info,
    .inb = b_inb,
    .inw = b_inw,
    .inl = b_inl,
    .outb = b_outb,
    .outw = b_outw,
    .outl = b_outl,
    .insw = b_insw,
    .outsw = b_outsw,
    .read32 = em_read32,
    .write32 = em_write32,
    .cfg_read = em_cfg_read,
    .cfg_write = em_cfg_write,
    .dma_alloc = em_dma_alloc,
    .dma_free = em_dma_free,
    .dma_map = em_dma_map,
    .dma_unmap = em_dma_unmap,
    .irq_pending = b_irq_pending,
    .irq_enable = b_irq_enable,
    .delay_us = b_delay_us,
};

static int b_attach(void *self, const void *events, void *user)
{
    struct e1000_model *m = self;
    const struct lyra_bus_events *ev = events;
    if (ev && ev->hdr.major != LYRA_BUS_MAJOR)
        return -EPROTO;
    if (m->drv)
        return -EBUSY;
    m->ev = ev;
    m->drv = user;
    return 0;
}

/* ----- test API ------------------------------------------------------------ */
void e1000_model_set_link(void *self, bool up)
{
    struct e1000_model *m = self;
    if (m->link_up == up)
        return;
    m->link_up = up;
    m->icr |= ICR_LSC;
}

/* ----- lifecycle ----------------------------------------------------------- */

enum {
    P_LINK,
    P_PCAP,
    P_MAC,
    P_VARIANT,
    P_LOSS,
    P_DUP,
    P_REORDER,
    P_REORDER_DEPTH,
    P_DELAY,
    P_CORRUPT,
    P_RATE,
    P_DMA_MEM,
    P_MAP_SLOTS,
    P_TX_CAPTURE,
    P_QUIRKS,
    P_RX_LOSS,
    P_RX_DUP,
    P_RX_REORDER,
    P_RX_REORDER_DEPTH,
    P_RX_DELAY,
    P_RX_CORRUPT,
    P_RX_RATE,
    P__COUNT
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
    struct e1000_model *m = self;
    memset(m, 0, sizeof(*m));
    m->link_spec = p[P_LINK].set ? p[P_LINK].u.s : NULL;
    m->lp.pcap = p[P_PCAP].set ? p[P_PCAP].u.s : NULL;
    memcpy(m->mac, p[P_MAC].u.mac, 6);
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
    m->dma_mem = (uint64_t)p[P_DMA_MEM].u.i;
    m->map_slots = (uint32_t)p[P_MAP_SLOTS].u.i;
    m->tx_capture = (uint32_t)p[P_TX_CAPTURE].u.i;
    int64_t v = p[P_VARIANT].u.i;
    if (v != V_82540 && v != V_82574) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "e1000_model.variant: %lld is neither 82540 (e1000) nor 82574 (e1000e)",
                      (long long)v);
        return -EINVAL;
    }
    m->variant = (enum variant)v;
    const char *q = p[P_QUIRKS].u.s;
    if (!strcmp(q, "datasheet")) {
        m->datasheet = true;
    } else if (strcmp(q, "qemu")) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "e1000_model.quirks: '%s' is neither qemu nor datasheet", q);
        return -EINVAL;
    }
    if (m->mac[0] & 1) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "e1000_model.mac: a station MAC must be unicast (first octet even)");
        return -EINVAL;
    }
    em_eeprom_init(m);
    em_cfg_init(m);
    em_device_reset(m);
    m->st.resets = 0;
    return 0;
}

static void model_release(struct e1000_model *m)
{
    if (m->link) {
        m->os.ops->link_close(m->os.self, m->link);
        m->link = NULL;
    }
    if (m->cap)
        m->os.ops->mem_free(m->os.self, m->cap);
    if (m->cap_len)
        m->os.ops->mem_free(m->os.self, m->cap_len);
    if (m->maps)
        m->os.ops->mem_free(m->os.self, m->maps);
    if (m->arena)
        m->os.ops->mem_free(m->os.self, m->arena);
    m->cap = NULL;
    m->cap_len = NULL;
    m->maps = NULL;
    m->map_bucket = NULL;
    m->arena = NULL;
    m->nallocs = 0;
    m->arena_used = 0;
    m->cap_count = m->cap_head = 0;
}

static int model_start(void *self)
{
    struct e1000_model *m = self;
    if (!m->os.ops)
        return -EINVAL;
    if (m->started)
        return 0;
    const struct lyra_os_ops *o = m->os.ops;
    if (m->link_spec && !o->link_open) {
        lyra_log(&m->os, LYRA_LOG_ERROR, WHO,
                 "link=%s asked for, but this os provides no links (link_open is NULL)",
                 m->link_spec);
        return -ENOTSUP;
    }
    if (m->lp.pcap && !m->link_spec)
        lyra_log(&m->os, LYRA_LOG_WARN, WHO, "pcap=%s ignored: no link", m->lp.pcap);
    m->arena = o->mem_alloc(m->os.self, (size_t)m->dma_mem, 4096);
    for (m->map_nbuckets = 1; m->map_nbuckets < m->map_slots; m->map_nbuckets <<= 1)
        ;
    m->maps = o->mem_alloc(m->os.self,
                           (size_t)m->map_slots * sizeof(*m->maps) +
                               (size_t)m->map_nbuckets * sizeof(uint32_t),
                           _Alignof(struct dma_mapping));
    if (m->tx_capture) {
        m->cap = o->mem_alloc(m->os.self, (size_t)m->tx_capture * CAP_SLOT, 64);
        m->cap_len = o->mem_alloc(m->os.self, (size_t)m->tx_capture * sizeof(uint32_t), 4);
    }
    if (!m->arena || !m->maps || (m->tx_capture && (!m->cap || !m->cap_len))) {
        lyra_log(&m->os, LYRA_LOG_ERROR, WHO, "cannot allocate %llu bytes of DMA memory",
                 (unsigned long long)m->dma_mem);
        model_release(m);
        return -ENOMEM;
    }
    memset(m->maps, 0,
           (size_t)m->map_slots * sizeof(*m->maps) + (size_t)m->map_nbuckets * sizeof(uint32_t));
    m->map_bucket = (uint32_t *)(void *)(m->maps + m->map_slots);
    if (m->link_spec) {
        int r = o->link_open(m->os.self, m->link_spec, &m->lp, &m->link);
        if (r) {
            /* the os said which link and why, and what to do */
            model_release(m);
            return r;
        }
    }
    m->link_up = true; /* the cable is plugged in */
    m->fault_armed = false; /* a power cycle ends a fault (e1000_model_rx_fault) */
    m->n_fault_hit = 0;
    m->started = true;
    return 0;
}

static void model_stop(void *self)
{
    struct e1000_model *m = self;
    if (!m->started)
        return;
    m->started = false;
    model_release(m);
}

static void model_destroy(void *self)
{
    model_stop(self);
}

static int model_poll(void *self, unsigned budget)
{
    struct e1000_model *m = self;
    if (!m->started)
        return 0;
    int work = 0;
    while (m->link && (unsigned)work < budget) {
        int r = m->os.ops->link_recv(m->os.self, m->link, m->rxbuf, sizeof(m->rxbuf));
        if (r == -EMSGSIZE) {
            m->st.rx_oversize++;
            continue;
        }
        if (r <= 0)
            break;
        (void)em_rx_frame(m, m->rxbuf, (size_t)r);
        work++;
    }
    if (m->irq_on && m->ev && m->ev->irq && (m->icr & m->ims))
        m->ev->irq(m->drv);
    return work;
}

static void model_stats(void *self, struct lyra_stats_sink *sink)
{
    struct e1000_model *m = self;
#define S(x) lyra_stat(sink, #x, m->st.x);
    MODEL_STATS(S)
#undef S
    uint32_t live = 0;
    for (uint32_t i = 0; m->maps && i < m->map_slots; i++)
        live += m->maps[i].live;
    lyra_stat(sink, "dma_maps_live", live);
    /* what the driver took with dma_alloc (its rings): driver memory on a
     * real machine, the RAM report adds it to the driver (bench/ram.sh) */
    lyra_stat(sink, "dma_alloc_bytes", m->arena_used);
    lyra_stat(sink, "tx_captured", m->cap_count);
}

static const struct lyra_provide model_provides[] = {
    {
        .iface = LYRA_BUS_IFACE,
        .major = LYRA_BUS_MAJOR,
        .minor = LYRA_BUS_MINOR,
        .ops = &e1000_model_bus_ops,
        .attach = b_attach,
        .max_users = 1,
        .doc = "the card: PCI config, BAR0 (128 KiB), DMA memory with checked bus addresses",
    },
};

static const struct lyra_slot model_slots[] = {
    {"os", LYRA_OS_IFACE, LYRA_OS_MAJOR, 1, 1, 1, NULL, NULL,
     "memory (DMA arena), logging, and links (os 2.1 link ops: rx_ impairment) when link is set",
     LYRA_SLOT_STORE(struct e1000_model, os.ops, os.self)},
};

static const struct lyra_param model_params[P__COUNT] = {
    [P_LINK] = {"link", LYRA_P_STRING, NULL, 0, -1,
                "wire:NAME or tap:IFNAME; unset: frames only through the test API"},
    [P_PCAP] = {"pcap", LYRA_P_STRING, NULL, 0, -1, "capture both directions of the link"},
    [P_MAC] = {"mac", LYRA_P_MAC, "02:00:00:00:00:20", 0, -1,
               "the MAC in the card's EEPROM (words 0-2)"},
    [P_VARIANT] = {"variant", LYRA_P_INT, "82540", 82540, 82574,
                   "82540 (e1000, 8086:100e) or 82574 (e1000e, 8086:10d3: EERD differs)"},
    [P_LOSS] = {"loss", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent that are lost"},
    [P_DUP] = {"dup", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent twice"},
    [P_REORDER] = {"reorder", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent out of order"},
    [P_REORDER_DEPTH] = {"reorder_depth", LYRA_P_INT, "3", 1, 1024,
                         "how many frames a reordered one is held behind"},
    [P_DELAY] = {"delay", LYRA_P_DURATION, "0", 0, 60000000000, "one-way delay of the link"},
    [P_CORRUPT] = {"corrupt", LYRA_P_PERCENT, "0%", 0, 1000000, "frames sent with a bit flipped"},
    [P_RATE] = {"rate", LYRA_P_INT, "0", 0, 100000000000, "link rate in bit/s (0: unlimited)"},
    [P_DMA_MEM] = {"dma_mem", LYRA_P_SIZE, "4M", 65536, 1073741824,
                   "DMA arena for dma_alloc (descriptor rings; buffers from elsewhere are dma_map-ped)"},
    [P_MAP_SLOTS] = {"map_slots", LYRA_P_INT, "1024", 16, 65536,
                     "dma_map regions live at once"},
    [P_TX_CAPTURE] = {"tx_capture", LYRA_P_INT, "256", 0, 65536,
                      "transmitted frames kept for e1000_model_take_tx when no link is set"},
    [P_QUIRKS] = {"quirks", LYRA_P_STRING, "qemu", 0, -1,
                  "qemu: as QEMU's e1000 (CTRL.RST resets nothing; RAL0/RAH0 hold the MAC "
                  "from power-on); datasheet: as the 8254x manual (CTRL.RST resets every "
                  "register to its default; RAL/RAH empty until the driver writes them)"},
    /* the same for what the link receives, before the card sees it (os 2.1) */
    [P_RX_LOSS] = {"rx_loss", LYRA_P_PERCENT, "0%", 0, 1000000, "frames received that are lost"},
    [P_RX_DUP] = {"rx_dup", LYRA_P_PERCENT, "0%", 0, 1000000, "frames received twice"},
    [P_RX_REORDER] = {"rx_reorder", LYRA_P_PERCENT, "0%", 0, 1000000,
                      "frames received out of order"},
    [P_RX_REORDER_DEPTH] = {"rx_reorder_depth", LYRA_P_INT, "3", 1, 1024,
                            "how many frames a reordered received one is held behind"},
    [P_RX_DELAY] = {"rx_delay", LYRA_P_DURATION, "0", 0, 60000000000,
                    "delay of frames received"},
    [P_RX_CORRUPT] = {"rx_corrupt", LYRA_P_PERCENT, "0%", 0, 1000000,
                      "frames received with one byte flipped"},
    [P_RX_RATE] = {"rx_rate", LYRA_P_INT, "0", 0, 100000000000,
                   "link rate in bit/s for frames received (0: unlimited)"},
};

LYRA_EXPORT const struct lyra_component lyra_component_e1000_model = {
    LYRA_COMPONENT_HDR,
    .flags = LYRA_COMP_F_HOST, /* not in an embedded image: RAM report */
    .name = "e1000_model",
    .version = "1.0.0",
    .summary = "device model of the Intel 82540EM / 82574L (e1000) behind `bus`",
    .doc = "Emulates the registers, descriptor rings and DMA of the e1000 as the 8254x manual "
           "defines them, attached to a link (wire or tap) or to the test API. DMA bus "
           "addresses are checked: a descriptor pointing outside dma_alloc'd or dma_map'ped "
           "memory is a DMA fault (dma_faults) and its frame is dropped. TCP segmentation "
           "(TSE contexts, TCP/IPv4) cuts a packet into frames (tx_tso_packets, tx_tso_frames; "
           "an inconsistent request is dropped: tx_tso_bad). Without bus "
           "mastering in the PCI command register all DMA is refused (dma_refused). Param "
           "quirks picks QEMU's behaviour (default: CTRL.RST ignored, counted in "
           "resets_ignored; RAL0/RAH0 preloaded with the MAC) or the manual's (CTRL.RST "
           "resets the registers; RAL/RAH empty until written).",
    .provides = model_provides,
    .n_provides = LYRA_COUNT(model_provides),
    .slots = model_slots,
    .n_slots = LYRA_COUNT(model_slots),
    .params = model_params,
    .n_params = LYRA_COUNT(model_params),
    .instance_size = sizeof(struct e1000_model),
    .create = model_create,
    .start = model_start,
    .stop = model_stop,
    .destroy = model_destroy,
    .poll = model_poll,
    .stats = model_stats,
    .check = model_check,
};
