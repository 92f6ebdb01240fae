/* Toy components for testing the framework alone: a provider of interface
 * "pkt", users of it with various versions and cardinalities. */
#ifndef TOY_COMPONENTS_H
#define TOY_COMPONENTS_H

#include "lyra/component.h"

struct toy_pkt_ops {
    struct lyra_ops_hdr hdr;
    int (*send)(void *self, int v);
};
struct toy_pkt_events {
    struct lyra_ops_hdr hdr;
    void (*got)(void *user, int v);
};

extern const struct lyra_component toy_src, toy_sink, toy_sink_v2, toy_sink_v13, toy_multi,
    toy_excl, toy_relay, toy_other, toy_checked, toy_old;
/* toy_mem.c: an os of memory only (mem_usage) and a user taking some at start */
extern const struct lyra_component toy_memos, toy_eater;
/* NULL-terminated, for lyra_static_resolve */
extern const struct lyra_component *const toy_all[];

/* state visible to tests */
struct toy_state {
    int created, started, stopped, bound, attached;
    int sent, got;
    int order_started; /* global-free start order: filled from a counter the test passes */
    const struct toy_pkt_ops *ops;
    void *prov;
    const struct toy_pkt_events *ev;
    void *user;
    int64_t count;
    const char *label;
};

#endif
