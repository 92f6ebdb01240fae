/* The "copy" object (issue 12.4), from counters found by name across the
 * instances. An skb provider is an instance reporting tx_copied_bytes (the
 * zero-copy names) or, before them, skb_copy's copy_in_bytes and
 * copy_out_bytes: each provider is read in its own names, so the object is
 * right on every assembly. (%llu with casts: see stats_out.c.) */
#include <string.h>

#include "lyra/copy_stats.h"

/* what one instance reported, kept until the visitor moves on */
struct inst_acc {
    const char *inst;
    int has_tx, has_rx, has_in, has_out, has_copy;
    uint64_t tx, rx, copy_in, copy_out, copy_bytes;
};

struct copy_ctx {
    struct lyra_copy_stats *st;
    struct inst_acc cur;
};

static void flush(struct copy_ctx *c)
{
    struct inst_acc *a = &c->cur;
    struct lyra_copy_stats *st = c->st;
    if (!a->inst)
        return;
    st->tx_copied_bytes += a->has_tx ? a->tx : a->copy_in;
    st->rx_copied_bytes += a->has_rx ? a->rx : a->copy_out;
    int provider = a->has_tx || a->has_rx || a->has_in || a->has_out;
    if (a->has_copy && !provider && st->n_components < LYRA_COPY_MAX_COMPONENTS) {
        st->by_component[st->n_components].inst = a->inst;
        st->by_component[st->n_components].copy_bytes = a->copy_bytes;
        st->n_components++;
    }
    memset(a, 0, sizeof(*a));
}

static void add_fallback(struct lyra_copy_stats *st, const char *reason, uint64_t v)
{
    for (unsigned i = 0; i < st->n_fallbacks; i++)
        if (!strcmp(st->fallbacks[i].reason, reason)) {
            st->fallbacks[i].count += v;
            return;
        }
    if (st->n_fallbacks == LYRA_COPY_MAX_REASONS)
        return;
    unsigned i = st->n_fallbacks++;
    size_t n = strlen(reason);
    if (n >= LYRA_COPY_NAME_MAX)
        n = LYRA_COPY_NAME_MAX - 1;
    memcpy(st->fallbacks[i].reason, reason, n);
    st->fallbacks[i].reason[n] = 0;
    st->fallbacks[i].count = v;
}

static void on_counter(void *ctx, const char *inst, const char *name, uint64_t v)
{
    struct copy_ctx *c = ctx;
    struct inst_acc *a = &c->cur;
    if (a->inst != inst && (!a->inst || strcmp(a->inst, inst))) {
        flush(c);
        a->inst = inst;
    }
    struct lyra_copy_stats *st = c->st;
    if (!strcmp(name, "tx_copied_bytes")) {
        a->has_tx = 1;
        a->tx += v;
    } else if (!strcmp(name, "rx_copied_bytes")) {
        a->has_rx = 1;
        a->rx += v;
    } else if (!strcmp(name, "copy_in_bytes")) {
        a->has_in = 1;
        a->copy_in += v;
    } else if (!strcmp(name, "copy_out_bytes")) {
        a->has_out = 1;
        a->copy_out += v;
    } else if (!strcmp(name, "copy_bytes")) {
        a->has_copy = 1;
        a->copy_bytes += v;
    } else if (!strcmp(name, "tx_referenced_bytes")) {
        st->tx_referenced_bytes += v;
    } else if (!strcmp(name, "rx_remapped_bytes")) {
        st->rx_remapped_bytes += v;
    } else if (!strcmp(name, "rx_loaned_bytes")) {
        st->rx_loaned_bytes += v;
    } else if (!strcmp(name, "cow_faults")) {
        st->cow_faults += v;
    } else if (!strncmp(name, "fallback_", 9) && name[9]) {
        add_fallback(st, name + 9, v);
    }
}

void lyra_copy_stats_collect(struct lyra_copy_stats *st,
                             void (*walk)(void *arg, const struct lyra_stats_visitor *v), void *arg)
{
    memset(st, 0, sizeof(*st));
    struct copy_ctx c = {.st = st};
    struct lyra_stats_visitor v = {.counter = on_counter, .ctx = &c};
    walk(arg, &v);
    flush(&c);
}

static void walk_stack(void *arg, const struct lyra_stats_visitor *v)
{
    lyra_stack_stats(arg, v);
}

void lyra_stack_copy_stats(struct lyra_stack *s, struct lyra_copy_stats *st)
{
    lyra_copy_stats_collect(st, walk_stack, s);
}

void lyra_copy_stats_line(const struct lyra_copy_stats *st, FILE *f)
{
    uint64_t fb = 0;
    for (unsigned i = 0; i < st->n_fallbacks; i++)
        fb += st->fallbacks[i].count;
    fprintf(f,
            "  copy: tx %llu copied / %llu referenced, rx %llu copied / %llu remapped / %llu "
            "loaned, %llu cow faults, %llu fallbacks\n",
            (unsigned long long)st->tx_copied_bytes, (unsigned long long)st->tx_referenced_bytes,
            (unsigned long long)st->rx_copied_bytes, (unsigned long long)st->rx_remapped_bytes,
            (unsigned long long)st->rx_loaned_bytes, (unsigned long long)st->cow_faults,
            (unsigned long long)fb);
}
