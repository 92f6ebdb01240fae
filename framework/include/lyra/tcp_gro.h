/* Receive coalescing for a driver (skb 2.6 LYRA_SKB_F_GRO; Linux's GRO,
 * kept as a list): within one poll step, TCP/IPv4 frames of one flow that
 * continue each other go up as one frame whose `next` chains the rest, so
 * eth, ip and tcp's lookup run once per run instead of once per frame.
 * Only frames whose TCP checksum was verified take part (LYRA_SKB_F_CSUM_OK:
 * the e1000's card, or the NE2000 driver from the sum its read kept); the
 * IPv4 header checksum is checked here unless LYRA_SKB_F_L3CSUM_OK says
 * the card did, and that the headers match (skb.h). What may take part
 * mirrors Linux's tcp4_gro_receive: no IP options or fragments, flags ACK
 * with PSH at most (PSH ends a run), the same ACK, window, urgent pointer
 * and options, the next sequence number, a payload.
 *
 * Header-only, for the drivers that use it (nic_dma, nic_pio): no state
 * outside struct lyra_gro; runs on the stack's context only. */
#ifndef LYRA_TCP_GRO_H
#define LYRA_TCP_GRO_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/inet_csum.h"
#include "lyra/netdev.h"
#include "lyra/skb.h"

/* Segments per run at most: 64 KiB of 1448-byte payloads, as Linux's GRO. */
#define LYRA_GRO_MAX 45u

#define LYRA_GRO_STATS(X) \
    X(rx_gro_runs)        \
    X(rx_gro_chained)

struct lyra_gro_stats {
#define LYRA_GRO_F(n) uint64_t n;
    LYRA_GRO_STATS(LYRA_GRO_F)
#undef LYRA_GRO_F
};

/* The counters, into a driver's stats (one scheme for every driver). */
static inline void lyra_gro_stats_emit(const struct lyra_gro_stats *st,
                                       struct lyra_stats_sink *sink)
{
#define LYRA_GRO_EMIT_(n) lyra_stat(sink, #n, st->n);
    LYRA_GRO_STATS(LYRA_GRO_EMIT_)
#undef LYRA_GRO_EMIT_
}

/* Where a frame or a run goes (the netdev user's rx). */
typedef void (*lyra_gro_up_fn)(void *ctx, struct lyra_skb *skb);

struct lyra_gro {
    bool on;
    struct lyra_skb *head, *tail; /* the run held; NULL: none */
    uint32_t next_seq;            /* where the run's next segment starts */
    uint32_t n;                   /* skbs in the run */
    uint32_t hlen;                /* the run's TCP header length */
    struct lyra_gro_stats st;
};

/* At a driver's start: coalescing on when asked for (want) and the
 * netdev user takes runs (events 1.3 or later). */
static inline void lyra_gro_start(struct lyra_gro *g, bool want,
                                  const struct lyra_netdev_events *ev)
{
    g->on = want && ev && ev->hdr.minor >= 3;
}

#define LYRA_GRO_ETH_HLEN 14u
#define LYRA_GRO_IP_HLEN 20u
#define LYRA_GRO_TCP_HLEN 20u
#define LYRA_GRO_PSH 0x08u
#define LYRA_GRO_ACK 0x10u

static inline uint32_t lyra_gro_ld16_(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t lyra_gro_ld32_(const uint8_t *p)
{
    return lyra_gro_ld16_(p) << 16 | lyra_gro_ld16_(p + 2);
}

/* The frame's TCP payload bytes when it may take part in a run, else 0;
 * *th: its TCP header length. */
static inline uint32_t lyra_gro_candidate_(const struct lyra_skb *skb, uint32_t *th)
{
    if (!(skb->flags & LYRA_SKB_F_CSUM_OK) || skb->nseg ||
        skb->len < LYRA_GRO_ETH_HLEN + LYRA_GRO_IP_HLEN + LYRA_GRO_TCP_HLEN)
        return 0;
    const uint8_t *f = skb->data;
    const uint8_t *ip = f + LYRA_GRO_ETH_HLEN;
    const uint8_t *t = ip + LYRA_GRO_IP_HLEN;
    if (lyra_gro_ld16_(f + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 6 ||
        (lyra_gro_ld16_(ip + 6) & 0x3fff))
        return 0; /* not IPv4 without options, not TCP, or a fragment */
    uint32_t tot = lyra_gro_ld16_(ip + 2);
    uint32_t h = (uint32_t)(t[12] >> 4) * 4;
    if (tot > skb->len - LYRA_GRO_ETH_HLEN || h < LYRA_GRO_TCP_HLEN ||
        LYRA_GRO_IP_HLEN + h >= tot)
        return 0; /* cut short, a bad offset, or no payload */
    if ((t[13] & (uint8_t)~LYRA_GRO_PSH) != LYRA_GRO_ACK)
        return 0; /* SYN, FIN, RST, URG, ECN marks: on their own */
    if (!(skb->flags & LYRA_SKB_F_L3CSUM_OK) &&
        lyra_csum_fold(lyra_csum_add(ip, LYRA_GRO_IP_HLEN, 0)) != 0xffff)
        return 0; /* ip counts it; the card may have summed it (skb.h) */
    *th = h;
    return tot - LYRA_GRO_IP_HLEN - h;
}

/* Loads for comparing, in whatever byte order: fixed sizes, so no call. */
static inline uint64_t lyra_gro_w64_(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t lyra_gro_w32_(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint16_t lyra_gro_w16_(const uint8_t *p)
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
/* The differences of h and f at offset o, 8, 4 or 2 bytes wide. */
static inline uint64_t lyra_gro_d64_(const uint8_t *h, const uint8_t *f, uint32_t o)
{
    return lyra_gro_w64_(h + o) ^ lyra_gro_w64_(f + o);
}

static inline uint32_t lyra_gro_d32_(const uint8_t *h, const uint8_t *f, uint32_t o)
{
    return lyra_gro_w32_(h + o) ^ lyra_gro_w32_(f + o);
}

static inline uint16_t lyra_gro_d16_(const uint8_t *h, const uint8_t *f, uint32_t o)
{
    return (uint16_t)(lyra_gro_w16_(h + o) ^ lyra_gro_w16_(f + o));
}

static inline bool lyra_gro_same_flow_(const uint8_t *h, const uint8_t *f, uint32_t th)
{
    uint64_t d = lyra_gro_d64_(h, f, 0) | lyra_gro_d64_(h, f, 8) /* Ethernet, version, TOS */ |
                 lyra_gro_d32_(h, f, 20) /* flags and offset, TTL, protocol */ |
                 lyra_gro_d64_(h, f, 26) | lyra_gro_d32_(h, f, 34) /* addresses, ports */ |
                 lyra_gro_d32_(h, f, 42) | (uint64_t)(h[46] ^ f[46]) /* ACK, data offset */ |
                 lyra_gro_d16_(h, f, 48) | lyra_gro_d16_(h, f, 52) /* window, urgent */;
    if (th == 32) /* options: the timestamp's 12 bytes, the usual case */
        return !(d | lyra_gro_d64_(h, f, 54) | lyra_gro_d32_(h, f, 62));
    for (uint32_t k = 54; k < 34 + th; k += 4) /* th - 20, a multiple of 4 */
        d |= lyra_gro_d32_(h, f, k);
    return !d;
}

/* The run held, if any, goes up (end of a poll step). */
static inline void lyra_gro_flush(struct lyra_gro *g, lyra_gro_up_fn up, void *ctx)
{
    struct lyra_skb *h = g->head;
    if (!h)
        return;
    g->head = g->tail = NULL;
    if (h->flags & LYRA_SKB_F_GRO)
        g->st.rx_gro_runs++;
    up(ctx, h);
}

/* Frees the run held (stop). */
static inline void lyra_gro_drop(struct lyra_gro *g)
{
    lyra_skb_free(g->head);
    g->head = g->tail = NULL;
}

/* A received frame: joins the run held, or ends it (up) and starts one,
 * or goes up at once when it cannot take part. */
static inline void lyra_gro_rx(struct lyra_gro *g, struct lyra_skb *skb, lyra_gro_up_fn up,
                               void *ctx)
{
    uint32_t th = 0;
    uint32_t pay = g->on ? lyra_gro_candidate_(skb, &th) : 0;
    if (!pay) {
        lyra_gro_flush(g, up, ctx);
        up(ctx, skb);
        return;
    }
    const uint8_t *t = skb->data + LYRA_GRO_ETH_HLEN + LYRA_GRO_IP_HLEN;
    bool psh = (t[13] & LYRA_GRO_PSH) != 0;
    if (g->head && g->n < LYRA_GRO_MAX && th == g->hlen && lyra_gro_ld32_(t + 4) == g->next_seq &&
        lyra_gro_same_flow_(g->head->data, skb->data, th)) {
        uint32_t tot = lyra_gro_ld16_(skb->data + LYRA_GRO_ETH_HLEN + 2);
        lyra_skb_pull(skb, LYRA_GRO_ETH_HLEN + LYRA_GRO_IP_HLEN);
        lyra_skb_trim(skb, tot - LYRA_GRO_IP_HLEN);
        skb->l4_off = (uint32_t)(skb->data - skb->head);
        skb->l3_off = skb->l4_off - LYRA_GRO_IP_HLEN;
        skb->next = NULL;
        g->tail->next = skb;
        g->tail = skb;
        g->head->flags |= LYRA_SKB_F_GRO;
        g->n++;
        g->next_seq += pay;
        g->st.rx_gro_chained++;
    } else {
        lyra_gro_flush(g, up, ctx);
        skb->next = NULL;
        g->head = g->tail = skb;
        g->n = 1;
        g->hlen = th;
        g->next_seq = lyra_gro_ld32_(t + 4) + pay;
    }
    if (psh)
        lyra_gro_flush(g, up, ctx); /* the sender pushed: nothing joins after it */
}

#endif
