/* arp_cache alone: pure logic with time passed in. */
#include <criterion/criterion.h>
#include <string.h>

#include "arp_cache.h"

#define S 1000000000ull
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint8_t macA[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t macB[6] = {0x02, 0, 0, 0, 0, 0xb};

struct fx {
    struct arp_entry mem[4];
    struct arp_cache c;
};

static void fx_init(struct fx *f, uint32_t n)
{
    memset(f->mem, 0x5a, sizeof(f->mem)); /* init must clear it */
    arp_cache_init(&f->c, f->mem, n, 60 * S, 1 * S, 3);
}

Test(arp_cache, empty)
{
    struct fx f;
    fx_init(&f, 4);
    cr_assert_eq(arp_cache_count(&f.c), 0);
    cr_assert_null(arp_cache_find(&f.c, IP(192, 0, 2, 1), 0));
    cr_assert_eq(arp_cache_next_deadline(&f.c), ARP_TIME_NEVER);
    uint32_t cur = 0, ip;
    cr_assert_eq(arp_cache_step(&f.c, 1000 * S, &cur, &ip), ARP_EV_NONE);
}

Test(arp_cache, resolve_then_reply)
{
    struct fx f;
    fx_init(&f, 4);
    uint8_t mac[6];
    struct arp_entry old;
    uint32_t ip = IP(192, 0, 2, 1);
    cr_assert_eq(arp_cache_resolve(&f.c, ip, 10, mac, &old), ARP_NEW);
    cr_assert_eq(old.state, ARP_FREE);
    struct arp_entry *e = arp_cache_find(&f.c, ip, 10);
    cr_assert_not_null(e);
    cr_assert_eq(e->state, ARP_INCOMPLETE);
    cr_assert_eq(e->tries, 1);
    cr_assert_eq(arp_cache_next_deadline(&f.c), 10 + S);
    cr_assert_eq(arp_cache_resolve(&f.c, ip, 20, mac, &old), ARP_WAIT);
    /* a reply: merged even though we are "not the target" (create=false),
     * since the pair is in the table (RFC 826) */
    cr_assert_eq(arp_cache_update(&f.c, ip, macA, 30, false, &old), ARP_UPD_RESOLVED);
    cr_assert_eq(arp_cache_resolve(&f.c, ip, 40, mac, &old), ARP_HIT);
    cr_assert_arr_eq(mac, macA, 6);
    cr_assert_eq(arp_cache_next_deadline(&f.c), 30 + 60 * S);
    /* a later packet with a new MAC refreshes it */
    cr_assert_eq(arp_cache_update(&f.c, ip, macB, 50, false, &old), ARP_UPD_MERGED);
    cr_assert_eq(arp_cache_resolve(&f.c, ip, 60, mac, &old), ARP_HIT);
    cr_assert_arr_eq(mac, macB, 6);
    cr_assert_eq(arp_cache_count(&f.c), 1);
}

Test(arp_cache, merge_rule)
{
    struct fx f;
    fx_init(&f, 4);
    struct arp_entry old;
    /* not in the table, not the target: nothing learned */
    cr_assert_eq(arp_cache_update(&f.c, IP(192, 0, 2, 9), macA, 0, false, &old), ARP_UPD_NONE);
    cr_assert_eq(arp_cache_count(&f.c), 0);
    /* target: created */
    cr_assert_eq(arp_cache_update(&f.c, IP(192, 0, 2, 9), macA, 0, true, &old), ARP_UPD_CREATED);
    cr_assert_eq(arp_cache_count(&f.c), 1);
    cr_assert_eq(arp_cache_update(&f.c, IP(192, 0, 2, 9), macB, 1, true, &old), ARP_UPD_MERGED);
    cr_assert_eq(arp_cache_count(&f.c), 1);
}

Test(arp_cache, expiry)
{
    struct fx f;
    fx_init(&f, 4);
    struct arp_entry old;
    uint8_t mac[6];
    uint32_t ip = IP(192, 0, 2, 1);
    arp_cache_update(&f.c, ip, macA, 5 * S, true, &old);
    cr_assert_eq(arp_cache_resolve(&f.c, ip, 65 * S - 1, mac, &old), ARP_HIT);
    /* the last use does not extend the lifetime: only ARP packets do */
    cr_assert_null(arp_cache_find(&f.c, ip, 65 * S));
    cr_assert_eq(arp_cache_count(&f.c), 0);

    arp_cache_update(&f.c, ip, macA, 0, true, &old);
    uint32_t cur = 0, got;
    cr_assert_eq(arp_cache_step(&f.c, 60 * S - 1, &cur, &got), ARP_EV_NONE);
    cur = 0;
    cr_assert_eq(arp_cache_step(&f.c, 60 * S, &cur, &got), ARP_EV_EXPIRED);
    cr_assert_eq(got, ip);
    cr_assert_eq(arp_cache_step(&f.c, 60 * S, &cur, &got), ARP_EV_NONE);
    cr_assert_eq(arp_cache_count(&f.c), 0);
    cr_assert_eq(arp_cache_next_deadline(&f.c), ARP_TIME_NEVER);
}

Test(arp_cache, retries_then_unresolved)
{
    struct fx f;
    fx_init(&f, 4);
    struct arp_entry old;
    uint8_t mac[6];
    uint32_t ip = IP(192, 0, 2, 7), got, cur;
    cr_assert_eq(arp_cache_resolve(&f.c, ip, 0, mac, &old), ARP_NEW); /* request 1 */
    cur = 0;
    cr_assert_eq(arp_cache_step(&f.c, S - 1, &cur, &got), ARP_EV_NONE);
    cur = 0;
    cr_assert_eq(arp_cache_step(&f.c, S, &cur, &got), ARP_EV_RETRY); /* request 2 */
    cr_assert_eq(got, ip);
    cr_assert_eq(arp_cache_next_deadline(&f.c), 2 * S);
    cur = 0;
    cr_assert_eq(arp_cache_step(&f.c, 2 * S, &cur, &got), ARP_EV_RETRY); /* request 3 */
    cr_assert_eq(arp_cache_find(&f.c, ip, 2 * S)->tries, 3);
    cur = 0;
    cr_assert_eq(arp_cache_step(&f.c, 3 * S, &cur, &got), ARP_EV_UNRESOLVED);
    cr_assert_eq(got, ip);
    cr_assert_null(arp_cache_find(&f.c, ip, 3 * S));
    /* a new attempt starts from scratch */
    cr_assert_eq(arp_cache_resolve(&f.c, ip, 3 * S, mac, &old), ARP_NEW);
}

Test(arp_cache, late_timer_no_burst)
{
    struct fx f;
    fx_init(&f, 4);
    struct arp_entry old;
    uint8_t mac[6];
    uint32_t got, cur = 0;
    arp_cache_resolve(&f.c, IP(192, 0, 2, 7), 0, mac, &old);
    /* the timer runs 10 s late: one retry, the next a full interval later */
    cr_assert_eq(arp_cache_step(&f.c, 10 * S, &cur, &got), ARP_EV_RETRY);
    cr_assert_eq(arp_cache_step(&f.c, 10 * S, &cur, &got), ARP_EV_NONE);
    cr_assert_eq(arp_cache_next_deadline(&f.c), 11 * S);
}

Test(arp_cache, lru_replacement)
{
    struct fx f;
    fx_init(&f, 3);
    struct arp_entry old;
    uint8_t mac[6];
    arp_cache_update(&f.c, IP(10, 0, 0, 1), macA, 1, true, &old);
    arp_cache_update(&f.c, IP(10, 0, 0, 2), macA, 2, true, &old);
    arp_cache_update(&f.c, IP(10, 0, 0, 3), macA, 3, true, &old);
    cr_assert_eq(old.state, ARP_FREE);
    /* use .1 again: .2 is now the least recently used */
    cr_assert_eq(arp_cache_resolve(&f.c, IP(10, 0, 0, 1), 4, mac, &old), ARP_HIT);
    cr_assert_eq(arp_cache_resolve(&f.c, IP(10, 0, 0, 4), 5, mac, &old), ARP_NEW);
    cr_assert_eq(old.state, ARP_REACHABLE);
    cr_assert_eq(old.ip, IP(10, 0, 0, 2));
    cr_assert_null(arp_cache_find(&f.c, IP(10, 0, 0, 2), 5));
    cr_assert_not_null(arp_cache_find(&f.c, IP(10, 0, 0, 1), 5));
    cr_assert_eq(arp_cache_count(&f.c), 3);
    /* next victim: .3 (used at 3) */
    cr_assert_eq(arp_cache_update(&f.c, IP(10, 0, 0, 5), macB, 6, true, &old), ARP_UPD_CREATED);
    cr_assert_eq(old.ip, IP(10, 0, 0, 3));
    /* left: .1 (used at 4), .4 (INCOMPLETE, 5), .5 (6): .1 goes, then .4 */
    cr_assert_eq(arp_cache_resolve(&f.c, IP(10, 0, 0, 6), 7, mac, &old), ARP_NEW);
    cr_assert_eq(old.ip, IP(10, 0, 0, 1));
    cr_assert_eq(arp_cache_resolve(&f.c, IP(10, 0, 0, 7), 8, mac, &old), ARP_NEW);
    cr_assert_eq(old.ip, IP(10, 0, 0, 4));
    cr_assert_eq(old.state, ARP_INCOMPLETE); /* the caller drops its packets */
}

Test(arp_cache, expired_slot_reused_without_eviction)
{
    struct fx f;
    fx_init(&f, 2);
    struct arp_entry old;
    uint8_t mac[6];
    arp_cache_update(&f.c, IP(10, 0, 0, 1), macA, 0, true, &old);
    arp_cache_update(&f.c, IP(10, 0, 0, 2), macA, 100 * S, true, &old);
    /* .1 expired at 60 s: it is taken before the LRU rule applies */
    cr_assert_eq(arp_cache_resolve(&f.c, IP(10, 0, 0, 3), 120 * S, mac, &old), ARP_NEW);
    cr_assert_eq(old.state, ARP_FREE);
    cr_assert_not_null(arp_cache_find(&f.c, IP(10, 0, 0, 2), 120 * S));
}

Test(arp_cache, remove_and_clear)
{
    struct fx f;
    fx_init(&f, 4);
    struct arp_entry old;
    uint8_t mac[6];
    arp_cache_update(&f.c, IP(10, 0, 0, 1), macA, 0, true, &old);
    arp_cache_resolve(&f.c, IP(10, 0, 0, 2), 0, mac, &old);
    cr_assert_eq(arp_cache_remove(&f.c, IP(10, 0, 0, 2)), ARP_INCOMPLETE);
    cr_assert_eq(arp_cache_remove(&f.c, IP(10, 0, 0, 2)), ARP_FREE);
    cr_assert_eq(arp_cache_remove(&f.c, IP(10, 0, 0, 1)), ARP_REACHABLE);
    arp_cache_update(&f.c, IP(10, 0, 0, 1), macA, 0, true, &old);
    arp_cache_clear(&f.c);
    cr_assert_eq(arp_cache_count(&f.c), 0);
}

Test(arp_cache, single_entry_and_zero)
{
    struct fx f;
    fx_init(&f, 1);
    struct arp_entry old;
    uint8_t mac[6];
    cr_assert_eq(arp_cache_resolve(&f.c, IP(10, 0, 0, 1), 0, mac, &old), ARP_NEW);
    cr_assert_eq(arp_cache_resolve(&f.c, IP(10, 0, 0, 2), 1, mac, &old), ARP_NEW);
    cr_assert_eq(old.ip, IP(10, 0, 0, 1));
    /* a table of no entries never resolves but never crashes */
    struct arp_cache z;
    arp_cache_init(&z, NULL, 0, S, S, 1);
    cr_assert_eq(arp_cache_resolve(&z, IP(10, 0, 0, 1), 0, mac, &old), ARP_WAIT);
    cr_assert_eq(arp_cache_update(&z, IP(10, 0, 0, 1), macA, 0, true, &old), ARP_UPD_NONE);
    cr_assert_eq(arp_cache_next_deadline(&z), ARP_TIME_NEVER);
}

Test(arp_cache, no_overflow_near_end_of_time)
{
    struct fx f;
    fx_init(&f, 2);
    struct arp_entry old;
    arp_cache_update(&f.c, IP(10, 0, 0, 1), macA, UINT64_MAX - 5, true, &old);
    cr_assert_eq(arp_cache_next_deadline(&f.c), ARP_TIME_NEVER);
    cr_assert_not_null(arp_cache_find(&f.c, IP(10, 0, 0, 1), UINT64_MAX - 1));
}
