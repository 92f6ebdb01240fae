/* lyranet: check, graph, list and run manifests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/loader.h"
#include "lyra/manifest.h"
#include "lyra/stack.h"
#include "run_cmd.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: lyranet check FILE\n"
               "       lyranet graph FILE\n"
               "       lyranet list [-v]\n"
               "       lyranet run FILE [INSTANCE.PARAM=VALUE ...] [--services LIST] [--stats[=all]]\n"
               "                   [--stats-json FILE] [--for SECONDS]\n"
               "exit status: 0 ok, 1 manifest or usage error, 2 run-time failure\n");
}

/* Reads and checks a manifest; prints every error. 0, 1 or 2 as exit. */
static int load_graph(const char *path, struct lyra_loader *l, struct lyra_graph *g, int *built)
{
    struct lyra_diag d;
    struct lyra_manifest m;
    lyra_diag_init(&d, path);
    *built = 0;
    if (lyra_manifest_read(path, &m, &d)) {
        lyra_diag_print(&d, stderr);
        lyra_diag_free(&d);
        lyra_manifest_free(&m);
        return 1;
    }
    lyra_graph_build(&m, lyra_loader_resolve, l, g, &d);
    *built = 1;
    lyra_manifest_free(&m);
    int status = 0;
    for (unsigned i = 0; i < d.n; i++)
        status = d.v[i].cls == LYRA_E_LOAD && status == 0 ? 2 : 1;
    if (d.n || d.dropped) {
        lyra_diag_print(&d, stderr);
        fprintf(stderr, "%s: %u error%s\n", path, d.n + d.dropped, d.n + d.dropped == 1 ? "" : "s");
        if (!status)
            status = 1;
    }
    lyra_diag_free(&d);
    return status;
}

/* Creates and binds every instance, then destroys them, opening no link and
 * starting nothing: what only a provider's create or a driver's bind can
 * refuse (a driver bound to a device it does not drive) is caught here
 * rather than by `run`. 0, 1 or 2 as exit. */
static int create_once(const char *path)
{
    struct lyra_diag d;
    struct lyra_stack *s = NULL;
    lyra_diag_init(&d, path);
    int r = lyra_stack_load_diag(path, NULL, &d, &s);
    if (s)
        lyra_stack_destroy(s);
    if (d.n || d.dropped) {
        lyra_diag_print(&d, stderr);
        fprintf(stderr, "%s: %u error%s\n", path, d.n + d.dropped, d.n + d.dropped == 1 ? "" : "s");
    }
    lyra_diag_free(&d);
    return r == 0 ? 0 : r == -EINVAL ? 1 : 2;
}

static int cmd_check(const char *path, int dot)
{
    struct lyra_loader *l = lyra_loader_new();
    struct lyra_graph g;
    int built;
    int st = load_graph(path, l, &g, &built);
    if (!st)
        st = create_once(path);
    if (!st) {
        if (dot)
            lyra_graph_dot(&g, stdout);
        else {
            lyra_graph_print(&g, stdout);
            printf("\n%s: ok\n", path);
        }
    }
    if (built)
        lyra_graph_free(&g);
    lyra_loader_free(l);
    return st;
}

static void list_one(void *ctx, const struct lyra_component *c, const char *path)
{
    int verbose = *(int *)ctx;
    printf("%s %s - %s%s\n", c->name, c->version, c->summary ? c->summary : "",
           LYRA_COMPONENT_FLAGS(c) & LYRA_COMP_F_HOST ? " (host stand-in)" : "");
    if (verbose)
        printf("  from %s; instance %zu bytes\n", path, c->instance_size);
    if (verbose && c->doc)
        printf("  %s\n", c->doc);
    for (unsigned i = 0; i < c->n_provides; i++)
        printf("  provides %-8s %u.%u%s%s\n", c->provides[i].iface, c->provides[i].major,
               c->provides[i].minor, c->provides[i].doc ? "  " : "",
               c->provides[i].doc ? c->provides[i].doc : "");
    for (unsigned i = 0; i < c->n_slots; i++) {
        const struct lyra_slot *s = &c->slots[i];
        char card[32];
        if (s->min == s->max)
            snprintf(card, sizeof(card), "%u", s->min);
        else
            snprintf(card, sizeof(card), "%u..%u", s->min, s->max);
        printf("  slot     %-8s %s %u.%u, %s (%s)%s%s\n", s->name, s->iface, s->major, s->minor,
               s->min ? "required" : "optional", card, s->doc ? "  " : "", s->doc ? s->doc : "");
    }
    for (unsigned i = 0; i < c->n_params; i++) {
        const struct lyra_param *p = &c->params[i];
        char range[96];
        lyra_range_format(p->type, p->min, p->max, range, sizeof(range));
        printf("  param    %-14s %-12s default %-10s range %-14s %s\n", p->name,
               lyra_ptype_name(p->type), p->def ? p->def : "(unset)", range, p->doc ? p->doc : "");
    }
}

static void list_err(void *ctx, const char *name, const char *why)
{
    (void)ctx;
    fprintf(stderr, "lyranet list: %s: cannot load: %s\n", name, why);
}

static int cmd_list(int verbose)
{
    struct lyra_loader *l = lyra_loader_new();
    for (unsigned i = 0; verbose && lyra_loader_dir(l, i); i++)
        printf("search path %u: %s\n", i + 1, lyra_loader_dir(l, i));
    lyra_loader_each(l, list_one, list_err, &verbose);
    lyra_loader_free(l);
    return 0;
}

static int create_dynamic(void *ctx, const char *const *ov, struct lyra_diag *d,
                          struct lyra_stack **out)
{
    return lyra_stack_load_diag((const char *)ctx, ov, d, out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "list")) {
        int verbose = argc > 2 && !strcmp(argv[2], "-v");
        if (argc > 2 + verbose) {
            usage(stderr);
            return 1;
        }
        return cmd_list(verbose);
    }
    if (!strcmp(cmd, "check") || !strcmp(cmd, "graph")) {
        if (argc != 3) {
            fprintf(stderr, "lyranet %s: expected one manifest file\n", cmd);
            usage(stderr);
            return 1;
        }
        return cmd_check(argv[2], !strcmp(cmd, "graph"));
    }
    if (!strcmp(cmd, "run")) {
        if (argc < 3 || argv[2][0] == '-') {
            fprintf(stderr, "lyranet run: expected a manifest file first\n");
            usage(stderr);
            return 1;
        }
        return lyra_run_main("lyranet run", argv[2], argc - 3, argv + 3, create_dynamic, argv[2]);
    }
    fprintf(stderr, "lyranet: unknown command '%s'\n", cmd);
    usage(stderr);
    return 1;
}
