#include "tcp_ooo.h"

#include <string.h>

#include "tcp_seq.h"

/* Offsets from rcv_nxt order the ranges without wrap trouble: everything
 * held lies within the receive window (< 2^30 with window scaling). */
static uint32_t off(uint32_t rcv_nxt, uint32_t s)
{
    return s - rcv_nxt;
}

void tcp_ooo_init(struct tcp_ooo *o, struct tcp_range *storage, uint16_t cap)
{
    o->r = storage;
    o->n = 0;
    o->cap = cap;
    o->clock = 0;
}

int tcp_ooo_add(struct tcp_ooo *o, uint32_t rcv_nxt, uint32_t start, uint32_t end)
{
    uint32_t s = off(rcv_nxt, start), e = off(rcv_nxt, end);
    if (e <= s)
        return 0; /* empty (or wrapped: not ours to hold) */
    uint32_t stamp = ++o->clock;
    /* first range that ends at or after s: it may touch or overlap */
    unsigned i = 0;
    while (i < o->n && off(rcv_nxt, o->r[i].end) < s)
        i++;
    /* ranges i..j-1 touch or overlap [s, e): merge them into one */
    unsigned j = i;
    while (j < o->n && off(rcv_nxt, o->r[j].start) <= e)
        j++;
    if (j == i) { /* a new range at i */
        if (o->n == o->cap)
            return -1;
        memmove(&o->r[i + 1], &o->r[i], (o->n - i) * sizeof(o->r[0]));
        o->r[i] = (struct tcp_range){start, end, stamp};
        o->n++;
        return 0;
    }
    if (off(rcv_nxt, o->r[i].start) < s)
        start = o->r[i].start;
    if (off(rcv_nxt, o->r[j - 1].end) > e)
        end = o->r[j - 1].end;
    o->r[i] = (struct tcp_range){start, end, stamp};
    memmove(&o->r[i + 1], &o->r[j], (o->n - j) * sizeof(o->r[0]));
    o->n = (uint16_t)(o->n - (j - i - 1));
    return 0;
}

uint32_t tcp_ooo_advance(struct tcp_ooo *o, uint32_t rcv_nxt)
{
    unsigned k = 0;
    /* ranges are in order: those the in-order data reaches are a prefix */
    while (k < o->n && tcp_seq_le(tcp_seq(o->r[k].start), tcp_seq(rcv_nxt))) {
        if (tcp_seq_gt(tcp_seq(o->r[k].end), tcp_seq(rcv_nxt)))
            rcv_nxt = o->r[k].end;
        k++;
    }
    memmove(&o->r[0], &o->r[k], (o->n - k) * sizeof(o->r[0]));
    o->n = (uint16_t)(o->n - k);
    return rcv_nxt;
}

unsigned tcp_ooo_sack(const struct tcp_ooo *o, struct tcp_range *blocks, unsigned max)
{
    unsigned n = 0;
    uint32_t below = UINT32_MAX; /* stamps are unique: pick in falling order */
    while (n < max) {
        int best = -1;
        for (unsigned i = 0; i < o->n; i++)
            if (o->r[i].stamp < below && (best < 0 || o->r[i].stamp > o->r[best].stamp))
                best = (int)i;
        if (best < 0)
            break;
        blocks[n++] = o->r[best];
        below = o->r[best].stamp;
    }
    return n;
}
