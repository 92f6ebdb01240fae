/* Manifests: the text a user writes to pick components and wire them.
 *
 * Syntax (INI-like, one item per line):
 *   # comment            (also after a value: `count = 64  # buffers`)
 *   [NAME]               an instance named NAME (letters, digits, _ and -)
 *   component = COMP     which component the instance is
 *   PARAM = VALUE        a parameter of the component
 *   SLOT = INST[, INST]  binds a slot to instances (INST.IFACE to pick one
 *                        of several interfaces INST provides)
 *   account = all | none | SLOT[, SLOT]   count calls/bytes/ns on bindings
 *   [defaults]           SLOT = INST: binds that slot of every instance
 *                        that has it and leaves it unbound (e.g. os = os)
 *   [assembly]           name = NAME, account = on|off (every binding)
 * Values may be "quoted" (\" and \\ escapes) to hold # or spaces at the
 * ends. Every error is reported as FILE:LINE: and all errors of a file are
 * reported in one run. */
#ifndef LYRA_MANIFEST_H
#define LYRA_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/plan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- syntax tree ---- */
struct lyra_mf_kv {
    char *key;
    char *value;
    unsigned line;
};

struct lyra_mf_section {
    char *name;
    unsigned line;
    struct lyra_mf_kv *kv;
    unsigned n, cap;
};

struct lyra_manifest {
    char *file;
    struct lyra_mf_section *sec;
    unsigned n, cap;
};

/* Parses text (need not be NUL-terminated). Syntax errors go to d; the
 * tree holds every well-formed line. Returns the number of errors added. */
unsigned lyra_manifest_parse(const char *text, size_t len, const char *file,
                             struct lyra_manifest *m, struct lyra_diag *d);
int lyra_manifest_read(const char *path, struct lyra_manifest *m, struct lyra_diag *d);
void lyra_manifest_free(struct lyra_manifest *m);

/* ---- resolution: names to descriptors, checked graph ---- */

/* Finds a component by name. Returns 0 with *out set, -ENOENT when no such
 * component exists anywhere (a manifest error), or another negative errno
 * when it exists but cannot be loaded (msg says why; a run-time error). */
typedef int (*lyra_resolve_fn)(void *ctx, const char *name, const struct lyra_component **out,
                               char *msg, size_t msglen);

struct lyra_g_param {
    struct lyra_value v;
    const char *text; /* effective text; NULL when unset */
    unsigned line;    /* 0: default */
};

struct lyra_g_inst {
    const char *name;
    unsigned line;
    const char *comp_name;
    const struct lyra_component *c; /* NULL when unresolved */
    struct lyra_g_param *params;
    uint32_t account_slots; /* bit per slot index */
    uint32_t named_slots;   /* slots the manifest binds by name */
};

struct lyra_g_bind {
    unsigned user, slot, index, prov, provide, line;
    bool account;
};

struct lyra_graph {
    const char *file;
    const char *name;
    struct lyra_g_inst *inst;
    unsigned n_inst;
    struct lyra_g_bind *bind;
    unsigned n_bind;
    bool account_all;
    char **owned; /* strings owned by the graph */
    unsigned n_owned;
};

/* Checks the manifest against the components' descriptors and fills g.
 * Returns the number of errors added to d (0: g is complete and valid).
 * Command-line overrides are applied later, to the plan, by
 * lyra_stack_create (the same code for static and dynamic assemblies). */
unsigned lyra_graph_build(const struct lyra_manifest *m, lyra_resolve_fn resolve, void *rctx,
                          struct lyra_graph *g, struct lyra_diag *d);
void lyra_graph_free(struct lyra_graph *g);

/* Writes the resolved graph with every parameter's effective value. */
void lyra_graph_print(const struct lyra_graph *g, FILE *f);
/* Writes Graphviz dot. */
void lyra_graph_dot(const struct lyra_graph *g, FILE *f);

/* Turns a checked graph into a plan (heap; free with lyra_plan_free). */
struct lyra_plan *lyra_graph_to_plan(const struct lyra_graph *g);
void lyra_plan_free(struct lyra_plan *p);

/* Assembly name from a manifest path: assemblies/copy-pio.lyra -> copy-pio. */
void lyra_manifest_name(const char *path, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
