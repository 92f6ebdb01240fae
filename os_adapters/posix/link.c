/* Links (os 1.1): open dispatches on the spec ("wire:NAME", "tap:IFNAME")
 * to a backend; every end shares the pipelines of link_impair.c (what it
 * sends and what it receives), pcap capture of both directions (what went
 * on the medium, and what the stack got after receive impairment) and the
 * instance's link_* stats.
 *
 * Threads: an end belongs to one stack's loop (the device model that opened
 * it), but its egress timer runs from that instance's run_timers and the
 * other end of an in-process wire may live on another thread, so the
 * sending side and the capture are guarded by the end's mutex and the
 * wire queues by the wire's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "link_int.h"

static void link_log(struct os_posix *os, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void link_log(struct os_posix *os, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    os_vlog(os, level, "os_posix", fmt, ap);
    va_end(ap);
}

/* Which link, why, and what to do: the caller only sees an errno
 * ("start failed: Device or resource busy"). The TAP backend says its own. */
static void wire_open_failed(struct os_posix *os, const char *name, int r)
{
    if (r == -EBUSY)
        link_log(os, LYRA_LOG_ERROR,
                 "link wire:%s: wire:%s already has two ends (another process or stack); "
                 "use dev.link=wire:OTHERNAME",
                 name, name);
    else if (r == -ENAMETOOLONG)
        link_log(os, LYRA_LOG_ERROR, "link wire:%s: name too long; pick a shorter one", name);
    else
        link_log(os, LYRA_LOG_ERROR, "link wire:%s: cannot open: %s", name, strerror(-r));
}

int os_link_open(void *self, const char *spec, const struct lyra_link_params *p,
                 struct lyra_link **out)
{
    struct os_posix *os = self;
    static const struct lyra_link_params none = {0};
    *out = NULL;
    if (!spec)
        return -EINVAL;
    if (!p)
        p = &none;
    if (p->loss_ppm > 1000000 || p->dup_ppm > 1000000 || p->reorder_ppm > 1000000 ||
        p->corrupt_ppm > 1000000 || p->rx_loss_ppm > 1000000 || p->rx_dup_ppm > 1000000 ||
        p->rx_reorder_ppm > 1000000 || p->rx_corrupt_ppm > 1000000)
        return -EINVAL;
    const char *arg;
    bool wire;
    if (!strncmp(spec, "wire:", 5)) {
        wire = true;
        arg = spec + 5;
    } else if (!strncmp(spec, "tap:", 4)) {
        wire = false;
        arg = spec + 4;
    } else {
        link_log(os, LYRA_LOG_ERROR, "link %s: expected wire:NAME or tap:IFNAME", spec);
        return -EINVAL;
    }
    if (!*arg) {
        link_log(os, LYRA_LOG_ERROR, "link %s: no name after '%s' (e.g. %sNAME)", spec,
                 wire ? "wire:" : "tap:", wire ? "wire:" : "tap:");
        return -EINVAL;
    }
    if (strlen(spec) >= sizeof(((struct lyra_link *)0)->spec)) {
        link_log(os, LYRA_LOG_ERROR, "link %s: longer than %zu characters; pick a shorter name",
                 spec, sizeof(((struct lyra_link *)0)->spec) - 1);
        return -EINVAL;
    }

    struct lyra_link *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->os = os;
    strcpy(l->spec, spec);
    l->p = *p;
    l->p.pcap = NULL; /* not kept: the caller's string */
    int r = -pthread_mutex_init(&l->mu, NULL);
    if (r) {
        free(l);
        return r;
    }
    r = link_impair_init(l);
    if (!r && p->pcap) {
        l->pcap = pcap_writer_open(p->pcap, &r);
        if (!l->pcap)
            link_log(os, LYRA_LOG_ERROR, "link %s: cannot write pcap %s: %s", spec, p->pcap,
                     strerror(-r));
    }
    if (!r) {
        r = wire ? link_wire_open(l, arg) : link_tap_open(l, arg);
        if (r && wire)
            wire_open_failed(os, arg, r);
    }
    if (r) {
        pcap_writer_close(l->pcap);
        link_impair_fini(l);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return r;
    }
    *out = l;
    return 0;
}

void os_link_close(void *self, struct lyra_link *l)
{
    if (!l)
        return;
    link_impair_cancel(l);
    l->be->close(l);
    pthread_mutex_lock(&l->mu);
    pcap_writer_close(l->pcap);
    l->pcap = NULL;
    pthread_mutex_unlock(&l->mu);
    link_impair_fini(l);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

int os_link_send(void *self, struct lyra_link *l, const void *frame, size_t len)
{
    if (!l || !frame || !len)
        return -EINVAL;
    if (len > LINK_FRAME_MAX)
        return -EMSGSIZE;
    pthread_mutex_lock(&l->mu);
    int r = link_impair_send(l, frame, len);
    pthread_mutex_unlock(&l->mu);
    return r;
}

int os_link_recv(void *self, struct lyra_link *l, void *buf, size_t cap)
{
    if (!l)
        return -EINVAL;
    pthread_mutex_lock(&l->mu);
    /* frames held for delay or reordering that fell due go out now, even
     * when nobody runs this instance's timers */
    if (l->tx.shaped || l->tx.holding)
        link_impair_flush(&l->tx, os_now_ns(l->os));
    int n;
    if (l->rx.queued) {
        n = link_impair_recv(l, buf, cap);
    } else {
        n = l->be->recv(l, buf, cap);
        if (n > 0) {
            atomic_fetch_add_explicit(&l->os->link_rx, 1, memory_order_relaxed);
            pcap_writer_frame(l->pcap, buf, (size_t)n);
        } else if (n == -EMSGSIZE) {
            atomic_fetch_add_explicit(&l->os->link_drop_size, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return n;
}

int link_emit(struct lyra_link *l, const void *frame, size_t len)
{
    int r = l->be->xmit(l, frame, len);
    if (!r) {
        atomic_fetch_add_explicit(&l->os->link_tx, 1, memory_order_relaxed);
        pcap_writer_frame(l->pcap, frame, len);
    } else if (r == -EAGAIN) {
        atomic_fetch_add_explicit(&l->os->link_drop_full, 1, memory_order_relaxed);
    }
    return r;
}

/* ---- bounded frame rings ---- */

int link_ring_init(struct link_ring *r)
{
    r->head = r->n = 0;
    r->slot = malloc(LINK_QUEUE_FRAMES * sizeof(*r->slot));
    return r->slot ? 0 : -ENOMEM;
}

void link_ring_fini(struct link_ring *r)
{
    free(r->slot);
    r->slot = NULL;
    r->head = r->n = 0;
}

struct link_frame *link_ring_tail(struct link_ring *r)
{
    if (r->n == LINK_QUEUE_FRAMES)
        return NULL;
    return &r->slot[(r->head + r->n) % LINK_QUEUE_FRAMES];
}

void link_ring_push(struct link_ring *r)
{
    r->n++;
}

struct link_frame *link_ring_head(struct link_ring *r)
{
    return r->n ? &r->slot[r->head] : NULL;
}

void link_ring_pop(struct link_ring *r)
{
    r->head = (r->head + 1) % LINK_QUEUE_FRAMES;
    r->n--;
}
