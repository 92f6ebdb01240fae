/* Blocked socket calls and the loop: per-call waiters woken by the socket
 * provider's ready events, the driver that steps the loop when no thread
 * runs it, and the kick that tells a sleeping loop about a socket call.
 *
 * Everything here runs with the stack lock held (s->mu), except the os
 * wait of the driver, which releases it. A waiter sleeps on a condition of
 * its own (cached per stack, so a blocked call allocates nothing after the
 * first time as many threads blocked at once), so a ready event for one
 * descriptor wakes the calls on that descriptor only. */
#include <errno.h>
#include <stdlib.h>

#include "lyra/os.h"
#include "lyra/socket_if.h"
#include "stack_internal.h"

struct lyra_cvnode {
    void *cv;
    struct lyra_cvnode *next, *next_all;
};

static void *cv_get(struct lyra_stack *s)
{
    struct lyra_cvnode *n = s->cv_free;
    if (n) {
        s->cv_free = n->next;
        return n;
    }
    n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    if (s->os->cond_create(s->os_self, &n->cv)) {
        free(n);
        return NULL;
    }
    n->next_all = s->cv_all;
    s->cv_all = n;
    return n;
}

void lyra_stack_wait_destroy(struct lyra_stack *s)
{
    for (struct lyra_cvnode *n = s->cv_all, *x; n; n = x) {
        x = n->next_all;
        s->os->cond_destroy(s->os_self, n->cv);
        free(n);
    }
    s->cv_all = s->cv_free = NULL;
}

/* The condition w sleeps on: its own, or the stack's when none could be
 * made (then every step's broadcast wakes it: slower, still correct). */
static void *cond_of(struct lyra_stack *s, struct lyra_waiter *w)
{
    return w->cv ? ((struct lyra_cvnode *)w->cv)->cv : s->cv;
}

void lyra_waiter_add(struct lyra_stack *s, struct lyra_waiter *w)
{
    w->woken = 0;
    w->sleeping = 0;
    w->nready = 0;
    w->overflow = 0;
    w->cv = NULL;
    w->prev = NULL;
    w->next = s->wl;
    if (s->wl)
        s->wl->prev = w;
    s->wl = w;
}

void lyra_waiter_del(struct lyra_stack *s, struct lyra_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->wl = w->next;
    if (w->next)
        w->next->prev = w->prev;
    if (w->cv) {
        struct lyra_cvnode *n = w->cv;
        n->next = s->cv_free;
        s->cv_free = n;
        w->cv = NULL;
    }
}

unsigned lyra_stack_blocked(struct lyra_stack *s)
{
    unsigned n = 0;
    lyra_stack_lock(s);
    for (const struct lyra_waiter *w = s->wl; w; w = w->next)
        n++;
    lyra_stack_unlock(s);
    return n;
}

/* Broadcasts cv when the lock is released (see lyra_stack_unlock), or now
 * when too many are pending. */
static void signal_later(struct lyra_stack *s, void *cv)
{
    for (unsigned i = 0; i < s->n_defer; i++)
        if (s->defer[i] == cv)
            return;
    if (s->mu && s->n_defer < LYRA_WAKE_DEFER)
        s->defer[s->n_defer++] = cv;
    else
        s->os->cond_broadcast(s->os_self, cv);
}

/* Before this thread sleeps on a condition (which releases the lock
 * without lyra_stack_unlock): what it decided goes out now. */
void lyra_stack_signal_now(struct lyra_stack *s)
{
    for (unsigned i = 0; i < s->n_defer; i++)
        s->os->cond_broadcast(s->os_self, s->defer[i]);
    s->n_defer = 0;
}

static void wake(struct lyra_stack *s, struct lyra_waiter *w)
{
    w->woken = 1;
    if (w->sleeping)
        signal_later(s, cond_of(s, w));
    /* the driver sleeps in os wait, not on its condition */
    if (w == s->driver && s->sleep_until && s->os->wake)
        s->os->wake(s->os_self);
}

/* Does an event (fd: -1 every descriptor) concern w? */
static int concerns(const struct lyra_waiter *w, int fd, unsigned what)
{
    unsigned m = w->want | LYRA_POLL_ERR | LYRA_POLL_HUP | LYRA_POLL_NVAL;
    if (!(what & m))
        return 0;
    if (fd < 0)
        return 1;
    if (w->fd >= 0)
        return w->fd == fd;
    if (fd < LYRA_POLL_INDEX_FDS && w->idx && w->idx[fd])
        return 1;
    return w->any;
}

/* A poll remembers which descriptors to look at again. */
static void note(struct lyra_waiter *w, int fd, unsigned what)
{
    if (fd < 0) {
        w->overflow = 1;
        return;
    }
    if ((what & LYRA_POLL_NVAL) && fd < LYRA_POLL_INDEX_FDS && w->closed)
        w->closed[fd / 32] |= 1u << (fd % 32);
    else if (what & LYRA_POLL_NVAL)
        fd |= LYRA_WAIT_CLOSED; /* beyond the index: the ring says it */
    if (w->nready && w->ready[w->nready - 1] == fd)
        return;
    if (w->nready < LYRA_WAIT_READY_MAX)
        w->ready[w->nready++] = fd;
    else
        w->overflow = 1;
}

static void sock_ready(void *user, int fd, unsigned what)
{
    struct lyra_stack *s = user;
    for (struct lyra_waiter *w = s->wl; w; w = w->next)
        if (concerns(w, fd, what)) {
            if (w->fd < 0)
                note(w, fd, what);
            wake(s, w);
        }
}

const struct lyra_socket_events lyra_stack_sock_events = {
    .hdr = LYRA_OPS_HDR(LYRA_SOCKET_IFACE, LYRA_SOCKET_MAJOR, LYRA_SOCKET_MINOR,
                        struct lyra_socket_events),
    .ready = sock_ready,
};

void lyra_stack_progress(struct lyra_stack *s)
{
    if (s->cv && s->waiters)
        s->os->cond_broadcast(s->os_self, s->cv);
    for (struct lyra_waiter *w = s->wl; w; w = w->next) {
        if (!(w->want & LYRA_POLL_OUT))
            continue;
        if (w->fd < 0)
            w->overflow = 1; /* which entries: any that waits for OUT */
        if (w != s->driver)
            wake(s, w);
        else if (s->sleep_until && s->os->wake) /* it looks after its os wait */
            s->os->wake(s->os_self);
    }
}

/* Wakes the sleepers without an event: they look at who drives the loop. */
static void nudge(struct lyra_stack *s)
{
    if (s->cv && s->waiters)
        s->os->cond_broadcast(s->os_self, s->cv);
    for (struct lyra_waiter *w = s->wl; w; w = w->next)
        if (w->sleeping)
            s->os->cond_broadcast(s->os_self, cond_of(s, w));
}

void lyra_stack_wake_all(struct lyra_stack *s)
{
    for (struct lyra_waiter *w = s->wl; w; w = w->next)
        if (w->sleeping)
            w->overflow = 1;
    nudge(s);
}

/* No loop thread: this caller steps the loop (bare metal, one thread)
 * until its own event, its deadline, stop, or a loop thread that takes
 * over; then the others look again (one of them may have to drive). */
static void drive(struct lyra_stack *s, struct lyra_waiter *w, uint64_t deadline)
{
    s->driving = 1;
    s->driver = w;
    while (!w->woken && !atomic_load(&s->stop) && !lyra_stack_loop_running(s)) {
        uint64_t next = lyra_stack_step_locked(s);
        if (w->woken || atomic_load(&s->stop))
            break;
        if (next != 0) {
            if (next > deadline)
                next = deadline;
            s->sleep_until = next;
            lyra_stack_unlock(s);
            s->os->wait(s->os_self, next);
            lyra_stack_lock(s);
            s->sleep_until = 0;
        }
        /* OUT may come back through a resource no event reports (buffers
         * a step or a call freed): the driver looks after each step */
        if (w->want & LYRA_POLL_OUT) {
            w->woken = 1;
            break;
        }
        if (s->os->now_ns(s->os_self) >= deadline)
            break;
    }
    s->driving = 0;
    s->driver = NULL;
    nudge(s);
}

int lyra_stack_wait_locked(struct lyra_stack *s, struct lyra_waiter *w, uint64_t deadline)
{
    if (!s->os)
        return -ENOSYS;
    for (;;) {
        if (atomic_load(&s->stop))
            return -ECANCELED;
        if (w->woken) {
            w->woken = 0;
            return 0;
        }
        if (s->os->now_ns(s->os_self) >= deadline)
            return -ETIMEDOUT;
        if (s->cv && (lyra_stack_loop_running(s) || s->driving)) {
            if (!w->cv)
                w->cv = cv_get(s);
            if (!w->cv)
                s->waiters++;
            w->sleeping = 1;
            lyra_stack_signal_now(s);
            s->os->cond_wait(s->os_self, cond_of(s, w), s->mu, deadline);
            w->sleeping = 0;
            if (!w->cv)
                s->waiters--;
            continue;
        }
        drive(s, w, deadline);
    }
}

/* After a socket call changed state. A loop that is awake steps again
 * before it sleeps, so it needs nothing. A sleeping one is not woken
 * blindly (an eventfd write and a context switch per call): the step it
 * would make runs here, on the caller's thread that holds the lock, and
 * the loop is woken only when that step left work or an earlier deadline
 * (a timer the call armed). */
void lyra_stack_kick(struct lyra_stack *s)
{
    lyra_stack_progress(s);
    if (!s->sleep_until || !s->os)
        return;
    uint64_t next = 0;
    for (int k = 0; k < 4 && next == 0; k++) /* a transmit the call queued: done here */
        next = lyra_stack_step_locked(s);
    if ((next == 0 || next < s->sleep_until) && s->sleep_until && s->os->wake)
        s->os->wake(s->os_self);
}
