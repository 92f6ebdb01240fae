/* ARP translation table (see arp_cache.h). */
#include "arp_cache.h"

#include <string.h>

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > ARP_TIME_NEVER - b ? ARP_TIME_NEVER : a + b;
}

void arp_cache_init(struct arp_cache *c, struct arp_entry *mem, uint32_t n, uint64_t timeout,
                    uint64_t retry, uint32_t max_tries)
{
    c->e = mem;
    c->n = n;
    c->timeout = timeout;
    c->retry = retry;
    c->max_tries = max_tries ? max_tries : 1;
    arp_cache_clear(c);
}

void arp_cache_clear(struct arp_cache *c)
{
    if (c->e && c->n)
        memset(c->e, 0, (size_t)c->n * sizeof(c->e[0]));
}

static bool expired(const struct arp_entry *e, uint64_t now)
{
    return e->state == ARP_REACHABLE && now >= e->deadline;
}

struct arp_entry *arp_cache_find(struct arp_cache *c, uint32_t ip, uint64_t now)
{
    for (uint32_t i = 0; i < c->n; i++) {
        struct arp_entry *e = &c->e[i];
        if (e->state == ARP_FREE || e->ip != ip)
            continue;
        if (expired(e, now)) {
            e->state = ARP_FREE;
            return NULL;
        }
        return e;
    }
    return NULL;
}

/* A slot for a new entry: a free one, else one that has expired, else the
 * least recently used (lowest index on ties), whose old contents go to
 * *evicted. */
static struct arp_entry *take_slot(struct arp_cache *c, uint64_t now, struct arp_entry *evicted)
{
    struct arp_entry *lru = NULL;
    memset(evicted, 0, sizeof(*evicted));
    for (uint32_t i = 0; i < c->n; i++) {
        struct arp_entry *e = &c->e[i];
        if (e->state == ARP_FREE || expired(e, now)) {
            e->state = ARP_FREE;
            return e;
        }
        if (!lru || e->used < lru->used)
            lru = e;
    }
    if (lru) {
        *evicted = *lru;
        lru->state = ARP_FREE;
    }
    return lru;
}

enum arp_resolve arp_cache_resolve(struct arp_cache *c, uint32_t ip, uint64_t now,
                                   uint8_t mac[ETH_ALEN], struct arp_entry *evicted)
{
    memset(evicted, 0, sizeof(*evicted));
    struct arp_entry *e = arp_cache_find(c, ip, now);
    if (e && e->state == ARP_REACHABLE) {
        memcpy(mac, e->mac, ETH_ALEN);
        e->used = now;
        return ARP_HIT;
    }
    if (e)
        return ARP_WAIT;
    e = take_slot(c, now, evicted);
    if (!e) /* a table of zero entries: never resolves */
        return ARP_WAIT;
    memset(e, 0, sizeof(*e));
    e->ip = ip;
    e->state = ARP_INCOMPLETE;
    e->tries = 1;
    e->deadline = sat_add(now, c->retry);
    e->used = now;
    return ARP_NEW;
}

enum arp_update arp_cache_update(struct arp_cache *c, uint32_t ip, const uint8_t mac[ETH_ALEN],
                                 uint64_t now, bool create, struct arp_entry *evicted)
{
    memset(evicted, 0, sizeof(*evicted));
    enum arp_update r;
    struct arp_entry *e = arp_cache_find(c, ip, now);
    if (e) {
        r = e->state == ARP_INCOMPLETE ? ARP_UPD_RESOLVED : ARP_UPD_MERGED;
    } else {
        if (!create)
            return ARP_UPD_NONE;
        e = take_slot(c, now, evicted);
        if (!e)
            return ARP_UPD_NONE;
        e->ip = ip;
        r = ARP_UPD_CREATED;
    }
    memcpy(e->mac, mac, ETH_ALEN);
    e->state = ARP_REACHABLE;
    e->tries = 0;
    e->deadline = sat_add(now, c->timeout);
    e->used = now;
    return r;
}

enum arp_state arp_cache_remove(struct arp_cache *c, uint32_t ip)
{
    for (uint32_t i = 0; i < c->n; i++) {
        struct arp_entry *e = &c->e[i];
        if (e->state != ARP_FREE && e->ip == ip) {
            enum arp_state s = (enum arp_state)e->state;
            e->state = ARP_FREE;
            return s;
        }
    }
    return ARP_FREE;
}

enum arp_event arp_cache_step(struct arp_cache *c, uint64_t now, uint32_t *cursor, uint32_t *ip)
{
    for (; *cursor < c->n; ++*cursor) {
        struct arp_entry *e = &c->e[*cursor];
        if (e->state == ARP_FREE || now < e->deadline)
            continue;
        *ip = e->ip;
        if (e->state == ARP_REACHABLE) {
            e->state = ARP_FREE;
            ++*cursor;
            return ARP_EV_EXPIRED;
        }
        if (e->tries < c->max_tries) {
            /* From now, not from the old deadline: a late timer must not
             * fire a burst of requests (RFC 1122 section 2.3.2.1: at most
             * one request per second per destination, by default). */
            e->tries++;
            e->deadline = sat_add(now, c->retry);
            ++*cursor;
            return ARP_EV_RETRY;
        }
        e->state = ARP_FREE;
        ++*cursor;
        return ARP_EV_UNRESOLVED;
    }
    return ARP_EV_NONE;
}

uint64_t arp_cache_next_deadline(const struct arp_cache *c)
{
    uint64_t d = ARP_TIME_NEVER;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->e[i].state != ARP_FREE && c->e[i].deadline < d)
            d = c->e[i].deadline;
    return d;
}

uint32_t arp_cache_count(const struct arp_cache *c)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < c->n; i++)
        k += c->e[i].state != ARP_FREE;
    return k;
}
