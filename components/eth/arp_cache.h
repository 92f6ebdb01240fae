/* The ARP translation table (RFC 826): IPv4 address -> MAC.
 *
 * Pure logic: a fixed array the caller provides (sized by the arp_entries
 * parameter, allocated once at start), time passed in as monotonic ns, no
 * I/O and no timers. The caller acts on what the functions return: send a
 * request, release or drop queued packets.
 *
 * Entries are FREE, INCOMPLETE (a request is out, packets may wait) or
 * REACHABLE (a MAC known until `deadline`). A full table replaces the least
 * recently used entry and says which one it replaced. Look-ups scan the
 * table: it is small on the systems this stack is for (default 32). */
#ifndef LYRA_ARP_CACHE_H
#define LYRA_ARP_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "eth_wire.h"

#define ARP_TIME_NEVER UINT64_MAX

enum arp_state { ARP_FREE = 0, ARP_INCOMPLETE, ARP_REACHABLE };

struct arp_entry {
    uint32_t ip;            /* host order */
    uint8_t mac[ETH_ALEN];  /* REACHABLE only */
    uint8_t state;          /* enum arp_state */
    uint8_t tries;          /* INCOMPLETE: requests sent so far */
    uint64_t deadline;      /* INCOMPLETE: next retry; REACHABLE: expiry */
    uint64_t used;          /* last use, for LRU replacement */
};

struct arp_cache {
    struct arp_entry *e;
    uint32_t n;
    uint64_t timeout;   /* lifetime of a REACHABLE entry */
    uint64_t retry;     /* between requests for an INCOMPLETE entry */
    uint32_t max_tries; /* requests before giving up */
};

void arp_cache_init(struct arp_cache *c, struct arp_entry *mem, uint32_t n, uint64_t timeout,
                    uint64_t retry, uint32_t max_tries);
/* Forgets everything (mem stays the caller's). */
void arp_cache_clear(struct arp_cache *c);

/* The live entry for ip, or NULL. A REACHABLE entry past its deadline is
 * freed here and not found. Does not touch the LRU order. */
struct arp_entry *arp_cache_find(struct arp_cache *c, uint32_t ip, uint64_t now);

enum arp_resolve {
    ARP_HIT,  /* mac filled in */
    ARP_WAIT, /* already INCOMPLETE: a request is out, queue the packet */
    ARP_NEW,  /* a new INCOMPLETE entry, counted as one try: send the first request now */
};

/* Resolution for output. On ARP_NEW the entry may have replaced another:
 * *evicted gets a copy of it (state ARP_FREE when nothing live was lost). */
enum arp_resolve arp_cache_resolve(struct arp_cache *c, uint32_t ip, uint64_t now,
                                   uint8_t mac[ETH_ALEN], struct arp_entry *evicted);

enum arp_update {
    ARP_UPD_NONE,     /* not in the table and not created */
    ARP_UPD_MERGED,   /* a REACHABLE entry refreshed */
    ARP_UPD_RESOLVED, /* an INCOMPLETE entry is now REACHABLE: release its packets */
    ARP_UPD_CREATED,  /* a new REACHABLE entry */
};

/* RFC 826 "merge": if ip is in the table, its MAC is updated and it becomes
 * REACHABLE for another timeout; otherwise, only when `create` (we are the
 * target of the packet) a new entry is added, maybe replacing another as in
 * arp_cache_resolve. */
enum arp_update arp_cache_update(struct arp_cache *c, uint32_t ip, const uint8_t mac[ETH_ALEN],
                                 uint64_t now, bool create, struct arp_entry *evicted);

/* Removes ip's entry; returns its former state. */
enum arp_state arp_cache_remove(struct arp_cache *c, uint32_t ip);

enum arp_event {
    ARP_EV_NONE,       /* nothing (more) is due */
    ARP_EV_RETRY,      /* send another request for ip (counted as a try) */
    ARP_EV_UNRESOLVED, /* ip gave up after max_tries requests: drop its packets */
    ARP_EV_EXPIRED,    /* ip's REACHABLE entry timed out and is gone */
};

/* Reports the work due at `now`, one item per call. Start with *cursor = 0
 * and call until ARP_EV_NONE; *ip is the address concerned. */
enum arp_event arp_cache_step(struct arp_cache *c, uint64_t now, uint32_t *cursor, uint32_t *ip);

/* The earliest deadline of any entry (ARP_TIME_NEVER when none). */
uint64_t arp_cache_next_deadline(const struct arp_cache *c);

/* Live entries (REACHABLE ones past their deadline included until stepped). */
uint32_t arp_cache_count(const struct arp_cache *c);

#endif
