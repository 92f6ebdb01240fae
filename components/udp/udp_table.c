/* Endpoint table, ports and demultiplexing (see udp_table.h). */
#include "udp_table.h"

#include <errno.h>
#include <string.h>

void udp_table_init(struct udp_table *t, struct udp_ep *mem, uint32_t n, uint16_t port_min,
                    uint16_t port_max, uint32_t rnd)
{
    t->ep = mem;
    t->n = mem ? n : 0;
    if (t->ep)
        memset(t->ep, 0, (size_t)n * sizeof(*t->ep));
    t->port_min = port_min;
    t->port_max = port_max;
    uint32_t range = (uint32_t)port_max - port_min + 1;
    t->next_eph = port_min + rnd % range;
}

struct udp_ep *udp_table_get(struct udp_table *t, int h)
{
    if (h < 0 || (uint32_t)h >= t->n || !t->ep[h].used)
        return NULL;
    return &t->ep[h];
}

int udp_table_open(struct udp_table *t, uint32_t rcvbuf)
{
    for (uint32_t i = 0; i < t->n; i++) {
        struct udp_ep *e = &t->ep[i];
        if (e->used)
            continue;
        memset(e, 0, sizeof(*e));
        lyra_skbq_init(&e->q);
        e->used = true;
        e->rcvbuf = rcvbuf;
        lyra_l4_ipopts_init(&e->o);
        return (int)i;
    }
    return -ENOBUFS;
}

void udp_table_close(struct udp_table *t, int h)
{
    struct udp_ep *e = udp_table_get(t, h);
    if (!e)
        return;
    lyra_skbq_purge(&e->q);
    memset(e, 0, sizeof(*e));
}

uint32_t udp_table_count(const struct udp_table *t, uint32_t *queued)
{
    uint32_t n = 0, q = 0;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->ep[i].used) {
            n++;
            q += t->ep[i].q.len;
        }
    if (queued)
        *queued = q;
    return n;
}

bool udp_table_clash(const struct udp_table *t, int h, uint32_t addr, uint16_t port, bool reuse)
{
    for (uint32_t i = 0; i < t->n; i++) {
        const struct udp_ep *e = &t->ep[i];
        if (!e->used || (int)i == h || e->lport != port)
            continue;
        if (e->laddr && addr && e->laddr != addr)
            continue; /* different addresses do not overlap */
        if (reuse && e->reuse)
            continue;
        return true;
    }
    return false;
}

static bool port_taken(const struct udp_table *t, uint16_t port)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->ep[i].used && t->ep[i].lport == port)
            return true;
    return false;
}

int udp_table_ephemeral(struct udp_table *t, uint16_t *port)
{
    uint32_t range = (uint32_t)t->port_max - t->port_min + 1;
    uint32_t p = t->next_eph;
    /* An ephemeral port is unique whatever the addresses: no endpoint may
     * hold it, so it never shares a port by accident. */
    for (uint32_t k = 0; k < range; k++) {
        if (p < t->port_min || p > t->port_max)
            p = t->port_min;
        if (!port_taken(t, (uint16_t)p)) {
            *port = (uint16_t)p;
            /* next search starts after it: a closed port is not handed out
             * again at once (RFC 6056 section 3.1 on reuse) */
            t->next_eph = p + 1;
            return 0;
        }
        p++;
    }
    return -EADDRINUSE;
}

bool udp_ep_match(const struct udp_ep *e, uint32_t src, uint16_t sport, uint32_t dst,
                  uint16_t dport)
{
    if (!e->used || e->lport == 0 || e->lport != dport)
        return false;
    if (e->laddr && e->laddr != dst)
        return false;
    /* a connected endpoint hears its peer only */
    if (e->connected && (e->raddr != src || e->rport != sport))
        return false;
    return true;
}

int udp_table_lookup(const struct udp_table *t, uint32_t src, uint16_t sport, uint32_t dst,
                     uint16_t dport)
{
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct udp_ep *e = &t->ep[i];
        if (!udp_ep_match(e, src, sport, dst, dport))
            continue;
        int score = (e->connected ? 2 : 0) + (e->laddr ? 1 : 0);
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    return best;
}

int udp_table_next_match(const struct udp_table *t, int after, uint32_t src, uint16_t sport,
                         uint32_t dst, uint16_t dport)
{
    for (uint32_t i = after < 0 ? 0 : (uint32_t)after + 1; i < t->n; i++)
        if (udp_ep_match(&t->ep[i], src, sport, dst, dport))
            return (int)i;
    return -1;
}
