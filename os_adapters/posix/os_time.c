/* Clock and caller-owned timers: the shared timing wheel (O(1) arm, re-arm
 * and cancel). Application threads arm timers too, so the wheel sits under
 * a spin lock: every section it guards is O(1), so a waiter spins for tens
 * of instructions, where a mutex would cost more than the wheel itself. */
#include <sched.h>
#include <time.h>

#include "os_posix_int.h"

uint64_t os_now_ns(void *self)
{
    (void)self;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* os 2.4 (os.h): the first reading since the stack lock was taken, a wait
 * ended or timers ran. The cache is relaxed: it is the lock holder's (and,
 * at start and stop, the only thread's). A reader without the lock would
 * break no memory rule, but could leave the holder a reading older than
 * its lock: the contract asks for the lock. */
uint64_t os_step_now_ns(void *self)
{
    struct os_posix *os = self;
    uint64_t t = atomic_load_explicit(&os->step_clk, memory_order_relaxed);
    if (t)
        return t;
    t = os_now_ns(os);
    atomic_store_explicit(&os->step_clk, t, memory_order_relaxed);
    return t;
}

void os_step_clock_reset(struct os_posix *os)
{
    atomic_store_explicit(&os->step_clk, 0, memory_order_relaxed);
}

static void tw_lock(struct os_posix *os)
{
    while (atomic_flag_test_and_set_explicit(&os->tw_busy, memory_order_acquire))
        sched_yield(); /* the holder was preempted inside its few instructions */
}

static void tw_unlock(struct os_posix *os)
{
    atomic_flag_clear_explicit(&os->tw_busy, memory_order_release);
}

void os_timer_arm(void *self, struct lyra_timer *t, uint64_t deadline_ns)
{
    struct os_posix *os = self;
    tw_lock(os);
    lyra_tw_arm(&os->tw, t, deadline_ns);
    /* the hint only ever needs to move earlier here: a bound that is too
     * early costs one locked look in run_timers, which corrects it */
    bool earlier = deadline_ns < atomic_load_explicit(&os->tw_hint, memory_order_relaxed);
    if (earlier)
        atomic_store(&os->tw_hint, deadline_ns); /* seq_cst: paired with os_wait */
    tw_unlock(os);
    /* Armed from another thread while the loop waits for a later deadline
     * (an application's send, setsockopt or close): end that wait. Either
     * this sees `waiting`, or os_wait, which sets it before reading the
     * hint, sees this deadline (both seq_cst). */
    if (earlier && atomic_load(&os->waiting) && deadline_ns < atomic_load(&os->wait_until))
        os_wake_quiet(os);
}

void os_timer_cancel(void *self, struct lyra_timer *t)
{
    struct os_posix *os = self;
    tw_lock(os);
    lyra_tw_cancel(&os->tw, t); /* the hint may now be early: see above */
    if (!os->tw.armed) /* but when none is left, say so at once */
        atomic_store_explicit(&os->tw_hint, LYRA_TIME_NEVER, memory_order_relaxed);
    tw_unlock(os);
}

/* Runs the timers due now, the lock released around each callback (which
 * may arm or cancel any timer, one of this batch included). Those a
 * callback re-arms into the past run on the next call (the returned
 * deadline says so): a timer that keeps re-arming itself cannot hold the
 * loop here. */
static __attribute__((noinline)) uint64_t run_due(struct os_posix *os, uint64_t now)
{
    struct lyra_tw_link batch;
    struct lyra_timer *t;
    lyra_tw_batch_init(&batch);
    tw_lock(os);
    lyra_tw_collect(&os->tw, now, &batch);
    while ((t = lyra_tw_pop(&os->tw, &batch))) {
        tw_unlock(os);
        atomic_fetch_add_explicit(&os->timers_run, 1, memory_order_relaxed);
        t->fn(t->ctx, t);
        tw_lock(os);
    }
    uint64_t next = lyra_tw_next(&os->tw);
    atomic_store_explicit(&os->tw_hint, next, memory_order_relaxed);
    tw_unlock(os);
    return next;
}

/* With nothing due: a clock read and a compare, no lock. */
uint64_t os_run_timers(void *self)
{
    struct os_posix *os = self;
    /* a fresh reading at every step's end, even when the lock is held from
     * step to step (a caller driving a busy loop): the callbacks share it,
     * and so does the next step until the lock or a wait moves it on */
    uint64_t now = os_now_ns(os);
    atomic_store_explicit(&os->step_clk, now, memory_order_relaxed);
    uint64_t hint = atomic_load_explicit(&os->tw_hint, memory_order_relaxed);
    return now < hint ? hint : run_due(os, now);
}
