/* The wait loop: wait() polls the watched descriptors and an eventfd that
 * wake() signals. One thread waits at a time (the stack's loop); wake() may
 * come from any thread or a signal handler (it only writes the eventfd). */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "os_posix_int.h"

int os_loop_init(struct os_posix *os)
{
    int r = -pthread_mutex_init(&os->fd_mu, NULL);
    if (r)
        return r;
    os->fd_mu_ok = true;
    os->fds = calloc(os->max_fds, sizeof(*os->fds));
    os->pfd = calloc(os->max_fds + 1u, sizeof(*os->pfd));
    if (!os->fds || !os->pfd)
        return -ENOMEM;
    os->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (os->evfd < 0)
        return -errno;
    return 0;
}

void os_loop_fini(struct os_posix *os)
{
    if (os->evfd >= 0)
        close(os->evfd);
    os->evfd = -1;
    free(os->fds);
    free(os->pfd);
    os->fds = NULL;
    os->pfd = NULL;
    os->nfds = 0;
    if (os->fd_mu_ok)
        pthread_mutex_destroy(&os->fd_mu);
    os->fd_mu_ok = false;
}

/* Returns 0 when the deadline passed, >0 when a watched descriptor became
 * readable or wake() was called (or a signal interrupted the wait: the
 * caller should look at its state again), or a negative errno. */
int os_wait(void *self, uint64_t deadline_ns)
{
    struct os_posix *os = self;
    atomic_fetch_add_explicit(&os->waits, 1, memory_order_relaxed);

    /* set before taking the set: a watch_fd from now on kicks this wait,
     * and so does a timer armed before the deadline (os_timer_arm) */
    atomic_store(&os->wait_until, deadline_ns);
    atomic_store(&os->waiting, true);
    uint64_t hint = atomic_load(&os->tw_hint); /* one armed just before */
    if (hint < deadline_ns)
        deadline_ns = hint;
    pthread_mutex_lock(&os->fd_mu);
    nfds_t n = 0;
    os->pfd[n++] = (struct pollfd){.fd = os->evfd, .events = POLLIN};
    for (unsigned i = 0; i < os->nfds; i++)
        os->pfd[n++] = (struct pollfd){.fd = os->fds[i], .events = POLLIN};
    pthread_mutex_unlock(&os->fd_mu);

    struct timespec ts, *tsp = NULL;
    if (deadline_ns != LYRA_TIME_NEVER) {
        uint64_t now = os_now_ns(os);
        uint64_t left = deadline_ns > now ? deadline_ns - now : 0;
        ts.tv_sec = (time_t)(left / 1000000000u);
        ts.tv_nsec = (long)(left % 1000000000u);
        tsp = &ts;
    }
    int r = ppoll(os->pfd, n, tsp, NULL);
    atomic_store(&os->waiting, false);
    os_step_clock_reset(os); /* time passed while it waited */
    if (r < 0)
        return errno == EINTR ? 1 : -errno;
    if (r > 0 && (os->pfd[0].revents & POLLIN)) {
        uint64_t v;
        /* drain: several wakes before one wait end that one wait */
        if (read(os->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            return -errno;
    }
    return r;
}

static void kick(struct os_posix *os)
{
    uint64_t one = 1;
    /* EAGAIN: the counter is saturated, a wake-up is pending anyway */
    ssize_t w = write(os->evfd, &one, sizeof(one));
    (void)w;
}

void os_wake_quiet(struct os_posix *os)
{
    kick(os); /* not counted in wakeups: those are the stack's own */
}

void os_wake(void *self)
{
    struct os_posix *os = self;
    atomic_fetch_add_explicit(&os->wakeups, 1, memory_order_relaxed);
    kick(os);
}

/* A wait in progress polls the old set: make it look again. */
static void refresh(struct os_posix *os)
{
    if (atomic_load(&os->waiting))
        kick(os);
}

int os_watch_fd(void *self, int fd)
{
    struct os_posix *os = self;
    if (fd < 0)
        return -EBADF;
    int r = 0;
    pthread_mutex_lock(&os->fd_mu);
    for (unsigned i = 0; i < os->nfds; i++)
        if (os->fds[i] == fd)
            r = -EEXIST;
    if (!r && os->nfds == os->max_fds)
        r = -ENOSPC;
    if (!r)
        os->fds[os->nfds++] = fd;
    pthread_mutex_unlock(&os->fd_mu);
    if (!r)
        refresh(os);
    return r;
}

int os_unwatch_fd(void *self, int fd)
{
    struct os_posix *os = self;
    int r = -ENOENT;
    pthread_mutex_lock(&os->fd_mu);
    for (unsigned i = 0; i < os->nfds; i++)
        if (os->fds[i] == fd) {
            os->fds[i] = os->fds[--os->nfds];
            r = 0;
            break;
        }
    pthread_mutex_unlock(&os->fd_mu);
    if (!r)
        refresh(os);
    return r;
}
