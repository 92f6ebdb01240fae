/* The Internet checksum (RFC 1071) over a range of an skb's bytes, walking
 * its pieces in place (no copy): udp and tcp verify and fill their sums with
 * it, ip resolves a transport's deferred sum before fragmenting. A piece
 * that starts at an odd offset of the range has its bytes in the other half
 * of each 16-bit word: its own sum is byte-swapped (RFC 1071 2(B)). */
#ifndef LYRA_SKB_CSUM_H
#define LYRA_SKB_CSUM_H

#include <stdint.h>

#include "lyra/inet_csum.h"
#include "lyra/skb.h"

/* sum (a partial sum, e.g. a pseudo-header) plus bytes [off, off + len) of
 * s, folded to 16 bits (not complemented). Bytes past the skb's end are
 * not summed. */
static inline uint32_t lyra_skb_csum(const struct lyra_skb *s, uint32_t off, uint32_t len,
                                     uint32_t sum)
{
    sum = lyra_csum_fold(sum);
    unsigned odd = 0;
    struct lyra_skb_iter it;
    const uint8_t *p;
    uint32_t n;
    lyra_skb_iter_init(&it, s);
    while (len && lyra_skb_iter_next(&it, &p, &n)) {
        if (off >= n) {
            off -= n;
            continue;
        }
        p += off;
        n -= off;
        off = 0;
        if (n > len)
            n = len;
        uint32_t ps = lyra_csum_fold(lyra_csum_add(p, n, 0));
        if (odd)
            ps = ((ps & 0xff) << 8) | (ps >> 8);
        sum = lyra_csum_fold(sum + ps);
        odd ^= n & 1;
        len -= n;
    }
    return sum;
}

#endif
