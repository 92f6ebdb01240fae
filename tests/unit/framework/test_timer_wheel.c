/* The timing wheel against a reference: every timer runs exactly at its
 * deadline (as the wheel's time reaches it), in deadline then arming order,
 * whatever the distances, re-arms, cancels and callbacks. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lyra/timer_wheel.h"

#define N 64

struct rig {
    struct lyra_tw w;
    struct lyra_timer t[N];
    uint64_t now;
    /* the reference: due time and arming sequence per armed timer */
    int armed[N];
    uint64_t dl[N], seq[N], next_seq;
    int ran[4096];
    uint64_t ran_at[4096];
    unsigned n_ran;
    /* what a callback does: re-arm self at +delta, cancel another, arm another */
    uint64_t rearm_delta[N];
    unsigned rearm_left[N];
    int cancel_other[N], arm_other[N];
    uint64_t arm_other_at[N];
};

static void ref_arm(struct rig *r, int i, uint64_t dl)
{
    r->armed[i] = 1;
    r->dl[i] = dl > r->now ? dl : r->now; /* a deadline passed already: due now */
    r->seq[i] = r->next_seq++;
}

static void arm(struct rig *r, int i, uint64_t dl)
{
    lyra_tw_arm(&r->w, &r->t[i], dl);
    ref_arm(r, i, dl);
}

static void cancel(struct rig *r, int i)
{
    lyra_tw_cancel(&r->w, &r->t[i]);
    r->armed[i] = 0;
}

static void fn(void *ctx, struct lyra_timer *t)
{
    struct rig *r = ctx;
    int i = (int)(t - r->t);
    cr_assert(!lyra_tw_armed(t), "a running timer is disarmed");
    r->ran[r->n_ran % 4096] = i;
    r->ran_at[r->n_ran++ % 4096] = r->now;
    r->armed[i] = 0;
    if (r->rearm_left[i]) {
        r->rearm_left[i]--;
        arm(r, i, r->now + r->rearm_delta[i]);
    }
    if (r->cancel_other[i] >= 0)
        cancel(r, r->cancel_other[i]);
    if (r->arm_other[i] >= 0) { /* once: two timers arming each other in the past would not end */
        int o = r->arm_other[i];
        r->arm_other[i] = -1;
        arm(r, o, r->arm_other_at[i]);
    }
}

static void rig_init(struct rig *r, uint64_t start)
{
    memset(r, 0, sizeof(*r));
    r->now = start;
    lyra_tw_init(&r->w, start);
    for (int i = 0; i < N; i++) {
        lyra_timer_init(&r->t[i], fn, r);
        r->cancel_other[i] = r->arm_other[i] = -1;
    }
}

/* The reference's next timer due by `until`: earliest deadline, then
 * earliest arming; -1 when none. */
static int ref_next(const struct rig *r, uint64_t until)
{
    int best = -1;
    for (int i = 0; i < N; i++)
        if (r->armed[i] && r->dl[i] <= until &&
            (best < 0 || r->dl[i] < r->dl[best] ||
             (r->dl[i] == r->dl[best] && r->seq[i] < r->seq[best])))
            best = i;
    return best;
}

/* Moves time to `to` as a loop would (waking at lyra_tw_next), checking each
 * timer against the reference as it runs. */
static void run_until(struct rig *r, uint64_t to)
{
    for (;;) {
        uint64_t next = lyra_tw_next(&r->w);
        int want = ref_next(r, to);
        if (want >= 0)
            cr_assert(next <= r->dl[want], "next %llu is after a deadline %llu",
                      (unsigned long long)next, (unsigned long long)r->dl[want]);
        if (next > to)
            break;
        if (next > r->now)
            r->now = next;
        struct lyra_tw_link batch;
        struct lyra_timer *t;
        lyra_tw_batch_init(&batch);
        lyra_tw_collect(&r->w, r->now, &batch);
        while ((t = lyra_tw_pop(&r->w, &batch))) {
            int i = (int)(t - r->t);
            int exp = ref_next(r, r->now);
            cr_assert_eq(i, exp, "ran timer %d, the reference says %d at %llu", i, exp,
                         (unsigned long long)r->now);
            cr_assert_eq(r->dl[i], r->now, "timer %d ran at %llu, its deadline is %llu", i,
                         (unsigned long long)r->now, (unsigned long long)r->dl[i]);
            t->fn(t->ctx, t);
        }
    }
    cr_assert_eq(ref_next(r, to), -1, "a timer due by %llu did not run",
                 (unsigned long long)to);
    /* a loop collects at its own time whether or not something is due, so
     * the wheel's time is `to` as the reference's is */
    struct lyra_tw_link batch;
    lyra_tw_batch_init(&batch);
    lyra_tw_collect(&r->w, to, &batch);
    cr_assert_null(lyra_tw_pop(&r->w, &batch), "a timer was due by %llu",
                   (unsigned long long)to);
    r->now = to;
    unsigned armed = 0;
    for (int i = 0; i < N; i++)
        armed += (unsigned)r->armed[i];
    cr_assert_eq(r->w.armed, armed);
}

Test(timer_wheel, every_level_cascades_to_the_exact_deadline)
{
    static struct rig r;
    rig_init(&r, 1000);
    /* one timer per level: 2^(6k) + k ns away, and the farthest time there is */
    for (int k = 0; k < 11 && k < N; k++)
        arm(&r, k, 1000 + (k < 10 ? (1ull << (6 * k)) + (uint64_t)k : (1ull << 62)));
    arm(&r, 11, UINT64_MAX - 1);
    run_until(&r, 1000 + (1ull << 62));
    cr_assert_eq(r.n_ran, 11);
    cr_assert(lyra_tw_armed(&r.t[11]));
    run_until(&r, UINT64_MAX - 1);
    cr_assert_eq(r.n_ran, 12);
    cr_assert_eq(lyra_tw_next(&r.w), LYRA_TIME_NEVER);
}

Test(timer_wheel, equal_deadlines_run_in_arming_order_across_levels)
{
    static struct rig r;
    rig_init(&r, 0);
    uint64_t d = 5000000; /* armed from different times: different levels */
    arm(&r, 3, d);
    run_until(&r, 4000000);
    arm(&r, 1, d);
    run_until(&r, 4999990);
    arm(&r, 2, d);
    arm(&r, 0, d);
    run_until(&r, d);
    cr_assert_eq(r.n_ran, 4);
    int want[4] = {3, 1, 2, 0};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r.ran[i], want[i]);
}

Test(timer_wheel, past_deadlines_are_due_at_once_and_rearm_moves)
{
    static struct rig r;
    rig_init(&r, 1000000);
    arm(&r, 0, 5);
    cr_assert_eq(lyra_tw_next(&r.w), 1000000, "due now");
    arm(&r, 0, 2000000); /* moved off the due list */
    cr_assert(lyra_tw_next(&r.w) > 1000000);
    cr_assert_eq(lyra_tw_deadline(&r.t[0]), 2000000);
    cancel(&r, 0);
    cr_assert_eq(lyra_tw_next(&r.w), LYRA_TIME_NEVER);
    cr_assert_eq(lyra_tw_deadline(&r.t[0]), LYRA_TIME_NEVER);
    cancel(&r, 0); /* twice is harmless */
    run_until(&r, 3000000);
    cr_assert_eq(r.n_ran, 0);
}

Test(timer_wheel, callbacks_cancel_and_rearm_timers_of_the_same_batch)
{
    static struct rig r;
    rig_init(&r, 0);
    arm(&r, 0, 100);
    arm(&r, 1, 100);
    arm(&r, 2, 100);
    arm(&r, 3, 100);
    r.cancel_other[0] = 1;     /* 0 cancels 1, due in the same batch */
    r.arm_other[2] = 3;        /* 2 moves 3, due in the same batch, later */
    r.arm_other_at[2] = 5000;
    r.rearm_delta[3] = 1;      /* then 3 goes on three times, 1 ns apart */
    r.rearm_left[3] = 3;
    run_until(&r, 5003);
    cr_assert_eq(r.n_ran, 2 + 4);
    cr_assert_eq(r.ran[0], 0);
    cr_assert_eq(r.ran[1], 2);
    for (int k = 2; k < 6; k++)
        cr_assert_eq(r.ran_at[k], 5000 + (uint64_t)(k - 2));
}

Test(timer_wheel, a_timer_rearmed_into_the_past_waits_for_the_next_collect)
{
    static struct rig r;
    rig_init(&r, 0);
    arm(&r, 0, 10);
    r.arm_other[0] = 0;
    r.arm_other_at[0] = 3; /* into the past */
    struct lyra_tw_link batch;
    lyra_tw_batch_init(&batch);
    r.now = 10;
    lyra_tw_collect(&r.w, 10, &batch);
    struct lyra_timer *t = lyra_tw_pop(&r.w, &batch);
    cr_assert_eq(t, &r.t[0]);
    t->fn(t->ctx, t);
    cr_assert_null(lyra_tw_pop(&r.w, &batch), "not in this batch");
    cr_assert_eq(lyra_tw_next(&r.w), 10, "due at once");
}

/* Random arms, re-arms, cancels and callbacks at every distance, against
 * the reference; seeded, so a failure repeats. */
Test(timer_wheel, random_operations_match_the_reference)
{
    static struct rig r;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 200; round++) {
        rig_init(&r, round * 1234567ull);
        for (int step = 0; step < 300; step++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int i = (int)(x % N);
            unsigned op = (unsigned)(x >> 8) % 10;
            uint64_t span = 1ull << ((x >> 16) % 40); /* 1 ns .. 9 minutes */
            uint64_t d = r.now + (x >> 24) % span;
            if (op < 5) {
                arm(&r, i, (x >> 60) == 0 && r.now > 10 ? r.now - 3 : d);
            } else if (op < 6) {
                cancel(&r, i);
            } else if (op < 7) {
                r.rearm_delta[i] = (x >> 32) % span;
                r.rearm_left[i] = (unsigned)(x >> 30) % 4;
                r.cancel_other[i] = (x >> 40) % 4 ? -1 : (int)((x >> 44) % N);
                r.arm_other[i] = (x >> 50) % 4 ? -1 : (int)((x >> 54) % N);
                r.arm_other_at[i] = d + span;
            } else {
                run_until(&r, r.now + (x >> 20) % (span * 2));
            }
        }
        run_until(&r, UINT64_MAX / 2);
    }
}
