/* The Internet checksum (RFC 1071) over a range of an skb's bytes, walking
 * its pieces in place (no copy): udp and tcp verify and fill their sums with
 * it, ip resolves a transport's deferred sum before fragmenting. A piece
 * that starts at an odd offset of the range has its bytes in the other half
 * of each 16-bit word: its own sum is byte-swapped (RFC 1071 2(B)).
 *
 * A piece whose sum the provider kept when it copied the payload in (skb
 * 2.2: a segment's seg->csum, the linear part's lin_csum) is not read when
 * the range covers it whole: a sender's checksum then reads its header
 * only (issue 11.4: each payload byte is summed once, in the copy). A
 * received skb whose NIC summed the bytes it read (nic_pio, bus
 * insw_csum) keeps that sum over the whole frame: the range's sum is it
 * less the bytes outside the range (headers in front, padding or a CRC
 * behind). */
#ifndef LYRA_SKB_CSUM_H
#define LYRA_SKB_CSUM_H

#include <stdint.h>

#include "lyra/inet_csum.h"
#include "lyra/skb.h"

/* Sum of n bytes at p (at bytes into the range) added to sum. */
static inline uint32_t lyra_skb_csum_bytes_(uint32_t sum, const uint8_t *p, uint32_t n, uint32_t at)
{
    return lyra_csum_block(sum, lyra_csum_fold(lyra_csum_add(p, n, 0)), at);
}

/* The sum of the linear bytes [off, off + len) of a received skb from the
 * sum its NIC kept over more of them: 1 and *r, or 0 when there is none
 * or reading the range is cheaper. The bytes outside the range are read
 * where they are, before data too: in a received skb those are headers
 * the parsers pulled (LYRA_SKB_F_RX; nobody writes into a received frame).
 * Ones'-complement subtraction can give 0 for a sum of 0xffff (both are
 * zero): harmless where a checksum is checked, as the pseudo-header's sum
 * is never zero; so for received skbs only. */
static inline int lyra_skb_csum_rx_(const struct lyra_skb *s, uint32_t off, uint32_t len,
                                    uint16_t *r)
{
    if (!(s->flags & LYRA_SKB_F_RX) || !s->lin_csum_len || (uint64_t)off + len > s->len)
        return 0;
    uint32_t a = (uint32_t)(s->data - s->head) + off; /* the range, from head */
    uint32_t ra = s->lin_csum_at, rb = ra + s->lin_csum_len;
    if (ra > a || rb < a + len || rb > s->size || (a - ra) + (rb - a - len) >= len)
        return 0;
    uint32_t x = lyra_csum_fold(lyra_csum_add(s->head + ra, a - ra, 0));
    x = lyra_skb_csum_bytes_(x, s->head + a + len, rb - a - len, a + len - ra);
    /* the range's sum where it sits in the kept one, then at its own start */
    uint16_t in = lyra_csum_fold((uint32_t)s->lin_csum + (uint16_t)~x);
    *r = (uint16_t)lyra_csum_block(0, in, a - ra);
    return 1;
}

/* sum (a partial sum, e.g. a pseudo-header) plus bytes [off, off + len) of
 * s, folded to 16 bits (not complemented). Bytes past the skb's end are
 * not summed. */
static inline uint32_t lyra_skb_csum(const struct lyra_skb *s, uint32_t off, uint32_t len,
                                     uint32_t sum)
{
    sum = lyra_csum_fold(sum);
    uint16_t rx;
    if (lyra_skb_csum_rx_(s, off, len, &rx))
        return lyra_csum_fold(sum + rx);
    uint32_t at = 0; /* bytes of the range summed so far */
    /* the linear part, around the payload whose sum it keeps */
    if (off < s->len) {
        uint32_t n = s->len - off < len ? s->len - off : len;
        uint32_t ko, kn;
        if (lyra_skb_lin_csum(s, &ko, &kn) && ko >= off && ko + kn <= off + n) {
            sum = lyra_skb_csum_bytes_(sum, s->data + off, ko - off, 0);
            sum = lyra_csum_block(sum, s->lin_csum, ko - off);
            sum = lyra_skb_csum_bytes_(sum, s->data + ko + kn, off + n - ko - kn, ko + kn - off);
        } else {
            sum = lyra_skb_csum_bytes_(sum, s->data + off, n, 0);
        }
        at = n;
        len -= n;
        off = 0;
    } else {
        off -= s->len;
    }
    const struct lyra_skb_seg *g;
    for (g = s->seg; g && len; g = g->next) {
        if (off >= g->len) {
            off -= g->len;
            continue;
        }
        uint32_t n = g->len - off < len ? g->len - off : len;
        if (!off && n == g->len && (g->flags & LYRA_SEG_F_CSUM))
            sum = lyra_csum_block(sum, g->csum, at);
        else
            sum = lyra_skb_csum_bytes_(sum, g->ptr + off, n, at);
        at += n;
        len -= n;
        off = 0;
    }
    return sum;
}

#endif
