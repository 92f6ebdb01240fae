/* nic_dma: reading what a frame asks of the card, and the descriptors for
 * it (see nic_dma_txreq.h). */
#include "nic_dma_txreq.h"

#include <errno.h>

#include "lyra/netdev.h"

#define FRAME_MAX_TAGGED (LYRA_ETH_FRAME_MAX + 4u) /* room for an 802.1Q tag */
#define PAGE_DEFAULT 4096u
#define IPPROTO_TCP_ 6
#define IPV4_HLEN_MIN 20u
#define TCP_HLEN_MIN 20u
#define TCP_CSUM_OFF 16u
#define IP_CSUM_OFF 10u

/* The frame's length in *total; -EINVAL for a piece without memory. */
static int frame_total(const struct lyra_skb *skb, uint64_t *total)
{
    struct lyra_skb_iter it;
    const uint8_t *p;
    uint32_t k;
    *total = 0;
    lyra_skb_iter_init(&it, skb);
    while (lyra_skb_iter_next(&it, &p, &k)) {
        if (k && !p)
            return -EINVAL;
        *total += k;
    }
    return 0;
}

/* Checksum offload (skb.h F_CSUM_TX): the descriptor's offsets in the
 * frame; -EINVAL for offsets a context cannot hold (8 bits) or a field
 * beyond the frame. */
static int csum_offsets(const struct lyra_skb *skb, struct nd_txreq *q)
{
    /* csum_start counts from head (skb.h); the frame starts at data */
    uintptr_t h = (uintptr_t)skb->head, d = (uintptr_t)skb->data;
    if (d < h || skb->csum_start < d - h)
        return -EINVAL;
    q->css = skb->csum_start - (uint32_t)(d - h);
    q->cso = q->css + skb->csum_off;
    if (q->css < LYRA_ETH_HLEN || q->css > 255 || q->cso > 255 || q->cso + 2 > q->total)
        return -EINVAL;
    return 0;
}

int nd_txreq_read(const struct lyra_skb *skb, bool csum_tx, bool tso, struct nd_txreq *q)
{
    *q = (struct nd_txreq){.csum = (skb->flags & LYRA_SKB_F_CSUM_TX) != 0,
                           .tso = skb->gso_size != 0};
    if (frame_total(skb, &q->total))
        return -EINVAL;
    if (q->tso) /* sized by LYRA_TSO_MAX, not by a frame's limit */
        return tso ? nd_txreq_tso(skb, q->total, &q->tc) : -EOPNOTSUPP;
    bool tagged = skb->len >= LYRA_ETH_HLEN && skb->data[12] == 0x81 && skb->data[13] == 0x00;
    uint32_t max = tagged ? FRAME_MAX_TAGGED : LYRA_ETH_FRAME_MAX;
    if (q->total > max)
        return -EMSGSIZE;
    if (q->total < LYRA_ETH_HLEN)
        return -EINVAL;
    if (q->csum)
        return csum_tx ? csum_offsets(skb, q) : -EOPNOTSUPP;
    return 0;
}

/* The TCP header's offset in the frame, from the IPv4 header at 14 (IHL);
 * 0 when the frame is not TCP over IPv4 or the header is cut short. */
static uint32_t tcp_offset(const uint8_t *f, uint32_t hlen)
{
    if (f[12] != 0x08 || f[13] != 0x00)
        return 0;
    const uint8_t *ip = f + LYRA_ETH_HLEN;
    uint32_t ihl = (ip[0] & 0x0fu) * 4u;
    if ((ip[0] >> 4) != 4 || ihl < IPV4_HLEN_MIN || ip[9] != IPPROTO_TCP_)
        return 0;
    uint32_t tcp = LYRA_ETH_HLEN + ihl;
    return tcp + TCP_HLEN_MIN <= hlen ? tcp : 0;
}

int nd_txreq_tso(const struct lyra_skb *skb, uint64_t total, struct e1000_txd_tso *c)
{
    const uint8_t *f = skb->data;
    uint32_t h = skb->len, mss = skb->gso_size;
    if (!(skb->flags & LYRA_SKB_F_CSUM_TX) || !f || skb->data < skb->head ||
        h < LYRA_ETH_HLEN + IPV4_HLEN_MIN + TCP_HLEN_MIN || h > ND_TSO_HDR_MAX)
        return -EINVAL;
    uint32_t tcp = tcp_offset(f, h);
    /* the card copies HDRLEN bytes in front of every frame: the linear
     * part must end where the TCP header (with options) does */
    if (!tcp || tcp + (f[tcp + 12] >> 4) * 4u != h)
        return -EINVAL;
    /* the checksum the stack asked for is the TCP one (csum_start from head) */
    if (skb->csum_start != lyra_skb_headroom(skb) + tcp || skb->csum_off != TCP_CSUM_OFF)
        return -EINVAL;
    if (h + mss > LYRA_ETH_FRAME_MAX || total <= h || total - LYRA_ETH_HLEN > LYRA_TSO_MAX)
        return -EINVAL;
    *c = (struct e1000_txd_tso){
        .ipcss = LYRA_ETH_HLEN,
        .ipcso = LYRA_ETH_HLEN + IP_CSUM_OFF,
        .ipcse = (uint16_t)(tcp - 1u),
        .tucss = (uint8_t)tcp,
        .tucso = (uint8_t)(tcp + TCP_CSUM_OFF),
        .tucse = 0, /* to the end of each frame */
        .tucmd = E1000_TXD_TUCMD_TSE | E1000_TXD_TUCMD_IP | E1000_TXD_TUCMD_TCP,
        .hdrlen = (uint8_t)h,
        .mss = (uint16_t)mss,
        .paylen = (uint32_t)(total - h),
    };
    return 0;
}

void nd_txreq_desc(uint8_t *d, uint64_t bus, uint32_t len, bool last, const struct nd_txreq *q)
{
    uint8_t cmd = E1000_TXD_CMD_IFCS | (last ? E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS : 0);
    if (q->tso)
        e1000_txd_data(d, bus, len, cmd | E1000_TXD_CMD_TSE,
                       E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM);
    else if (q->csum)
        e1000_txd_data(d, bus, len, cmd, E1000_TXD_POPTS_TXSM);
    else
        e1000_txd_legacy(d, bus, (uint16_t)len, cmd);
}

uint16_t nd_txreq_ip_csum_clear(uint8_t *f, const struct nd_txreq *q)
{
    uint8_t *c = f + q->tc.ipcso;
    uint16_t old = (uint16_t)(c[0] << 8 | c[1]);
    c[0] = c[1] = 0;
    return old;
}

void nd_txreq_ip_csum_restore(uint8_t *f, const struct nd_txreq *q, uint16_t old)
{
    f[q->tc.ipcso] = (uint8_t)(old >> 8);
    f[q->tc.ipcso + 1] = (uint8_t)old;
}

size_t nd_tso_split(bool page_contig, size_t page)
{
    if (!page || (page & (page - 1)))
        page = PAGE_DEFAULT;
    return page_contig && page < ND_TSO_SPLIT ? page : ND_TSO_SPLIT;
}

uint16_t nd_tso_segs(size_t split, uint32_t tx_n)
{
    /* descriptors one frame may take: the gather limit, and the ring's
     * tx_n - 1 usable slots less the context descriptor */
    long pieces = (long)tx_n - 2 < (long)ND_TSO_MAX_PARTS ? (long)tx_n - 2 : (long)ND_TSO_MAX_PARTS;
    /* a part of L bytes splits into fewer than L / split + 2 pieces: over
     * the frame (LYRA_TSO_MAX + 14 bytes at most, in the linear part and
     * segs segments) that is total / split + 2 (segs + 1) */
    long splits = (long)((LYRA_TSO_MAX + LYRA_ETH_HLEN) / split);
    long segs = (pieces - splits) / 2 - 1;
    return segs > 0 ? (uint16_t)segs : 0;
}
