/* Component `nic_pio`: NE2000 (DP8390) programmed-I/O driver.
 *
 * Provides netdev 1.3 to one user (TSO; runs to a user of 1.3); uses bus
 * 1.0 (port I/O only), skb 2.0 and os 2.0. The card's 16 KiB hold two
 * transmit buffers (6 pages each) and a receive ring (pages 0x4C-0x7F);
 * see ne2k_hw.h.
 *
 * Transmit: the frame is gathered straight from the skb (linear headers,
 * then each segment) into a free transmit buffer by remote DMA, with no
 * staging copy; in word mode an odd byte at a segment's end is carried
 * into the next word; short frames are padded to 60 bytes on the card.
 * One buffer transmits while the other is loaded; with both busy xmit
 * says -EAGAIN and tx_ready follows once a transmission ends. A TSO frame
 * (netdev 1.2) is taken whole and cut into segments here as buffers free
 * up (nic_pio_tso.c).
 *
 * Receive: the poll hook reads ISR, finishes transmissions, and walks the
 * ring from BNRY+1 to CURR, at most min(budget, rx_budget) frames, each
 * read by remote DMA into an skb from alloc_rx. A ring overflow (OVW) is
 * recovered with the datasheet's procedure; frames removed during it go up
 * after the card is out of loopback. TCP segments of one flow within a
 * poll step go up as a run (gro: lyra/tcp_gro.h), each TCP checksum
 * checked from the sum the read kept (nic_pio_rx.c).
 *
 * The CRC in the ring. A real DP8390 stores each frame's 4-byte FCS after
 * it and counts it in the ring header; QEMU's ne2000 counts the frame only.
 * No register tells the two apart (RCR, DCR and the PROM read the same),
 * so param rx_crc says which, and its default, auto, finds out from the
 * frames themselves:
 *   - a stored frame shorter than 64 bytes, or whose last 4 bytes are not
 *     the CRC-32 of the rest, proves the count has no FCS: a DP8390 with
 *     RCR.SEP and RCR.AR clear (always so here) stores only frames of at
 *     least 64 bytes with a good FCS. The driver latches "no FCS" (QEMU);
 *     under QEMU the first ordinary frame (any ARP request: 60 bytes) does.
 *   - a frame whose last 4 bytes are its FCS has them removed. Under QEMU
 *     only a frame built to end in its own FCS does that, and only before
 *     the latch above; it then loses its last 4 bytes (its own loss).
 *   - the ring's next-page pointer settles "FCS counted" for good: a frame
 *     whose count is 253-256 bytes past a page boundary ends in that page on
 *     a DP8390, while QEMU always leaves 4 more bytes for the CRC and so
 *     takes one page more. Such a frame with a good FCS latches "FCS
 *     counted" (real hardware), after which no CRC is computed.
 * rx_crc=off (QEMU) and rx_crc=on (DP8390 datasheet, real NE2000 boards)
 * skip the detection. rx_fcs_mode reports the state (0 not known yet,
 * 1 no FCS, 2 FCS counted).
 *
 * Unicast filter. The driver writes its MAC to PAR0-5, which is what a
 * DP8390 filters on; QEMU filters on the PROM instead. When param mac sets
 * an address other than the PROM's, the card's filter cannot be trusted
 * either way: the driver then sets RCR.PRO and drops unicast frames for
 * other stations itself (rx_filtered). */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "nic_pio_priv.h"

/* ----- filter ------------------------------------------------------------- */

static uint8_t rx_filter(const struct nic_pio *n, uint8_t mar[8])
{
    uint8_t rcr = RCR_AB;
    bool all = n->allmulti || n->promisc;
    memset(mar, all ? 0xff : 0x00, 8);
    if (all)
        rcr |= RCR_AM;
    if (n->promisc || n->sw_ucast)
        rcr |= RCR_PRO;
    return rcr;
}

/* ----- transmit ----------------------------------------------------------- */

static uint8_t tx_page(unsigned b)
{
    return (uint8_t)(NE2K_TX_PAGE0 + b * NE2K_TX_PAGES);
}

static int free_txb(const struct nic_pio *n)
{
    for (unsigned i = 0; i < n->tx_bufs; i++)
        if (n->tx_state[i] == TXB_FREE)
            return (int)i;
    return -1;
}

static void tx_start(struct nic_pio *n, unsigned b)
{
    n->tx_state[b] = TXB_SENDING;
    n->tx_sending = (int)b;
    ne2k_tx_start(&n->hw, tx_page(b), n->tx_len[b]);
}

static int tso_pump(struct nic_pio *n, bool from_xmit);

/* Whether a TSO frame is still being cut once every free buffer has
 * taken a segment of it: nothing else may go out before its segments. */
static bool tso_held(struct nic_pio *n)
{
    if (n->tso_q.skb)
        tso_pump(n, false);
    return n->tso_q.skb != NULL;
}

/* A send that must wait (no buffer, or a TSO frame's segments first):
 * tx_ready follows when it may go. */
static int tx_busy(struct nic_pio *n)
{
    n->st.tx_busy++;
    n->need_tx_ready = true;
    return -EAGAIN;
}

/* A transmission ended (isr: its PTX/TXE bits): its buffer is free, and
 * the loaded one, if any, starts. */
static void tx_done(struct nic_pio *n, uint8_t isr)
{
    if (n->tx_sending >= 0) {
        unsigned b = (unsigned)n->tx_sending;
        if (isr & ISR_PTX) {
            n->st.tx_frames++;
            n->st.tx_bytes += n->tx_real[b];
        } else {
            n->st.tx_errors++;
        }
        n->tx_state[b] = TXB_FREE;
        n->tx_sending = -1;
        for (unsigned i = 0; i < n->tx_bufs; i++) {
            unsigned k = (b + 1 + i) % n->tx_bufs;
            if (n->tx_state[k] == TXB_READY) {
                tx_start(n, k);
                break;
            }
        }
    }
}

/* From the poll step, with room on the card: more of a TSO frame held,
 * then tx_ready when a send asked for it and could now go (not while a
 * TSO frame's segments wait: they go first). */
static void tx_room(struct nic_pio *n)
{
    if (!tso_held(n) && n->need_tx_ready && free_txb(n) >= 0) {
        n->need_tx_ready = false;
        if (n->ev && n->ev->tx_ready)
            n->ev->tx_ready(n->user);
    }
}

/* Collects a finished transmission without calling up (from xmit). */
static void tx_reap(struct nic_pio *n)
{
    if (n->tx_sending < 0)
        return;
    uint8_t isr = ne2k_isr(&n->hw) & (ISR_PTX | ISR_TXE);
    if (isr) {
        ne2k_ack(&n->hw, isr);
        tx_done(n, isr);
    }
}

/* A free transmit buffer, after taking a finished transmission's end if
 * none was; -1: both busy. */
static int take_txb(struct nic_pio *n)
{
    int b = free_txb(n);
    if (b < 0) {
        tx_reap(n);
        b = free_txb(n);
    }
    return b;
}

/* Buffer b holds a frame of len bytes (padded on the card to 60): it goes
 * out now when nothing is being sent, else after what is. */
static void load_txb(struct nic_pio *n, int b, uint32_t len)
{
    n->tx_len[b] = (uint16_t)(len < LYRA_ETH_ZLEN ? LYRA_ETH_ZLEN : len);
    n->tx_real[b] = (uint16_t)len;
    n->tx_state[b] = TXB_READY;
    if (n->tx_sending < 0)
        tx_start(n, (unsigned)b);
}

/* The frame's bytes, from the pieces themselves (not seg_len), counted
 * until past max; -EINVAL: a piece without memory. */
static int frame_total(const struct lyra_skb *skb, uint64_t max, uint64_t *total)
{
    struct lyra_skb_iter it;
    const uint8_t *p;
    uint32_t k;
    *total = 0;
    lyra_skb_iter_init(&it, skb);
    while (lyra_skb_iter_next(&it, &p, &k) && *total <= max) {
        if (k && !p)
            return -EINVAL;
        *total += k;
    }
    return 0;
}

/* Writes segments of the TSO frame held into every free buffer, starting
 * each; frees the frame after its last segment. A remote-DMA failure drops
 * what is left of it (tcp sends it again), but from xmit before any
 * segment was written: then the frame is the caller's again, -ETIMEDOUT
 * (0 otherwise: the frame was taken). */
static int tso_pump(struct nic_pio *n, bool from_xmit)
{
    struct nic_pio_tso *t = &n->tso_q;
    while (t->skb) {
        int b = take_txb(n);
        if (b < 0)
            return 0; /* the next transmission's end goes on */
        uint32_t len;
        if (nic_pio_tso_write_next(t, &n->hw, (uint16_t)(tx_page((unsigned)b) * NE_PAGE), &len)) {
            n->st.tx_rdma_fail++;
            bool give_back = from_xmit && !t->k;
            if (!give_back)
                lyra_skb_free(t->skb);
            t->skb = NULL;
            return give_back ? -ETIMEDOUT : 0;
        }
        n->st.tx_tso_segments++;
        n->tx.csum_offload++; /* each segment's summed in its write */
        n->tx.csum_in_write++;
        load_txb(n, b, len);
        if (t->off == t->payload) {
            lyra_skb_free(t->skb); /* all of it on the card */
            t->skb = NULL;
        }
    }
    return 0;
}

/* A TSO frame (netdev 1.2): taken whole and cut here, its segments going
 * out as buffers free up; one at a time (another is -EAGAIN, then
 * tx_ready). */
static int tso_xmit(struct nic_pio *n, struct lyra_skb *skb, uint64_t total)
{
    if (!n->tso || !n->csum_tx) { /* caps.tso_segs 0 */
        n->st.tx_too_big++;
        return -EOPNOTSUPP;
    }
    if (tso_held(n))
        return tx_busy(n);
    if (nic_pio_tso_begin(&n->tso_q, skb, total)) {
        n->st.tx_too_big++;
        return -EINVAL; /* the caller keeps it */
    }
    n->st.tx_tso_frames++;
    return tso_pump(n, true);
}

static int nd_xmit(void *self, struct lyra_skb *skb)
{
    struct nic_pio *n = self;
    if (!n->started)
        return -ENETDOWN;
    if (!skb)
        return -EINVAL;
    uint64_t total;
    if (frame_total(skb, skb->gso_size ? LYRA_ETH_HLEN + LYRA_TSO_MAX : LYRA_ETH_FRAME_MAX,
                    &total))
        return -EINVAL; /* a piece without memory */
    if (skb->gso_size)
        return tso_xmit(n, skb, total);
    if (total > LYRA_ETH_FRAME_MAX) {
        n->st.tx_too_big++;
        return -EMSGSIZE;
    }
    int b = tso_held(n) ? -1 : take_txb(n); /* (a TSO frame's segments first, in order) */
    if (b < 0)
        return tx_busy(n);
    uint32_t flen = total < LYRA_ETH_ZLEN ? LYRA_ETH_ZLEN : total;
    /* port I/O takes any number of pieces; with LYRA_SKB_F_CSUM_TX the
     * checksum is summed in the same write (nic_pio_tx.c) */
    int r = nic_pio_tx_write(&n->hw, (uint16_t)(tx_page((unsigned)b) * NE_PAGE), skb,
                             (uint32_t)total, flen, &n->tx);
    if (r == -ETIMEDOUT)
        n->st.tx_rdma_fail++;
    if (r)
        return r; /* the caller keeps the skb */
    load_txb(n, b, (uint32_t)total);
    lyra_skb_free(skb); /* on the card now */
    return 0;
}

static int nic_poll(void *self, unsigned budget)
{
    struct nic_pio *n = self;
    if (!n->started)
        return 0;
    if (budget > n->rx_budget)
        budget = n->rx_budget;
    unsigned work = 0;
    uint8_t isr = ne2k_isr(&n->hw);
    if (isr & ISR_CNT) {
        nic_pio_read_tallies(n);
        ne2k_ack(&n->hw, ISR_CNT);
    }
    if (isr & (ISR_PTX | ISR_TXE)) {
        ne2k_ack(&n->hw, isr & (ISR_PTX | ISR_TXE));
        tx_done(n, isr);
        work++;
    }
    /* (also when a send reaped the ending itself: a transmission still on
     * the wire is never retired without its PTX or TXE) */
    if ((n->need_tx_ready || n->tso_q.skb) && free_txb(n) >= 0)
        tx_room(n);
    if (isr & ISR_OVW) {
        ne2k_ack(&n->hw, isr & (ISR_PRX | ISR_RXE));
        return (int)(work + nic_pio_rx_overflow(n, budget));
    }
    if ((isr & (ISR_PRX | ISR_RXE)) || n->rx_more) {
        ne2k_ack(&n->hw, isr & (ISR_PRX | ISR_RXE));
        work += nic_pio_rx_walk(n, budget);
        nic_pio_rx_flush(n); /* a run ends with the step */
    }
    return (int)work;
}

/* ----- netdev ops --------------------------------------------------------- */

static int nd_open(void *self)
{
    struct nic_pio *n = self;
    if (!n->started)
        return -ENETDOWN;
    n->opened = true;
    return 0;
}

static int nd_close(void *self)
{
    struct nic_pio *n = self;
    n->opened = false;
    return 0;
}

static int nd_caps(void *self, struct lyra_netdev_caps *caps)
{
    struct nic_pio *n = self;
    memset(caps, 0, sizeof(*caps));
    caps->mtu = LYRA_ETH_MTU;
    caps->max_segs = UINT16_MAX; /* port I/O writes any number of pieces */
    caps->page_contig = 0;
    caps->link_up = 1; /* the NE2000 reports no link state */
    caps->csum_tx = n->csum_tx ? (LYRA_CSUM_TCP | LYRA_CSUM_UDP) : 0;
    /* TSO needs the checksum inserted here: each segment's differs */
    caps->tso_segs = n->tso && n->csum_tx ? NIC_PIO_TSO_SEGS : 0;
    memcpy(caps->mac, n->started ? n->mac : n->mac_param, 6);
    return 0;
}

static int nd_set_rx_mode(void *self, bool allmulti, bool promisc)
{
    struct nic_pio *n = self;
    n->allmulti = allmulti;
    n->promisc = promisc;
    if (n->started) {
        uint8_t mar[8];
        uint8_t rcr = rx_filter(n, mar);
        ne2k_set_filter(&n->hw, rcr, mar);
    }
    return 0;
}

static const struct lyra_netdev_ops nic_netdev_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_ops),
    .open = nd_open,
    .close = nd_close,
    .xmit = nd_xmit,
    .caps = nd_caps,
    .set_rx_mode = nd_set_rx_mode,
};

static int nd_attach(void *self, const void *events, void *user)
{
    struct nic_pio *n = self;
    const struct lyra_netdev_events *ev = events;
    if (ev && ev->hdr.major != LYRA_NETDEV_MAJOR)
        return -EPROTO;
    if (n->ev)
        return -EBUSY;
    n->ev = ev;
    n->user = user;
    return 0;
}

/* ----- slots -------------------------------------------------------------- */

/* ----- lifecycle ---------------------------------------------------------- */

enum { P_MAC, P_RX_BUDGET, P_TX_BUFS, P_WAIT_SPINS, P_ALLMULTI, P_PROMISC, P_RX_CRC, P_CSUM_TX,
       P_TSO, P_GRO, P__COUNT };

static int nic_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct nic_pio *n = self;
    memset(n, 0, sizeof(*n));
    if (p[P_MAC].set) {
        const uint8_t *m = p[P_MAC].u.mac;
        if (!lyra_eth_addr_is_station(m)) {
            lyra_diag_add(d, LYRA_E_RANGE, 0,
                          "nic_pio.mac: a station MAC must be unicast and non-zero");
            return -EINVAL;
        }
        memcpy(n->mac_param, m, 6);
        n->mac_set = true;
    }
    n->rx_budget = (uint32_t)p[P_RX_BUDGET].u.i;
    n->tx_bufs = (uint32_t)p[P_TX_BUFS].u.i;
    n->hw.wait_spins = (unsigned)p[P_WAIT_SPINS].u.i;
    n->allmulti = p[P_ALLMULTI].u.b;
    n->promisc = p[P_PROMISC].u.b;
    n->csum_tx = p[P_CSUM_TX].u.b;
    n->tso = p[P_TSO].u.b;
    n->gro_param = p[P_GRO].u.b;
    const char *crc = p[P_RX_CRC].u.s;
    if (!strcmp(crc, "auto")) {
        n->rx_crc = FCS_UNKNOWN;
    } else if (!strcmp(crc, "off")) {
        n->rx_crc = FCS_NONE;
    } else if (!strcmp(crc, "on")) {
        n->rx_crc = FCS_COUNTED;
    } else {
        lyra_diag_add(d, LYRA_E_RANGE, 0, "nic_pio.rx_crc: '%s' is none of auto, off, on", crc);
        return -EINVAL;
    }
    n->tx_sending = -1;
    lyra_skbq_init(&n->rxq);
    return 0;
}

static int nic_start(void *self)
{
    struct nic_pio *n = self;
    if (!n->bus || !n->skb || !n->os.ops)
        return -ENOTCONN;
    if (!n->bus->inb || !n->bus->outb || !n->bus->inw || !n->bus->outw || !n->bus->insw ||
        !n->bus->outsw)
        return -ENODEV;
    n->hw.bus = n->bus;
    n->hw.bus_self = n->bus_self;
    int r = ne2k_reset(&n->hw);
    if (r) {
        lyra_log(&n->os, LYRA_LOG_ERROR, WHO, "no NE2000 answers the reset (ISR.RST never set)");
        return -ENODEV;
    }
    uint8_t prom[6];
    r = ne2k_read_prom(&n->hw, prom);
    if (r) {
        lyra_log(&n->os, LYRA_LOG_ERROR, WHO, "reading the address PROM timed out");
        return r;
    }
    memcpy(n->mac, n->mac_set ? n->mac_param : prom, 6);
    /* QEMU filters on the PROM, a DP8390 on PAR: only for the PROM's own
     * address do both agree. */
    n->sw_ucast = memcmp(n->mac, prom, 6) != 0;
    n->fcs = n->rx_crc;
    uint8_t mar[8];
    uint8_t rcr = rx_filter(n, mar);
    ne2k_init(&n->hw, n->mac, rcr, mar, NIC_IMR);
    n->next_pkt = n->hw.pstart;
    n->rx_more = false;
    n->in_recovery = false;
    memset(n->tx_state, TXB_FREE, sizeof(n->tx_state));
    n->tx_sending = -1;
    n->need_tx_ready = false;
    lyra_gro_start(&n->gro, n->gro_param, n->ev);
    n->started = true;
    return 0;
}

static void nic_stop(void *self)
{
    struct nic_pio *n = self;
    if (!n->started)
        return;
    nic_pio_read_tallies(n);
    ne2k_stop(&n->hw);
    lyra_gro_drop(&n->gro);
    if (n->tso_q.skb) { /* segments never written: tcp sends them again */
        lyra_skb_free(n->tso_q.skb);
        n->tso_q.skb = NULL;
    }
    n->started = false;
    n->opened = false;
}

static void nic_destroy(void *self)
{
    nic_stop(self);
}

static void nic_stats(void *self, struct lyra_stats_sink *sink)
{
    struct nic_pio *n = self;
    if (n->started && !n->in_recovery)
        nic_pio_read_tallies(n);
#define NIC_STAT_EMIT(x) lyra_stat(sink, #x, n->st.x);
    NIC_STATS(NIC_STAT_EMIT)
#undef NIC_STAT_EMIT
    lyra_stat(sink, "tx_csum_offload", n->tx.csum_offload);
    lyra_stat(sink, "tx_csum_in_write", n->tx.csum_in_write);
    lyra_stat(sink, "tx_csum_bad", n->tx.csum_bad);
    lyra_stat(sink, "rdma_timeout", n->hw.rdma_timeout);
    lyra_stat(sink, "reset_timeout", n->hw.reset_timeout);
    lyra_stat(sink, "rx_fcs_mode", n->fcs);
    lyra_gro_stats_emit(&n->gro.st, sink);
}

/* ----- descriptor --------------------------------------------------------- */

static const struct lyra_provide nic_provides[] = {
    {
        .iface = LYRA_NETDEV_IFACE,
        .major = LYRA_NETDEV_MAJOR,
        .minor = LYRA_NETDEV_MINOR,
        .ops = &nic_netdev_ops,
        .attach = nd_attach,
        .max_users = 1,
        .doc = LYRA_DOC("the NE2000 as a netdev: gather transmit by remote DMA, ring receive"),
    },
};

/* Refuses at bind a device that is no NE2000 (bus info is fixed from the
 * provider's create on), so `lyranet check` reports it. */
static int nic_bind_bus(void *self, unsigned index, const void *ops, void *prov)
{
    struct nic_pio *n = self;
    (void)index;
    if (!ne2k_bus_drivable(ops, prov))
        return -ENODEV;
    n->bus = ops;
    n->bus_self = prov;
    return 0;
}

static const struct lyra_slot nic_slots[] = {
    {
        .name = "bus",
        .iface = LYRA_BUS_IFACE,
        .major = LYRA_BUS_MAJOR,
        .minor = 0, /* insw_csum (1.1) and outsw_csum (1.2) are used where they exist */
        .min = 1,
        .max = 1,
        .events = NULL,
        .bind = nic_bind_bus,
        .doc = LYRA_DOC("the card's port I/O window (ne2k_model on the host, ISA/PCI on bare metal); "
               "a bus without port I/O or with another PCI ID than an NE2000's is refused"),
    },
    {
        .name = "skb",
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = 0, /* skb 2.0 is all it needs */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct nic_pio, skb, skb_self),
        .doc = LYRA_DOC("receive buffers (alloc_rx)"),
    },
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 0,
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct nic_pio, os.ops, os.self),
        .doc = LYRA_DOC("logging"),
    },
};

static const struct lyra_param nic_params[P__COUNT] = {
    [P_MAC] = {"mac", LYRA_P_MAC, NULL, 1, 0,
               LYRA_DOC("station MAC written to PAR0-5; unset: the card's address PROM. Another "
               "address than the PROM's turns RCR.PRO on and filters unicast in the driver "
               "(QEMU filters on the PROM, not PAR)")},
    [P_RX_BUDGET] = {"rx_budget", LYRA_P_INT, "32", 1, 1024,
                     LYRA_DOC("most frames taken from the ring in one poll step")},
    [P_TX_BUFS] = {"tx_bufs", LYRA_P_INT, "2", 1, 2,
                   LYRA_DOC("transmit buffers on the card (2: one loads while the other sends)")},
    [P_WAIT_SPINS] = {"wait_spins", LYRA_P_INT, "10000", 1, 10000000,
                      LYRA_DOC("bounded waits (reset, remote DMA complete): ISR reads 1 us apart "
                      "before giving up (counted in rdma_timeout / reset_timeout)")},
    [P_ALLMULTI] = {"allmulti", LYRA_P_BOOL, "off", 1, 0,
                    LYRA_DOC("accept every multicast frame (RCR.AM, MAR all ones)")},
    [P_PROMISC] = {"promisc", LYRA_P_BOOL, "off", 1, 0, LYRA_DOC("accept every frame (RCR.PRO)")},
    [P_RX_CRC] = {"rx_crc", LYRA_P_STRING, "auto", 1, 0,
                  LYRA_DOC("whether the ring header's count includes the frame's 4-byte CRC: off as "
                  "QEMU's ne2000, on as the DP8390 datasheet and real NE2000 boards, auto "
                  "(default) tells from the frames (see the component doc)")},
    [P_CSUM_TX] = {"csum_tx", LYRA_P_BOOL, "on", 1, 0,
                   LYRA_DOC("offer checksum insertion (netdev csum_tx, TCP and UDP): the driver "
                   "sums the frame in its remote-DMA write, so the stack never reads the "
                   "payload to sum it (off: the stack sums, in its copy or apart)")},
    [P_TSO] = {"tso", LYRA_P_BOOL, "on", 1, 0,
               LYRA_DOC("take TCP segmentation offload frames (netdev tso_segs, with csum_tx): "
               "tcp hands new data of many segments down as one frame, and the driver writes "
               "each segment (the frame's header with its lengths, identification, sequence "
               "number and checksums, and the next gso_size payload bytes) into a transmit "
               "buffer as one frees up")},
    [P_GRO] = {"gro", LYRA_P_BOOL, "on", 1, 0,
               LYRA_DOC("receive coalescing (skb 2.6 LYRA_SKB_F_GRO, netdev 1.3): TCP/IPv4 frames "
               "of one flow that continue each other in a poll step go up as one run, so the "
               "layers above handle their headers once; each TCP checksum is checked here from "
               "the sum the read kept (a bus without insw_csum keeps none: no runs)")},
};

LYRA_EXPORT const struct lyra_component lyra_component_nic_pio = {
    LYRA_COMPONENT_HDR,
    .name = "nic_pio",
    .version = "1.0.0",
    .summary = LYRA_DOC("NE2000 (DP8390) programmed-I/O driver"),
    .doc = LYRA_DOC("@component nic_pio\n"
           "@summary NE2000 (DP8390) programmed-I/O driver\n"
           "@provides netdev 1.3 (one user)\n"
           "@uses bus bus 1.0 (port I/O); skb skb 2.0; os os 2.0\n"
           "@context task (the stack's poll step)\n"
           "Start resets the card (read of base+0x1F, wait for ISR.RST), reads the MAC from "
           "the address PROM (word mode, doubled bytes) and initialises it in the datasheet's "
           "order: word mode (DCR 0x49), two 6-page transmit buffers at 0x40 and 0x46, receive "
           "ring 0x4C-0x80. Transmit gathers the skb straight into the card by remote DMA and "
           "pads to 60 bytes; both buffers busy is -EAGAIN, then tx_ready. The poll hook reads "
           "ISR, ends transmissions, and reads up to min(budget, rx_budget) frames; a ring "
           "overflow is recovered with the datasheet's procedure (stop, loopback, remove "
           "frames, clear OVW, resend). Every wait on the card is bounded.\n"
           "The ring header's count includes the 4-byte CRC on a DP8390 (which stores it "
           "after the frame) but not under QEMU; no register tells. rx_crc=auto (default) "
           "decides from the frames: a stored frame under 64 bytes or not ending in its own "
           "CRC-32 proves there is no CRC (a DP8390 without RCR.SEP/AR stores none such; "
           "under QEMU the first ordinary frame settles it); a frame ending in its CRC has "
           "it removed, and one whose next-page pointer shows the CRC counted (count 253-256 "
           "past a page boundary: QEMU takes a page more) settles 'CRC counted'. Until QEMU "
           "is settled, a frame built to end in its own CRC loses those 4 bytes. rx_crc=off "
           "(QEMU) and rx_crc=on (real boards) skip the detection. The MAC goes to PAR0-5 "
           "(what a DP8390 filters on); QEMU filters on the PROM, so an address other than "
           "the PROM's (param mac) is filtered by the driver with RCR.PRO on.\n"
           "Checksum insertion (csum_tx, default on): the card has none, but the remote-DMA "
           "write passes over every byte of a frame anyway; the driver writes the payload "
           "first, summing it (bus outsw_csum, or a sum of what it just wrote), then the "
           "header with the checksum in.\n"
           "TCP segmentation (tso, default on, with csum_tx; netdev tso_segs 44): a TSO frame "
           "is taken whole and cut here, each segment written as a frame of its own (the "
           "frame's headers with the IPv4 length, identification and header checksum, the "
           "sequence number, FIN and PSH on the last only, and the TCP checksum summed in "
           "the payload's write) into a transmit buffer as one frees up; any frame sent "
           "meanwhile waits for them (-EAGAIN, then tx_ready), so nothing overtakes them.\n"
           "@stat tx_frames tx_bytes: sent (PTX); tx_errors: TXE; tx_busy: -EAGAIN; "
           "tx_too_big: above 1514 bytes, or a TSO frame refused (tso=off, csum_tx=off, or not "
           "TCP/IPv4 with the headers alone linear); tx_rdma_fail: remote DMA write did not "
           "complete\n"
           "@stat tx_tso_frames tx_tso_segments: TSO frames taken, and the segments written from "
           "them (each in tx_frames once sent)\n"
           "@stat rx_frames rx_bytes: delivered; rx_nobuf: no skb; rx_bad: bad ring header "
           "(the ring is dropped); rx_overflow: OVW recoveries; rx_down: received while not "
           "open; rx_rdma_fail: remote DMA read did not complete; rx_fcs_stripped: frames "
           "whose CRC was removed; rx_filtered: unicast for others dropped by the driver; "
           "rx_summed: frames whose checksum sum the read itself added up (bus insw_csum, "
           "kept with the skb: the transport does not read the payload again); "
           "rx_fcs_mode: 0 not known yet, 1 count without CRC, 2 count with CRC\n"
           "@stat rx_crc rx_frame rx_missed: the card's tally counters\n"
           "@stat tx_csum_offload: frames whose checksum the driver inserted (TSO segments "
           "each); "
           "tx_csum_in_write: of them, summed in the payload's write; tx_csum_bad: asked for "
           "outside the frame's linear part (refused)\n"
           "@stat rdma_timeout reset_timeout: bounded waits that ran out\n"
           "@stat rx_gro_runs: runs of coalesced frames handed up; rx_gro_chained: frames "
           "that went up chained to a run's first (gro)\n"),
    .provides = nic_provides,
    .n_provides = LYRA_COUNT(nic_provides),
    .slots = nic_slots,
    .n_slots = LYRA_COUNT(nic_slots),
    .params = nic_params,
    .n_params = LYRA_COUNT(nic_params),
    .instance_size = sizeof(struct nic_pio),
    .create = nic_create,
    .start = nic_start,
    .stop = nic_stop,
    .destroy = nic_destroy,
    .poll = nic_poll,
    .stats = nic_stats,
};
