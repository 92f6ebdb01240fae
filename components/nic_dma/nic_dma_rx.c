/* nic_dma's receive ring with buffers posted from the skb provider (see
 * nic_dma_rx.h): the card writes each frame into an skb, which goes up as
 * it is. No frame byte is copied here. */
#include "nic_dma_rx.h"

#include <errno.h>
#include <string.h>

#include "e1000_desc.h"
#include "e1000_regs.h"
#include "lyra/netdev.h"

#define RING_ALIGN 128u

static inline uint32_t rx_next_i(const struct nd_rx *r, uint32_t i)
{
    return i + 1 == r->n ? 0 : i + 1;
}

static uint8_t *desc(const struct nd_rx *r, uint32_t i)
{
    return r->ring + (size_t)i * E1000_DESC_SIZE;
}

/* Posts skb (mapped at bus) at the tail. */
static void post(struct nd_rx *r, struct lyra_skb *skb, uint64_t bus)
{
    e1000_rxd_arm(desc(r, r->tail), bus);
    r->slot[r->tail] = (struct nd_rx_slot){skb, bus};
    r->tail = rx_next_i(r, r->tail);
    r->posted++;
}

/* A fresh buffer from the provider, mapped for the card. 0; -ENOBUFS (the
 * pool is empty); -EMSGSIZE (free buffers, but alloc_rx refuses the size or
 * gives one too small for a frame); another negative: dma_map failed. */
static int fresh(struct nd_rx *r, struct lyra_skb **out, uint64_t *bus)
{
    /* avail first: an alloc_rx bound to fail would be counted by the
     * provider at every poll step while its pool is empty */
    if (!r->so->avail(r->sself))
        return -ENOBUFS;
    struct lyra_skb *skb = r->so->alloc_rx(r->sself, ND_RX_BUF_LEN);
    if (!skb) /* free buffers, but none for this size */
        return -EMSGSIZE;
    if (skb->nseg || skb->len || lyra_skb_tailroom(skb) < ND_RX_BUF_LEN) {
        lyra_skb_free(skb);
        return -EMSGSIZE;
    }
    int e = r->bus->dma_map(r->bself, skb->data, ND_RX_BUF_LEN, bus);
    if (e) {
        lyra_skb_free(skb);
        return e < 0 ? e : -EFAULT;
    }
    *out = skb;
    return 0;
}

/* Fills descriptors without a buffer while the provider has some. Returns
 * how many were posted; *err the reason it stopped early (0: ring full). */
static uint32_t refill(struct nd_rx *r, int *err)
{
    uint32_t got = 0;
    *err = 0;
    while (r->posted < r->n - 1) {
        struct lyra_skb *skb;
        uint64_t bus;
        int e = fresh(r, &skb, &bus);
        if (e) {
            *err = e;
            if (e != -ENOBUFS && e != -EMSGSIZE)
                r->st.rx_map_errors++;
            break;
        }
        post(r, skb, bus);
        got++;
    }
    return got;
}

int nd_rx_start(struct nd_rx *r)
{
    r->ring = r->bus->dma_alloc(r->bself, (size_t)r->n * E1000_DESC_SIZE, RING_ALIGN, &r->ring_bus);
    r->slot = r->ring ? r->os->ops->mem_alloc(r->os->self, (size_t)r->n * sizeof(*r->slot),
                                              _Alignof(struct nd_rx_slot))
                      : NULL;
    if (!r->slot) {
        nd_rx_stop(r);
        return -ENOMEM;
    }
    memset(r->slot, 0, (size_t)r->n * sizeof(*r->slot));
    memset(r->ring, 0, (size_t)r->n * E1000_DESC_SIZE);
    r->next = r->tail = r->posted = 0;
    r->discard = false;
    int err;
    if (!refill(r, &err) && err == -EMSGSIZE) {
        nd_rx_stop(r);
        return -EMSGSIZE;
    }
    return 0;
}

void nd_rx_enable(struct nd_rx *r)
{
    /* descriptors are in memory before the card may read them */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e1000_hw_rx_init(r->hw, r->ring_bus, r->n, r->tail, r->csum);
}

/* What the card said about the frame's checksums (RXCSUM). */
static void csum_status(struct nd_rx *r, struct lyra_skb *skb, uint8_t st, uint8_t err)
{
    if (!r->csum || (st & E1000_RXD_STAT_IXSM))
        return;
    if ((st & E1000_RXD_STAT_IPCS) && !(err & E1000_RXD_ERR_IPE))
        skb->flags |= LYRA_SKB_F_L3CSUM_OK; /* ip need not sum the header again */
    if (err & (E1000_RXD_ERR_TCPE | E1000_RXD_ERR_IPE))
        r->st.rx_csum_bad++;
    else if (st & E1000_RXD_STAT_TCPCS) {
        skb->flags |= LYRA_SKB_F_CSUM_OK;
        r->st.rx_csum_ok++;
    }
}

unsigned nd_rx_poll(struct nd_rx *r, unsigned budget, nd_rx_up_fn up, void *ctx)
{
    unsigned done = 0;
    uint32_t tail0 = r->tail;
    while (done < budget && r->posted) {
        uint32_t i = r->next;
        uint8_t *d = desc(r, i);
        uint8_t st = e1000_rxd_status(d);
        if (!(st & E1000_RXD_STAT_DD))
            break;
        uint32_t len = e1000_rxd_len(d);
        uint8_t err = e1000_rxd_errors(d);
        bool eop = (st & E1000_RXD_STAT_EOP) != 0;
        struct nd_rx_slot s = r->slot[i];
        r->slot[i] = (struct nd_rx_slot){0};
        r->next = rx_next_i(r, i);
        r->posted--;
        done++;
        if (r->discard || !eop || (err & E1000_RXD_ERR_FRAME) || len < LYRA_ETH_HLEN ||
            len > ND_RX_BUF_LEN) {
            /* a frame over several buffers cannot happen with BSIZE 2048
             * and LPE off: drop all of it; the buffer goes back on the ring */
            if (!r->discard)
                r->st.rx_errors++;
            r->discard = !eop;
            post(r, s.skb, s.bus);
            continue;
        }
        r->bus->dma_unmap(r->bself, s.skb->data, ND_RX_BUF_LEN);
        struct lyra_skb *skb = s.skb;
        (void)lyra_skb_put(skb, len); /* fresh() checked the room */
        skb->flags |= LYRA_SKB_F_RX;
        csum_status(r, skb, st, err);
        r->st.rx_frames++;
        r->st.rx_bytes += len;
        /* a fresh buffer in its place before the frame goes up, so the
         * user's frees during rx do not decide the ring's order */
        int e;
        if (!refill(r, &e) && e)
            r->st.rx_nobuf++;
        up(ctx, skb);
    }
    int e;
    refill(r, &e); /* buffers that came back since */
    if (r->tail != tail0) {
        __atomic_thread_fence(__ATOMIC_RELEASE);
        e1000_wr(r->hw, E1000_RDT, r->tail);
    }
    return done;
}

void nd_rx_count_missed(struct nd_rx *r)
{
    r->st.rx_missed += e1000_rd(r->hw, E1000_MPC);
}

void nd_rx_stop(struct nd_rx *r)
{
    if (r->slot) {
        for (uint32_t k = 0, i = r->next; k < r->posted; k++, i = rx_next_i(r, i)) {
            struct nd_rx_slot *s = &r->slot[i];
            if (s->skb) {
                r->bus->dma_unmap(r->bself, s->skb->data, ND_RX_BUF_LEN);
                lyra_skb_free(s->skb);
            }
            *s = (struct nd_rx_slot){0};
        }
        r->os->ops->mem_free(r->os->self, r->slot);
        r->slot = NULL;
    }
    if (r->ring)
        r->bus->dma_free(r->bself, r->ring, (size_t)r->n * E1000_DESC_SIZE);
    r->ring = NULL;
    r->next = r->tail = r->posted = 0;
}
