/* Sequence-number comparisons across the 2^32 wrap (RFC 9293 3.4, RFC 1982
 * 3.2), at the boundaries picoTCP's modunit_seq.c checks and more. */
#include <criterion/criterion.h>

#include "tcp_seq.h"

/* Bases around every place where a naive comparison breaks: 0, the sign
 * bit of a signed difference, and the top of the unsigned range. */
static const uint32_t bases[] = {0u,          1u,          0x7ffffffeu, 0x7fffffffu,
                                 0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu,
                                 0x12345678u, 0xdeadbeefu};
/* Distances up to 2^31 - 1, the farthest RFC 1982 orders. */
static const uint32_t dists[] = {1u,          2u,      1000u, 65535u, 65536u, 0x3fffffffu,
                                 0x40000000u, 0x7ffffffeu, 0x7fffffffu};

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(tcp_seq, a_later_value_is_greater_across_the_wrap)
{
    for (size_t i = 0; i < N(bases); i++)
        for (size_t j = 0; j < N(dists); j++) {
            tcp_seq_t a = tcp_seq(bases[i]);
            tcp_seq_t b = tcp_seq_add(a, dists[j]);
            cr_assert(tcp_seq_lt(a, b), "%08x < %08x", a.v, b.v);
            cr_assert(tcp_seq_le(a, b));
            cr_assert(tcp_seq_gt(b, a), "%08x > %08x", b.v, a.v);
            cr_assert(tcp_seq_ge(b, a));
            cr_assert(!tcp_seq_lt(b, a), "!(%08x < %08x)", b.v, a.v);
            cr_assert(!tcp_seq_le(b, a));
            cr_assert(!tcp_seq_gt(a, b));
            cr_assert(!tcp_seq_ge(a, b));
            cr_assert(!tcp_seq_eq(a, b));
            cr_assert_eq(tcp_seq_max(a, b).v, b.v);
            cr_assert_eq(tcp_seq_min(b, a).v, a.v);
        }
}

Test(tcp_seq, the_distance_is_signed_and_exact)
{
    for (size_t i = 0; i < N(bases); i++)
        for (size_t j = 0; j < N(dists); j++) {
            tcp_seq_t a = tcp_seq(bases[i]);
            tcp_seq_t b = tcp_seq_add(a, dists[j]);
            cr_assert_eq(tcp_seq_diff(b, a), (int32_t)dists[j], "%08x - %08x", b.v, a.v);
            cr_assert_eq(tcp_seq_diff(a, b), -(int32_t)dists[j], "%08x - %08x", a.v, b.v);
        }
}

Test(tcp_seq, equal_values_are_le_and_ge_not_lt_or_gt)
{
    for (size_t i = 0; i < N(bases); i++) {
        tcp_seq_t a = tcp_seq(bases[i]);
        cr_assert(tcp_seq_le(a, a) && tcp_seq_ge(a, a) && tcp_seq_eq(a, a));
        cr_assert(!tcp_seq_lt(a, a) && !tcp_seq_gt(a, a));
        cr_assert_eq(tcp_seq_diff(a, a), 0);
    }
}

Test(tcp_seq, add_wraps_modulo_two_to_the_32)
{
    cr_assert_eq(tcp_seq_add(tcp_seq(0xffffffffu), 1).v, 0u);
    cr_assert_eq(tcp_seq_add(tcp_seq(0xfffffff0u), 0x20).v, 0x10u);
    /* the classic wrap: 0 is after 0xffffffff, 10 after 0xfffffff0 */
    cr_assert(tcp_seq_lt(tcp_seq(0xffffffffu), tcp_seq(0)));
    cr_assert(tcp_seq_gt(tcp_seq(10), tcp_seq(0xfffffff0u)));
}

Test(tcp_seq, two_to_the_31_apart_is_unordered_and_said_so)
{
    /* RFC 1982 3.2 leaves it undefined; the header documents that each is
     * then "less" than the other (as Linux's before()) and the distance is
     * INT32_MIN both ways. */
    for (size_t i = 0; i < N(bases); i++) {
        tcp_seq_t a = tcp_seq(bases[i]);
        tcp_seq_t b = tcp_seq_add(a, 0x80000000u);
        cr_assert(tcp_seq_lt(a, b) && tcp_seq_lt(b, a));
        cr_assert_eq(tcp_seq_diff(a, b), INT32_MIN);
        cr_assert_eq(tcp_seq_diff(b, a), INT32_MIN);
    }
}

Test(tcp_seq, in_holds_the_window_and_nothing_else_across_the_wrap)
{
    /* RFC 9293 3.4: RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND */
    const uint32_t wnds[] = {1u, 2u, 65535u, 1u << 30};
    for (size_t i = 0; i < N(bases); i++)
        for (size_t w = 0; w < N(wnds); w++) {
            tcp_seq_t lo = tcp_seq(bases[i]);
            tcp_seq_t hi = tcp_seq_add(lo, wnds[w]);
            cr_assert(tcp_seq_in(lo, lo, hi), "lo %08x wnd %u", lo.v, wnds[w]);
            cr_assert(tcp_seq_in(tcp_seq_add(hi, (uint32_t)-1), lo, hi));
            cr_assert(!tcp_seq_in(hi, lo, hi), "hi excluded");
            cr_assert(!tcp_seq_in(tcp_seq_add(lo, (uint32_t)-1), lo, hi), "before lo");
            cr_assert(!tcp_seq_in(tcp_seq_add(hi, 1000), lo, hi));
        }
    /* an empty window holds nothing, not even lo */
    cr_assert(!tcp_seq_in(tcp_seq(5), tcp_seq(5), tcp_seq(5)));
}

Test(tcp_seq, every_pair_of_a_dense_sweep_is_antisymmetric)
{
    /* 64 values (4096 pairs), spread over the space and clustered at the wrap:
     * exactly one of a < b, a == b, b < a unless 2^31 apart. */
    uint32_t v[64];
    for (unsigned k = 0; k < 32; k++)
        v[k] = k * 0x08000001u;
    for (unsigned k = 0; k < 32; k++)
        v[32 + k] = 0xfffffff0u + k;
    for (unsigned x = 0; x < 64; x++)
        for (unsigned y = 0; y < 64; y++) {
            tcp_seq_t a = tcp_seq(v[x]), b = tcp_seq(v[y]);
            if (a.v - b.v == 0x80000000u)
                continue;
            int n = tcp_seq_lt(a, b) + tcp_seq_eq(a, b) + tcp_seq_lt(b, a);
            cr_assert_eq(n, 1, "%08x %08x", a.v, b.v);
            cr_assert_eq(tcp_seq_lt(a, b), tcp_seq_diff(a, b) < 0);
        }
}

Test(tcp_seq, timestamps_compare_modulo_two_to_the_32_for_paws)
{
    /* RFC 7323 5.3: TSval < TS.Recent, the clock having wrapped or not */
    for (size_t i = 0; i < N(bases); i++)
        for (size_t j = 0; j < N(dists); j++) {
            uint32_t recent = bases[i], later = bases[i] + dists[j];
            cr_assert(tcp_ts_lt(recent, later), "%08x < %08x", recent, later);
            cr_assert(!tcp_ts_lt(later, recent), "!(%08x < %08x)", later, recent);
        }
    cr_assert(!tcp_ts_lt(7, 7));
}
