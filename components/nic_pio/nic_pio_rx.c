/* nic_pio's receive path: the ring walked from BNRY+1 to CURR, each frame
 * read by remote DMA into an skb from alloc_rx (its sum added up in the
 * read where the bus can), the CRC in the ring told apart (see nic_pio.c's
 * top), and a ring overflow recovered with the datasheet's procedure. */
#include <string.h>

#include "lyra/inet_csum.h"
#include "lyra/skb_csum.h"
#include "nic_pio_priv.h"

static void rx_resync(struct nic_pio *n, uint8_t curr)
{
    n->next_pkt = curr;
    ne2k_set_bnry(&n->hw, ne2k_ring_prev(&n->hw, curr));
}

/* Pages from a to b going forward in the ring. */
static unsigned ring_dist(const struct ne2k_hw *h, uint8_t a, uint8_t b)
{
    unsigned size = (unsigned)(h->pstop - h->pstart);
    return (unsigned)(b - a + size) % size;
}

/* fcs: 4 when the count is known to include the FCS. */
static bool hdr_valid(const struct ne2k_hw *h, uint8_t page, const struct ne2k_rxhdr *hdr,
                      uint32_t fcs)
{
    if (!(hdr->status & RSR_PRX))
        return false;
    if (hdr->next < h->pstart || hdr->next >= h->pstop)
        return false;
    if (hdr->count < NE_RXHDR_LEN + LYRA_ETH_HLEN + fcs ||
        hdr->count > NE_RXHDR_LEN + RX_MAX_LEN)
        return false;
    /* The next frame starts on the page after this one's last byte: the
     * count either includes a CRC already (real DP8390) or the card left
     * room for one (QEMU). */
    unsigned span = ring_dist(h, page, hdr->next);
    unsigned lo = (hdr->count + NE_PAGE - 1u) / NE_PAGE;
    unsigned hi = (hdr->count + 4u + NE_PAGE - 1u) / NE_PAGE;
    return span >= lo && span <= hi;
}

/* The next-page pointer of a frame whose count includes its FCS, where
 * QEMU's (room for a CRC beyond the count) would be one page more. */
static bool span_counts_fcs(const struct ne2k_hw *h, uint8_t page, const struct ne2k_rxhdr *hdr)
{
    unsigned span = ring_dist(h, page, hdr->next);
    unsigned exact = (hdr->count + NE_PAGE - 1u) / NE_PAGE;
    unsigned qemu = (hdr->count + FCS_LEN + NE_PAGE - 1u) / NE_PAGE;
    return span == exact && exact != qemu;
}

/* rx_crc=auto: what the frame just read (len bytes as counted) says about
 * the FCS; returns the bytes of the frame proper. */
static uint32_t fcs_detect(struct nic_pio *n, uint8_t page, const struct ne2k_rxhdr *hdr,
                           const uint8_t *p, uint32_t len)
{
    if (len < LYRA_ETH_ZLEN + FCS_LEN || !eth_fcs_good(p, len)) {
        n->fcs = FCS_NONE; /* proof: a DP8390 stores no such frame with its FCS */
        return len;
    }
    if (span_counts_fcs(&n->hw, page, hdr))
        n->fcs = FCS_COUNTED;
    return len - FCS_LEN;
}

static void rx_deliver(struct nic_pio *n, struct lyra_skb *skb)
{
    if (n->in_recovery)
        lyra_skbq_push(&n->rxq, skb);
    else if (n->ev && n->ev->rx)
        n->ev->rx(n->user, skb);
    else
        lyra_skb_free(skb);
}

static void gro_up(void *ctx, struct lyra_skb *skb)
{
    rx_deliver(ctx, skb);
}

/* A TCP/IPv4 frame's TCP checksum checked from the sum the read kept (no
 * payload read): LYRA_SKB_F_CSUM_OK when right, so that it may join a run
 * (lyra/tcp_gro.h). A wrong one, or any other frame, goes up unmarked and
 * its transport checks and counts it as before. */
static void rx_csum_check(struct lyra_skb *skb, const uint8_t *p, uint32_t len)
{
    const uint8_t *ip = p + LYRA_ETH_HLEN;
    if (!skb->lin_csum_len || len < LYRA_ETH_HLEN + 40u || p[12] != 0x08 || p[13] != 0x00 ||
        ip[0] != 0x45 || ip[9] != 6 || ((ip[6] << 8 | ip[7]) & 0x3fff))
        return; /* (a fragment's checksum is the datagram's, checked after reassembly) */
    uint32_t tot = (uint32_t)(ip[2] << 8 | ip[3]);
    if (tot < 40u || tot > len - LYRA_ETH_HLEN)
        return;
    uint32_t tl = tot - 20u;
    /* the pseudo-header (RFC 793 3.1): addresses, protocol, TCP length */
    uint32_t ps = lyra_csum_add(ip + 12, 8, 0) + 6u + tl;
    if (lyra_csum_fold(lyra_skb_csum(skb, LYRA_ETH_HLEN + 20u, tl, ps)) == 0xffff)
        skb->flags |= LYRA_SKB_F_CSUM_OK;
}

/* Reads the frame at `page` (len bytes as counted, less the FCS when known
 * to be counted) into an skb and hands it up, or counts why not. */
static void rx_take(struct nic_pio *n, uint8_t page, const struct ne2k_rxhdr *hdr, uint32_t len)
{
    struct lyra_skb *skb = n->skb->alloc_rx(n->skb_self, len);
    uint8_t *p = skb ? lyra_skb_put(skb, len) : NULL;
    if (!p) {
        n->st.rx_nobuf++;
        lyra_skb_free(skb);
        return;
    }
    uint16_t sum = 0;
    int summed = 0;
    if (ne2k_rx_data(&n->hw, page, p, len, &sum, &summed)) {
        n->st.rx_rdma_fail++;
        lyra_skb_free(skb);
        return;
    }
    if (summed) { /* kept (skb 2.2): the transport's check reads its headers only */
        lyra_skb_keep_lin_csum(skb, p, len, sum);
        n->st.rx_summed++;
    }
    if (n->fcs == FCS_UNKNOWN) {
        uint32_t flen = fcs_detect(n, page, hdr, p, len);
        if (flen != len) {
            n->st.rx_fcs_stripped++;
            lyra_skb_trim(skb, flen);
            len = flen;
        }
    } else if (n->fcs == FCS_COUNTED) {
        n->st.rx_fcs_stripped++; /* not even read */
    }
    if (n->sw_ucast && !n->promisc && !(p[0] & 1) && memcmp(p, n->mac, 6)) {
        n->st.rx_filtered++; /* RCR.PRO stands in for the card's filter */
        lyra_skb_free(skb);
        return;
    }
    uint16_t fl = LYRA_SKB_F_RX;
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (!memcmp(p, bcast, 6))
        fl |= LYRA_SKB_F_BCAST;
    else if (p[0] & 1)
        fl |= LYRA_SKB_F_MCAST;
    else if (!memcmp(p, n->mac, 6))
        fl |= LYRA_SKB_F_HOST;
    skb->flags |= fl;
    skb->protocol = (uint16_t)((p[12] << 8) | p[13]);
    n->st.rx_frames++;
    n->st.rx_bytes += len;
    if (n->gro.on && !n->in_recovery) {
        rx_csum_check(skb, p, len);
        lyra_gro_rx(&n->gro, skb, gro_up, n);
    } else {
        rx_deliver(n, skb);
    }
}

void nic_pio_rx_flush(struct nic_pio *n)
{
    lyra_gro_flush(&n->gro, gro_up, n);
}

/* Reads one frame at n->next_pkt (ring not empty). Returns 1 when a frame
 * was removed from the ring, 0 when the walk must stop. */
static int rx_one(struct nic_pio *n, uint8_t curr)
{
    struct ne2k_hw *h = &n->hw;
    uint8_t page = n->next_pkt;
    struct ne2k_rxhdr hdr;
    if (ne2k_rx_header(h, page, &hdr)) {
        n->st.rx_rdma_fail++;
        return 0;
    }
    uint32_t fcs = n->fcs == FCS_COUNTED ? FCS_LEN : 0;
    if (!hdr_valid(h, page, &hdr, fcs)) {
        /* The ring cannot be trusted past this point: drop what is in it. */
        n->st.rx_bad++;
        rx_resync(n, curr);
        return 0;
    }
    if (!n->opened || !n->ev)
        n->st.rx_down++;
    else
        rx_take(n, page, &hdr, hdr.count - NE_RXHDR_LEN - fcs);
    n->next_pkt = hdr.next;
    ne2k_set_bnry(h, ne2k_ring_prev(h, hdr.next));
    return 1;
}

/* Walks the ring; returns the frames removed. */
unsigned nic_pio_rx_walk(struct nic_pio *n, unsigned budget)
{
    unsigned done = 0;
    uint8_t curr = ne2k_curr(&n->hw);
    n->rx_more = false;
    while (done < budget) {
        if (n->next_pkt == curr) {
            curr = ne2k_curr(&n->hw); /* frames may have come meanwhile */
            if (n->next_pkt == curr)
                return done;
        }
        if (!rx_one(n, curr))
            return done;
        done++;
    }
    n->rx_more = true;
    return done;
}

void nic_pio_read_tallies(struct nic_pio *n)
{
    uint32_t fae, crc, missed;
    ne2k_tallies(&n->hw, &fae, &crc, &missed);
    n->st.rx_frame += fae;
    n->st.rx_crc += crc;
    n->st.rx_missed += missed;
}

unsigned nic_pio_rx_overflow(struct nic_pio *n, unsigned budget)
{
    nic_pio_rx_flush(n); /* what came before the overflow goes first */
    n->st.rx_overflow++;
    bool resend = ne2k_ovw_begin(&n->hw);
    lyra_skbq_init(&n->rxq);
    n->in_recovery = true;
    unsigned done = nic_pio_rx_walk(n, budget ? budget : 1);
    if (!done) /* step 8 needs a frame removed: give up on the ring's contents */
        rx_resync(n, ne2k_curr(&n->hw));
    n->in_recovery = false;
    ne2k_ovw_end(&n->hw, resend);
    struct lyra_skb *s;
    while ((s = lyra_skbq_pop(&n->rxq)))
        rx_deliver(n, s);
    return done ? done : 1;
}

