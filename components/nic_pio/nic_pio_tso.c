/* TCP segmentation in the NE2000 driver (nic_pio_tso.h). Per segment the
 * header is the frame's with what the 8254x rewrites (its manual 3.5.9,
 * and skb.h gso_size): IPv4 total length, identification (+1 a segment)
 * and header checksum; TCP sequence number (+gso_size a segment), FIN and
 * PSH on the last segment only, and the checksum, whose field the stack
 * left holding the pseudo-header sum without the TCP length. */
#include "nic_pio_tso.h"

#include <errno.h>
#include <string.h>

#include "lyra/inet_csum.h"
#include "lyra/netdev.h"

#define IPV4_HLEN_MIN 20u
#define TCP_HLEN_MIN 20u
#define TCP_CSUM_OFF 16u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u

static uint16_t ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void st16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void st32(uint8_t *p, uint32_t v)
{
    st16(p, v >> 16);
    st16(p + 2, v);
}

int nic_pio_tso_begin(struct nic_pio_tso *t, struct lyra_skb *skb, uint64_t total)
{
    const uint8_t *f = skb->data;
    uint32_t h = skb->len, mss = skb->gso_size;
    if (!(skb->flags & LYRA_SKB_F_CSUM_TX) || !f || skb->data < skb->head || !mss ||
        h < LYRA_ETH_HLEN + IPV4_HLEN_MIN + TCP_HLEN_MIN || h > NIC_PIO_TSO_HDR_MAX)
        return -EINVAL;
    const uint8_t *ip = f + LYRA_ETH_HLEN;
    uint32_t ihl = (ip[0] & 0x0fu) * 4u, tcp = LYRA_ETH_HLEN + ihl;
    if (f[12] != 0x08 || f[13] != 0x00 || (ip[0] >> 4) != 4 || ihl < IPV4_HLEN_MIN ||
        ip[9] != 6 || tcp + TCP_HLEN_MIN > h)
        return -EINVAL;
    /* each segment repeats the linear part: it must end where the TCP
     * header (with its options) does; the checksum asked for is TCP's */
    if (tcp + (f[tcp + 12] >> 4) * 4u != h ||
        skb->csum_start != lyra_skb_headroom(skb) + tcp || skb->csum_off != TCP_CSUM_OFF)
        return -EINVAL;
    if (h + mss > LYRA_ETH_FRAME_MAX || total <= h || total - LYRA_ETH_HLEN > LYRA_TSO_MAX ||
        (total - h + mss - 1) / mss > NIC_PIO_TSO_SEGS)
        return -EINVAL; /* (more segments than caps.tso_segs offered) */
    *t = (struct nic_pio_tso){.skb = skb, .g = skb->seg, .hlen = h,
                              .payload = (uint32_t)(total - h), .mss = (uint16_t)mss,
                              .tcp = (uint8_t)tcp};
    return 0;
}

/* n payload bytes from t's cursor into w, the cursor moved past them. */
static void write_payload(struct nic_pio_tso *t, struct ne2k_writer *w, uint32_t n)
{
    while (n && t->g) {
        uint32_t k = t->g->len - t->goff;
        if (k > n)
            k = n;
        ne2k_write_piece(w, t->g->ptr + t->goff, k);
        n -= k;
        t->goff += k;
        if (t->goff == t->g->len) {
            t->g = t->g->next;
            t->goff = 0;
        }
    }
}

/* Segment t->k's header (n payload bytes) in hdr, but the TCP checksum:
 * its field holds the pseudo-header sum with this segment's length. */
static void seg_header(const struct nic_pio_tso *t, uint8_t *hdr, uint32_t n, bool last)
{
    const uint8_t *f = t->skb->data;
    uint32_t h = t->hlen;
    memcpy(hdr, f, h);
    uint8_t *ip = hdr + LYRA_ETH_HLEN, *tcp = hdr + t->tcp;
    uint32_t ihl = (uint32_t)t->tcp - LYRA_ETH_HLEN;
    st16(ip + 2, h - LYRA_ETH_HLEN + n);
    st16(ip + 4, (uint32_t)ld16(f + LYRA_ETH_HLEN + 4) + t->k); /* wraps, as a card's */
    st16(ip + 10, 0);
    st16(ip + 10, (uint16_t)~lyra_csum_fold(lyra_csum_add(ip, ihl, 0)));
    st32(tcp + 4, ld32(f + t->tcp + 4) + t->off);
    if (!last)
        tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
    st16(tcp + TCP_CSUM_OFF,
         lyra_csum_fold((uint32_t)ld16(tcp + TCP_CSUM_OFF) + (h - t->tcp + n)));
}

int nic_pio_tso_write_next(struct nic_pio_tso *t, struct ne2k_hw *h, uint16_t addr,
                           uint32_t *len)
{
    uint32_t left = t->payload - t->off;
    uint32_t n = left < t->mss ? left : t->mss, hl = t->hlen;
    uint8_t hdr[NIC_PIO_TSO_HDR_MAX];
    seg_header(t, hdr, n, n == left);
    uint32_t flen = hl + n < LYRA_ETH_ZLEN ? LYRA_ETH_ZLEN : hl + n;
    /* the payload behind the header's place, summed as it goes (the TCP
     * header's length is a multiple of 4: the sum's words line up), the
     * padding of a short frame after it (zeros add nothing) ... */
    struct ne2k_writer w;
    ne2k_write_begin(&w, h, (uint16_t)(addr + hl), flen - hl);
    w.summing = true;
    write_payload(t, &w, n);
    ne2k_write_zeros(&w, flen - hl - n);
    if (ne2k_write_end(&w))
        return -ETIMEDOUT;
    /* ... then the header with the checksum in; the seed in its field is
     * summed with the rest of the TCP header */
    uint32_t s = w.sum + lyra_csum_add(hdr + t->tcp, hl - t->tcp, 0);
    st16(hdr + t->tcp + TCP_CSUM_OFF, (uint16_t)~lyra_csum_fold(s));
    ne2k_write_begin(&w, h, addr, hl);
    ne2k_write_piece(&w, hdr, hl);
    if (ne2k_write_end(&w))
        return -ETIMEDOUT;
    t->off += n;
    t->k++;
    *len = hl + n;
    return 0;
}
