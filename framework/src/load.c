/* lyra_stack_load: manifest -> checked graph -> plan -> stack, with the
 * components loaded by dlopen. */
#include <errno.h>
#include <stdlib.h>

#include "lyra/loader.h"
#include "lyra/manifest.h"
#include "lyra/stack.h"
#include "stack_internal.h"

struct dyn {
    struct lyra_loader *loader;
    struct lyra_plan *plan;
};

static void dyn_cleanup(void *ctx)
{
    struct dyn *d = ctx;
    lyra_plan_free(d->plan);
    lyra_loader_free(d->loader);
    free(d);
}

static bool manifest_errors(const struct lyra_diag *d)
{
    for (unsigned i = 0; i < d->n; i++)
        if (d->v[i].cls != LYRA_E_LOAD && d->v[i].cls != LYRA_E_RUNTIME)
            return true;
    return false;
}

int lyra_stack_load_diag(const char *manifest, const char *const *overrides, struct lyra_diag *d,
                         struct lyra_stack **out)
{
    struct lyra_manifest m;
    struct lyra_graph g;
    *out = NULL;
    struct dyn *dy = calloc(1, sizeof(*dy));
    if (!dy || !(dy->loader = lyra_loader_new())) {
        free(dy);
        return -ENOMEM;
    }
    int r = lyra_manifest_read(manifest, &m, d);
    unsigned errs = d->n;
    if (r == 0 && lyra_graph_build(&m, lyra_loader_resolve, dy->loader, &g, d) == 0 && !errs) {
        dy->plan = lyra_graph_to_plan(&g);
        r = dy->plan ? 0 : -ENOMEM;
    } else if (r == 0) {
        lyra_graph_free(&g);
        r = manifest_errors(d) ? -EINVAL : -ENOEXEC;
        lyra_manifest_free(&m);
        dyn_cleanup(dy);
        return r;
    } else {
        lyra_manifest_free(&m);
        dyn_cleanup(dy);
        return -EINVAL;
    }
    lyra_graph_free(&g);
    lyra_manifest_free(&m);
    if (r) {
        dyn_cleanup(dy);
        return r;
    }
    r = lyra_stack_create(dy->plan, overrides, d, out);
    if (r) {
        dyn_cleanup(dy);
        return r;
    }
    lyra_stack_set_cleanup(*out, dyn_cleanup, dy);
    return 0;
}

int lyra_stack_load(const char *manifest, const char *const *overrides, struct lyra_stack **out)
{
    struct lyra_diag d;
    lyra_diag_init(&d, manifest);
    int r = lyra_stack_load_diag(manifest, overrides, &d, out);
    lyra_diag_print(&d, stderr);
    lyra_diag_free(&d);
    return r;
}
