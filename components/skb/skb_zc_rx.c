/* skb_zc's receive side: one os page per receive buffer, and move_out that
 * remaps instead of copying when a read of exactly a whole received
 * payload goes into packet memory at the in-page offset where it lies
 * (copy_out always copies: skb 2.7).
 *
 * The remap swaps pages: the application's page shows the received frame,
 * the receive buffer takes the application's old page (so the NIC never
 * writes into a page the application sees): one os page_swap (os 2.3), two
 * mmap calls on posix. The alias is left stale (alias_stale: it still
 * shows the old page, now the receive buffer's, which nothing reads
 * through the alias: a send from the page brings it back in line first,
 * skb_zc_pkt.c). An os without page_swap gets copies (counted as
 * rx_remap_failed): a swap built of three page_remap calls cost more code
 * than it was worth, where a remap already costs more than the copy it
 * saves on a paravirtualised MMU (bench/results/zc.md). Before the swap
 * the application's bytes in front of dst in that page are moved into the
 * receive buffer (rx_fixup_bytes: a few dozen, where the headers were), so
 * what a stream read put there earlier stays; the bytes of the page behind
 * dst + len are undefined afterwards (docs/buffers.md). The skb's own
 * bytes are the application's old page's afterwards: its holder, the only
 * one (refcnt 1), has read everything it had. */
#include <errno.h>
#include <string.h>

#include "skb_zc.h"

struct lyra_skb *zc_alloc_rx(void *self, uint32_t size)
{
    struct skb_zc *z = self;
    uint32_t h = skb_pool_fit_headroom((uint32_t)z->psize, 0, z->rx_headroom, size);
    return skb_pool_alloc(&z->rx, h, size, SKB_POOL_RX);
}

/* Remaps [off, off + len) of skb to dst when it may be (move: a read of
 * exactly one payload, skb 2.7): 0, or the reason to copy instead (every
 * page as it was then). */
static int remap(struct skb_zc *z, const struct lyra_skb *skb, uint32_t off, uint8_t *dst,
                 uint32_t len, int move)
{
    const struct lyra_os_ops *o = z->os.ops;
    uintptr_t mask = z->psize - 1;
    long ri = zc_pkt_find(z, dst, len);
    if (ri < 0)
        return SKB_XFER_rx_not_pkt_memory;
    if (!move)
        return SKB_XFER_rx_read_size;
    if (!skb_pool_owns(&z->rx, skb) || !lyra_skb_is_linear(skb))
        return SKB_XFER_rx_not_page;
    if ((uint64_t)off + len != skb->len)
        return SKB_XFER_rx_partial;
    if (((uintptr_t)(skb->data + off) ^ (uintptr_t)dst) & mask)
        return SKB_XFER_rx_offset;
    if (skb->refcnt != 1)
        return SKB_XFER_rx_shared;
    struct zc_region *r = &z->reg[ri];
    uint8_t *app = (uint8_t *)((uintptr_t)dst & ~mask);
    uint8_t *rx = (uint8_t *)((uintptr_t)skb->head & ~mask);
    struct zc_page *pg = &z->pg[r->first + (size_t)(app - r->app) / z->psize];
    unsigned st = atomic_load_explicit(&pg->state, memory_order_acquire);
    if (r->freed || pg->refs || (st != ZC_PG_IDLE && st != ZC_PG_RO))
        return SKB_XFER_rx_page_busy;
    if (!LYRA_OS_HAS(o, 3, page_swap))
        return SKB_XFER_rx_remap_failed;
    /* the page may still be read-only from a send (ZC_PG_RO): held LOCKED
     * over the swap; the frame's page is writable (IDLE) after it. A
     * refused swap leaves the bytes but maybe not the protection (os.h):
     * IDLE then too, which the next send protects and the hook lifts
     * (never RO: the next send would trust it and skip protecting) */
    zc_page_lock(pg);
    size_t front = (size_t)(dst - app);
    memcpy(rx, app, front); /* the application's bytes in front of dst */
    int e = o->page_swap(z->os.self, app, rx, 1);
    atomic_store_explicit(&pg->state, ZC_PG_IDLE, memory_order_release);
    if (e)
        return SKB_XFER_rx_remap_failed;
    z->n[ZC_rx_fixup_bytes] += front;
    pg->alias_stale = 1;
    return 0;
}

/* copy_out and move_out: one body, so that the split costs no code. */
static int out(struct skb_zc *z, const struct lyra_skb *skb, uint32_t off, void *dst,
               uint32_t len, int move)
{
    if (!skb || (!dst && len)) {
        z->n[ZC_copy_out_einval]++;
        return -EINVAL;
    }
    if (len == 0)
        return 0;
    int why = remap(z, skb, off, dst, len, move);
    if (!why) {
        z->xfer.rx_remapped_bytes += len;
        return (int)len; /* moved, not copied (skb 2.3) */
    }
    if (skb_segs_copy_out(skb, off, dst, len)) {
        z->n[ZC_copy_out_einval]++;
        return -EINVAL;
    }
    z->xfer.fallback[why]++;
    z->xfer.rx_copied_bytes += len;
    return 0;
}

/* A copy (skb 2.7): a read into packet memory that was not one segment's
 * payload exactly is counted as rx_read_size, so that a program wondering
 * why its reads were copied finds the reason. */
int zc_copy_out(void *self, const struct lyra_skb *skb, uint32_t off, void *dst, uint32_t len)
{
    return out(self, skb, off, dst, len, 0);
}

/* A read of exactly the rest of the skb: remapped when it may be. */
int zc_move_out(void *self, const struct lyra_skb *skb, uint32_t off, void *dst, uint32_t len)
{
    return out(self, skb, off, dst, len, 1);
}
