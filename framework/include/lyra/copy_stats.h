/* The "copy" object of --stats and --stats-json (issue 12.4): what the
 * stack did with payload bytes, gathered from the counters every instance
 * reports, found by name (no instance name is assumed). docs/buffers.md,
 * "Copies", says what each field counts. */
#ifndef LYRA_COPY_STATS_H
#define LYRA_COPY_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "lyra/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_COPY_MAX_REASONS 16
#define LYRA_COPY_MAX_COMPONENTS 24
#define LYRA_COPY_NAME_MAX 32

struct lyra_copy_stats {
    /* the skb provider's (skb_copy before zero copy: copy_in_bytes and
     * copy_out_bytes), summed over providers; rx_loaned_bytes: the
     * transports' */
    uint64_t tx_copied_bytes, tx_referenced_bytes;
    uint64_t rx_copied_bytes, rx_remapped_bytes, rx_loaned_bytes;
    uint64_t cow_faults;
    /* counters fallback_<reason>, summed by reason */
    unsigned n_fallbacks;
    struct {
        char reason[LYRA_COPY_NAME_MAX];
        uint64_t count;
    } fallbacks[LYRA_COPY_MAX_REASONS];
    /* every other instance reporting copy_bytes (payload it copied, by
     * itself or through the provider), in plan order, zeros included */
    unsigned n_components;
    struct {
        const char *inst; /* the stack's instance name */
        uint64_t copy_bytes;
    } by_component[LYRA_COPY_MAX_COMPONENTS];
};

/* Fills st from the counters of every instance of s. */
void lyra_stack_copy_stats(struct lyra_stack *s, struct lyra_copy_stats *st);
/* The same from any walk over counters (walk(arg, v) calls v->counter for
 * each, an instance's counters one after another): tests feed their own. */
void lyra_copy_stats_collect(struct lyra_copy_stats *st,
                             void (*walk)(void *arg, const struct lyra_stats_visitor *v), void *arg);
/* Writes the one line "  copy: tx X copied / Y referenced, rx ...\n". */
void lyra_copy_stats_line(const struct lyra_copy_stats *st, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
