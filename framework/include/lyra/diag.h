/* Diagnostics: every error of a run, each with its file and line, collected
 * so that a user sees all of them at once. */
#ifndef LYRA_DIAG_H
#define LYRA_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lyra_diag_class {
    LYRA_E_SYNTAX,
    LYRA_E_UNKNOWN_COMPONENT,
    LYRA_E_UNKNOWN_PARAM,
    LYRA_E_TYPE,
    LYRA_E_RANGE,
    LYRA_E_UNBOUND,
    LYRA_E_IFACE,
    LYRA_E_DUPLICATE,
    LYRA_E_UNKNOWN_INSTANCE,
    LYRA_E_CARDINALITY,
    LYRA_E_CYCLE,
    LYRA_E_LOAD,     /* component found but failed to load (run time) */
    LYRA_E_RUNTIME,  /* create/start failure */
    LYRA_E_USAGE,    /* command line */
    LYRA_E__COUNT
};

struct lyra_diag_entry {
    enum lyra_diag_class cls;
    const char *file; /* not owned: the diag's file name or a static string */
    unsigned line;    /* 0: no line */
    char *msg;
};

struct lyra_diag {
    struct lyra_diag_entry *v;
    unsigned n, cap;
    unsigned dropped; /* entries not stored because of the cap */
    const char *file; /* default file for entries */
};

#define LYRA_DIAG_MAX 1000

void lyra_diag_init(struct lyra_diag *d, const char *file);
void lyra_diag_free(struct lyra_diag *d);
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void lyra_diag_add(struct lyra_diag *d, enum lyra_diag_class cls, unsigned line, const char *fmt,
                   ...);
void lyra_diag_vadd(struct lyra_diag *d, enum lyra_diag_class cls, unsigned line, const char *fmt,
                    va_list ap);
unsigned lyra_diag_count(const struct lyra_diag *d, enum lyra_diag_class cls);
/* Prints "FILE:LINE: error: msg" lines, sorted by line. */
void lyra_diag_print(const struct lyra_diag *d, FILE *f);
const char *lyra_diag_class_name(enum lyra_diag_class c);

#ifdef __cplusplus
}
#endif
#endif
