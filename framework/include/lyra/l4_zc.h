/* Send completions of MSG_ZEROCOPY (issue 12.2b, Linux's msg_zerocopy.rst):
 * the bookkeeping a transport keeps per socket, header-only so that tcp and
 * udp share it without a component of its own.
 *
 * Each send call with MSG_ZEROCOPY on a socket with SO_ZEROCOPY gets the
 * next 32-bit id. A record holds a range of ids [lo, hi] and a count of
 * references: the call's own while it runs, and one per skb the transport
 * filled with referenced bytes of it (lyra_skb_set_done(skb,
 * lyra_zc_skb_done, rec)). An skb carries at most one record; a call that
 * adds to an skb another record holds extends that record when it is the
 * newest (ids contiguous), as Linux extends a ubuf_info. When the count
 * reaches 0 the record is done and queued for the application; a done
 * record whose range follows the queue's last one merges into it (Linux
 * coalesces the same way), its `copied` ORed in (SO_EE_CODE_ZEROCOPY_COPIED:
 * the provider copied some byte of the range).
 *
 * Bounded, no malloc: LYRA_ZC_RECS records per socket, in use while open or
 * queued. A call that finds none free copies instead of referencing (no
 * LYRA_SEG_F_REF) and, when its id follows the queue's last range, extends
 * it at once (counted in fallback); otherwise the call fails with -ENOBUFS
 * before taking a byte (as Linux when it cannot allocate the notification;
 * counted in nobufs): the application reads its error queue and retries.
 *
 * An endpoint that is closed and reused keeps the records its old skbs
 * still hold (lyra_zc_reset bumps gen; a stale record's completion is
 * dropped when its last skb is done). Everything runs on the stack's
 * context. */
#ifndef LYRA_L4_ZC_H
#define LYRA_L4_ZC_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lyra/l4.h"
#include "lyra/skb.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_ZC_RECS 16

enum { LYRA_ZC_FREE = 0, LYRA_ZC_OPEN, LYRA_ZC_QUEUED };

struct lyra_zc;

struct lyra_zc_rec {
    struct lyra_zc *z;
    uint32_t lo, hi;
    uint32_t gen;   /* z->gen when it was opened */
    uint16_t refs;
    uint8_t state;  /* LYRA_ZC_* */
    uint8_t copied; /* some byte of the range was copied */
};

/* One completion as the transport hands it up (LYRA_SO_ZC_COMPL). */
struct lyra_zc_compl {
    uint32_t lo, hi;
    uint32_t copied; /* 1: SO_EE_CODE_ZEROCOPY_COPIED */
};

struct lyra_zc {
    struct lyra_zc_rec rec[LYRA_ZC_RECS];
    uint8_t q[LYRA_ZC_RECS]; /* queued records, oldest first */
    uint8_t nq;
    uint8_t on;              /* SO_ZEROCOPY */
    int8_t newest;           /* the record of the last id handed out, -1: none */
    int8_t call;             /* the record a blocking send holds between rounds, -1: none */
    uint32_t next_id;
    uint32_t gen;
    /* a record was queued: the transport raises POLLERR (stack context) */
    void (*notify)(void *ctx, struct lyra_zc *z);
    void *ctx;
    /* loans (l4 1.3 recv_loan) this incarnation holds, and its bound */
    uint16_t loans, loan_max;
    /* counters the transport adds to its stats */
    uint64_t calls, fallback, nobufs;
};

/* At start, once per endpoint slot (its memory is never cleared again). */
static inline void lyra_zc_init(struct lyra_zc *z, void (*notify)(void *, struct lyra_zc *),
                                void *ctx)
{
    memset(z, 0, sizeof(*z));
    z->newest = -1;
    z->call = -1;
    z->notify = notify;
    z->ctx = ctx;
}

static inline void lyra_zc_call_end(struct lyra_zc *z);

/* A new socket in the slot: SO_ZEROCOPY off, ids from 0, nothing queued;
 * records old skbs still hold stay in use (stale: gen differs). */
static inline void lyra_zc_reset(struct lyra_zc *z)
{
    z->gen++;
    for (unsigned k = 0; k < LYRA_ZC_RECS; k++)
        if (z->rec[k].state == LYRA_ZC_QUEUED)
            z->rec[k].state = LYRA_ZC_FREE;
    z->nq = 0;
    z->on = 0;
    z->newest = -1;
    lyra_zc_call_end(z); /* a call cut by the close: its stale record is freed, not queued */
    z->next_id = 0;
    z->loans = 0;
    z->loan_max = LYRA_LOAN_MAX_DEFAULT;
}

/* LYRA_SO_LOAN_MAX: 0, or -EINVAL out of 1..LYRA_LOAN_MAX_LIMIT. */
static inline int lyra_zc_set_loan_max(struct lyra_zc *z, int v)
{
    if (v < 1 || v > LYRA_LOAN_MAX_LIMIT)
        return -EINVAL;
    z->loan_max = (uint16_t)v;
    return 0;
}

/* A loan's fields the transport fills (beside data/len), and the count. */
static inline void lyra_zc_lend(struct lyra_zc *z, struct lyra_l4_loan *ln, uint32_t h,
                                struct lyra_skb *s)
{
    ln->skb = s;
    ln->h = h;
    ln->gen = z->gen;
    z->loans++;
}

/* A loan came back: the skb reference goes; it counts against its socket
 * only while that socket is the same incarnation. zc: the endpoint's. */
static inline void lyra_zc_unlend(struct lyra_zc *z, struct lyra_l4_loan *ln)
{
    lyra_skb_free((struct lyra_skb *)ln->skb);
    if (ln->gen == z->gen && z->loans)
        z->loans--;
    ln->skb = NULL;
}

static inline int lyra_zc_pending(const struct lyra_zc *z)
{
    return z->nq > 0;
}

static inline void lyra_zc__queue(struct lyra_zc *z, struct lyra_zc_rec *r)
{
    int idx = (int)(r - z->rec);
    if (z->newest == idx)
        z->newest = -1;
    if (r->gen != z->gen) { /* the socket it belonged to is gone */
        r->state = LYRA_ZC_FREE;
        return;
    }
    if (z->nq) {
        struct lyra_zc_rec *t = &z->rec[z->q[z->nq - 1]];
        if (t->hi + 1 == r->lo && (uint64_t)(r->hi - t->lo) + 1 < ((uint64_t)1 << 32)) {
            t->hi = r->hi;
            t->copied |= r->copied;
            r->state = LYRA_ZC_FREE;
            if (z->notify)
                z->notify(z->ctx, z);
            return;
        }
    }
    r->state = LYRA_ZC_QUEUED;
    z->q[z->nq++] = (uint8_t)idx;
    if (z->notify)
        z->notify(z->ctx, z);
}

static inline void lyra_zc_put(struct lyra_zc_rec *r)
{
    if (r->refs && --r->refs == 0)
        lyra_zc__queue(r->z, r);
}

/* skb `done` for an skb holding referenced bytes of record ctx. */
static inline void lyra_zc_skb_done(void *ctx, struct lyra_skb *s)
{
    (void)s;
    lyra_zc_put((struct lyra_zc_rec *)ctx);
}

/* A MSG_ZEROCOPY call starts: its record (held once for the call), or
 * NULL with *copy set: copy it (the id is accounted already), or NULL
 * with *copy 0: -ENOBUFS, nothing done. `join`: the record the skb the
 * call appends to first holds (NULL: none); it is extended when newest. */
static inline struct lyra_zc_rec *lyra_zc_begin(struct lyra_zc *z, struct lyra_zc_rec *join,
                                                int *copy)
{
    *copy = 0;
    uint32_t id = z->next_id;
    if (join && join->state == LYRA_ZC_OPEN && join->gen == z->gen &&
        z->newest == (int)(join - z->rec) && join->hi + 1 == id) {
        join->hi = id;
        join->refs++;
        z->next_id++;
        z->calls++;
        return join;
    }
    for (unsigned k = 0; k < LYRA_ZC_RECS; k++) {
        struct lyra_zc_rec *r = &z->rec[k];
        if (r->state != LYRA_ZC_FREE)
            continue;
        r->z = z;
        r->lo = r->hi = id;
        r->gen = z->gen;
        r->refs = 1;
        r->state = LYRA_ZC_OPEN;
        r->copied = 0;
        z->newest = (int8_t)k;
        z->next_id++;
        z->calls++;
        return r;
    }
    if (z->nq && z->rec[z->q[z->nq - 1]].hi + 1 == id) {
        struct lyra_zc_rec *t = &z->rec[z->q[z->nq - 1]];
        t->hi = id;
        t->copied = 1;
        z->next_id++;
        z->calls++;
        z->fallback++;
        *copy = 1;
        return NULL;
    }
    z->nobufs++;
    return NULL;
}

/* A blocking stream send's first round took part of its bytes
 * (LYRA_MSG_ZC_CALL): the call's hold on r stays until lyra_zc_call_end,
 * so r is not completed while the call still has bytes to give. */
static inline void lyra_zc_call_keep(struct lyra_zc *z, struct lyra_zc_rec *r)
{
    z->call = (int8_t)(r - z->rec);
}

/* The blocking call ended (the socket layer's zero-length round): its hold
 * goes; r completes once no skb references it. */
static inline void lyra_zc_call_end(struct lyra_zc *z)
{
    if (z->call < 0)
        return;
    struct lyra_zc_rec *r = &z->rec[z->call];
    z->call = -1;
    lyra_zc_put(r);
}

/* A blocking stream send's next round (LYRA_MSG_ZC_CONT): the same id.
 * The record the call holds, held once more for the round; NULL when the
 * call holds none (it copies: a fallback, reported as copied already). */
static inline struct lyra_zc_rec *lyra_zc_cont(struct lyra_zc *z)
{
    if (z->call < 0)
        return NULL;
    struct lyra_zc_rec *r = &z->rec[z->call];
    if (r->state != LYRA_ZC_OPEN || r->gen != z->gen)
        return NULL;
    r->refs++;
    return r;
}

/* The call that began with r (or, r NULL, a copy fallback) took no byte:
 * its id is given back (Linux reverts the key the same way), so ids stay
 * one per call that sent something. Right after lyra_zc_begin only. */
static inline void lyra_zc_abort(struct lyra_zc *z, struct lyra_zc_rec *r)
{
    z->next_id--;
    z->calls--;
    if (!r) {
        z->rec[z->q[z->nq - 1]].hi--;
        z->fallback--;
        return;
    }
    r->refs--;
    if (r->lo == r->hi) {
        r->state = LYRA_ZC_FREE;
        z->newest = -1;
    } else {
        r->hi--;
    }
}

/* Attaches r to s after add_data referenced some of the call's bytes in
 * it (took > copied). 0, or -1 when s holds another record already (the
 * caller must not have appended: it checks lyra_zc_of first). */
static inline int lyra_zc_attach(struct lyra_zc_rec *r, struct lyra_skb *s)
{
    if (s->done == lyra_zc_skb_done)
        return s->done_ctx == r ? 0 : -1;
    if (s->done)
        return -1;
    lyra_skb_set_done(s, lyra_zc_skb_done, r);
    r->refs++;
    return 0;
}

/* A send failed after attaching its record to s, which it is about to
 * free: s lets go of the record (someone else holding s, a clone, must
 * not complete an id lyra_zc_abort gives back). */
static inline void lyra_zc_detach(struct lyra_skb *s)
{
    if (s->done != lyra_zc_skb_done)
        return;
    struct lyra_zc_rec *r = (struct lyra_zc_rec *)s->done_ctx;
    lyra_skb_set_done(s, NULL, NULL);
    if (r->refs)
        r->refs--;
}

/* The record s holds (NULL: none), for lyra_zc_begin's join. */
static inline struct lyra_zc_rec *lyra_zc_of(const struct lyra_skb *s)
{
    return s && s->done == lyra_zc_skb_done ? (struct lyra_zc_rec *)s->done_ctx : NULL;
}

/* Takes the oldest queued completion: 0, or -EAGAIN when none. */
static inline int lyra_zc_take(struct lyra_zc *z, struct lyra_zc_compl *out)
{
    if (!z->nq)
        return -EAGAIN;
    struct lyra_zc_rec *r = &z->rec[z->q[0]];
    out->lo = r->lo;
    out->hi = r->hi;
    out->copied = r->copied;
    r->state = LYRA_ZC_FREE;
    z->nq--;
    memmove(z->q, z->q + 1, z->nq);
    return 0;
}

/* LYRA_SO_ZC_COMPL (getopt_buf): the oldest completion into val, a
 * struct lyra_zc_compl; -EAGAIN when none, -EINVAL when *len is short. */
static inline int lyra_zc_take_buf(struct lyra_zc *z, void *val, uint32_t *len)
{
    struct lyra_zc_compl c;
    if (*len < sizeof(c))
        return -EINVAL;
    int r = lyra_zc_take(z, &c);
    if (r)
        return r;
    memcpy(val, &c, sizeof(c));
    *len = sizeof(c);
    return 0;
}

#ifdef __cplusplus
}
#endif
#endif
