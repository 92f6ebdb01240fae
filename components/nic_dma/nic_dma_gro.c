/* Receive coalescing: see nic_dma_gro.h. The rules are skb.h's for
 * LYRA_SKB_F_GRO; what may take part mirrors Linux's tcp4_gro_receive: no
 * IP options or fragments, flags ACK with PSH at most (PSH ends a run),
 * the same ACK, window, urgent pointer and options, the next sequence
 * number, a payload. */
#include "nic_dma_gro.h"

#include <string.h>

#include "lyra/inet_csum.h"

#define ETH_HLEN 14u
#define IP_HLEN 20u
#define TCP_HLEN 20u
#define TCP_FL_PSH 0x08u
#define TCP_FL_ACK 0x10u

static inline uint32_t ld16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t ld32(const uint8_t *p)
{
    return ld16(p) << 16 | ld16(p + 2);
}

/* The frame's TCP payload bytes when it may take part in a run, else 0;
 * *th: its TCP header length. */
static uint32_t candidate(const struct lyra_skb *skb, uint32_t *th)
{
    if (!(skb->flags & LYRA_SKB_F_CSUM_OK) || skb->nseg ||
        skb->len < ETH_HLEN + IP_HLEN + TCP_HLEN)
        return 0;
    const uint8_t *f = skb->data;
    const uint8_t *ip = f + ETH_HLEN;
    const uint8_t *t = ip + IP_HLEN;
    if (ld16(f + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 6 || (ld16(ip + 6) & 0x3fff))
        return 0; /* not IPv4 without options, not TCP, or a fragment */
    uint32_t tot = ld16(ip + 2);
    uint32_t h = (uint32_t)(t[12] >> 4) * 4;
    if (tot > skb->len - ETH_HLEN || h < TCP_HLEN || IP_HLEN + h >= tot)
        return 0; /* cut short, a bad offset, or no payload */
    if ((t[13] & (uint8_t)~TCP_FL_PSH) != TCP_FL_ACK)
        return 0; /* SYN, FIN, RST, URG, ECN marks: on their own */
    if (!(skb->flags & LYRA_SKB_F_L3CSUM_OK) &&
        lyra_csum_fold(lyra_csum_add(ip, IP_HLEN, 0)) != 0xffff)
        return 0; /* ip counts it; the card may have summed it (skb.h) */
    *th = h;
    return tot - IP_HLEN - h;
}

/* Loads for comparing, in whatever byte order: fixed sizes, so no call. */
static inline uint64_t w64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t w32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint16_t w16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* f continues the run whose first frame is h (both passed candidate with
 * TCP header length th): the same link header, the same IPv4 header but
 * for identification, length and checksum, the same TCP header but for
 * sequence number, checksum and PSH. Offsets from the frame's start:
 * 0-13 Ethernet, 14-33 IPv4, 34 on TCP. The differences are or-ed, not
 * tested one by one: a run's frames match, so every word is read anyway,
 * and one test costs less than a branch per field. */
static bool same_flow(const uint8_t *h, const uint8_t *f, uint32_t th)
{
    uint64_t d = (w64(h) ^ w64(f)) | (w64(h + 8) ^ w64(f + 8)) /* Ethernet, version, TOS */ |
                 (w32(h + 20) ^ w32(f + 20)) /* flags and offset, TTL, protocol */ |
                 (w64(h + 26) ^ w64(f + 26)) | (w32(h + 34) ^ w32(f + 34)) /* addresses, ports */ |
                 (w32(h + 42) ^ w32(f + 42)) | (uint64_t)(h[46] ^ f[46]) /* ACK, data offset */ |
                 (w16(h + 48) ^ w16(f + 48)) | (w16(h + 52) ^ w16(f + 52)) /* window, urgent */;
    if (th == 32) /* options: the timestamp's 12 bytes, the usual case */
        return !(d | (w64(h + 54) ^ w64(f + 54)) | (w32(h + 62) ^ w32(f + 62)));
    for (uint32_t k = 54; k < 34 + th; k += 4) /* th - 20, a multiple of 4 */
        d |= w32(h + k) ^ w32(f + k);
    return !d;
}

void nd_gro_flush(struct nd_gro *g, nd_gro_up_fn up, void *ctx)
{
    struct lyra_skb *h = g->head;
    if (!h)
        return;
    g->head = g->tail = NULL;
    if (h->flags & LYRA_SKB_F_GRO)
        g->st.rx_gro_runs++;
    up(ctx, h);
}

void nd_gro_drop(struct nd_gro *g)
{
    lyra_skb_free(g->head);
    g->head = g->tail = NULL;
}

void nd_gro_rx(struct nd_gro *g, struct lyra_skb *skb, nd_gro_up_fn up, void *ctx)
{
    uint32_t th = 0;
    uint32_t pay = g->on ? candidate(skb, &th) : 0;
    if (!pay) {
        nd_gro_flush(g, up, ctx);
        up(ctx, skb);
        return;
    }
    const uint8_t *t = skb->data + ETH_HLEN + IP_HLEN;
    bool psh = (t[13] & TCP_FL_PSH) != 0;
    if (g->head && g->n < ND_GRO_MAX && th == g->hlen && ld32(t + 4) == g->next_seq &&
        same_flow(g->head->data, skb->data, th)) {
        uint32_t tot = ld16(skb->data + ETH_HLEN + 2);
        lyra_skb_pull(skb, ETH_HLEN + IP_HLEN);
        lyra_skb_trim(skb, tot - IP_HLEN);
        skb->l4_off = (uint32_t)(skb->data - skb->head);
        skb->l3_off = skb->l4_off - IP_HLEN;
        skb->next = NULL;
        g->tail->next = skb;
        g->tail = skb;
        g->head->flags |= LYRA_SKB_F_GRO;
        g->n++;
        g->next_seq += pay;
        g->st.rx_gro_chained++;
    } else {
        nd_gro_flush(g, up, ctx);
        skb->next = NULL;
        g->head = g->tail = skb;
        g->n = 1;
        g->hlen = th;
        g->next_seq = ld32(t + 4) + pay;
    }
    if (psh)
        nd_gro_flush(g, up, ctx); /* the sender pushed: nothing joins after it */
}
