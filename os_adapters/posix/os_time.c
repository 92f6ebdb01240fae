/* Clock and caller-owned timers: one list sorted by deadline (ties keep
 * arming order), no allocation. */
#include <time.h>

#include "os_posix_int.h"

uint64_t os_now_ns(void *self)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void insert_sorted(struct lyra_timer **head, struct lyra_timer *t)
{
    struct lyra_timer **pp = head;
    while (*pp && (*pp)->deadline <= t->deadline)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

static bool unlink_from(struct lyra_timer **head, struct lyra_timer *t)
{
    for (struct lyra_timer **pp = head; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            t->next = NULL;
            return true;
        }
    return false;
}

/* An armed timer is either waiting or already taken for the current
 * run_timers pass; a callback may cancel or re-arm one of the latter. */
static void unlink_timer(struct os_posix *os, struct lyra_timer *t)
{
    if (!unlink_from(&os->timers, t))
        unlink_from(&os->due, t);
    t->armed = 0;
}

void os_timer_arm(void *self, struct lyra_timer *t, uint64_t deadline_ns)
{
    struct os_posix *os = self;
    pthread_mutex_lock(&os->mu);
    if (t->armed)
        unlink_timer(os, t);
    t->deadline = deadline_ns;
    t->armed = 1;
    insert_sorted(&os->timers, t);
    pthread_mutex_unlock(&os->mu);
}

void os_timer_cancel(void *self, struct lyra_timer *t)
{
    struct os_posix *os = self;
    pthread_mutex_lock(&os->mu);
    if (t->armed)
        unlink_timer(os, t);
    pthread_mutex_unlock(&os->mu);
}

/* Runs the timers due now. Those a callback re-arms into the past run on
 * the next call (the returned deadline says so): a timer that keeps
 * re-arming itself cannot hold the loop here. */
uint64_t os_run_timers(void *self)
{
    struct os_posix *os = self;
    pthread_mutex_lock(&os->mu);
    uint64_t now = os_now_ns(os);
    struct lyra_timer **tail = &os->due;
    while (*tail)
        tail = &(*tail)->next;
    while (os->timers && os->timers->deadline <= now) {
        struct lyra_timer *t = os->timers;
        os->timers = t->next;
        t->next = NULL;
        *tail = t;
        tail = &t->next;
    }
    while (os->due) {
        struct lyra_timer *t = os->due;
        os->due = t->next;
        t->next = NULL;
        t->armed = 0;
        pthread_mutex_unlock(&os->mu);
        atomic_fetch_add_explicit(&os->timers_run, 1, memory_order_relaxed);
        t->fn(t->ctx, t);
        pthread_mutex_lock(&os->mu);
    }
    uint64_t next = os->timers ? os->timers->deadline : LYRA_TIME_NEVER;
    pthread_mutex_unlock(&os->mu);
    return next;
}
