/* libFuzzer target: the manifest parser and graph checks, and command-line
 * overrides through the stack runtime. No input may crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/loader.h"
#include "lyra/manifest.h"
#include "lyra/stack.h"

extern const struct lyra_component lyra_component_skb_copy, lyra_component_fake_os;

static const struct lyra_component *const comps[] = {&lyra_component_skb_copy,
                                                     &lyra_component_fake_os, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() so that the fuzzer keeps the input */
static void must(int ok)
{
    if (!ok)
        abort();
}

/* What the tree may hold, whatever the text: every error counted once, and
 * names, keys and values that a line of their own could hold. */
static void check_tree(const struct lyra_manifest *m, unsigned added, const struct lyra_diag *d)
{
    must(added == d->n);
    unsigned line = 0;
    for (unsigned i = 0; i < m->n; i++) {
        const struct lyra_mf_section *sec = &m->sec[i];
        must(sec->name && !strchr(sec->name, '\n') && !strchr(sec->name, ']'));
        must(sec->line >= line);
        line = sec->line;
        for (unsigned k = 0; k < sec->n; k++) {
            const struct lyra_mf_kv *kv = &sec->kv[k];
            must(kv->key && kv->key[0] && !strchr(kv->key, '=') && !strchr(kv->key, '\n'));
            must(kv->value && !strchr(kv->value, '\n'));
            must(kv->line > sec->line || (i == 0 && sec->line == 0));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lyra_diag d;
    struct lyra_manifest m;
    struct lyra_graph g;
    lyra_diag_init(&d, "fuzz.lyra");
    /* The part after a 0xff byte, if any, is an override list (NUL-separated). */
    const uint8_t *split = memchr(data, 0xff, size);
    size_t mlen = split ? (size_t)(split - data) : size;
    check_tree(&m, lyra_manifest_parse((const char *)data, mlen, "fuzz.lyra", &m, &d), &d);
    lyra_graph_build(&m, lyra_static_resolve, (void *)comps, &g, &d);
    if (d.n == 0 && g.n_inst > 0) {
        char buf[256];
        FILE *f = fmemopen(buf, sizeof(buf), "w");
        if (f) {
            lyra_graph_print(&g, f);
            lyra_graph_dot(&g, f);
            fclose(f);
        }
        struct lyra_plan *p = lyra_graph_to_plan(&g);
        if (p) {
            const char *ov[9] = {0};
            char *tail = NULL;
            if (split) {
                size_t tl = size - mlen - 1;
                tail = malloc(tl + 1);
                memcpy(tail, split + 1, tl);
                tail[tl] = 0;
                char *q = tail;
                for (unsigned i = 0; i < 8 && q < tail + tl; i++) {
                    ov[i] = q;
                    q += strlen(q) + 1;
                }
            }
            struct lyra_stack *s;
            struct lyra_diag d2;
            lyra_diag_init(&d2, "fuzz.lyra");
            if (lyra_stack_create(p, ov, &d2, &s) == 0)
                lyra_stack_destroy(s);
            lyra_diag_free(&d2);
            free(tail);
            lyra_plan_free(p);
        }
    }
    lyra_graph_free(&g);
    lyra_manifest_free(&m);
    lyra_diag_free(&d);
    return 0;
}
