/* Copying payload into an skb: see skb_fill.h. */
#include "skb_fill.h"

#include <string.h>

#include "lyra/inet_csum.h"

uint16_t skb_fill_csum(void *dst, const void *src, uint32_t len)
{
    return lyra_csum_copy(dst, src, len);
}

void skb_fill_seg_sum(struct lyra_skb_seg *g, uint32_t old_len, uint16_t part)
{
    if (old_len == 0) {
        g->csum = part;
        g->flags |= LYRA_SEG_F_CSUM;
    } else if (g->flags & LYRA_SEG_F_CSUM) {
        g->csum = (uint16_t)lyra_csum_block(g->csum, part, old_len);
    }
}

/* The linear tail: the sum kept over the linear payload is extended while
 * add_data appends to it. */
static void fill_tail(struct lyra_skb *skb, const uint8_t *src, uint32_t k, int sum)
{
    uint32_t ko, kn, at = (uint32_t)(skb->data - skb->head) + skb->len;
    uint8_t *to = lyra_skb_put(skb, k);
    if (!sum) {
        memcpy(to, src, k);
        return;
    }
    uint16_t part = skb_fill_csum(to, src, k);
    if (lyra_skb_lin_csum(skb, &ko, &kn) && skb->lin_csum_at + kn == at)
        lyra_skb_keep_lin_csum(skb, skb->head + skb->lin_csum_at, kn + k,
                               (uint16_t)lyra_csum_block(skb->lin_csum, part, kn));
    else
        lyra_skb_keep_lin_csum(skb, to, k, part);
}

/* Copies into the buffer b that segment g shows, behind what g has. */
static uint32_t fill_seg(struct lyra_skb *skb, struct lyra_skb_seg *g, struct lyra_skb *b,
                         const uint8_t *src, uint32_t k, int sum)
{
    uint32_t old = g->len;
    uint8_t *to = lyra_skb_put(b, k);
    if (sum)
        skb_fill_seg_sum(g, old, skb_fill_csum(to, src, k));
    else
        memcpy(to, src, k);
    if (!sum)
        g->flags &= (uint16_t)~LYRA_SEG_F_CSUM;
    g->len += k;
    skb->seg_len += k;
    return k;
}

/* The last segment, when it is a buffer of f->pool this skb alone fills,
 * with room behind it. */
static struct lyra_skb *packable(const struct skb_fill *f, struct lyra_skb *skb)
{
    struct lyra_skb_seg *g = skb->seg_last;
    if (!f->pack || !g || !skb_segs_owns(f->segs, g) || !g->ref ||
        !skb_pool_owns(f->pool, g->ref))
        return NULL;
    struct lyra_skb *b = g->ref;
    if (b->refcnt != 1 || g->ptr + g->len != b->data + b->len || lyra_skb_tailroom(b) == 0 ||
        b->len >= f->piece)
        return NULL;
    return b;
}

uint32_t skb_fill_copy(const struct skb_fill *f, struct lyra_skb *skb, const uint8_t *src,
                       uint32_t len, int sum, int *ran_out)
{
    uint32_t taken = 0;
    if (f->tail) {
        uint32_t room = lyra_skb_tailroom(skb);
        taken = len < room ? len : room;
        if (taken)
            fill_tail(skb, src, taken, sum);
    }
    struct lyra_skb *b = taken < len ? packable(f, skb) : NULL;
    if (b) {
        uint32_t room = f->piece - b->len;
        if (room > lyra_skb_tailroom(b))
            room = lyra_skb_tailroom(b);
        uint32_t k = len - taken < room ? len - taken : room;
        taken += fill_seg(skb, skb->seg_last, b, src + taken, k, sum);
    }
    while (taken < len) {
        struct lyra_skb_seg *g = skb_segs_get(f->segs);
        b = !g ? NULL : skb_pool_alloc(f->pool, 0, 0, SKB_POOL_DATA);
        if (!b) {
            skb_segs_put(f->segs, g);
            if (ran_out)
                *ran_out = 1;
            break;
        }
        uint32_t k = len - taken < f->piece ? len - taken : f->piece;
        *g = (struct lyra_skb_seg){.ptr = b->data, .len = 0, .ref = b};
        lyra_skb_seg_append(skb, g);
        taken += fill_seg(skb, g, b, src + taken, k, sum);
    }
    return taken;
}
