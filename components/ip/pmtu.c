/* The path MTU table (see pmtu.h): a linear scan of a few entries, the
 * smallest correct structure for the handful of destinations a host
 * reaches through smaller links. */
#include "pmtu.h"

#include <errno.h>
#include <stddef.h>

void pmtu_init(struct pmtu_table *t, struct pmtu_entry *mem, unsigned cap, uint32_t floor,
               uint64_t timeout)
{
    t->e = mem;
    t->n = 0;
    t->cap = mem ? cap : 0;
    t->floor = floor;
    t->timeout = timeout;
    t->low = UINT32_MAX;
    t->st = (struct pmtu_stats){0};
}

static void recompute_low(struct pmtu_table *t)
{
    t->low = UINT32_MAX;
    for (unsigned i = 0; i < t->n; i++)
        if (t->e[i].mtu < t->low)
            t->low = t->e[i].mtu;
}

static void remove_at(struct pmtu_table *t, unsigned i)
{
    t->e[i] = t->e[--t->n];
    recompute_low(t);
}

static struct pmtu_entry *find(struct pmtu_table *t, uint32_t dst, uint64_t now)
{
    for (unsigned i = 0; i < t->n; i++) {
        if (t->e[i].dst != dst)
            continue;
        if (now >= t->e[i].expires) { /* RFC 1191 6.3: aged out, the link MTU again */
            t->st.expired++;
            remove_at(t, i);
            return NULL;
        }
        return &t->e[i];
    }
    return NULL;
}

uint32_t pmtu_get(struct pmtu_table *t, uint32_t dst, uint32_t link_mtu, uint64_t now)
{
    const struct pmtu_entry *e = t->n ? find(t, dst, now) : NULL;
    return e && e->mtu < link_mtu ? e->mtu : link_mtu;
}

/* A slot for a new destination: a free one, an aged-out one, else the
 * entry lowered longest ago (the first to expire). */
static struct pmtu_entry *slot(struct pmtu_table *t, uint64_t now)
{
    if (t->n < t->cap)
        return &t->e[t->n++];
    struct pmtu_entry *old = &t->e[0];
    for (unsigned i = 0; i < t->n; i++) {
        if (now >= t->e[i].expires) {
            t->st.expired++;
            return &t->e[i];
        }
        if (t->e[i].expires < old->expires)
            old = &t->e[i];
    }
    t->st.evicted++;
    return old;
}

int pmtu_update(struct pmtu_table *t, uint32_t dst, uint32_t mtu, uint32_t link_mtu,
                uint64_t now)
{
    if (mtu < t->floor) {
        t->st.below_min++; /* RFC 5927 section 7: a forged tiny MTU costs every byte */
        return -ERANGE;
    }
    struct pmtu_entry *e = find(t, dst, now);
    uint32_t cur = e && e->mtu < link_mtu ? e->mtu : link_mtu;
    if (mtu >= cur || t->cap == 0) {
        t->st.not_lower++; /* RFC 1191 6.3: a Datagram Too Big never raises it */
        return (int)cur;
    }
    if (!e)
        e = slot(t, now);
    *e = (struct pmtu_entry){.dst = dst, .mtu = mtu, .expires = now + t->timeout};
    t->st.lowered++;
    recompute_low(t);
    return (int)mtu;
}

uint32_t pmtu_plateau(uint32_t tot_len)
{
    /* RFC 1191 section 7, table 7-1 */
    static const uint16_t plateau[] = {65535, 32000, 17914, 8166, 4352, 2002, 1492,
                                       1006,  508,   296,   68};
    for (size_t i = 0; i < sizeof(plateau) / sizeof(plateau[0]); i++)
        if (plateau[i] < tot_len)
            return plateau[i];
    return 0;
}
