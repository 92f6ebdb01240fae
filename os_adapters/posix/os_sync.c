/* Locks and condition variables on Linux futexes.
 *
 * The stack lock is taken on every loop step and socket call, nearly always
 * uncontended: here that is one atomic exchange to take and one to release
 * (a pthread mutex costs ~55 instructions for the pair). The mutex is the
 * three-state one of Drepper, "Futexes Are Tricky" (2011): 0 free, 1 held,
 * 2 held and someone may sleep on it, so release makes a system call only
 * when a thread may be waiting. A condition is a sequence number: a waiter
 * reads it before releasing the lock and sleeps only while it is unchanged,
 * so a broadcast made after the waiter's check cannot be missed. Deadlines
 * are absolute on CLOCK_MONOTONIC, the clock of now_ns. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "os_posix_int.h"

struct os_mutex {
    _Atomic uint32_t v;
};

struct os_condv {
    _Atomic uint32_t seq;
    _Atomic uint32_t waiters; /* a broadcast with none makes no system call */
};

static long futex(_Atomic uint32_t *a, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)a, op, val, ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

int os_lock_create(void *self, void **lock)
{
    (void)self;
    struct os_mutex *m = malloc(sizeof(*m));
    if (!m)
        return -ENOMEM;
    atomic_init(&m->v, 0);
    *lock = m;
    return 0;
}

void os_lock_destroy(void *self, void *lock)
{
    (void)self;
    free(lock);
}

/* Takes m marking it contended (2): for a thread that slept already, since
 * others may sleep too and the release must wake one of them. */
static void lock_contended(struct os_mutex *m, uint32_t c)
{
    if (c != 2)
        c = atomic_exchange_explicit(&m->v, 2, memory_order_acquire);
    while (c != 0) {
        futex(&m->v, FUTEX_WAIT_PRIVATE, 2, NULL);
        c = atomic_exchange_explicit(&m->v, 2, memory_order_acquire);
    }
}

void os_lock(void *self, void *lock)
{
    (void)self;
    struct os_mutex *m = lock;
    uint32_t c = 0;
    if (!atomic_compare_exchange_strong_explicit(&m->v, &c, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        lock_contended(m, c);
    os_step_clock_reset(self); /* a new holder: its step's clock is read afresh */
}

void os_unlock(void *self, void *lock)
{
    (void)self;
    struct os_mutex *m = lock;
    if (atomic_exchange_explicit(&m->v, 0, memory_order_release) == 2)
        futex(&m->v, FUTEX_WAKE_PRIVATE, 1, NULL);
}

int os_cond_create(void *self, void **cond)
{
    (void)self;
    struct os_condv *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    atomic_init(&c->seq, 0);
    atomic_init(&c->waiters, 0);
    *cond = c;
    return 0;
}

void os_cond_destroy(void *self, void *cond)
{
    (void)self;
    free(cond);
}

/* 0 when woken (possibly spuriously: a signal, or a broadcast meant for
 * another waiter), -ETIMEDOUT at the deadline; the lock is held again on
 * return either way. */
int os_cond_wait(void *self, void *cond, void *lock, uint64_t deadline_ns)
{
    (void)self;
    struct os_condv *c = cond;
    atomic_fetch_add(&c->waiters, 1); /* seq_cst: ordered before the read of seq */
    uint32_t seq = atomic_load(&c->seq);
    os_unlock(self, lock);
    int r = 0;
    if (deadline_ns == LYRA_TIME_NEVER) {
        futex(&c->seq, FUTEX_WAIT_PRIVATE, seq, NULL);
    } else {
        /* FUTEX_WAIT_BITSET takes an absolute time on CLOCK_MONOTONIC */
        struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                              .tv_nsec = (long)(deadline_ns % 1000000000u)};
        if (futex(&c->seq, FUTEX_WAIT_BITSET_PRIVATE, seq, &ts) < 0 && errno == ETIMEDOUT)
            r = -ETIMEDOUT;
    }
    atomic_fetch_sub_explicit(&c->waiters, 1, memory_order_relaxed);
    lock_contended(lock, 1);
    os_step_clock_reset(self); /* time passed while it slept */
    return r;
}

void os_cond_broadcast(void *self, void *cond)
{
    (void)self;
    struct os_condv *c = cond;
    atomic_fetch_add(&c->seq, 1); /* seq_cst: ordered before the read of waiters */
    if (atomic_load(&c->waiters))
        futex(&c->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}
