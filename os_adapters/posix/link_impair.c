/* The impairment pipeline of a link end, one implementation for both
 * directions (struct link_dir): what the end sends (tx, then the medium)
 * and what it receives (rx: frames as they come off the medium, wire or
 * TAP, before the stack gets them). In this order:
 *   loss     drop the frame (counted, the send still succeeds);
 *   corrupt  flip one random byte (xor with a random non-zero value);
 *   dup      pass it twice;
 *   reorder  hold it back until reorder_depth (at least 1) later frames have
 *            passed, or LINK_REORDER_HOLD_NS passed; one frame at a time;
 *   shaping  rate (serialization: a frame leaves when the medium is free,
 *            len*8/rate seconds after it started) then delay: frames wait
 *            in a bounded queue (LINK_QUEUE_FRAMES; full: dropped, counted
 *            in link_drop_full / link_rx_drop_full) until due. An os timer
 *            on the owning instance releases them (tx) or wakes the loop so
 *            the device model takes them (rx), and so do send and recv.
 * tx draws from the instance's `random` (the seeded PRNG when os.seed is
 * set); rx from a splitmix64 stream of its own per end, seeded from os.seed
 * and the end's opening order, so neither direction shifts the other's
 * draws. One 32-bit draw per enabled impairment and frame, so a seed gives
 * the same run. All of it runs with l->mu held. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link_int.h"

static void arm_next(struct link_dir *d, uint64_t now);

static void on_timer(void *ctx, struct lyra_timer *t)
{
    struct link_dir *d = ctx;
    (void)t;
    pthread_mutex_lock(&d->l->mu);
    link_impair_flush(d, os_now_ns(d->l->os));
    pthread_mutex_unlock(&d->l->mu);
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int dir_init(struct link_dir *d, struct lyra_link *l, bool rx)
{
    struct os_posix *os = l->os;
    const struct lyra_link_params *p = &l->p;
    d->l = l;
    d->rx = rx;
    lyra_timer_init(&d->timer, on_timer, d);
    if (rx) {
        d->loss_ppm = p->rx_loss_ppm;
        d->dup_ppm = p->rx_dup_ppm;
        d->reorder_ppm = p->rx_reorder_ppm;
        d->corrupt_ppm = p->rx_corrupt_ppm;
        d->reorder_depth = p->rx_reorder_depth;
        d->delay_ns = p->rx_delay_ns;
        d->rate_bps = p->rx_rate_bps;
        d->c_loss = &os->link_rx_loss;
        d->c_dup = &os->link_rx_dup;
        d->c_reorder = &os->link_rx_reorder;
        d->c_corrupt = &os->link_rx_corrupt;
        d->c_full = &os->link_rx_drop_full;
    } else {
        d->loss_ppm = p->loss_ppm;
        d->dup_ppm = p->dup_ppm;
        d->reorder_ppm = p->reorder_ppm;
        d->corrupt_ppm = p->corrupt_ppm;
        d->reorder_depth = p->reorder_depth;
        d->delay_ns = p->delay_ns;
        d->rate_bps = p->rate_bps;
        d->c_loss = &os->link_loss;
        d->c_dup = &os->link_dup;
        d->c_reorder = &os->link_reorder;
        d->c_corrupt = &os->link_corrupt;
        d->c_full = &os->link_drop_full;
    }
    d->impaired = d->loss_ppm || d->dup_ppm || d->reorder_ppm || d->corrupt_ppm;
    d->shaped = d->delay_ns || d->rate_bps;
    /* received frames that an impairment touched wait in q for the stack;
     * sent ones go straight to the medium unless shaped */
    d->queued = d->shaped || (rx && d->impaired);
    if (rx && d->impaired) {
        /* the n-th end opened on a seeded instance draws the same stream on
         * every run; unseeded, it starts from the instance's random */
        uint64_t n = atomic_fetch_add_explicit(&os->links_opened, 1, memory_order_relaxed);
        if (os->seeded)
            d->rng = os->seed ^ 0x72785f6c696e6b00u ^ (n * 0xd1b54a32d192ed03u);
        else
            os_random(os, &d->rng, sizeof(d->rng));
    }
    if (d->reorder_ppm) {
        d->held = malloc(sizeof(*d->held));
        if (!d->held)
            return -ENOMEM;
    }
    if (d->queued)
        return link_ring_init(&d->q);
    return 0;
}

static void dir_fini(struct link_dir *d)
{
    free(d->held);
    d->held = NULL;
    link_ring_fini(&d->q);
}

int link_impair_init(struct lyra_link *l)
{
    int r = dir_init(&l->tx, l, false);
    return r ? r : dir_init(&l->rx, l, true);
}

void link_impair_fini(struct lyra_link *l)
{
    dir_fini(&l->tx);
    dir_fini(&l->rx);
}

void link_impair_cancel(struct lyra_link *l)
{
    os_timer_cancel(l->os, &l->tx.timer);
    os_timer_cancel(l->os, &l->rx.timer);
}

static uint32_t draw(struct link_dir *d)
{
    if (d->rx)
        return (uint32_t)(splitmix64(&d->rng) >> 32);
    uint32_t r;
    os_random(d->l->os, &r, sizeof(r));
    return r;
}

static bool chance(struct link_dir *d, uint32_t ppm)
{
    if (!ppm)
        return false;
    return (((uint64_t)draw(d) * 1000000u) >> 32) < ppm;
}

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Passes a frame on now (tx: the medium), or queues it until due. */
static int out(struct link_dir *d, const void *f, size_t len, uint64_t now)
{
    if (!d->queued)
        return link_emit(d->l, f, len);
    struct link_frame *q = link_ring_tail(&d->q);
    if (!q) {
        count(d->c_full);
        return -EAGAIN;
    }
    uint64_t due = now;
    if (d->rate_bps) {
        uint64_t start = d->busy_until > now ? d->busy_until : now;
        d->busy_until = start + (uint64_t)len * 8u * 1000000000u / d->rate_bps;
        due = d->busy_until;
    }
    due += d->delay_ns;
    /* FIFO: a frame never overtakes one queued before it */
    struct link_ring *r = &d->q;
    if (r->n) {
        struct link_frame *last = &r->slot[(r->head + r->n - 1) % LINK_QUEUE_FRAMES];
        if (due < last->due)
            due = last->due;
    }
    q->due = due;
    q->len = (uint32_t)len;
    memcpy(q->data, f, len);
    link_ring_push(&d->q);
    return 0;
}

static void release_held(struct link_dir *d, uint64_t now)
{
    d->holding = false;
    out(d, d->held->data, d->held->len, now);
}

/* A frame (not the held one) passed: it overtook the held one. */
static void passed(struct link_dir *d, uint64_t now)
{
    if (!d->holding)
        return;
    uint32_t depth = d->reorder_depth ? d->reorder_depth : 1;
    if (++d->held_passed >= depth)
        release_held(d, now);
}

void link_impair_flush(struct link_dir *d, uint64_t now)
{
    if (d->holding && now >= d->held_since + LINK_REORDER_HOLD_NS)
        release_held(d, now);
    if (d->queued && !d->rx) {
        struct link_frame *f;
        while ((f = link_ring_head(&d->q)) && f->due <= now) {
            link_emit(d->l, f->data, f->len);
            link_ring_pop(&d->q);
        }
    }
    arm_next(d, now);
}

/* The timer is due when the next queued frame is (rx: only a future one;
 * a due one waits for the device model's next poll, which a timer in the
 * past would only spin) or the held frame's time is up. */
static void arm_next(struct link_dir *d, uint64_t now)
{
    uint64_t next = LYRA_TIME_NEVER;
    struct link_frame *f = d->queued ? link_ring_head(&d->q) : NULL;
    if (f && (!d->rx || f->due > now))
        next = f->due;
    if (d->holding && d->held_since + LINK_REORDER_HOLD_NS < next)
        next = d->held_since + LINK_REORDER_HOLD_NS;
    if (next == LYRA_TIME_NEVER) {
        if (lyra_tw_armed(&d->timer))
            os_timer_cancel(d->l->os, &d->timer);
    } else if (lyra_tw_deadline(&d->timer) != next) {
        os_timer_arm(d->l->os, &d->timer, next);
    }
}

/* One frame into a direction's pipeline; 0 or what the first copy's
 * passing returned. */
static int dir_push(struct link_dir *d, const void *frame, size_t len, uint64_t now)
{
    if (chance(d, d->loss_ppm)) {
        count(d->c_loss);
        return 0;
    }
    const uint8_t *f = frame;
    uint8_t tmp[LINK_FRAME_MAX];
    if (len && chance(d, d->corrupt_ppm)) {
        uint32_t r = draw(d);
        memcpy(tmp, frame, len);
        tmp[r % len] ^= (uint8_t)(1u + (r >> 16) % 255u);
        f = tmp;
        count(d->c_corrupt);
    }
    int copies = 1;
    if (chance(d, d->dup_ppm)) {
        copies = 2;
        count(d->c_dup);
    }
    if (!d->holding && chance(d, d->reorder_ppm)) {
        memcpy(d->held->data, f, len);
        d->held->len = (uint32_t)len;
        d->holding = true;
        d->held_passed = 0;
        d->held_since = now;
        copies--;
        count(d->c_reorder);
    }
    int rc = 0;
    for (int i = 0; i < copies; i++) {
        int r = out(d, f, len, now);
        if (i == 0)
            rc = r;
        if (!r)
            passed(d, now);
    }
    return rc;
}

int link_impair_send(struct lyra_link *l, const void *frame, size_t len)
{
    struct link_dir *d = &l->tx;
    if (!d->impaired && !d->shaped)
        return link_emit(l, frame, len);
    uint64_t now = os_now_ns(l->os);
    if (d->shaped || d->holding)
        link_impair_flush(d, now);
    int rc = dir_push(d, frame, len, now);
    if (d->shaped)
        link_impair_flush(d, now);
    else
        arm_next(d, now);
    return rc;
}

/* Hands the head of q to the stack, capturing and counting it. */
static int deliver(struct link_dir *d, struct link_frame *f, void *buf, size_t cap)
{
    struct lyra_link *l = d->l;
    int n = (int)f->len;
    if (f->len > cap) {
        count(&l->os->link_drop_size);
        n = -EMSGSIZE;
    } else {
        memcpy(buf, f->data, f->len);
        count(&l->os->link_rx);
        pcap_writer_frame(l->pcap, buf, f->len);
    }
    link_ring_pop(&d->q);
    return n;
}

/* Frames come off the medium into the pipeline one at a time, only while
 * no queued frame is due: arrival times stay close to the truth when the
 * stack keeps up, and the backend (a socket, the TAP) holds the rest
 * rather than q dropping them. */
int link_impair_recv(struct lyra_link *l, void *buf, size_t cap)
{
    struct link_dir *d = &l->rx;
    uint64_t now = os_now_ns(l->os);
    if (d->holding)
        link_impair_flush(d, now);
    uint8_t tmp[LINK_FRAME_MAX];
    int rc = 0;
    for (;;) {
        struct link_frame *f = link_ring_head(&d->q);
        if (f && f->due <= now) {
            rc = deliver(d, f, buf, cap);
            break;
        }
        int n = l->be->recv(l, tmp, sizeof(tmp));
        if (n == -EMSGSIZE) {
            count(&l->os->link_drop_size);
            continue;
        }
        if (n <= 0) {
            rc = n;
            break;
        }
        dir_push(d, tmp, (size_t)n, now);
    }
    arm_next(d, now);
    return rc;
}
