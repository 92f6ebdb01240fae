/* Checksum insertion by the NE2000 driver (netdev csum_tx): the card
 * computes no checksum, but the programmed-I/O write of a frame is a pass
 * over every byte of it anyway, the one copy a zero-copy send cannot avoid
 * (issue 12.1). Summing there spares the stack its own read of the
 * payload: a referencing provider's (skb_zc), or a copy that also sums.
 *
 * The DP8390's remote DMA writes at any card address, so the payload goes
 * first, summed as it is written (bus outsw_csum, or a sum of the bytes
 * just written where the bus lacks it), then the header, which holds the
 * checksum field and the pseudo-header seed (skb.h LYRA_SKB_F_CSUM_TX),
 * with the checksum put in. A frame laid out otherwise (the summed range
 * or the header at an odd offset, the field beyond the linear part, a
 * frame padded to 60 bytes) is summed apart first, then written in one. */
#include "nic_pio_tx.h"

#include <errno.h>

#include "lyra/inet_csum.h"
#include "lyra/netdev.h"
#include "lyra/skb_csum.h"

/* Writes the pieces of skb from frame offset `from` on (from: 0 or the
 * end of the linear part) with w begun. */
static void write_pieces(struct ne2k_writer *w, const struct lyra_skb *skb, uint32_t from)
{
    struct lyra_skb_iter it;
    const uint8_t *p;
    uint32_t k;
    lyra_skb_iter_init(&it, skb);
    while (lyra_skb_iter_next(&it, &p, &k)) {
        uint32_t skip = from < k ? from : k;
        from -= skip;
        ne2k_write_piece(w, p + skip, k - skip);
    }
}

/* Stores the checksum of sum at frame offset cso (in the linear part). */
static void put_csum(struct lyra_skb *skb, uint32_t cso, uint32_t sum)
{
    uint16_t c = (uint16_t)~lyra_csum_fold(sum);
    if (c == 0)
        c = 0xffff; /* UDP: 0 would mean "no checksum" (RFC 768); TCP reads it the same */
    skb->data[cso] = (uint8_t)(c >> 8);
    skb->data[cso + 1] = (uint8_t)c;
}

static int write_all(struct ne2k_hw *h, uint16_t addr, const struct lyra_skb *skb,
                     uint32_t total, uint32_t flen)
{
    struct ne2k_writer w;
    ne2k_write_begin(&w, h, addr, flen);
    write_pieces(&w, skb, 0);
    ne2k_write_zeros(&w, flen - total);
    return ne2k_write_end(&w) ? -ETIMEDOUT : 0;
}

int nic_pio_tx_write(struct ne2k_hw *h, uint16_t addr, struct lyra_skb *skb, uint32_t total,
                     uint32_t flen, struct nic_pio_tx_stats *st)
{
    if (!(skb->flags & LYRA_SKB_F_CSUM_TX))
        return write_all(h, addr, skb, total, flen);
    /* csum_start counts from head (skb.h); the frame starts at data */
    uintptr_t hd = (uintptr_t)skb->head, d = (uintptr_t)skb->data;
    uint32_t lin = skb->len;
    if (d < hd || skb->csum_start < d - hd) {
        st->csum_bad++;
        return -EINVAL;
    }
    uint32_t css = skb->csum_start - (uint32_t)(d - hd), cso = css + skb->csum_off;
    if (css < LYRA_ETH_HLEN || css >= total || cso + 2 > lin) {
        st->csum_bad++;
        return -EINVAL; /* the field must be ours to write: in the linear part */
    }
    st->csum_offload++;
    if ((css | lin) & 1 || total < LYRA_ETH_ZLEN || total == lin) {
        /* the seed in the field is summed too */
        put_csum(skb, cso, lyra_skb_csum(skb, css, total - css, 0));
        return write_all(h, addr, skb, total, flen);
    }
    /* the pieces behind the linear part first, summed as they go ... */
    struct ne2k_writer w;
    ne2k_write_begin(&w, h, (uint16_t)(addr + lin), total - lin);
    w.summing = true;
    write_pieces(&w, skb, lin);
    if (ne2k_write_end(&w))
        return -ETIMEDOUT;
    /* ... then the header with the checksum in (lin - css is even) */
    put_csum(skb, cso, w.sum + lyra_csum_add(skb->data + css, lin - css, 0));
    st->csum_in_write++;
    ne2k_write_begin(&w, h, addr, lin);
    ne2k_write_piece(&w, skb->data, lin);
    return ne2k_write_end(&w) ? -ETIMEDOUT : 0;
}
