/* wire:NAME, a point-to-point link between exactly two ends.
 *
 * Rendezvous. Every end holds one of two abstract AF_UNIX names, which the
 * kernel frees when the holder goes (no stale files):
 *   "lyra-wire-NAME"    end A: a listening SOCK_SEQPACKET socket;
 *   "lyra-wire-NAME.b"  end B: the claim of the second place.
 * An opener first looks in this process's registry of wires. Found, with
 * the second place free: it binds the claim and pairs in-process (bounded
 * frame queues, LINK_QUEUE_FRAMES each way, an eventfd per end for
 * readability). Not found: it binds "lyra-wire-NAME" and becomes A (and
 * enters the registry); if another process holds that name, it binds the
 * claim and connects to it (one SOCK_SEQPACKET message per frame). A third
 * opener finds both names taken: -EBUSY. A accepts a remote B from its
 * recv and send; when a B goes, A waits for the next one.
 * Sending on an end with no other end drops the frame (link_drop_nopeer),
 * as a NIC with its cable unplugged would.
 *
 * Process-wide state: the registry below is, with the SIGSEGV registry of
 * os_pages.c, the one piece of global mutable state in os_posix, as the
 * design allows for an OS adapter (two stacks in one process must find each
 * other by name). `reg_mu` guards the list and each wire's place in it;
 * each wire's `mu` guards its queues and ends (taken after reg_mu, and
 * after the sending end's own mutex).
 *
 * Limits: abstract socket names belong to a network namespace, so two
 * processes meet on a wire only inside one namespace. A child made by
 * fork() inherits a copy of the registry: it should open wires only if
 * the parent had none open at the fork (or exec first). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "link_int.h"

#define WIRE_NAME_MAX 90 /* "lyra-wire-" NAME ".b" fits an abstract sun_path */
#define WIRE_SOCKBUF (2 * LINK_QUEUE_FRAMES * LINK_FRAME_MAX)

struct wire_end;

struct wire {
    struct wire *next;
    char name[WIRE_NAME_MAX + 1];
    pthread_mutex_t mu;
    struct wire_end *end[2]; /* in-process ends: [0] is A */
    bool remote_peer;        /* A is connected to a B in another process */
    atomic_bool b_here;      /* end[1] is set: A need not look for a remote B */
    int claim_fd;            /* the in-process B's claim, -1 */
    struct link_ring q[2];   /* q[i]: frames waiting for end i */
    int refs;                /* ends pointing here */
    bool listed;
};

struct wire_end {
    struct wire *w; /* A, or an in-process B; NULL for a remote B */
    int side;       /* 0: A, 1: B */
    int evfd;       /* readable while q[side] holds frames; -1 */
    int lfd;        /* A: the listening socket; -1 */
    int cfd;        /* the socket to the other end in another process; -1 */
};

static struct {
    pthread_mutex_t mu;
    struct wire *head;
} reg = {.mu = PTHREAD_MUTEX_INITIALIZER};

static socklen_t wire_addr(struct sockaddr_un *a, const char *name, bool claim)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "lyra-wire-%s%s", name,
                     claim ? ".b" : "");
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int seqpacket(void)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

static void big_buffers(int fd)
{
    int sz = WIRE_SOCKBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

/* A socket bound to the name (A: listening), or -EADDRINUSE. */
static int bind_name(const char *name, bool claim)
{
    int fd = seqpacket();
    if (fd < 0)
        return fd;
    struct sockaddr_un a;
    socklen_t len = wire_addr(&a, name, claim);
    if (bind(fd, (struct sockaddr *)&a, len) || (!claim && listen(fd, 4))) {
        int r = -errno;
        close(fd);
        return r;
    }
    return fd;
}

static void signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof(one));
    (void)w;
}

static void drain_fd(int fd)
{
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
}

static void unwatch_close(struct lyra_link *l, int *fd)
{
    if (*fd >= 0) {
        os_unwatch_fd(l->os, *fd);
        close(*fd);
    }
    *fd = -1;
}

static void wire_put(struct wire *w)
{
    /* reg.mu held */
    if (--w->refs)
        return;
    if (w->listed) {
        for (struct wire **pp = &reg.head; *pp; pp = &(*pp)->next)
            if (*pp == w) {
                *pp = w->next;
                break;
            }
    }
    if (w->claim_fd >= 0)
        close(w->claim_fd);
    link_ring_fini(&w->q[0]);
    link_ring_fini(&w->q[1]);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* ---- the other end in another process ---- */

static void remote_gone(struct lyra_link *l, struct wire_end *e)
{
    unwatch_close(l, &e->cfd);
    if (e->w) {
        pthread_mutex_lock(&e->w->mu);
        e->w->remote_peer = false;
        pthread_mutex_unlock(&e->w->mu);
    }
}

/* A: takes a B that connected from another process. Not while a B is
 * connected, remote or in this process (its claim on the B name keeps a
 * third end from connecting at all): a system call per frame saved. */
static void a_accept(struct lyra_link *l, struct wire_end *e)
{
    if (e->lfd < 0 || e->cfd >= 0 || atomic_load_explicit(&e->w->b_here, memory_order_relaxed))
        return;
    for (;;) {
        int fd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        pthread_mutex_lock(&e->w->mu);
        bool take = e->cfd < 0 && !e->w->end[1];
        if (take)
            e->w->remote_peer = true;
        pthread_mutex_unlock(&e->w->mu);
        if (!take || os_watch_fd(l->os, fd)) {
            if (take)
                remote_gone(l, e);
            close(fd); /* not a B that claimed its place, or no room */
            continue;
        }
        big_buffers(fd);
        e->cfd = fd;
    }
}

static int wire_xmit(struct lyra_link *l, const void *f, size_t len)
{
    struct wire_end *e = l->be_state;
    if (e->side == 0)
        a_accept(l, e);
    if (e->cfd >= 0) {
        if (send(e->cfd, f, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return -EAGAIN;
        remote_gone(l, e);
        atomic_fetch_add_explicit(&l->os->link_drop_nopeer, 1, memory_order_relaxed);
        return 0;
    }
    struct wire *w = e->w;
    if (!w) {
        atomic_fetch_add_explicit(&l->os->link_drop_nopeer, 1, memory_order_relaxed);
        return 0;
    }
    int other = 1 - e->side;
    pthread_mutex_lock(&w->mu);
    struct wire_end *peer = w->end[other];
    int r = 0;
    if (!peer) {
        atomic_fetch_add_explicit(&l->os->link_drop_nopeer, 1, memory_order_relaxed);
    } else {
        struct link_frame *q = link_ring_tail(&w->q[other]);
        if (!q) {
            r = -EAGAIN;
        } else {
            q->len = (uint32_t)len;
            memcpy(q->data, f, len);
            link_ring_push(&w->q[other]);
            signal_fd(peer->evfd);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return r;
}

static int wire_recv(struct lyra_link *l, void *buf, size_t cap)
{
    struct wire_end *e = l->be_state;
    if (e->side == 0)
        a_accept(l, e);
    if (e->cfd >= 0) {
        ssize_t n = recv(e->cfd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : (remote_gone(l, e), 0);
        if (n == 0) { /* the other process closed its end */
            remote_gone(l, e);
            return 0;
        }
        return (size_t)n > cap ? -EMSGSIZE : (int)n;
    }
    struct wire *w = e->w;
    if (!w)
        return 0;
    int r = 0;
    pthread_mutex_lock(&w->mu);
    struct link_ring *q = &w->q[e->side];
    struct link_frame *f = q->slot ? link_ring_head(q) : NULL;
    if (f) {
        if (f->len > cap) {
            r = -EMSGSIZE;
        } else {
            memcpy(buf, f->data, f->len);
            r = (int)f->len;
        }
        link_ring_pop(q);
        /* every push signals under mu, so the eventfd counts only while
         * frames wait: drain it when the last one goes, not on every look
         * at an empty queue (a system call per poll step) */
        if (!q->n)
            drain_fd(e->evfd);
    }
    pthread_mutex_unlock(&w->mu);
    return r;
}

static void wire_close(struct lyra_link *l)
{
    struct wire_end *e = l->be_state;
    unwatch_close(l, &e->cfd);
    struct wire *w = e->w;
    if (w) {
        pthread_mutex_lock(&reg.mu);
        pthread_mutex_lock(&w->mu);
        w->end[e->side] = NULL;
        if (e->side == 1)
            atomic_store(&w->b_here, false);
        if (e->side == 0 && w->listed) {
            /* the name is free again: a new wire of that name is a new wire,
             * and its B place too */
            for (struct wire **pp = &reg.head; *pp; pp = &(*pp)->next)
                if (*pp == w) {
                    *pp = w->next;
                    break;
                }
            w->listed = false;
        }
        if (w->claim_fd >= 0 && (e->side == 1 || !w->listed)) {
            close(w->claim_fd);
            w->claim_fd = -1;
        }
        if (e->side == 1 && w->q[1].slot)
            w->q[1].head = w->q[1].n = 0; /* a next B starts afresh */
        if (e->side == 0)
            w->remote_peer = false;
        pthread_mutex_unlock(&w->mu);
        wire_put(w);
        pthread_mutex_unlock(&reg.mu);
    }
    unwatch_close(l, &e->lfd); /* after the registry forgot the wire */
    unwatch_close(l, &e->evfd);
    free(e);
}

static const struct link_backend wire_backend = {
    .kind = "wire",
    .xmit = wire_xmit,
    .recv = wire_recv,
    .close = wire_close,
};

static int watch(struct lyra_link *l, int fd)
{
    return fd < 0 ? 0 : os_watch_fd(l->os, fd);
}

/* reg.mu held. */
static int join_inproc(struct lyra_link *l, struct wire_end *e, struct wire *w)
{
    if (w->end[1] || w->remote_peer)
        return -EBUSY;
    int claim = bind_name(w->name, true);
    if (claim < 0)
        return claim == -EADDRINUSE ? -EBUSY : claim;
    int r = 0;
    /* under w->mu: end A's recv and send look at the rings meanwhile */
    pthread_mutex_lock(&w->mu);
    if (!w->q[0].slot && !(r = link_ring_init(&w->q[0])))
        r = link_ring_init(&w->q[1]);
    pthread_mutex_unlock(&w->mu);
    if (!r) {
        e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        r = e->evfd < 0 ? -errno : watch(l, e->evfd);
    }
    if (r) {
        close(claim);
        return r;
    }
    pthread_mutex_lock(&w->mu);
    w->claim_fd = claim;
    w->end[1] = e;
    atomic_store(&w->b_here, true);
    e->w = w;
    e->side = 1;
    w->refs++;
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* reg.mu held. */
static int become_a(struct lyra_link *l, struct wire_end *e, const char *name, int lfd)
{
    struct wire *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    int r = -pthread_mutex_init(&w->mu, NULL);
    if (r) {
        free(w);
        return r;
    }
    strcpy(w->name, name);
    w->claim_fd = -1;
    e->lfd = lfd;
    e->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    r = e->evfd < 0 ? -errno : watch(l, e->evfd);
    if (!r)
        r = watch(l, lfd);
    if (r) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return r;
    }
    w->end[0] = e;
    w->refs = 1;
    w->listed = true;
    w->next = reg.head;
    reg.head = w;
    e->w = w;
    e->side = 0;
    return 0;
}

/* reg.mu held: the name is held by A in another process. */
static int join_remote(struct lyra_link *l, struct wire_end *e, const char *name)
{
    int fd = bind_name(name, true);
    if (fd < 0)
        return fd == -EADDRINUSE ? -EBUSY : fd;
    struct sockaddr_un a;
    socklen_t len = wire_addr(&a, name, false);
    if (connect(fd, (struct sockaddr *)&a, len)) {
        int r = -errno;
        close(fd);
        return r;
    }
    big_buffers(fd);
    int r = watch(l, fd);
    if (r) {
        close(fd);
        return r;
    }
    e->cfd = fd;
    e->side = 1;
    return 0;
}

int link_wire_open(struct lyra_link *l, const char *name)
{
    if (strlen(name) > WIRE_NAME_MAX)
        return -ENAMETOOLONG;
    struct wire_end *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->evfd = e->lfd = e->cfd = -1;
    int r = -EBUSY;
    pthread_mutex_lock(&reg.mu);
    struct wire *w = reg.head;
    while (w && strcmp(w->name, name))
        w = w->next;
    if (w) {
        r = join_inproc(l, e, w);
    } else {
        /* A went away between our bind and connect: try again */
        for (int tries = 0; tries < 3; tries++) {
            int lfd = bind_name(name, false);
            if (lfd >= 0) {
                r = become_a(l, e, name, lfd);
                if (r)
                    close(lfd);
                break;
            }
            if (lfd != -EADDRINUSE) {
                r = lfd;
                break;
            }
            r = join_remote(l, e, name);
            if (r != -ECONNREFUSED && r != -ENOENT)
                break;
        }
    }
    pthread_mutex_unlock(&reg.mu);
    if (r) {
        if (e->evfd >= 0)
            os_unwatch_fd(l->os, e->evfd), close(e->evfd);
        if (e->lfd >= 0)
            os_unwatch_fd(l->os, e->lfd);
        free(e);
        return r;
    }
    l->be = &wire_backend;
    l->be_state = e;
    return 0;
}
