/* Longest prefix match over a small array (see route.h). A host has a
 * handful of routes: a linear scan is the smallest correct structure. */
#include "route.h"

#include <errno.h>
#include <stddef.h>

#include "ipv4_wire.h"

void route_init(struct route_table *t, struct route *mem, unsigned cap)
{
    t->r = mem;
    t->n = 0;
    t->cap = mem ? cap : 0;
}

int route_add(struct route_table *t, uint32_t dst, unsigned plen, uint32_t gw, uint32_t src)
{
    if (plen > 32)
        return -EINVAL;
    uint32_t mask = ipv4_mask(plen);
    dst &= mask;
    for (unsigned i = 0; i < t->n; i++)
        if (t->r[i].dst == dst && t->r[i].plen == plen)
            return -EEXIST;
    if (t->n >= t->cap)
        return -ENOSPC;
    t->r[t->n++] = (struct route){.dst = dst, .mask = mask, .plen = (uint8_t)plen, .gw = gw,
                                  .src = src};
    return 0;
}

int route_del(struct route_table *t, uint32_t dst, unsigned plen)
{
    if (plen > 32)
        return -ENOENT;
    dst &= ipv4_mask(plen);
    for (unsigned i = 0; i < t->n; i++) {
        if (t->r[i].dst != dst || t->r[i].plen != plen)
            continue;
        for (unsigned k = i + 1; k < t->n; k++)
            t->r[k - 1] = t->r[k];
        t->n--;
        return 0;
    }
    return -ENOENT;
}

const struct route *route_lookup(const struct route_table *t, uint32_t dst)
{
    const struct route *best = NULL;
    for (unsigned i = 0; i < t->n; i++) {
        const struct route *r = &t->r[i];
        if ((dst & r->mask) == r->dst && (!best || r->plen > best->plen))
            best = r;
    }
    return best;
}
