/* Component `nic_dma`: Intel 8254x (e1000) descriptor-ring DMA driver.
 *
 * Provides netdev 1.2 (1.2: caps.tso_segs, TCP segmentation offload) to
 * one user; uses bus (the card), skb (receive
 * buffers) and os (memory for the ring bookkeeping, logging). Runs in
 * poll mode: the poll hook reads ICR (read to clear), reclaims finished
 * transmits and hands received frames up.
 *
 * Receive (nic_dma_rx.c): rx_ring descriptors, each pointing at an skb
 * posted from the skb provider; the card writes the frame into it and the
 * skb goes up as it is (no copy), a fresh one posted in its place. An
 * empty pool leaves descriptors without a buffer until buffers come back.
 *
 * Transmit: one descriptor per part of the skb (linear part, then each
 * segment, each mapped with dma_map), EOP|IFCS|RS on the last; a TCP/IP
 * context descriptor first when the checksum is offloaded and the context
 * changed. The hardware pads short frames (TCTL.PSP). When the ring is
 * short, xmit returns -EAGAIN and tx_ready follows once enough descriptors
 * are back (DD, written back for RS).
 *
 * TSO (param tso, skb gso_size): a TCP/IPv4 frame of up to 64 KiB goes on
 * the ring as one TSE context descriptor and its pieces; the card cuts it
 * into gso_size-byte segments (manual 3.5; nic_dma_txreq.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "e1000_desc.h"
#include "e1000_hw.h"
#include "e1000_regs.h"
#include "lyra/tcp_gro.h"
#include "nic_dma_rx.h"
#include "nic_dma_txreq.h"
#include "lyra/bus.h"
#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/netdev.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "lyra/skb_pieces.h"

#define WHO "nic_dma"
#define PAGE_DEFAULT 4096u
#define RING_ALIGN 128u
/* the most data descriptors a frame takes (the gather limit): a frame
 * with more pieces (after page splits) is bounced into one linear buffer
 * (lyra_skb_bounce: tx_bounced, counted in copy_bytes) */
#define TX_MAX_PARTS 14u

#define NIC_DMA_STATS(X) \
    X(tx_frames)         \
    X(tx_bytes)          \
    X(tx_busy)           \
    X(tx_errors)         \
    X(tx_dma_errors)     \
    X(tx_csum_offload)   \
    X(tx_ctx_desc)       \
    X(tx_bounced)        \
    X(tx_bounce_bytes)   \
    X(tx_bounce_nobuf)   \
    X(tx_tso_frames)     \
    X(tx_tso_segments)   \
    X(tx_tso_refused)    \
    X(rx_overruns)       \
    X(link_changes)      \
    X(eeprom_csum_bad)

struct nic_dma_stats {
#define F(n) uint64_t n;
    NIC_DMA_STATS(F)
#undef F
};

struct tx_slot {
    const void *map_ptr; /* memory mapped for this descriptor (NULL: context) */
    uint32_t map_len;
    uint32_t last;       /* on a frame's first slot: its last slot */
    struct lyra_skb *skb; /* on a frame's last slot */
};

struct nic_dma {
    const struct lyra_bus_ops *bus;
    void *bself;
    const struct lyra_skb_ops *so;
    void *sself;
    struct lyra_os os;
    const struct lyra_netdev_events *ev;
    void *user;
    struct e1000_hw hw;

    uint32_t rx_n, tx_n, rx_budget;
    bool csum_tx, csum_rx, page_contig, tso; /* tso: asked for and csum_tx on */
    size_t page; /* the os page size, for page_contig splits */

    bool started, opened, link_up;
    uint8_t mac[6];
    uint32_t rctl;

    struct nd_rx rx;   /* the receive ring (nic_dma_rx.h) */
    struct lyra_gro gro; /* receive coalescing (lyra/tcp_gro.h) */
    bool gro_param;    /* gro asked for (and csum_rx) */

    uint8_t *tx_ring;
    uint64_t tx_ring_bus;
    struct tx_slot *tx_slots;
    uint32_t tx_head, tx_tail, tx_free;
    uint32_t tx_pending; /* frames on the ring whose skb is not given back yet */
    bool ctx_valid, tx_stopped;
    uint8_t ctx_css, ctx_cso;
    uint32_t tx_need;

    struct nic_dma_stats st;
};

static inline uint32_t ring_next(uint32_t i, uint32_t n)
{
    return i + 1 == n ? 0 : i + 1;
}

/* ----- transmit ----------------------------------------------------------- */

/* Gives back finished frames (DD on their last descriptor). Returns how
 * many. tx_ready goes up only when notify is set (from poll: never from
 * inside xmit, so a user is not re-entered from its own call). */
static unsigned tx_clean(struct nic_dma *n, bool notify)
{
    unsigned done = 0;
    while (n->tx_free < n->tx_n - 1) {
        uint32_t first = n->tx_head;
        uint32_t last = n->tx_slots[first].last;
        if (!(e1000_txd_status(n->tx_ring + (size_t)last * E1000_DESC_SIZE) & E1000_TXD_STAT_DD))
            break;
        struct lyra_skb *skb = n->tx_slots[last].skb;
        for (uint32_t i = first;; i = ring_next(i, n->tx_n)) {
            struct tx_slot *s = &n->tx_slots[i];
            if (s->map_ptr)
                n->bus->dma_unmap(n->bself, s->map_ptr, s->map_len);
            *s = (struct tx_slot){0};
            n->tx_free++;
            if (i == last)
                break;
        }
        lyra_skb_free(skb);
        n->tx_pending--;
        n->tx_head = ring_next(last, n->tx_n);
        done++;
    }
    if (notify && n->tx_stopped && n->tx_free >= n->tx_need) {
        n->tx_stopped = false;
        if (n->ev && n->ev->tx_ready)
            n->ev->tx_ready(n->user);
    }
    return done;
}

/* Splits the frame into DMA parts: the linear part, then each segment,
 * each split at every page boundary it crosses when page_contig is on (the
 * shared rule, lyra/skb_pieces.h; TSO frames at least every ND_TSO_SPLIT).
 * The count, or -ENOSPC past the gather limit (TX_MAX_PARTS;
 * ND_TSO_MAX_PARTS for TSO frames). The pieces are the parts themselves,
 * so nothing is copied per frame. */
static int tx_parts(const struct nic_dma *n, const struct lyra_skb *skb, bool tso,
                    struct lyra_skb_piece *pt)
{
    if (tso)
        return lyra_skb_pieces(skb, nd_tso_split(n->page_contig, n->page), pt,
                               ND_TSO_MAX_PARTS);
    return lyra_skb_pieces(skb, n->page_contig ? n->page : 0, pt, TX_MAX_PARTS);
}

/* Reads what the frame asks for (nic_dma_txreq.h); every refusal counted
 * in tx_errors, a TSO frame's also in tx_tso_refused. */
static int tx_classify(struct nic_dma *n, const struct lyra_skb *skb, struct nd_txreq *q)
{
    int r = nd_txreq_read(skb, n->csum_tx, n->tso, q);
    if (r) {
        n->st.tx_errors++;
        n->st.tx_tso_refused += skb->gso_size != 0;
    }
    return r;
}

/* Whether the frame needs a context descriptor: a TSO frame always (its
 * PAYLEN is its own), a checksum frame when the card holds another. */
static bool tx_needs_ctx(const struct nic_dma *n, const struct nd_txreq *q)
{
    if (q->tso)
        return true;
    return q->csum && !(n->ctx_valid && n->ctx_css == q->css && n->ctx_cso == q->cso);
}

/* Writes the context descriptor at idx and keeps the cache of what the
 * card holds in step. The card keeps one context (manual 3.3.6): a TSE one
 * replaces the checksum offsets too, so after it the next checksum frame
 * writes its own again. */
static void tx_write_ctx(struct nic_dma *n, uint32_t idx, const struct nd_txreq *q)
{
    uint8_t *d = n->tx_ring + (size_t)idx * E1000_DESC_SIZE;
    if (q->tso) {
        e1000_txd_tso_context(d, &q->tc);
        n->ctx_valid = false;
    } else {
        /* TCP/UDP checksum from css to the end, stored at cso; the stack
         * has put the pseudo-header sum there (manual 3.3.6) */
        e1000_txd_context(d, 0, 0, 0, (uint8_t)q->css, (uint8_t)q->cso, 0, E1000_TXD_TUCMD_IP);
        n->ctx_valid = true;
        n->ctx_css = (uint8_t)q->css;
        n->ctx_cso = (uint8_t)q->cso;
    }
    n->tx_slots[idx] = (struct tx_slot){0};
    n->st.tx_ctx_desc++;
}

/* Maps each piece and writes its data descriptor from ring index idx on
 * (mapping and writing in one pass keeps no array of bus addresses on the
 * stack). 0 and the last index in *last; on a mapping failure what was
 * mapped is unmapped again and the error returned (nothing reaches the
 * card before TDT moves). */
static int tx_write_data(struct nic_dma *n, const struct lyra_skb_piece *pt, unsigned np,
                         uint32_t idx, const struct nd_txreq *q, uint32_t *last)
{
    const uint32_t from = idx;
    for (unsigned i = 0; i < np; i++) {
        uint64_t bus;
        int r = n->bus->dma_map(n->bself, pt[i].p, pt[i].len, &bus);
        if (r) {
            for (uint32_t j = from; j != idx; j = ring_next(j, n->tx_n)) {
                n->bus->dma_unmap(n->bself, n->tx_slots[j].map_ptr, n->tx_slots[j].map_len);
                n->tx_slots[j] = (struct tx_slot){0};
            }
            return r < 0 ? r : -EFAULT;
        }
        nd_txreq_desc(n->tx_ring + (size_t)idx * E1000_DESC_SIZE, bus, pt[i].len, i + 1 == np, q);
        n->tx_slots[idx] = (struct tx_slot){.map_ptr = pt[i].p, .map_len = pt[i].len};
        *last = idx;
        idx = ring_next(idx, n->tx_n);
    }
    return 0;
}

/* The frame is on the ring: bookkeeping, counters, and TDT. */
static void tx_commit(struct nic_dma *n, struct lyra_skb *skb, const struct nd_txreq *q,
                      uint32_t first, uint32_t last, uint32_t need)
{
    n->tx_slots[first].last = last;
    n->tx_slots[last].skb = skb;
    n->tx_free -= need;
    n->tx_pending++;
    n->tx_tail = ring_next(last, n->tx_n);
    n->tx_stopped = false; /* the user got through: no tx_ready owed */
    n->st.tx_frames++;
    n->st.tx_bytes += q->total;
    if (q->csum)
        n->st.tx_csum_offload++;
    if (q->tso) {
        n->st.tx_tso_frames++;
        n->st.tx_tso_segments += nd_tso_frames(&q->tc);
    }
    /* descriptors are in memory before the tail moves */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e1000_wr(&n->hw, E1000_TDT, n->tx_tail);
}

static int nd_xmit(void *self, struct lyra_skb *skb)
{
    struct nic_dma *n = self;
    if (!n->started)
        return -ENETDOWN;
    if (!skb || (skb->len && !skb->data)) {
        n->st.tx_errors++;
        return -EINVAL;
    }
    struct nd_txreq q;
    int r = tx_classify(n, skb, &q);
    if (r)
        return r;
    struct lyra_skb_piece pt[ND_TSO_MAX_PARTS > TX_MAX_PARTS ? ND_TSO_MAX_PARTS : TX_MAX_PARTS];
    struct lyra_skb *bounce = NULL; /* a linear copy sent in skb's place */
    int got = tx_parts(n, skb, q.tso, pt);
    if (got == -ENOSPC) { /* more pieces than we gather: one shared way out */
        bounce = lyra_skb_bounce(n->so, n->sself, skb);
        if (!bounce) {
            n->st.tx_bounce_nobuf++;
            return -ENOBUFS; /* the caller keeps skb */
        }
        got = tx_parts(n, bounce, q.tso, pt);
    }
    if (got <= 0) { /* nothing to send, or more pieces even bounced */
        lyra_skb_free(bounce);
        n->st.tx_errors++;
        return -EINVAL;
    }
    unsigned np = (unsigned)got;
    bool ctx = tx_needs_ctx(n, &q);
    uint32_t need = np + (ctx ? 1u : 0u);
    if (need > n->tx_free)
        tx_clean(n, false);
    if (need > n->tx_free) {
        lyra_skb_free(bounce);
        n->st.tx_busy++;
        n->tx_stopped = true;
        n->tx_need = need;
        return -EAGAIN;
    }
    struct lyra_skb *out = bounce ? bounce : skb; /* the frame the card reads */
    uint16_t ipsum = q.tso ? nd_txreq_ip_csum_clear(out->data, &q) : 0;
    uint32_t first = n->tx_tail, last = first;
    r = tx_write_data(n, pt, np, ctx ? ring_next(first, n->tx_n) : first, &q, &last);
    if (r) {
        if (q.tso)
            nd_txreq_ip_csum_restore(out->data, &q, ipsum);
        lyra_skb_free(bounce);
        n->st.tx_dma_errors++;
        return r;
    }
    if (ctx)
        tx_write_ctx(n, first, &q);
    if (bounce) { /* sent from the copy: skb is done with (its `done` runs) */
        n->st.tx_bounced++;
        n->st.tx_bounce_bytes += q.total;
        lyra_skb_free(skb);
    }
    tx_commit(n, out, &q, first, last, need);
    return 0;
}

/* Drops every frame still on the ring (stop). */
static void tx_purge(struct nic_dma *n)
{
    while (n->tx_free < n->tx_n - 1) {
        struct tx_slot *s = &n->tx_slots[n->tx_head];
        if (s->map_ptr)
            n->bus->dma_unmap(n->bself, s->map_ptr, s->map_len);
        if (s->skb) {
            lyra_skb_free(s->skb);
            n->tx_pending--;
        }
        *s = (struct tx_slot){0};
        n->tx_head = ring_next(n->tx_head, n->tx_n);
        n->tx_free++;
    }
}

/* ----- receive ------------------------------------------------------------ */

/* A frame, or a run of them (LYRA_SKB_F_GRO), goes to the user, who takes it. */
static void rx_deliver(void *ctx, struct lyra_skb *skb)
{
    struct nic_dma *n = ctx;
    if (n->ev && n->ev->rx) {
        n->ev->rx(n->user, skb);
    } else {
        n->rx.st.rx_no_user++;
        lyra_skb_free(skb);
    }
}

/* A filled skb from the ring: through the coalescing to the user. */
static void rx_up(void *ctx, struct lyra_skb *skb)
{
    struct nic_dma *n = ctx;
    lyra_gro_rx(&n->gro, skb, rx_deliver, n);
}

/* ----- poll ---------------------------------------------------------------- */

static void link_check(struct nic_dma *n)
{
    bool up = e1000_hw_link_up(&n->hw);
    if (up == n->link_up)
        return;
    n->link_up = up;
    n->st.link_changes++;
    if (n->ev && n->ev->link)
        n->ev->link(n->user, up);
}

static int nic_dma_poll(void *self, unsigned budget)
{
    struct nic_dma *n = self;
    if (!n->started)
        return 0;
    uint32_t icr = e1000_rd(&n->hw, E1000_ICR); /* read to clear */
    if (icr & E1000_ICR_LSC)
        link_check(n);
    if (icr & E1000_ICR_RXO) {
        n->st.rx_overruns++;
        nd_rx_count_missed(&n->rx);
    }
    unsigned work = tx_clean(n, true);
    if (budget > n->rx_budget)
        budget = n->rx_budget;
    if (n->started)
        work += nd_rx_poll(&n->rx, budget ? budget : 1, rx_up, n);
    lyra_gro_flush(&n->gro, rx_deliver, n); /* a run ends with the step */
    return (int)work;
}

/* ----- netdev ops ------------------------------------------------------------ */

static int nd_open(void *self)
{
    struct nic_dma *n = self;
    n->opened = true;
    return 0;
}

static int nd_close(void *self)
{
    struct nic_dma *n = self;
    n->opened = false;
    return 0;
}

static int nd_caps(void *self, struct lyra_netdev_caps *c)
{
    struct nic_dma *n = self;
    memset(c, 0, sizeof(*c));
    c->mtu = LYRA_ETH_MTU;
    c->max_segs = TX_MAX_PARTS - 1; /* more: bounced (lyra_skb_bounce) */
    c->page_contig = n->page_contig;
    c->csum_tx = n->csum_tx ? (LYRA_CSUM_TCP | LYRA_CSUM_UDP) : 0;
    c->csum_rx = n->csum_rx ? (LYRA_CSUM_IPV4 | LYRA_CSUM_TCP | LYRA_CSUM_UDP) : 0;
    c->link_up = n->link_up;
    memcpy(c->mac, n->mac, 6);
    c->rx_post = (uint16_t)(n->rx_n - 1); /* netdev 1.1: buffers posted at most */
    /* netdev 1.2: segments every frame with gso_size may carry and still fit */
    c->tso_segs = n->tso ? nd_tso_segs(nd_tso_split(n->page_contig, n->page), n->tx_n) : 0;
    return 0;
}

static int nd_set_rx_mode(void *self, bool allmulti, bool promisc)
{
    struct nic_dma *n = self;
    uint32_t r = n->rctl & ~(E1000_RCTL_MPE | E1000_RCTL_UPE);
    if (allmulti || promisc)
        r |= E1000_RCTL_MPE;
    if (promisc)
        r |= E1000_RCTL_UPE;
    n->rctl = r;
    if (n->started)
        e1000_wr(&n->hw, E1000_RCTL, r);
    return 0;
}

static const struct lyra_netdev_ops nic_dma_nd_ops = {
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
    struct nic_dma *n = self;
    const struct lyra_netdev_events *ev = events;
    if (ev && ev->hdr.major != LYRA_NETDEV_MAJOR)
        return -EPROTO;
    if (n->ev)
        return -EBUSY; /* one user */
    n->ev = ev;
    n->user = user;
    return 0;
}

/* ----- slots ---------------------------------------------------------------- */

/* ----- lifecycle ------------------------------------------------------------ */

enum { P_RX_RING, P_TX_RING, P_CSUM_TX, P_CSUM_RX, P_PAGE_CONTIG, P_RX_BUDGET, P_TSO, P_GRO, P__COUNT };

/* Rules the parameter table cannot say (check hook, ABI 0.1). */
static int nic_dma_check(const struct lyra_value *p, struct lyra_diag *d)
{
    int bad = 0;
    if (p[P_RX_RING].u.i % 8) {
        lyra_diag_add(d, LYRA_E_RANGE, P_RX_RING + 1,
                      "%lld is not a multiple of 8 (RDLEN must be a multiple of 128 bytes)",
                      (long long)p[P_RX_RING].u.i);
        bad++;
    }
    if (p[P_TX_RING].u.i % 8) {
        lyra_diag_add(d, LYRA_E_RANGE, P_TX_RING + 1,
                      "%lld is not a multiple of 8 (TDLEN must be a multiple of 128 bytes)",
                      (long long)p[P_TX_RING].u.i);
        bad++;
    }
    return bad;
}

static int nic_dma_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct nic_dma *n = self;
    memset(n, 0, sizeof(*n));
    n->rx_n = (uint32_t)p[P_RX_RING].u.i;
    n->tx_n = (uint32_t)p[P_TX_RING].u.i;
    n->csum_tx = p[P_CSUM_TX].u.b;
    n->csum_rx = p[P_CSUM_RX].u.b;
    n->page_contig = p[P_PAGE_CONTIG].u.b;
    n->rx_budget = (uint32_t)p[P_RX_BUDGET].u.i;
    n->tso = p[P_TSO].u.b && n->csum_tx; /* the card's TSO computes the checksums */
    n->gro_param = p[P_GRO].u.b && n->csum_rx; /* a run takes only what the card verified */
    int bad = 0;
    if (n->rx_n % 8) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "nic_dma.rx_ring: %u is not a multiple of 8 (RDLEN must be a multiple "
                      "of 128 bytes)",
                      (unsigned)n->rx_n);
        bad = 1;
    }
    if (n->tx_n % 8) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "nic_dma.tx_ring: %u is not a multiple of 8 (TDLEN must be a multiple "
                      "of 128 bytes)",
                      (unsigned)n->tx_n);
        bad = 1;
    }
    return bad ? -EINVAL : 0;
}

static void release(struct nic_dma *n)
{
    if (n->tx_slots) {
        tx_purge(n);
        n->os.ops->mem_free(n->os.self, n->tx_slots);
        n->tx_slots = NULL;
    }
    if (n->tx_ring)
        n->bus->dma_free(n->bself, n->tx_ring, (size_t)n->tx_n * E1000_DESC_SIZE);
    lyra_gro_drop(&n->gro);
    nd_rx_stop(&n->rx);
    n->tx_ring = NULL;
}

static int nic_dma_start(void *self)
{
    struct nic_dma *n = self;
    if (!n->bus || !n->so || !n->os.ops)
        return -EINVAL;
    if (n->started)
        return 0;
    n->page = n->os.ops->page_size ? n->os.ops->page_size(n->os.self) : PAGE_DEFAULT;
    if (!n->page || (n->page & (n->page - 1)))
        n->page = PAGE_DEFAULT;
    lyra_gro_start(&n->gro, n->gro_param, n->ev);
    n->hw = (struct e1000_hw){.bus = n->bus, .bself = n->bself};
    int r = e1000_hw_probe(&n->hw);
    if (r) {
        lyra_log(&n->os, LYRA_LOG_ERROR, WHO, "no 82540EM (8086:100e) or 82574L (8086:10d3)");
        return r;
    }
    e1000_hw_enable_master(&n->hw);
    r = e1000_hw_reset(&n->hw);
    if (!r)
        r = e1000_hw_read_mac(&n->hw, n->mac);
    if (r) {
        lyra_log(&n->os, LYRA_LOG_ERROR, WHO, "%s timed out",
                 r == -ETIMEDOUT ? "reset or EEPROM read" : "bring-up");
        return r;
    }
    bool eeprom_ok = false;
    if (!e1000_hw_eeprom_valid(&n->hw, &eeprom_ok) && !eeprom_ok) {
        /* the MAC may still be right: go on, but say so */
        n->st.eeprom_csum_bad = 1;
        lyra_log(&n->os, LYRA_LOG_WARN, WHO, "EEPROM checksum is not 0xbaba");
    }
    e1000_hw_set_filter(&n->hw, n->mac);

    n->rx = (struct nd_rx){.bus = n->bus, .bself = n->bself, .so = n->so, .sself = n->sself,
                           .os = &n->os, .hw = &n->hw, .csum = n->csum_rx, .n = n->rx_n,
                           .st = n->rx.st};
    r = nd_rx_start(&n->rx);
    if (r == -EMSGSIZE) {
        lyra_log(&n->os, LYRA_LOG_ERROR, WHO,
                 "the skb provider's receive buffers hold less than a %u-byte frame",
                 (unsigned)ND_RX_BUF_LEN);
        return r;
    }
    n->tx_ring = r ? NULL : n->bus->dma_alloc(n->bself, (size_t)n->tx_n * E1000_DESC_SIZE,
                                              RING_ALIGN, &n->tx_ring_bus);
    r = -ENOMEM;
    n->tx_slots = n->tx_ring ? n->os.ops->mem_alloc(n->os.self,
                                                    (size_t)n->tx_n * sizeof(struct tx_slot),
                                                    _Alignof(struct tx_slot))
                             : NULL;
    if (!n->tx_slots) {
        lyra_log(&n->os, LYRA_LOG_ERROR, WHO, "cannot allocate the rings (%u rx, %u tx)",
                 (unsigned)n->rx_n, (unsigned)n->tx_n);
        release(n);
        return r;
    }
    memset(n->tx_slots, 0, (size_t)n->tx_n * sizeof(struct tx_slot));
    memset(n->tx_ring, 0, (size_t)n->tx_n * E1000_DESC_SIZE);
    if (n->rx.posted < n->rx_n - 1)
        lyra_log(&n->os, LYRA_LOG_WARN, WHO,
                 "%u of %u receive buffers posted: the skb pool is short (refilled as "
                 "buffers come back)",
                 (unsigned)n->rx.posted, (unsigned)(n->rx_n - 1));
    n->tx_head = n->tx_tail = n->tx_pending = 0;
    n->tx_free = n->tx_n - 1; /* TDT never catches up with TDH */
    n->ctx_valid = n->tx_stopped = false;
    nd_rx_enable(&n->rx);
    n->rctl = e1000_rd(&n->hw, E1000_RCTL);
    e1000_hw_tx_init(&n->hw, n->tx_ring_bus, n->tx_n);
    e1000_wr(&n->hw, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_LSC |
                                    E1000_ICR_RXO | E1000_ICR_RXDMT0);
    n->link_up = e1000_hw_link_up(&n->hw);
    n->started = true;
    lyra_log(&n->os, LYRA_LOG_INFO, WHO,
             "%s %02x:%02x:%02x:%02x:%02x:%02x link %s, %u rx / %u tx descriptors",
             n->hw.variant == E1000_V_82574 ? "82574L" : "82540EM", n->mac[0], n->mac[1],
             n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->link_up ? "up" : "down",
             (unsigned)n->rx_n, (unsigned)n->tx_n);
    if (n->ev && n->ev->link)
        n->ev->link(n->user, n->link_up);
    return 0;
}

static void nic_dma_stop(void *self)
{
    struct nic_dma *n = self;
    if (!n->started)
        return;
    e1000_hw_shutdown(&n->hw);
    n->started = false;
    release(n);
}

static void nic_dma_destroy(void *self)
{
    nic_dma_stop(self);
}

static void nic_dma_stats(void *self, struct lyra_stats_sink *sink)
{
    struct nic_dma *n = self;
#define S(x) lyra_stat(sink, #x, n->st.x);
    NIC_DMA_STATS(S)
#undef S
#define R(x) lyra_stat(sink, #x, n->rx.st.x);
    ND_RX_STATS(R)
#undef R
    lyra_gro_stats_emit(&n->gro.st, sink);
    lyra_stat(sink, "rx_posted", n->rx.posted);
    lyra_stat(sink, "tx_ring_free", n->tx_free);
    /* skbs a stopped loop leaves on the ring until the next poll or stop */
    lyra_stat(sink, "tx_pending", n->tx_pending);
    lyra_stat(sink, "link_up", n->link_up);
    /* payload bytes this driver copies: none on receive (frames land in
     * posted skbs); on transmit only frames with more pieces than it
     * gathers (lyra_skb_bounce), else it gathers by DMA */
    lyra_stat(sink, "copy_bytes", n->st.tx_bounce_bytes);
}

static const struct lyra_provide nic_dma_provides[] = {
    {
        .iface = LYRA_NETDEV_IFACE,
        .major = LYRA_NETDEV_MAJOR,
        .minor = LYRA_NETDEV_MINOR,
        .ops = &nic_dma_nd_ops,
        .attach = nd_attach,
        .max_users = 1,
        .doc = LYRA_DOC("the e1000 as a netdev: gather transmit, checksum offload, TCP "
                        "segmentation offload (1.2), polled receive into posted skbs (no copy)"),
    },
};

/* bus 1.0: info() is fixed from the provider's create on, so a device that
 * is not a supported e1000 is refused here, at bind, and `lyranet check`
 * says so before anything starts (start probes again). */
static int nic_dma_bind_bus(void *self, unsigned index, const void *ops, void *prov)
{
    struct nic_dma *n = self;
    struct e1000_hw probe = {.bus = ops, .bself = prov};
    (void)index;
    if (!probe.bus->info || e1000_hw_probe(&probe))
        return -ENODEV;
    n->bus = ops;
    n->bself = prov;
    return 0;
}

static const struct lyra_slot nic_dma_slots[] = {
    {"bus", LYRA_BUS_IFACE, LYRA_BUS_MAJOR, 0, 1, 1, NULL, nic_dma_bind_bus,
     LYRA_DOC("the card: PCI config, BAR0 registers, DMA memory; a bus that is not an 82540EM or "
     "82574L is refused"), 0, 0},
    {"skb", LYRA_SKB_IFACE, LYRA_SKB_MAJOR, 0, 1, 1, NULL, NULL,
     LYRA_DOC("receive buffers: rx_ring - 1 skbs stay posted on the ring (the card writes "
     "frames into them), so the pool needs that many beyond what the stack holds"),
     LYRA_SLOT_STORE(struct nic_dma, so, sself)},
    {"os", LYRA_OS_IFACE, LYRA_OS_MAJOR, 0, 1, 1, NULL, NULL,
     LYRA_DOC("memory for the ring bookkeeping (at start) and logging"),
     LYRA_SLOT_STORE(struct nic_dma, os.ops, os.self)},
};

static const struct lyra_param nic_dma_params[P__COUNT] = {
    [P_RX_RING] = {"rx_ring", LYRA_P_INT, "64", 8, 4096,
                   LYRA_DOC("receive descriptors, a multiple of 8; all but one hold an skb posted "
                   "from the skb slot (rx_ring - 1 buffers of the pool)")},
    [P_TX_RING] = {"tx_ring", LYRA_P_INT, "256", 8, 4096,
                   LYRA_DOC("transmit descriptors, a multiple of 8 (one per part of a frame)")},
    [P_CSUM_TX] = {"csum_tx", LYRA_P_BOOL, "on", 0, -1,
                   LYRA_DOC("offload TCP/UDP transmit checksums (context descriptor)")},
    [P_CSUM_RX] = {"csum_rx", LYRA_P_BOOL, "on", 0, -1,
                   LYRA_DOC("let the card verify IPv4/TCP/UDP checksums on receive (RXCSUM)")},
    [P_PAGE_CONTIG] = {"page_contig", LYRA_P_BOOL, "on", 0, -1,
                       LYRA_DOC("ask for DMA segments that do not cross a page (split otherwise)")},
    [P_RX_BUDGET] = {"rx_budget", LYRA_P_INT, "64", 1, 4096,
                     LYRA_DOC("received frames handled per poll step at most")},
    [P_TSO] = {"tso", LYRA_P_BOOL, "on", 0, -1,
               LYRA_DOC("TCP segmentation offload (netdev caps.tso_segs): a TCP/IPv4 frame of up "
                        "to 64 KiB with gso_size goes out as one context and its pieces, the card "
                        "cuts it into segments; needs csum_tx (off with it)")},
    [P_GRO] = {"gro", LYRA_P_BOOL, "on", 0, -1,
               LYRA_DOC("receive coalescing (skb 2.6 LYRA_SKB_F_GRO): TCP/IPv4 frames of one "
                        "flow that continue each other in a poll step go up as one run, so the "
                        "layers above handle their headers once; needs csum_rx (off with it)")},
};

LYRA_EXPORT const struct lyra_component lyra_component_nic_dma = {
    LYRA_COMPONENT_HDR,
    .name = "nic_dma",
    .version = "1.0.0",
    .summary = LYRA_DOC("Intel 8254x (e1000, 82540EM / 82574L) descriptor-ring DMA driver"),
    .doc = LYRA_DOC("Brings the card up through `bus` (bus mastering on, CTRL.RST, MAC from the EEPROM "
           "through EERD, RAL0/RAH0), then runs a receive ring of rx_ring descriptors whose "
           "buffers are skbs posted from the skb slot (the card writes each frame into one, "
           "which goes up uncopied and is replaced; an empty pool leaves descriptors bare "
           "until buffers come back: rx_nobuf, and frames the card then drops: rx_missed) "
           "and a transmit ring of "
           "tx_ring descriptors with one descriptor per skb part. A full transmit ring makes "
           "xmit return -EAGAIN (tx_busy) and tx_ready follows when descriptors come back. "
           "Polled: each step reads ICR, reclaims finished transmits and receives up to "
           "rx_budget frames. With tso (and csum_tx) a frame with gso_size is cut into "
           "segments by the card (TSE context, manual 3.5): caps.tso_segs says how many "
           "segments such a frame may carry (gather and ring limits, page splits counted).\n"
           "@stat tx_frames tx_bytes: frames put on the ring (a TSO frame once, its bytes "
           "before the card cuts it); tx_busy: ring full (-EAGAIN); tx_errors: refused "
           "frames; tx_dma_errors: dma_map failed\n"
           "@stat tx_csum_offload: frames whose checksum the card inserts (TSO ones too); "
           "tx_ctx_desc: context descriptors written\n"
           "@stat tx_bounced tx_bounce_bytes: frames with more pieces than the card gathers, "
           "copied (bytes); tx_bounce_nobuf: no buffer for the copy (-ENOBUFS)\n"
           "@stat tx_tso_frames: TSO frames sent; tx_tso_segments: the segments the card "
           "makes of them; tx_tso_refused: frames with gso_size refused (-EOPNOTSUPP: tso "
           "off; -EINVAL: not a frame the card can cut), also in tx_errors\n"
           "@stat rx_overruns: ICR.RXO; link_changes; eeprom_csum_bad: the EEPROM's sum is "
           "not 0xbaba\n"
           "@stat rx_frames rx_bytes: handed up; rx_nobuf: no skb to post; rx_map_errors; "
           "rx_missed: frames the card dropped (MPC); rx_errors: frames with receive errors "
           "or over several descriptors; rx_csum_ok rx_csum_bad: the card's checksum status; "
           "rx_no_user: received without a user\n"
           "@stat rx_gro_runs: runs of coalesced frames handed up; rx_gro_chained: frames "
           "that went up chained to a run's first (gro)\n"
           "@stat rx_posted tx_ring_free tx_pending link_up: now; copy_bytes: bytes bounced "
           "on transmit (nothing is copied on receive)"),
    .provides = nic_dma_provides,
    .n_provides = LYRA_COUNT(nic_dma_provides),
    .slots = nic_dma_slots,
    .n_slots = LYRA_COUNT(nic_dma_slots),
    .params = nic_dma_params,
    .n_params = LYRA_COUNT(nic_dma_params),
    .instance_size = sizeof(struct nic_dma),
    .create = nic_dma_create,
    .start = nic_dma_start,
    .stop = nic_dma_stop,
    .destroy = nic_dma_destroy,
    .poll = nic_dma_poll,
    .stats = nic_dma_stats,
    .check = nic_dma_check,
};
