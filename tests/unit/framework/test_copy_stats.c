/* The "copy" object's rules (lyra/copy_stats.h, docs/buffers.md "Copies"):
 * counters found by name whatever the instance is called, a provider read
 * in its own names (zero-copy names, else skb_copy's copy_in/copy_out),
 * fallbacks summed by reason, every other copy_bytes attributed. */
#include <criterion/criterion.h>
#include <string.h>

#include "lyra/copy_stats.h"

struct ctr {
    const char *inst, *name;
    uint64_t v;
};

static void walk(void *arg, const struct lyra_stats_visitor *v)
{
    for (const struct ctr *c = arg; c->inst; c++)
        v->counter(v->ctx, c->inst, c->name, c->v);
}

static uint64_t by(const struct lyra_copy_stats *st, const char *inst)
{
    for (unsigned i = 0; i < st->n_components; i++)
        if (!strcmp(st->by_component[i].inst, inst))
            return st->by_component[i].copy_bytes;
    return UINT64_MAX;
}

Test(copy_stats, skb_copy_names_give_the_totals)
{
    /* skb_copy as it reports today, under an unusual instance name */
    static const struct ctr c[] = {
        {"bufs", "copy_bytes", 300}, {"bufs", "copy_in_bytes", 100},
        {"bufs", "copy_out_bytes", 200}, {"udp", "copy_bytes", 120},
        {"tcp", "copy_bytes", 180}, {"tcp", "rx_loaned_bytes", 0},
        {"eth", "copy_bytes", 0}, {"nic", "tx_frames", 7}, {NULL, NULL, 0}};
    struct lyra_copy_stats st;
    lyra_copy_stats_collect(&st, walk, (void *)c);
    cr_assert_eq(st.tx_copied_bytes, 100);
    cr_assert_eq(st.rx_copied_bytes, 200);
    cr_assert_eq(st.tx_referenced_bytes + st.rx_remapped_bytes + st.rx_loaned_bytes, 0);
    cr_assert_eq(st.n_fallbacks, 0);
    /* the provider is not a component of its own totals; zeros are listed */
    cr_assert_eq(st.n_components, 3);
    cr_assert_eq(by(&st, "bufs"), UINT64_MAX);
    cr_assert_eq(by(&st, "udp"), 120);
    cr_assert_eq(by(&st, "tcp"), 180);
    cr_assert_eq(by(&st, "eth"), 0);
}

Test(copy_stats, zero_copy_names_win_over_the_old_ones)
{
    static const struct ctr c[] = {
        {"skb", "copy_in_bytes", 999}, {"skb", "tx_copied_bytes", 10},
        {"skb", "tx_referenced_bytes", 4000}, {"skb", "copy_out_bytes", 999},
        {"skb", "rx_copied_bytes", 20}, {"skb", "rx_remapped_bytes", 2896},
        {"skb", "cow_faults", 2}, {"skb", "fallback_unaligned", 3},
        {"skb", "fallback_short_read", 1}, {"tcp", "rx_loaned_bytes", 1448},
        {"tcp", "fallback_unaligned", 2}, {"udp", "rx_loaned_bytes", 52},
        {"tcp", "copy_bytes", 30}, {NULL, NULL, 0}};
    struct lyra_copy_stats st;
    lyra_copy_stats_collect(&st, walk, (void *)c);
    cr_assert_eq(st.tx_copied_bytes, 10);
    cr_assert_eq(st.tx_referenced_bytes, 4000);
    cr_assert_eq(st.rx_copied_bytes, 20);
    cr_assert_eq(st.rx_remapped_bytes, 2896);
    cr_assert_eq(st.rx_loaned_bytes, 1500, "summed over the transports");
    cr_assert_eq(st.cow_faults, 2);
    cr_assert_eq(st.n_fallbacks, 2);
    cr_assert_str_eq(st.fallbacks[0].reason, "unaligned");
    cr_assert_eq(st.fallbacks[0].count, 5, "one reason summed across instances");
    cr_assert_str_eq(st.fallbacks[1].reason, "short_read");
    cr_assert_eq(st.fallbacks[1].count, 1);
    cr_assert_eq(st.n_components, 1);
    cr_assert_eq(by(&st, "tcp"), 30);
}

Test(copy_stats, the_line_says_what_moved)
{
    static const struct ctr c[] = {{"skb", "copy_in_bytes", 5}, {"skb", "copy_out_bytes", 7},
                                   {NULL, NULL, 0}};
    struct lyra_copy_stats st;
    lyra_copy_stats_collect(&st, walk, (void *)c);
    char buf[256] = "";
    FILE *f = fmemopen(buf, sizeof(buf), "w");
    lyra_copy_stats_line(&st, f);
    fclose(f);
    cr_assert_str_eq(buf, "  copy: tx 5 copied / 0 referenced, rx 7 copied / 0 remapped / 0 "
                          "loaned, 0 cow faults, 0 fallbacks\n");
}
