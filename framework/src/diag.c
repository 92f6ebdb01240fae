/* Collected diagnostics, printed as FILE:LINE: messages in line order. */
#include "lyra/diag.h"

#include <stdlib.h>
#include <string.h>

void lyra_diag_init(struct lyra_diag *d, const char *file)
{
    memset(d, 0, sizeof(*d));
    d->file = file;
}

void lyra_diag_free(struct lyra_diag *d)
{
    for (unsigned i = 0; i < d->n; i++)
        free(d->v[i].msg);
    free(d->v);
    d->v = NULL;
    d->n = d->cap = 0;
}

void lyra_diag_vadd(struct lyra_diag *d, enum lyra_diag_class cls, unsigned line, const char *fmt,
                    va_list ap)
{
    if (d->n >= LYRA_DIAG_MAX) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        unsigned cap = d->cap ? d->cap * 2 : 8;
        struct lyra_diag_entry *v = realloc(d->v, cap * sizeof(*v));
        if (!v) {
            d->dropped++;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    char *m = strdup(buf);
    if (!m) {
        d->dropped++;
        return;
    }
    d->v[d->n++] = (struct lyra_diag_entry){.cls = cls, .file = d->file, .line = line, .msg = m};
}

void lyra_diag_add(struct lyra_diag *d, enum lyra_diag_class cls, unsigned line, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    lyra_diag_vadd(d, cls, line, fmt, ap);
    va_end(ap);
}

unsigned lyra_diag_count(const struct lyra_diag *d, enum lyra_diag_class cls)
{
    unsigned n = 0;
    for (unsigned i = 0; i < d->n; i++)
        n += d->v[i].cls == cls;
    return n;
}

static int by_line(const void *a, const void *b)
{
    const struct lyra_diag_entry *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

void lyra_diag_print(const struct lyra_diag *d, FILE *f)
{
    /* stable order by line: insertion order breaks ties */
    if (!d->n && !d->dropped)
        return;
    struct lyra_diag_entry *v = malloc((d->n ? d->n : 1) * sizeof(*v));
    if (!v)
        return;
    if (d->n)
        memcpy(v, d->v, d->n * sizeof(*v));
    for (unsigned i = 1; i < d->n; i++) { /* insertion sort keeps it stable */
        struct lyra_diag_entry e = v[i];
        unsigned j = i;
        while (j > 0 && by_line(&v[j - 1], &e) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = e;
    }
    for (unsigned i = 0; i < d->n; i++) {
        if (v[i].file && v[i].line)
            fprintf(f, "%s:%u: error: %s\n", v[i].file, v[i].line, v[i].msg);
        else if (v[i].file)
            fprintf(f, "%s: error: %s\n", v[i].file, v[i].msg);
        else
            fprintf(f, "error: %s\n", v[i].msg);
    }
    if (d->dropped)
        fprintf(f, "%s: error: %u more errors not shown\n", d->file ? d->file : "lyranet",
                d->dropped);
    free(v);
}

const char *lyra_diag_class_name(enum lyra_diag_class c)
{
    static const char *const names[LYRA_E__COUNT] = {
        "syntax", "unknown-component", "unknown-parameter", "type", "range", "unbound",
        "interface", "duplicate", "unknown-instance", "cardinality", "cycle", "load",
        "runtime", "usage"};
    return c < LYRA_E__COUNT ? names[c] : "?";
}
