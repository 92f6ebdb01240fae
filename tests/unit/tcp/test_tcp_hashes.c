/* Initial sequence numbers (RFC 6528) and ephemeral ports (RFC 6056
 * algorithm 3): what an attacker may and may not learn from them. */
#include <criterion/criterion.h>
#include <string.h>

#include "tcp_hashes.h"

static const uint8_t K1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t K2[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
#define A 0xc0000202u /* 192.0.2.2 */
#define B 0xc0000203u

Test(tcp_isn, the_clock_moves_it_every_4_us)
{
    uint32_t i0 = tcp_isn(K1, A, 49152, B, 80, 1000000000ull);
    cr_assert_eq(tcp_isn(K1, A, 49152, B, 80, 1000000000ull + 3999), i0, "same 4 us tick");
    cr_assert_eq(tcp_isn(K1, A, 49152, B, 80, 1000000000ull + 4000), i0 + 1);
    cr_assert_eq(tcp_isn(K1, A, 49152, B, 80, 2000000000ull), i0 + 250000, "250,000 per second");
}

Test(tcp_isn, each_connection_and_secret_has_its_own_sequence_space)
{
    uint64_t t = 5000000000ull;
    uint32_t base = tcp_isn(K1, A, 49152, B, 80, t);
    cr_assert_neq(tcp_isn(K1, A, 49153, B, 80, t), base, "local port");
    cr_assert_neq(tcp_isn(K1, A, 49152, B, 81, t), base, "remote port");
    cr_assert_neq(tcp_isn(K1, A, 49152, A, 80, t), base, "remote address");
    cr_assert_neq(tcp_isn(K1, B, 49152, B, 80, t), base, "local address");
    cr_assert_neq(tcp_isn(K2, A, 49152, B, 80, t), base, "another boot's secret");
    /* swapping the ports is another connection, not the same hash */
    cr_assert_neq(tcp_isn(K1, A, 80, B, 49152, t), base);
}

struct taken {
    uint16_t lo, hi; /* usable: outside [lo, hi] */
    unsigned tries;
};

static int usable(void *ctx, uint16_t port)
{
    struct taken *t = ctx;
    t->tries++;
    return port < t->lo || port > t->hi;
}

Test(tcp_port, ports_toward_one_destination_are_sequential_from_a_secret_offset)
{
    uint32_t off = tcp_port_offset(K1, A, B, 80), next = 0;
    struct taken none = {1, 0, 0};
    uint16_t p1, p2;
    cr_assert_eq(tcp_port_pick(off, &next, 49152, 65535, usable, &none, &p1), 0);
    cr_assert_eq(tcp_port_pick(off, &next, 49152, 65535, usable, &none, &p2), 0);
    cr_assert(p1 >= 49152 && p2 >= 49152);
    cr_assert_eq((uint16_t)(p2 - 49152), (uint16_t)((p1 - 49152 + 1) % 16384));
    cr_assert_eq(p1, 49152 + off % 16384);
    /* another destination: another offset, so p1 tells nothing about it */
    cr_assert_neq(tcp_port_offset(K1, A, B, 443), off);
    cr_assert_neq(tcp_port_offset(K2, A, B, 80), off);
}

Test(tcp_port, ports_in_use_are_skipped_and_a_full_range_is_refused)
{
    uint32_t next = 0;
    /* offset 0: tries 1000, 1001, ... ; 1000..1005 are taken */
    struct taken t = {1000, 1005, 0};
    uint16_t p;
    cr_assert_eq(tcp_port_pick(0, &next, 1000, 1009, usable, &t, &p), 0);
    cr_assert_eq(p, 1006);
    cr_assert_eq(t.tries, 7);
    cr_assert_eq(next, 7);
    struct taken all = {0, 65535, 0};
    next = 0;
    cr_assert_eq(tcp_port_pick(12345, &next, 1000, 1009, usable, &all, &p), -1);
    cr_assert_eq(all.tries, 10, "every port tried once");
    cr_assert_eq(tcp_port_pick(0, &next, 10, 9, usable, &all, &p), -1, "empty range");
}

/* A SYN cookie's connection has no state between SYN-ACK and ACK: its
 * timestamp offset is computed again from the address pair (as Linux's
 * secure_tcp_ts_off), the same every time, its own per pair and secret. */
Test(tcp_ts_offset, per_address_pair_and_secret)
{
    uint32_t o = tcp_ts_offset(K1, A, B);
    cr_assert_eq(tcp_ts_offset(K1, A, B), o);
    cr_assert_neq(tcp_ts_offset(K1, B, A), o);
    cr_assert_neq(tcp_ts_offset(K1, A, A), o);
    cr_assert_neq(tcp_ts_offset(K2, A, B), o);
    cr_assert_neq(tcp_isn(K1, A, 0, B, 0, 0), o, "not the ISN's function");
}
