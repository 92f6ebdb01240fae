/* os_posix: timers, randomness, the wait loop, pages and copy on write. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lt.h"
#include "lyra/timer_wheel.h"
#include "os_posix.h"

struct os {
    struct lt_inst *inst;
    const struct lyra_os_ops *ops;
    void *self;
};

static struct os os_up(const char *const *params)
{
    struct os o;
    o.inst = lt_create(&lyra_component_os_posix, params);
    cr_assert_eq(lt_start(o.inst), 0);
    o.ops = lt_ops(o.inst, LYRA_OS_IFACE);
    cr_assert_not_null(o.ops);
    o.self = o.inst->self;
    return o;
}

static uint64_t now(struct os *o)
{
    return o->ops->now_ns(o->self);
}

/* ---- timers ---- */

struct trec {
    int order[16];
    int n;
};

struct tctx {
    struct trec *rec;
    int id;
    struct os *o;
    struct lyra_timer *other; /* to cancel */
    uint64_t rearm_at;        /* 0: do not re-arm */
};

static void record_fn(void *ctx, struct lyra_timer *t)
{
    struct tctx *c = ctx;
    c->rec->order[c->rec->n++] = c->id;
    if (c->other)
        c->o->ops->timer_cancel(c->o->self, c->other);
    if (c->rearm_at) {
        uint64_t at = c->rearm_at;
        c->rearm_at = 0;
        c->o->ops->timer_arm(c->o->self, t, at);
    }
}

Test(os_posix, timers_run_in_deadline_order)
{
    struct os o = os_up(NULL);
    struct trec rec = {0};
    struct tctx c[4];
    struct lyra_timer t[4];
    uint64_t n = now(&o);
    /* in the future when armed, passed when run: a deadline already passed
     * at arming is due at once, in arming order */
    uint64_t dl[4] = {n + 3000000, n + 1000000, n + 2000000, n + 10000000000ull};
    for (int i = 0; i < 4; i++) {
        c[i] = (struct tctx){&rec, i, &o, NULL, 0};
        lyra_timer_init(&t[i], record_fn, &c[i]);
        o.ops->timer_arm(o.self, &t[i], dl[i]);
    }
    while (now(&o) < n + 3000000)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    uint64_t next = o.ops->run_timers(o.self);
    cr_assert_eq(rec.n, 3);
    cr_assert_eq(rec.order[0], 1);
    cr_assert_eq(rec.order[1], 2);
    cr_assert_eq(rec.order[2], 0);
    /* the time to look again: at or before the next deadline (exact for
     * near ones; for a far one, when the wheel must cascade it) */
    cr_assert(next <= dl[3] && next > n, "next %llu, deadline %llu", (unsigned long long)next,
              (unsigned long long)dl[3]);
    cr_assert(lyra_tw_armed(&t[3]));
    cr_assert(!lyra_tw_armed(&t[0]));
    cr_assert_eq(lt_stat(o.inst, "timers_run"), 3);
    o.ops->timer_cancel(o.self, &t[3]);
    cr_assert_eq(o.ops->run_timers(o.self), LYRA_TIME_NEVER);
    lt_destroy(o.inst);
}

Test(os_posix, equal_deadlines_run_in_arming_order)
{
    struct os o = os_up(NULL);
    struct trec rec = {0};
    struct tctx c[3];
    struct lyra_timer t[3];
    uint64_t d = now(&o) - 1;
    for (int i = 0; i < 3; i++) {
        c[i] = (struct tctx){&rec, i, &o, NULL, 0};
        lyra_timer_init(&t[i], record_fn, &c[i]);
        o.ops->timer_arm(o.self, &t[i], d);
    }
    o.ops->run_timers(o.self);
    cr_assert_eq(rec.n, 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(rec.order[i], i);
    lt_destroy(o.inst);
}

Test(os_posix, arming_an_armed_timer_rearms_it)
{
    struct os o = os_up(NULL);
    struct trec rec = {0};
    struct tctx c = {&rec, 7, &o, NULL, 0};
    struct lyra_timer t;
    lyra_timer_init(&t, record_fn, &c);
    uint64_t n = now(&o);
    o.ops->timer_arm(o.self, &t, n + 3600ull * 1000000000ull);
    o.ops->timer_arm(o.self, &t, n - 1);
    cr_assert_eq(o.ops->run_timers(o.self), LYRA_TIME_NEVER);
    cr_assert_eq(rec.n, 1);
    /* and the other way: due, then moved to the future */
    o.ops->timer_arm(o.self, &t, n - 1);
    o.ops->timer_arm(o.self, &t, n + 3600ull * 1000000000ull);
    uint64_t next = o.ops->run_timers(o.self);
    cr_assert(next > n && next <= n + 3600ull * 1000000000ull, "at or before the deadline");
    cr_assert_eq(rec.n, 1);
    cr_assert(lyra_tw_armed(&t));
    cr_assert_eq(lyra_tw_deadline(&t), n + 3600ull * 1000000000ull);
    lt_destroy(o.inst);
}

Test(os_posix, cancel_stops_a_timer)
{
    struct os o = os_up(NULL);
    struct trec rec = {0};
    struct tctx c[2];
    struct lyra_timer t[2];
    for (int i = 0; i < 2; i++) {
        c[i] = (struct tctx){&rec, i, &o, NULL, 0};
        lyra_timer_init(&t[i], record_fn, &c[i]);
        o.ops->timer_arm(o.self, &t[i], now(&o) - 1);
    }
    o.ops->timer_cancel(o.self, &t[0]);
    o.ops->timer_cancel(o.self, &t[0]); /* twice is harmless */
    o.ops->run_timers(o.self);
    cr_assert_eq(rec.n, 1);
    cr_assert_eq(rec.order[0], 1);
    lt_destroy(o.inst);
}

Test(os_posix, callbacks_may_cancel_and_rearm)
{
    struct os o = os_up(NULL);
    struct trec rec = {0};
    struct tctx c[3];
    struct lyra_timer t[3];
    uint64_t n = now(&o);
    for (int i = 0; i < 3; i++) {
        c[i] = (struct tctx){&rec, i, &o, NULL, 0};
        lyra_timer_init(&t[i], record_fn, &c[i]);
    }
    c[0].other = &t[1];  /* 0 cancels 1, which is due too */
    c[2].rearm_at = n;   /* 2 re-arms itself, due at once */
    o.ops->timer_arm(o.self, &t[0], n - 3);
    o.ops->timer_arm(o.self, &t[1], n - 2);
    o.ops->timer_arm(o.self, &t[2], n - 1);
    uint64_t next = o.ops->run_timers(o.self);
    cr_assert_eq(rec.n, 2);
    cr_assert_eq(rec.order[0], 0);
    cr_assert_eq(rec.order[1], 2);
    cr_assert(next <= now(&o), "a timer re-armed into the past is due at once");
    cr_assert(lyra_tw_armed(&t[2]));
    cr_assert(!lyra_tw_armed(&t[1]));
    /* it runs on the next call, not in a loop inside this one */
    cr_assert_eq(o.ops->run_timers(o.self), LYRA_TIME_NEVER);
    cr_assert_eq(rec.n, 3);
    cr_assert_eq(rec.order[2], 2);
    lt_destroy(o.inst);
}

Test(os_posix, clock_is_monotonic)
{
    struct os o = os_up(NULL);
    uint64_t a = now(&o);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    uint64_t b = now(&o);
    cr_assert_geq(b - a, 2000000u);
    lt_destroy(o.inst);
}

/* ---- the step clock (os 2.4 step_now_ns) ---- */

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t step_now(struct os *o)
{
    return o->ops->step_now_ns(o->self);
}

/* One reading per hold of the stack lock: the same value however long
 * the holder works, read afresh once the lock is taken again. */
Test(os_posix, step_clock_is_one_reading_per_lock_hold)
{
    struct os o = os_up(NULL);
    cr_assert(LYRA_OS_HAS(o.ops, 4, step_now_ns));
    void *mu;
    cr_assert_eq(o.ops->lock_create(o.self, &mu), 0);
    o.ops->lock(o.self, mu);
    uint64_t a = step_now(&o);
    cr_assert_geq(a, now(&o) - 1000000u, "not a reading of now_ns's clock");
    sleep_ms(3);
    cr_assert_eq(step_now(&o), a, "the step clock moved within one hold");
    cr_assert_geq(now(&o), a + 3000000u);
    o.ops->unlock(o.self, mu);
    o.ops->lock(o.self, mu);
    cr_assert_geq(step_now(&o), a + 3000000u, "not read afresh after the lock");
    o.ops->unlock(o.self, mu);
    o.ops->lock_destroy(o.self, mu);
    lt_destroy(o.inst);
}

struct seen {
    struct os *o;
    uint64_t at;
};

static void see_step_clock(void *ctx, struct lyra_timer *t)
{
    (void)t;
    struct seen *s = ctx;
    s->at = step_now(s->o);
}

/* run_timers reads the clock at every step's end, even for a holder that
 * keeps the lock from step to step (a caller driving a busy loop): its
 * callbacks and what follows see that reading; a wait moves it on too. */
Test(os_posix, step_clock_moves_at_run_timers_and_after_a_wait)
{
    struct os o = os_up(NULL);
    uint64_t a = step_now(&o);
    sleep_ms(3);
    cr_assert_eq(step_now(&o), a);
    struct seen sn = {&o, 0};
    struct lyra_timer t;
    lyra_timer_init(&t, see_step_clock, &sn);
    o.ops->timer_arm(o.self, &t, a + 1000000u);
    o.ops->run_timers(o.self);
    cr_assert_geq(sn.at, a + 3000000u, "the callback saw a stale step clock");
    uint64_t b = step_now(&o);
    cr_assert_eq(b, sn.at, "run_timers' reading is the step's");
    o.ops->wait(o.self, now(&o) + 3000000u);
    cr_assert_geq(step_now(&o), b + 3000000u, "not read afresh after a wait");
    lt_destroy(o.inst);
}

/* ---- randomness ---- */

static void draw(const char *seed, uint8_t *buf, size_t len)
{
    const char *p[] = {seed, NULL};
    struct os o = os_up(seed ? p : NULL);
    o.ops->random(o.self, buf, len);
    lt_destroy(o.inst);
}

Test(os_posix, seeded_random_is_reproducible)
{
    uint8_t a[257], b[257], c[257];
    draw("seed=42", a, sizeof(a));
    draw("seed=42", b, sizeof(b));
    draw("seed=43", c, sizeof(c));
    cr_assert_arr_eq(a, b, sizeof(a));
    cr_assert_neq(memcmp(a, c, sizeof(a)), 0);
}

Test(os_posix, unseeded_random_differs)
{
    uint8_t a[32], b[32];
    draw(NULL, a, sizeof(a));
    draw(NULL, b, sizeof(b));
    cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
}

/* ---- logging ---- */

Test(os_posix, log_level_filters_and_counts)
{
    const char *p[] = {"log_level=2", NULL};
    struct os o = os_up(p);
    struct lyra_os los = {o.ops, o.self};
    lyra_log(&los, LYRA_LOG_ERROR, "test", "an error %d", 1);
    lyra_log(&los, LYRA_LOG_INFO, "test", "some info");
    lyra_log(&los, LYRA_LOG_DEBUG, "test", "not shown");
    cr_assert_eq(lt_stat(o.inst, "log_error"), 1);
    cr_assert_eq(lt_stat(o.inst, "log_info"), 1);
    cr_assert_eq(lt_stat(o.inst, "log_debug"), 0);
    lt_destroy(o.inst);
}

/* ---- the wait loop ---- */

struct later {
    struct os *o;
    int fd; /* -1: wake instead of writing */
};

static void *later_fn(void *arg)
{
    struct later *l = arg;
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    if (l->fd < 0) {
        l->o->ops->wake(l->o->self);
    } else {
        char c = 'x';
        cr_assert_eq(write(l->fd, &c, 1), 1);
    }
    return NULL;
}

Test(os_posix, wait_returns_on_wake_from_another_thread)
{
    struct os o = os_up(NULL);
    struct later l = {&o, -1};
    pthread_t th;
    uint64_t t0 = now(&o);
    pthread_create(&th, NULL, later_fn, &l);
    int r = o.ops->wait(o.self, t0 + 10ull * 1000000000ull);
    uint64_t dt = now(&o) - t0;
    pthread_join(th, NULL);
    cr_assert_gt(r, 0);
    cr_assert_lt(dt, 5ull * 1000000000ull);
    cr_assert_eq(lt_stat(o.inst, "wakeups"), 1);
    /* the wake was consumed: the next wait runs to its deadline */
    cr_assert_eq(o.ops->wait(o.self, now(&o) + 1000000), 0);
    lt_destroy(o.inst);
}

struct arm_later {
    struct os *o;
    struct lyra_timer t;
    uint64_t in_ns; /* the timer's deadline, from when it is armed */
};

static void noop_fn(void *ctx, struct lyra_timer *t)
{
    (void)ctx;
    (void)t;
}

static void *arm_later_fn(void *arg)
{
    struct arm_later *l = arg;
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    l->o->ops->timer_arm(l->o->self, &l->t, now(l->o) + l->in_ns);
    return NULL;
}

/* A timer armed from another thread (an application thread in a socket
 * call: a retransmission, a keepalive) before the loop's deadline ends the
 * loop's wait: the loop then runs it in time. Without that, an idle loop
 * asleep until "never" would never send the keepalive an application just
 * turned on. */
Test(os_posix, a_timer_armed_from_another_thread_ends_a_longer_wait)
{
    struct os o = os_up(NULL);
    struct arm_later l = {.o = &o, .in_ns = 20000000};
    lyra_timer_init(&l.t, noop_fn, NULL);
    pthread_t th;
    uint64_t t0 = now(&o);
    pthread_create(&th, NULL, arm_later_fn, &l);
    o.ops->wait(o.self, t0 + 10ull * 1000000000ull);
    uint64_t dt = now(&o) - t0;
    pthread_join(th, NULL);
    cr_assert_lt(dt, 5ull * 1000000000ull, "the wait lasted %llu ms, a timer was due at ~70 ms",
                 (unsigned long long)(dt / 1000000));
    while (now(&o) < t0 + 100000000)
        o.ops->wait(o.self, t0 + 100000000);
    o.ops->run_timers(o.self); /* the timer ran: nothing is due */
    /* one armed later than the wait's deadline changes nothing */
    l.in_ns = 60ull * 1000000000ull;
    pthread_create(&th, NULL, arm_later_fn, &l);
    uint64_t d = now(&o) + 200000000;
    cr_assert_eq(o.ops->wait(o.self, d), 0);
    cr_assert_geq(now(&o), d);
    pthread_join(th, NULL);
    o.ops->timer_cancel(o.self, &l.t);
    lt_destroy(o.inst);
}

Test(os_posix, wait_returns_when_a_watched_fd_is_readable)
{
    struct os o = os_up(NULL);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(o.ops->watch_fd(o.self, p[0]), 0);
    cr_assert_eq(o.ops->watch_fd(o.self, p[0]), -EEXIST);
    struct later l = {&o, p[1]};
    pthread_t th;
    uint64_t t0 = now(&o);
    pthread_create(&th, NULL, later_fn, &l);
    int r = o.ops->wait(o.self, t0 + 10ull * 1000000000ull);
    uint64_t dt = now(&o) - t0;
    pthread_join(th, NULL);
    cr_assert_gt(r, 0);
    cr_assert_lt(dt, 5ull * 1000000000ull);
    cr_assert_geq(dt, 40000000u, "returned before the write");
    cr_assert_eq(o.ops->unwatch_fd(o.self, p[0]), 0);
    cr_assert_eq(o.ops->unwatch_fd(o.self, p[0]), -ENOENT);
    /* unwatched: still readable, but no longer ends a wait */
    cr_assert_eq(o.ops->wait(o.self, now(&o) + 1000000), 0);
    close(p[0]);
    close(p[1]);
    lt_destroy(o.inst);
}

Test(os_posix, wait_times_out_at_the_deadline)
{
    struct os o = os_up(NULL);
    uint64_t d = now(&o) + 20000000;
    cr_assert_eq(o.ops->wait(o.self, d), 0);
    cr_assert_geq(now(&o), d);
    cr_assert_eq(o.ops->wait(o.self, now(&o) - 1), 0, "a past deadline does not block");
    lt_destroy(o.inst);
}

Test(os_posix, watch_table_is_bounded)
{
    const char *p[] = {"max_fds=2", NULL};
    struct os o = os_up(p);
    cr_assert_eq(o.ops->watch_fd(o.self, 0), 0);
    cr_assert_eq(o.ops->watch_fd(o.self, 1), 0);
    cr_assert_eq(o.ops->watch_fd(o.self, 2), -ENOSPC);
    cr_assert_eq(o.ops->watch_fd(o.self, -1), -EBADF);
    lt_destroy(o.inst);
}

/* ---- pages ---- */

Test(os_posix, page_remap_shows_src_at_dst)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    cr_assert_geq(ps, 4096u);
    uint8_t *a = o.ops->page_alloc(o.self, 2);
    uint8_t *b = o.ops->page_alloc(o.self, 2);
    cr_assert(a && b);
    cr_assert_eq((uintptr_t)a % ps, 0);
    cr_assert_eq(a[0], 0, "fresh pages read as zeros");
    memset(a, 'x', 2 * ps);
    memset(b, 'y', 2 * ps);
    cr_assert_eq(o.ops->page_remap(o.self, b + ps, a, 1), 0);
    cr_assert_eq(b[0], 'y');
    cr_assert_eq(b[ps], 'x');
    cr_assert_eq(b[2 * ps - 1], 'x');
    a[5] = 'z'; /* shared backing: the remapped page follows */
    cr_assert_eq(b[ps + 5], 'z');
    cr_assert_eq(lt_stat(o.inst, "remaps"), 1);
    o.ops->page_free(o.self, a, 2);
    cr_assert_eq(b[ps + 5], 'z', "dst keeps the memory after src is freed");
    o.ops->page_free(o.self, b, 2);
    lt_destroy(o.inst);
}

Test(os_posix, page_remap_swaps_through_a_spare_page)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *a = o.ops->page_alloc(o.self, 1);
    uint8_t *b = o.ops->page_alloc(o.self, 1);
    uint8_t *t = o.ops->page_alloc(o.self, 1);
    a[0] = 'A';
    b[0] = 'B';
    cr_assert_eq(o.ops->page_remap(o.self, t, a, 1), 0);
    cr_assert_eq(o.ops->page_remap(o.self, a, b, 1), 0);
    cr_assert_eq(o.ops->page_remap(o.self, b, t, 1), 0);
    cr_assert_eq(a[0], 'B');
    cr_assert_eq(b[0], 'A');
    a[1] = '1';
    b[1] = '2';
    cr_assert_eq(t[1], '2', "t and b share A's old page");
    o.ops->page_free(o.self, a, 1);
    o.ops->page_free(o.self, b, 1);
    o.ops->page_free(o.self, t, 1);
    /* all pages went back: new ones are zero again */
    uint8_t *c = o.ops->page_alloc(o.self, 3);
    for (size_t i = 0; i < 3 * ps; i++)
        cr_assert_eq(c[i], 0);
    o.ops->page_free(o.self, c, 3);
    lt_destroy(o.inst);
}

/* os 2.3: page_swap exchanges what two ranges show without a third. */
Test(os_posix, page_swap_exchanges_two_ranges)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *a = o.ops->page_alloc(o.self, 3);
    uint8_t *b = o.ops->page_alloc(o.self, 2);
    uint8_t *c = o.ops->page_alloc(o.self, 1);
    cr_assert(a && b && c);
    memset(a, 'A', 3 * ps);
    memset(b, 'B', 2 * ps);
    cr_assert_eq(o.ops->page_remap(o.self, c, a + ps, 1), 0); /* c shares a's page 1 */
    cr_assert_eq(o.ops->page_swap(o.self, a + ps, b, 2), 0);
    cr_assert_eq(a[0], 'A');
    cr_assert_eq(a[ps], 'B');
    cr_assert_eq(a[3 * ps - 1], 'B');
    cr_assert_eq(b[0], 'A');
    cr_assert_eq(b[2 * ps - 1], 'A');
    b[1] = 'x'; /* b shows a's old page 1, which c shares */
    cr_assert_eq(c[1], 'x');
    a[ps + 1] = 'y'; /* a's page 1 is b's old page: nobody else sees it */
    cr_assert_eq(c[1], 'x');
    cr_assert_eq(o.ops->page_swap(o.self, a, a + ps, 2), -EINVAL, "overlapping");
    cr_assert_eq(o.ops->page_swap(o.self, a, a, 1), -EINVAL, "the same");
    cr_assert_eq(o.ops->page_swap(o.self, a + 1, b, 1), -EINVAL, "misaligned");
    cr_assert_eq(o.ops->page_swap(o.self, a, b, 3), -EINVAL, "beyond b");
    o.ops->page_free(o.self, a, 3);
    o.ops->page_free(o.self, b, 2);
    o.ops->page_free(o.self, c, 1);
    lt_destroy(o.inst);
}

/* Freed pages are kept and reused (no hole punched per page), and a page
 * taken again from them reads as zeros however it was written before. */
Test(os_posix, reused_pages_read_as_zeros)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *a = o.ops->page_alloc(o.self, 8);
    memset(a, 0xA5, 8 * ps);
    o.ops->page_free(o.self, a, 8);
    for (int round = 0; round < 3; round++) {
        uint8_t *b = o.ops->page_alloc(o.self, 5); /* reused pages, then fresh ones */
        uint8_t *c = o.ops->page_alloc(o.self, 5);
        cr_assert(b && c);
        for (size_t i = 0; i < 5 * ps; i++) {
            cr_assert_eq(b[i], 0, "round %d, byte %zu", round, i);
            cr_assert_eq(c[i], 0, "round %d, byte %zu", round, i);
        }
        memset(b, 0x5A, 5 * ps);
        memset(c, 0x3C, 5 * ps);
        o.ops->page_free(o.self, c, 5);
        o.ops->page_free(o.self, b, 5);
    }
    lt_destroy(o.inst);
}

Test(os_posix, page_remap_rejects_foreign_or_misaligned_memory)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *a = o.ops->page_alloc(o.self, 2);
    void *m = aligned_alloc(ps, ps);
    cr_assert_eq(o.ops->page_remap(o.self, m, a, 1), -EINVAL);
    cr_assert_eq(o.ops->page_remap(o.self, a, m, 1), -EINVAL);
    cr_assert_eq(o.ops->page_remap(o.self, a + 1, a + ps, 1), -EINVAL);
    cr_assert_eq(o.ops->page_remap(o.self, a, a + ps, 2), -EINVAL, "beyond the region");
    free(m);
    o.ops->page_free(o.self, a, 2);
    lt_destroy(o.inst);
}

struct cow_ctx {
    struct os *o;
    unsigned calls;
    void *page;
    uint8_t saved[64];
    int ret;
};

static int cow_hook(void *ctx, void *page)
{
    struct cow_ctx *c = ctx;
    c->calls++;
    c->page = page;
    memcpy(c->saved, page, sizeof(c->saved));
    if (c->ret)
        return c->ret;
    return c->o->ops->page_protect(c->o->self, page, 1, LYRA_PROT_READ | LYRA_PROT_WRITE);
}

/* ---- memory checks (os 2.2) ---- */

Test(os_posix, mem_check_tells_readable_memory_from_the_rest)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *m = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(o.ops->mem_check(o.self, m + 1, 4 * ps - 1), 0);
    cr_assert_eq(o.ops->mem_check(o.self, NULL, 0), 0, "nothing to read");
    cr_assert_eq(o.ops->mem_check(o.self, NULL, 1), -EFAULT);
    cr_assert_eq(o.ops->mem_check(o.self, (void *)(UINTPTR_MAX - 2), 8), -EFAULT, "wraps");
    munmap(m + 2 * ps, ps);
    cr_assert_eq(o.ops->mem_check(o.self, m, 2 * ps), 0, "ends just before the hole");
    cr_assert_eq(o.ops->mem_check(o.self, m + ps, ps + 1), -EFAULT, "one byte in the hole");
    cr_assert_eq(mprotect(m + 3 * ps, ps, PROT_NONE), 0);
    cr_assert_eq(o.ops->mem_check(o.self, m + 3 * ps + 5, 1), -EFAULT, "not readable");
    cr_assert_eq(mprotect(m + 3 * ps, ps, PROT_READ), 0);
    cr_assert_eq(o.ops->mem_check(o.self, m + 3 * ps + 5, 1), 0, "read-only is readable");
    /* many pages (more than one batch) */
    size_t n = 200;
    uint8_t *big = mmap(NULL, n * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(big, MAP_FAILED);
    cr_assert_eq(o.ops->mem_check(o.self, big, n * ps), 0);
    munmap(big + 150 * ps, ps);
    cr_assert_eq(o.ops->mem_check(o.self, big, n * ps), -EFAULT, "a hole in the third batch");
    munmap(big, n * ps);
    munmap(m, 2 * ps);
    munmap(m + 3 * ps, ps);
    /* every check above read the pages itself: no system call */
    cr_assert_eq(lt_stat(o.inst, "mem_check_syscalls"), 0);
    lt_destroy(o.inst);
}

/* Pages of a page_alloc region (packet memory) are known mapped: checked
 * without touching them; anything else, or a region after page_free or
 * once a page was made unreadable, is probed as before. */
Test(os_posix, mem_check_knows_its_own_regions_without_reading_them)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *r = o.ops->page_alloc(o.self, 3);
    cr_assert_not_null(r);
    cr_assert_eq(o.ops->mem_check(o.self, r + 7, 3 * ps - 7), 0);
    cr_assert_eq(o.ops->mem_check(o.self, r + ps, ps), 0);
    cr_assert_eq(lt_stat(o.inst, "mem_check_known"), 2);
    /* past the region's end (whatever is mapped there): probed, not vouched for */
    (void)o.ops->mem_check(o.self, r + 2 * ps, ps + 1);
    cr_assert_eq(lt_stat(o.inst, "mem_check_known"), 2, "past the region's end");
    o.ops->page_free(o.self, r, 3);
    cr_assert_eq(o.ops->mem_check(o.self, r, 1), -EFAULT, "freed: probed, unmapped");
    cr_assert_eq(lt_stat(o.inst, "mem_check_known"), 2);
    /* a page made unreadable: regions are no longer vouched for */
    uint8_t *q = o.ops->page_alloc(o.self, 2);
    cr_assert_not_null(q);
    cr_assert_eq(o.ops->page_protect(o.self, q + ps, 1, LYRA_PROT_NONE), 0);
    cr_assert_eq(o.ops->mem_check(o.self, q + ps, 1), -EFAULT, "unreadable page of a region");
    cr_assert_eq(o.ops->mem_check(o.self, q, 1), 0, "its readable page, probed");
    cr_assert_eq(lt_stat(o.inst, "mem_check_known"), 2);
    cr_assert_eq(o.ops->page_protect(o.self, q + ps, 1, LYRA_PROT_READ), 0);
    o.ops->page_free(o.self, q, 2);
    cr_assert_eq(lt_stat(o.inst, "mem_check_syscalls"), 0);
    lt_destroy(o.inst);
}

/* A read past the end of a mapped file is SIGBUS, not SIGSEGV: caught too. */
Test(os_posix, mem_check_past_the_end_of_a_mapped_file_is_efault)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(ftruncate(fileno(f), (off_t)ps), 0);
    uint8_t *m = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, fileno(f), 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(o.ops->mem_check(o.self, m, ps), 0, "the file's page");
    cr_assert_eq(o.ops->mem_check(o.self, m + ps, 1), -EFAULT, "past its end");
    cr_assert_eq(o.ops->mem_check(o.self, m, 2 * ps), -EFAULT);
    cr_assert_eq(o.ops->mem_check(o.self, m + 10, 100), 0, "and again after the faults");
    munmap(m, 2 * ps);
    fclose(f);
    lt_destroy(o.inst);
}

/* A check that faulted leaves the thread able to take the next fault: a
 * copy-on-write fault on the same thread, then another failed check. */
Test(os_posix, a_failed_check_leaves_faults_working)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *hole = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(hole, MAP_FAILED);
    cr_assert_eq(o.ops->mem_check(o.self, hole, 1), -EFAULT);
    uint8_t *p = o.ops->page_alloc(o.self, 1);
    memset(p, 'A', ps);
    struct cow_ctx c = {.o = &o};
    cr_assert_eq(o.ops->cow_register(o.self, p, 1, cow_hook, &c), 0);
    cr_assert_eq(o.ops->page_protect(o.self, p, 1, LYRA_PROT_READ), 0);
    ((volatile uint8_t *)p)[7] = 'B';
    cr_assert_eq(c.calls, 1, "the copy-on-write fault reached its hook");
    cr_assert_eq(p[7], 'B');
    cr_assert_eq(o.ops->mem_check(o.self, hole, 1), -EFAULT);
    cr_assert_eq(o.ops->mem_check(o.self, p, ps), 0);
    cr_assert_eq(o.ops->cow_unregister(o.self, p, 1), 0);
    o.ops->page_free(o.self, p, 1);
    munmap(hole, ps);
    lt_destroy(o.inst);
}

/* A thread that blocks SIGSEGV and SIGBUS (as threads that leave signals
 * to one sigwait thread do) cannot take a probe's fault: the kernel would
 * kill the process. Its checks go by system call, counted, with the same
 * answers; other threads still probe. */
struct blocked_arg {
    struct os *o;
    uint8_t *hole, *good;
    int r_hole, r_good;
};
static void *blocked_checker(void *arg)
{
    struct blocked_arg *b = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    b->r_hole = b->o->ops->mem_check(b->o->self, b->hole, 1);
    b->r_good = b->o->ops->mem_check(b->o->self, b->good, 100);
    return NULL;
}

Test(os_posix, a_thread_blocking_segv_is_checked_by_system_call)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *hole = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(hole, MAP_FAILED);
    uint8_t good[100] = {0};
    cr_assert_eq(o.ops->mem_check(o.self, hole, 1), -EFAULT, "probed here");
    cr_assert_eq(lt_stat(o.inst, "mem_check_syscalls"), 0);
    struct blocked_arg b = {.o = &o, .hole = hole, .good = good, .r_hole = 1, .r_good = 1};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, blocked_checker, &b), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(b.r_hole, -EFAULT, "alive, and the hole is a hole");
    cr_assert_eq(b.r_good, 0);
    cr_assert_eq(lt_stat(o.inst, "mem_check_syscalls"), 2, "both by system call");
    cr_assert_eq(o.ops->mem_check(o.self, hole, 1), -EFAULT);
    cr_assert_eq(lt_stat(o.inst, "mem_check_syscalls"), 2, "this thread still probes");
    munmap(hole, ps);
    lt_destroy(o.inst);
}

/* Probes from a signal handler that interrupt probes on the same thread:
 * a timer fires every 20 faults' time while the thread checks a range of
 * 64 pages with a hole at its end again and again (the signal lands inside
 * a probe or its fault most of the time); the handler checks a hole and a
 * good range, and writes a page under copy on write (its fault is not the
 * probe's to catch). Every
 * answer is right, and no outer probe loses its catch (it would die of
 * its fault). */
static struct os *nest_os;
static uint8_t *nest_hole, *nest_cow_page;
static struct cow_ctx nest_cow;
static volatile sig_atomic_t nest_runs, nest_wrong;
static void nest_handler(int sig)
{
    (void)sig;
    uint8_t good[16] = {0};
    nest_runs++;
    if (nest_os->ops->mem_check(nest_os->self, nest_hole, 1) != -EFAULT ||
        nest_os->ops->mem_check(nest_os->self, good, sizeof(good)) != 0)
        nest_wrong++;
    /* a copy-on-write fault on top of a probe is not the probe's */
    nest_os->ops->page_protect(nest_os->self, nest_cow_page, 1, LYRA_PROT_READ);
    ((volatile uint8_t *)nest_cow_page)[0] = (uint8_t)nest_runs;
}

Test(os_posix, probes_inside_a_signal_handler_leave_the_interrupted_one_working)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self), n = 64;
    nest_os = &o;
    uint8_t *m = mmap(NULL, (n + 1) * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(mprotect(m + n * ps, ps, PROT_NONE), 0);
    nest_hole = m + n * ps;
    nest_cow_page = o.ops->page_alloc(o.self, 1);
    nest_cow = (struct cow_ctx){.o = &o};
    cr_assert_eq(o.ops->cow_register(o.self, nest_cow_page, 1, cow_hook, &nest_cow), 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = nest_handler;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGALRM, &sa, &old), 0);
    /* the period: 20 faulting checks, as long as they take here (a fault
     * costs microseconds, tens of them under ASan; shorter starves the loop) */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(o.ops->mem_check(o.self, nest_hole, 1), -EFAULT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000 + 1;
    struct itimerval it = {{0, us}, {0, us}}, off = {{0, 0}, {0, 0}};
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
    int wrong = 0;
    /* 3,000 rounds, and on until the timer has fired 21 times (a thread
     * paused while the period was measured makes it long), 10 s at most */
    struct timespec now;
    long spent_us = 0;
    for (int i = 0; (i < 3000 || nest_runs <= 20) && spent_us < 10000000L; i++) {
        wrong += o.ops->mem_check(o.self, m, (n + 1) * ps) != -EFAULT;
        wrong += o.ops->mem_check(o.self, m, n * ps) != 0;
        if (i >= 3000) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            spent_us = (now.tv_sec - t1.tv_sec) * 1000000L + (now.tv_nsec - t1.tv_nsec) / 1000;
        }
    }
    cr_assert_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
    cr_assert_eq(sigaction(SIGALRM, &old, NULL), 0);
    cr_assert_eq(wrong, 0);
    cr_assert_eq(nest_wrong, 0);
    cr_assert_gt(nest_runs, 20, "the timer (every %ld us) interrupted the checks %d times", us,
                 (int)nest_runs);
    cr_assert_eq(nest_cow.calls, (unsigned)nest_runs, "every handler's write reached the hook");
    cr_assert_eq(nest_cow_page[0], (uint8_t)nest_runs, "and was done");
    cr_assert_eq(lt_stat(o.inst, "mem_check_syscalls"), 0);
    cr_assert_eq(o.ops->cow_unregister(o.self, nest_cow_page, 1), 0);
    o.ops->page_free(o.self, nest_cow_page, 1);
    munmap(m, (n + 1) * ps);
    lt_destroy(o.inst);
}

static volatile sig_atomic_t app_segv;
static uint8_t *app_page;
static void app_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    app_segv++;
    /* the application's own handler mends its own fault */
    if ((uint8_t *)si->si_addr >= app_page && (uint8_t *)si->si_addr < app_page + 4096)
        mprotect(app_page, 4096, PROT_READ | PROT_WRITE);
    else
        _exit(99); /* a probe's fault reached it: returning would fault again forever */
}

/* The application's SIGSEGV handler still gets its own faults while the
 * os probes, and is the process's handler again once the os is gone. */
Test(os_posix, the_applications_segv_handler_is_chained_and_restored)
{
    struct sigaction sa, now;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = app_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
    struct os o = os_up(NULL);
    app_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(app_page, MAP_FAILED);
    uint8_t *hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_eq(o.ops->mem_check(o.self, hole, 1), -EFAULT);
    cr_assert_eq(app_segv, 0, "a probe's fault is the os's own");
    ((volatile uint8_t *)app_page)[1] = 1;
    cr_assert_eq(app_segv, 1, "the application's fault reached its handler");
    lt_destroy(o.inst);
    cr_assert_eq(sigaction(SIGSEGV, NULL, &now), 0);
    cr_assert_eq((void *)now.sa_sigaction, (void *)app_handler, "restored");
    munmap(app_page, 4096);
    munmap(hole, 4096);
}

Test(os_posix, cow_hook_fires_and_the_write_then_succeeds)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *p = o.ops->page_alloc(o.self, 2);
    memset(p, 'A', 2 * ps);
    struct cow_ctx c = {.o = &o};
    cr_assert_eq(o.ops->cow_register(o.self, p, 2, cow_hook, &c), 0);
    cr_assert_eq(o.ops->cow_register(o.self, p + ps, 1, cow_hook, &c), -EBUSY);
    cr_assert_eq(o.ops->page_protect(o.self, p, 2, LYRA_PROT_READ), 0);
    cr_assert_eq(p[ps + 3], 'A', "reads do not fault");
    cr_assert_eq(c.calls, 0);
    ((volatile uint8_t *)p)[ps + 3] = 'B';
    cr_assert_eq(c.calls, 1);
    cr_assert_eq(c.page, p + ps);
    cr_assert_eq(c.saved[3], 'A', "the hook saw the page before the write");
    cr_assert_eq(p[ps + 3], 'B');
    ((volatile uint8_t *)p)[ps + 4] = 'C'; /* writable now: no second fault */
    cr_assert_eq(c.calls, 1);
    cr_assert_eq(lt_stat(o.inst, "cow_faults"), 1);
    cr_assert_eq(o.ops->cow_unregister(o.self, p, 1), -EINVAL, "cannot cut a registration");
    cr_assert_eq(o.ops->cow_unregister(o.self, p, 2), 0);
    cr_assert_eq(o.ops->cow_unregister(o.self, p, 2), -ENOENT);
    o.ops->page_free(o.self, p, 2);
    lt_destroy(o.inst);
}

/* (Under ASan too: its SEGV handler is off for this binary, CMakeLists.txt) */
Test(os_posix, fault_outside_a_registered_range_still_crashes, .signal = SIGSEGV)
{
    struct os o = os_up(NULL);
    size_t ps = o.ops->page_size(o.self);
    uint8_t *p = o.ops->page_alloc(o.self, 2);
    struct cow_ctx c = {.o = &o};
    cr_assert_eq(o.ops->cow_register(o.self, p, 1, cow_hook, &c), 0);
    cr_assert_eq(o.ops->page_protect(o.self, p, 2, LYRA_PROT_READ), 0);
    ((volatile uint8_t *)p)[ps] = 1;
}

Test(os_posix, cow_hook_refusing_crashes, .signal = SIGSEGV)
{
    struct os o = os_up(NULL);
    uint8_t *p = o.ops->page_alloc(o.self, 1);
    struct cow_ctx c = {.o = &o, .ret = -1};
    cr_assert_eq(o.ops->cow_register(o.self, p, 1, cow_hook, &c), 0);
    cr_assert_eq(o.ops->page_protect(o.self, p, 1, LYRA_PROT_READ), 0);
    ((volatile uint8_t *)p)[0] = 1;
}

Test(os_posix, destroy_drops_cow_registrations)
{
    struct os o = os_up(NULL);
    uint8_t *p = o.ops->page_alloc(o.self, 1);
    struct cow_ctx c = {.o = &o};
    cr_assert_eq(o.ops->cow_register(o.self, p, 1, cow_hook, &c), 0);
    lt_destroy(o.inst);
    /* a second instance may now register the same addresses */
    struct os o2 = os_up(NULL);
    uint8_t *q = o2.ops->page_alloc(o2.self, 1);
    struct cow_ctx c2 = {.o = &o2};
    cr_assert_eq(o2.ops->cow_register(o2.self, q, 1, cow_hook, &c2), 0);
    cr_assert_eq(o2.ops->cow_unregister(o2.self, q, 1), 0);
    lt_destroy(o2.inst);
}

Test(os_posix, mem_alloc_is_aligned_and_counted)
{
    struct os o = os_up(NULL);
    void *p = o.ops->mem_alloc(o.self, 100, 64);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % 64, 0);
    cr_assert_eq(lt_stat(o.inst, "mem_blocks"), 1);
    /* the RAM report's reading (os 2.5): what was asked for, whatever the
     * allocator rounds, and nothing once it is back */
    uint64_t heap, pages;
    o.ops->mem_usage(o.self, &heap, &pages);
    cr_assert_eq(heap, 100);
    void *q = o.ops->mem_alloc(o.self, 4000, 4096);
    o.ops->mem_usage(o.self, &heap, &pages);
    cr_assert_eq(heap, 4100);
    o.ops->mem_free(o.self, q);
    o.ops->mem_usage(o.self, &heap, &pages);
    cr_assert_eq(heap, 100, "the right block's bytes went");
    cr_assert_eq(pages, 0);
    cr_assert_eq(lt_stat(o.inst, "mem_bytes"), heap);
    size_t ps = o.ops->page_size(o.self);
    void *pg = o.ops->page_alloc(o.self, 3);
    cr_assert_not_null(pg);
    o.ops->mem_usage(o.self, &heap, &pages);
    cr_assert_eq(pages, 3 * ps);
    o.ops->page_free(o.self, pg, 2); /* not the region as allocated: ignored */
    o.ops->mem_usage(o.self, &heap, &pages);
    cr_assert_eq(pages, 3 * ps);
    o.ops->page_free(o.self, pg, 3);
    o.ops->mem_free(o.self, p);
    cr_assert_eq(lt_stat(o.inst, "mem_blocks"), 0);
    o.ops->mem_usage(o.self, &heap, &pages);
    cr_assert_eq(heap, 0);
    cr_assert_eq(pages, 0);
    cr_assert_eq(lt_stat(o.inst, "page_bytes"), 0);
    cr_assert_null(o.ops->mem_alloc(o.self, 100, 48), "alignment must be a power of two");
    void *lk;
    cr_assert_eq(o.ops->lock_create(o.self, &lk), 0);
    o.ops->lock(o.self, lk);
    o.ops->unlock(o.self, lk);
    o.ops->lock_destroy(o.self, lk);
    lt_destroy(o.inst);
}
