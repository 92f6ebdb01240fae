/* The component model: what a component declares about itself.
 *
 * A component is a C type plus one const descriptor exported under the symbol
 * lyra_component_NAME. The framework reads only the descriptor: it creates an
 * instance in instance_size bytes it owns, binds slots to providers, starts,
 * polls, stops and destroys. No component names another component's type. */
#ifndef LYRA_COMPONENT_H
#define LYRA_COMPONENT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lyra/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the descriptor layout itself (not of any interface). */
#define LYRA_ABI_MAJOR 1
#define LYRA_ABI_MINOR 2 /* 1: check hook; 2: flags */

/* Every ops or events table starts with this header, so a binder can check
 * what it is handed: same major, minor at least the one the user was built
 * against, and a table at least as large as the user expects. */
struct lyra_ops_hdr {
    uint16_t major;
    uint16_t minor;
    uint32_t size;
    const char *iface;
};

#define LYRA_OPS_HDR(IFACE, MAJOR, MINOR, TYPE) \
    { .major = (MAJOR), .minor = (MINOR), .size = sizeof(TYPE), .iface = (IFACE) }

struct lyra_diag;

/* An interface the component provides. `attach` is called once per user bound
 * to it, with the user's events table (NULL if the interface has no events or
 * the user implements none) and the user's instance. */
struct lyra_provide {
    const char *iface;
    uint16_t major, minor;
    const void *ops;
    int (*attach)(void *self, const void *events, void *user);
    uint16_t max_users; /* 0: any number */
    const char *doc;
};

/* A slot: an interface the component uses. min 0 means optional. Each bound
 * provider (index 0..max-1 in manifest order) is handed over by `bind`, or,
 * when bind is NULL, stored by the framework: its ops table at ops_off and
 * its instance at self_off in the user's instance (arrays of max pointers;
 * use LYRA_SLOT_STORE). */
struct lyra_slot {
    const char *name;
    const char *iface;
    uint16_t major, minor;
    uint8_t min, max;
    const void *events; /* the events table this user implements, or NULL */
    int (*bind)(void *self, unsigned index, const void *ops, void *provider);
    const char *doc;
    size_t ops_off, self_off;
};

/* .bind = NULL with the fields that receive a provider's table and instance. */
#define LYRA_SLOT_STORE(TYPE, OPS_FIELD, SELF_FIELD) \
    .ops_off = offsetof(TYPE, OPS_FIELD), .self_off = offsetof(TYPE, SELF_FIELD)

struct lyra_param {
    const char *name;
    enum lyra_ptype type;
    const char *def; /* default, written as in a manifest; NULL: unset unless given */
    int64_t min, max; /* for INT, SIZE, PERCENT (ppm), DURATION (ns); ignored when min > max */
    const char *doc;
};

/* Counters a component reports, read by --stats, --stats-json and tests. */
struct lyra_stats_sink {
    void (*counter)(struct lyra_stats_sink *sink, const char *name, uint64_t value);
    void *ctx;
};

static inline void lyra_stat_emit(struct lyra_stats_sink *s, const char *name, uint64_t v)
{
    s->counter(s, name, v);
}

/* Documentation and counter names cost ROM on a target (about 45% of a
 * component's text+rodata on Cortex-M4). Built with LYRA_NO_DOCS (cmake
 * -DLYRA_NO_DOCS=ON, for embedded static assemblies), LYRA_DOC(text) is NULL
 * and counters are reported without names: the framework numbers them (#0,
 * #1, ... in the order the component reports them). Parameter, slot and
 * interface names stay: manifests and overrides need them. */
#ifdef LYRA_NO_DOCS
#define LYRA_DOC(text) NULL
#define lyra_stat(sink, name, v) lyra_stat_emit((sink), NULL, (v))
#else
#define LYRA_DOC(text) text
#define lyra_stat(sink, name, v) lyra_stat_emit((sink), (name), (v))
#endif

struct lyra_component {
    uint16_t abi_major, abi_minor;
    uint32_t desc_size; /* sizeof(struct lyra_component) when built */
    const char *name;
    const char *version;
    const char *summary;
    const char *doc; /* longer text for `lyranet list -v`; may be NULL */

    const struct lyra_provide *provides;
    unsigned n_provides;
    const struct lyra_slot *slots;
    unsigned n_slots;
    const struct lyra_param *params;
    unsigned n_params;

    size_t instance_size;
    /* create: parameters are validated; p[i] matches params[i]. Strings in p
     * stay valid until destroy. No slot is bound yet: do not call out. */
    int (*create)(void *self, const struct lyra_value *p, struct lyra_diag *d);
    /* start: all slots are bound and every provider this instance uses has
     * started. Allocate pools here. */
    int (*start)(void *self);
    void (*stop)(void *self);
    void (*destroy)(void *self);
    /* poll: optional run-to-completion step; do at most `budget` units of
     * work and return how many were done (>0 means "call me again soon"). */
    int (*poll)(void *self, unsigned budget);
    void (*stats)(void *self, struct lyra_stats_sink *sink);
    /* check (ABI 0.1, may be NULL): rules between parameters that the table
     * cannot say (port_min <= port_max, a ring a multiple of 8). Called by
     * `lyranet check` and again before create, with overrides applied; no
     * state. Report each error with lyra_diag_add whose line is the 1-based
     * index of the parameter at fault (0: the instance), so the framework
     * can point at FILE:LINE; return the number of errors. */
    int (*check)(const struct lyra_value *p, struct lyra_diag *d);
    /* flags (ABI 1.2): LYRA_COMP_F_* */
    unsigned flags;
};

/* A host's stand-in for what an embedded image has in hardware or in its
 * own os adapter (os_posix, the device models, the test fakes): the RAM
 * report counts it apart from the stack (lyra_stack_ram). */
#define LYRA_COMP_F_HOST 1u

/* A descriptor built before ABI 0.1 ends before `check`, one before 1.2
 * before `flags`. */
#define LYRA_DESC_SIZE_0_0 offsetof(struct lyra_component, check)
#define LYRA_COMPONENT_CHECK(c) \
    ((c)->desc_size > LYRA_DESC_SIZE_0_0 ? (c)->check : NULL)
#define LYRA_COMPONENT_FLAGS(c) \
    ((c)->desc_size >= offsetof(struct lyra_component, flags) + sizeof(unsigned) ? (c)->flags : 0u)

#define LYRA_COMPONENT_HDR \
    .abi_major = LYRA_ABI_MAJOR, .abi_minor = LYRA_ABI_MINOR, \
    .desc_size = sizeof(struct lyra_component)

#define LYRA_COUNT(arr) ((unsigned)(sizeof(arr) / sizeof((arr)[0])))

/* Export a descriptor. On ELF, descriptors live in .data.rel.ro (const). */
#if defined(__GNUC__)
#define LYRA_EXPORT __attribute__((visibility("default")))
#else
#define LYRA_EXPORT
#endif

/* Binds one provider to a slot: the one place that checks the table's major
 * version and the index, then calls the slot's bind or stores the pair.
 * Returns 0 or -EINVAL. */
static inline int lyra_slot_bind(const struct lyra_slot *s, void *self, unsigned index,
                                 const void *ops, void *provider)
{
    const struct lyra_ops_hdr *h = (const struct lyra_ops_hdr *)ops;
    if (!h || h->major != s->major || index >= s->max)
        return -EINVAL;
    if (s->bind)
        return s->bind(self, index, ops, provider);
    if (s->ops_off == s->self_off)
        return -EINVAL; /* a descriptor with neither bind nor storage */
    memcpy((char *)self + s->ops_off + index * sizeof(ops), &ops, sizeof(ops));
    memcpy((char *)self + s->self_off + index * sizeof(provider), &provider, sizeof(provider));
    return 0;
}

/* Looks up a slot or parameter by name; NULL/-1 when absent. */
const struct lyra_slot *lyra_component_slot(const struct lyra_component *c, const char *name,
                                            unsigned *index);
int lyra_component_param(const struct lyra_component *c, const char *name);
/* Runs c's check hook; its errors go to d at the manifest line of the
 * parameter at fault (lines[k], 0: default) or inst_line. Returns how many. */
unsigned lyra_component_run_check(const struct lyra_component *c, const char *inst,
                                  const struct lyra_value *v, const unsigned *lines,
                                  unsigned inst_line, struct lyra_diag *d);

/* Checks an ops/events table against what a slot or user expects. Returns 0
 * or -EPROTO with a reason in `why`. */
int lyra_ops_check(const void *table, const char *iface, uint16_t major, uint16_t minor,
                   uint32_t min_size, const char **why);

#ifdef __cplusplus
}
#endif
#endif
