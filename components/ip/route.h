/* The IPv4 routing table: connected routes (on-link, next hop = the
 * destination), gateway routes (the default route among them) and host
 * routes (/32), looked up by longest prefix match (RFC 1812 section
 * 5.2.4.3; a host does the same with its one interface, RFC 1122 3.3.1).
 *
 * Pure logic: entries live in an array the caller owns (in the ip
 * instance); no I/O, no time, no allocation. */
#ifndef LYRA_ROUTE_H
#define LYRA_ROUTE_H

#include <stdint.h>

struct route {
    uint32_t dst;  /* network, host order, masked */
    uint32_t mask;
    uint8_t plen;
    uint32_t gw;   /* 0: connected (on-link) */
    uint32_t src;  /* preferred source address */
};

struct route_table {
    struct route *r;
    unsigned n, cap;
};

void route_init(struct route_table *t, struct route *mem, unsigned cap);

/* Adds dst/plen via gw (0: on-link) with source src. The destination is
 * masked to plen. -EINVAL (plen > 32), -EEXIST (same dst/plen present),
 * -ENOSPC (table full). */
int route_add(struct route_table *t, uint32_t dst, unsigned plen, uint32_t gw, uint32_t src);
/* Removes dst/plen: 0 or -ENOENT. */
int route_del(struct route_table *t, uint32_t dst, unsigned plen);
/* The most specific route to dst; NULL when none matches. Among equal
 * prefixes (not possible through route_add) the first added wins. */
const struct route *route_lookup(const struct route_table *t, uint32_t dst);
/* The next hop of dst through rt: the gateway, or dst itself on-link. */
static inline uint32_t route_next_hop(const struct route *rt, uint32_t dst)
{
    return rt->gw ? rt->gw : dst;
}

#endif
