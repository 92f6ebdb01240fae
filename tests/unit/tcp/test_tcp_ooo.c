/* The out-of-order ranges of a receiver: merging, the bound, joining the
 * in-order data, and RFC 2018's SACK block order, also across the 2^32
 * wrap of sequence numbers. */
#include <criterion/criterion.h>

#include "tcp_ooo.h"

#define MSS 1000u

static struct tcp_range store[4];

static struct tcp_ooo fresh(void)
{
    struct tcp_ooo o;
    tcp_ooo_init(&o, store, 4);
    return o;
}

static void has(const struct tcp_ooo *o, unsigned i, uint32_t s, uint32_t e)
{
    cr_assert(i < o->n, "range %u missing (%u held)", i, o->n);
    cr_assert_eq(o->r[i].start, s, "range %u starts at %u, expected %u", i, o->r[i].start, s);
    cr_assert_eq(o->r[i].end, e, "range %u ends at %u, expected %u", i, o->r[i].end, e);
}

Test(tcp_ooo, segments_merge_when_they_touch_or_overlap)
{
    struct tcp_ooo o = fresh();
    uint32_t nxt = 1000;
    cr_assert_eq(tcp_ooo_add(&o, nxt, 3000, 4000), 0);
    cr_assert_eq(tcp_ooo_add(&o, nxt, 6000, 7000), 0);
    cr_assert_eq(tcp_ooo_add(&o, nxt, 4000, 5000), 0); /* adjacent to the first */
    cr_assert_eq(o.n, 2);
    has(&o, 0, 3000, 5000);
    has(&o, 1, 6000, 7000);
    cr_assert_eq(tcp_ooo_add(&o, nxt, 4500, 6500), 0); /* bridges both */
    cr_assert_eq(o.n, 1);
    has(&o, 0, 3000, 7000);
    cr_assert_eq(tcp_ooo_add(&o, nxt, 3500, 3600), 0); /* inside: a duplicate */
    has(&o, 0, 3000, 7000);
    cr_assert_eq(tcp_ooo_add(&o, nxt, 2000, 9000), 0); /* covers it all */
    cr_assert_eq(o.n, 1);
    has(&o, 0, 2000, 9000);
}

Test(tcp_ooo, a_full_table_refuses_a_new_range_but_still_merges)
{
    struct tcp_ooo o = fresh();
    for (uint32_t k = 0; k < 4; k++)
        cr_assert_eq(tcp_ooo_add(&o, 0, 2000 + 2000 * k, 3000 + 2000 * k), 0);
    cr_assert_eq(tcp_ooo_add(&o, 0, 20000, 21000), -1, "a fifth range: dropped");
    cr_assert_eq(tcp_ooo_add(&o, 0, 1000, 1500), -1, "also before the others");
    cr_assert_eq(o.n, 4);
    cr_assert_eq(tcp_ooo_add(&o, 0, 3000, 4000), 0, "joins two: room again");
    cr_assert_eq(o.n, 3);
    has(&o, 0, 2000, 5000);
}

Test(tcp_ooo, the_in_order_data_takes_what_it_reaches)
{
    struct tcp_ooo o = fresh();
    tcp_ooo_add(&o, 1000, 2000, 3000);
    tcp_ooo_add(&o, 1000, 4000, 5000);
    cr_assert_eq(tcp_ooo_advance(&o, 1500), 1500, "a gap before the first range");
    cr_assert_eq(o.n, 2);
    /* the hole [1000, 2000) filled: the first range joins, the second not */
    cr_assert_eq(tcp_ooo_advance(&o, 2000), 3000);
    cr_assert_eq(o.n, 1);
    has(&o, 0, 4000, 5000);
    /* a segment past the start of the next range joins it too */
    cr_assert_eq(tcp_ooo_advance(&o, 4500), 5000);
    cr_assert_eq(o.n, 0);
}

Test(tcp_ooo, sack_blocks_come_most_recent_first)
{
    struct tcp_ooo o = fresh();
    uint32_t nxt = 1000;
    tcp_ooo_add(&o, nxt, 3000, 4000); /* A */
    tcp_ooo_add(&o, nxt, 5000, 6000); /* B */
    tcp_ooo_add(&o, nxt, 7000, 8000); /* C */
    struct tcp_range b[4];
    cr_assert_eq(tcp_ooo_sack(&o, b, 4), 3);
    cr_assert_eq(b[0].start, 7000, "RFC 2018 4: the block holding the last segment first");
    cr_assert_eq(b[1].start, 5000);
    cr_assert_eq(b[2].start, 3000);
    tcp_ooo_add(&o, nxt, 4000, 4500); /* A grows: now most recent */
    cr_assert_eq(tcp_ooo_sack(&o, b, 4), 3);
    cr_assert_eq(b[0].start, 3000);
    cr_assert_eq(b[0].end, 4500);
    cr_assert_eq(b[1].start, 7000);
    cr_assert_eq(tcp_ooo_sack(&o, b, 2), 2, "3 with timestamps, fewer if asked");
    tcp_ooo_add(&o, nxt, 9000, 9100);
    tcp_ooo_add(&o, nxt, 8000, 8100); /* C grows */
    cr_assert_eq(tcp_ooo_sack(&o, b, 3), 3);
    cr_assert_eq(b[0].start, 7000);
    cr_assert_eq(b[1].start, 9000);
    cr_assert_eq(b[2].start, 3000);
}

Test(tcp_ooo, sequence_numbers_wrap)
{
    struct tcp_ooo o = fresh();
    uint32_t nxt = 0xffffff00u;
    cr_assert_eq(tcp_ooo_add(&o, nxt, 0x00000100u, 0x00000200u), 0); /* after the wrap */
    cr_assert_eq(tcp_ooo_add(&o, nxt, 0xffffff80u, 0x00000010u), 0); /* across it */
    cr_assert_eq(o.n, 2);
    has(&o, 0, 0xffffff80u, 0x00000010u); /* in sequence order, not numeric */
    has(&o, 1, 0x00000100u, 0x00000200u);
    cr_assert_eq(tcp_ooo_add(&o, nxt, 0x00000010u, 0x00000100u), 0);
    cr_assert_eq(o.n, 1);
    has(&o, 0, 0xffffff80u, 0x00000200u);
    cr_assert_eq(tcp_ooo_advance(&o, 0xffffff80u), 0x00000200u);
    cr_assert_eq(o.n, 0);
}
