/* The sending side of a link end, in this order:
 *   loss     drop the frame (counted, the send still succeeds);
 *   corrupt  flip one random byte (xor with a random non-zero value);
 *   dup      send it twice;
 *   reorder  hold it back until reorder_depth (at least 1) later frames have
 *            gone out, or LINK_REORDER_HOLD_NS passed; one frame at a time;
 *   shaping  rate (serialization: a frame leaves when the medium is free,
 *            len*8/rate seconds after it started) then delay: frames wait
 *            in a bounded egress queue (LINK_QUEUE_FRAMES; full: -EAGAIN,
 *            counted in link_drop_full) until due. An os timer on the
 *            owning instance releases them, and so do send and recv.
 * Every decision draws from the instance's `random` (the seeded PRNG when
 * os.seed is set), one 32-bit draw per enabled impairment and frame, so a
 * seed gives the same run. All of it runs with l->mu held. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link_int.h"

static void arm_next(struct lyra_link *l);

static void on_timer(void *ctx, struct lyra_timer *t)
{
    struct lyra_link *l = ctx;
    pthread_mutex_lock(&l->mu);
    link_impair_flush(l, os_now_ns(l->os));
    pthread_mutex_unlock(&l->mu);
}

int link_impair_init(struct lyra_link *l)
{
    lyra_timer_init(&l->timer, on_timer, l);
    l->impaired = l->p.loss_ppm || l->p.dup_ppm || l->p.reorder_ppm || l->p.corrupt_ppm;
    l->shaped = l->p.delay_ns || l->p.rate_bps;
    if (l->p.reorder_ppm) {
        l->held = malloc(sizeof(*l->held));
        if (!l->held)
            return -ENOMEM;
    }
    if (l->shaped)
        return link_ring_init(&l->egress);
    return 0;
}

void link_impair_fini(struct lyra_link *l)
{
    free(l->held);
    l->held = NULL;
    link_ring_fini(&l->egress);
}

static uint32_t draw(struct lyra_link *l)
{
    uint32_t r;
    os_random(l->os, &r, sizeof(r));
    return r;
}

static bool chance(struct lyra_link *l, uint32_t ppm)
{
    if (!ppm)
        return false;
    return (((uint64_t)draw(l) * 1000000u) >> 32) < ppm;
}

/* Puts a frame on the medium now, or into the egress queue when shaped. */
static int out(struct lyra_link *l, const void *f, size_t len, uint64_t now)
{
    if (!l->shaped)
        return link_emit(l, f, len);
    struct link_frame *q = link_ring_tail(&l->egress);
    if (!q) {
        atomic_fetch_add_explicit(&l->os->link_drop_full, 1, memory_order_relaxed);
        return -EAGAIN;
    }
    uint64_t due = now;
    if (l->p.rate_bps) {
        uint64_t start = l->busy_until > now ? l->busy_until : now;
        l->busy_until = start + (uint64_t)len * 8u * 1000000000u / l->p.rate_bps;
        due = l->busy_until;
    }
    due += l->p.delay_ns;
    /* FIFO: a frame never overtakes one queued before it */
    struct link_ring *r = &l->egress;
    if (r->n) {
        struct link_frame *last = &r->slot[(r->head + r->n - 1) % LINK_QUEUE_FRAMES];
        if (due < last->due)
            due = last->due;
    }
    q->due = due;
    q->len = (uint32_t)len;
    memcpy(q->data, f, len);
    link_ring_push(&l->egress);
    return 0;
}

static void release_held(struct lyra_link *l, uint64_t now)
{
    l->holding = false;
    out(l, l->held->data, l->held->len, now);
}

/* A frame (not the held one) went out: it overtook the held one. */
static void passed(struct lyra_link *l, uint64_t now)
{
    if (!l->holding)
        return;
    uint32_t depth = l->p.reorder_depth ? l->p.reorder_depth : 1;
    if (++l->held_passed >= depth)
        release_held(l, now);
}

void link_impair_flush(struct lyra_link *l, uint64_t now)
{
    if (l->holding && now >= l->held_since + LINK_REORDER_HOLD_NS)
        release_held(l, now);
    if (l->shaped) {
        struct link_frame *f;
        while ((f = link_ring_head(&l->egress)) && f->due <= now) {
            link_emit(l, f->data, f->len);
            link_ring_pop(&l->egress);
        }
    }
    arm_next(l);
}

static void arm_next(struct lyra_link *l)
{
    uint64_t next = LYRA_TIME_NEVER;
    struct link_frame *f = l->shaped ? link_ring_head(&l->egress) : NULL;
    if (f)
        next = f->due;
    if (l->holding && l->held_since + LINK_REORDER_HOLD_NS < next)
        next = l->held_since + LINK_REORDER_HOLD_NS;
    if (next == LYRA_TIME_NEVER) {
        if (lyra_tw_armed(&l->timer))
            os_timer_cancel(l->os, &l->timer);
    } else if (lyra_tw_deadline(&l->timer) != next) {
        os_timer_arm(l->os, &l->timer, next);
    }
}

int link_impair_send(struct lyra_link *l, const void *frame, size_t len)
{
    if (!l->impaired && !l->shaped)
        return link_emit(l, frame, len);
    uint64_t now = os_now_ns(l->os);
    if (l->shaped || l->holding)
        link_impair_flush(l, now);

    if (chance(l, l->p.loss_ppm)) {
        atomic_fetch_add_explicit(&l->os->link_loss, 1, memory_order_relaxed);
        return 0;
    }
    const uint8_t *f = frame;
    uint8_t tmp[LINK_FRAME_MAX];
    if (len && chance(l, l->p.corrupt_ppm)) {
        uint32_t r = draw(l);
        memcpy(tmp, frame, len);
        tmp[r % len] ^= (uint8_t)(1u + (r >> 16) % 255u);
        f = tmp;
        atomic_fetch_add_explicit(&l->os->link_corrupt, 1, memory_order_relaxed);
    }
    int copies = 1;
    if (chance(l, l->p.dup_ppm)) {
        copies = 2;
        atomic_fetch_add_explicit(&l->os->link_dup, 1, memory_order_relaxed);
    }
    if (!l->holding && chance(l, l->p.reorder_ppm)) {
        memcpy(l->held->data, f, len);
        l->held->len = (uint32_t)len;
        l->holding = true;
        l->held_passed = 0;
        l->held_since = now;
        copies--;
        atomic_fetch_add_explicit(&l->os->link_reorder, 1, memory_order_relaxed);
    }
    int rc = 0;
    for (int i = 0; i < copies; i++) {
        int r = out(l, f, len, now);
        if (i == 0)
            rc = r;
        if (!r)
            passed(l, now);
    }
    if (l->shaped)
        link_impair_flush(l, now);
    else
        arm_next(l);
    return rc;
}
