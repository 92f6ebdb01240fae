/* Path MTU per destination (RFC 1191): what ip has learnt of the largest
 * datagram that reaches a destination unfragmented, lower than the link's.
 *
 * Only lowered (by pmtu_update, once a transport believes a "fragmentation
 * needed"), never below the floor; an entry ages out `timeout` after its
 * last lowering and the destination is back at the link MTU (RFC 1191
 * 6.3: the estimate is raised again after 10 minutes, in case the path
 * changed; a path still too small answers again and is lowered again).
 *
 * Eviction: a full table takes a new destination in place of an aged-out
 * entry if there is one, else of the entry lowered longest ago (the one
 * that would age out first): a host sends to few destinations through
 * smaller links, and the cost of forgetting one is one more ICMP round.
 *
 * Pure logic: entries live in an array the caller owns (os memory at
 * ip's start); time is passed in; no I/O, no allocation. */
#ifndef LYRA_PMTU_H
#define LYRA_PMTU_H

#include <stdint.h>

struct pmtu_entry {
    uint32_t dst;     /* host order */
    uint32_t mtu;
    uint64_t expires; /* ns: back to the link MTU from then on */
};

struct pmtu_stats {
    uint64_t lowered;   /* a destination's estimate lowered (new entries too) */
    uint64_t not_lower; /* a claim at or above the estimate: nothing changed */
    uint64_t below_min; /* a claim below the floor: ignored */
    uint64_t expired;   /* entries aged out */
    uint64_t evicted;   /* live entries replaced when the table was full */
};

struct pmtu_table {
    struct pmtu_entry *e;
    unsigned n, cap;
    uint32_t floor;   /* the smallest path MTU believed */
    uint64_t timeout; /* ns */
    /* no entry has an MTU below this: a datagram of at most `low` bytes
     * needs no lookup (may be lower than every live entry, never higher) */
    uint32_t low;
    struct pmtu_stats st;
};

/* An empty table over mem (cap entries), counters zeroed. */
void pmtu_init(struct pmtu_table *t, struct pmtu_entry *mem, unsigned cap, uint32_t floor,
               uint64_t timeout);
/* The path MTU to dst at `now`: its entry's, else link_mtu. An aged-out
 * entry found on the way is removed. */
uint32_t pmtu_get(struct pmtu_table *t, uint32_t dst, uint32_t link_mtu, uint64_t now);
/* A believed claim that the path to dst carries mtu bytes: the estimate
 * becomes min(its current value, mtu) (a new entry when lower than
 * link_mtu), the entry's age restarts when it is lowered. Returns the
 * path MTU now in force, or -ERANGE when mtu is below the floor. */
int pmtu_update(struct pmtu_table *t, uint32_t dst, uint32_t mtu, uint32_t link_mtu,
                uint64_t now);
/* RFC 1191 section 5 (table in section 7): a router that sends no next-hop
 * MTU leaves the host to guess the largest plateau below the quoted
 * datagram's total length; 0 when there is none (a length of 68 or less). */
uint32_t pmtu_plateau(uint32_t tot_len);

#endif
