/* Clock and caller-owned timers: the shared timing wheel (O(1) arm, re-arm
 * and cancel) under the adapter's mutex, since application threads arm
 * timers too. */
#include <time.h>

#include "os_posix_int.h"

uint64_t os_now_ns(void *self)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void os_timer_arm(void *self, struct lyra_timer *t, uint64_t deadline_ns)
{
    struct os_posix *os = self;
    pthread_mutex_lock(&os->mu);
    lyra_tw_arm(&os->tw, t, deadline_ns);
    pthread_mutex_unlock(&os->mu);
}

void os_timer_cancel(void *self, struct lyra_timer *t)
{
    struct os_posix *os = self;
    pthread_mutex_lock(&os->mu);
    lyra_tw_cancel(&os->tw, t);
    pthread_mutex_unlock(&os->mu);
}

/* Runs the timers due now, the lock released around each callback (which
 * may arm or cancel any timer, one of this batch included). Those a
 * callback re-arms into the past run on the next call (the returned
 * deadline says so): a timer that keeps re-arming itself cannot hold the
 * loop here. */
uint64_t os_run_timers(void *self)
{
    struct os_posix *os = self;
    struct lyra_tw_link batch;
    struct lyra_timer *t;
    lyra_tw_batch_init(&batch);
    pthread_mutex_lock(&os->mu);
    lyra_tw_collect(&os->tw, os_now_ns(os), &batch);
    while ((t = lyra_tw_pop(&os->tw, &batch))) {
        pthread_mutex_unlock(&os->mu);
        atomic_fetch_add_explicit(&os->timers_run, 1, memory_order_relaxed);
        t->fn(t->ctx, t);
        pthread_mutex_lock(&os->mu);
    }
    uint64_t next = lyra_tw_next(&os->tw);
    pthread_mutex_unlock(&os->mu);
    return next;
}
