/* Human and Graphviz views of a checked graph, and its conversion to a plan. */
#include <stdlib.h>
#include <string.h>

#include "lyra/manifest.h"

void lyra_graph_print(const struct lyra_graph *g, FILE *f)
{
    fprintf(f, "assembly %s (%s): %u instance%s, %u binding%s\n", g->name, g->file, g->n_inst,
            g->n_inst == 1 ? "" : "s", g->n_bind, g->n_bind == 1 ? "" : "s");
    for (unsigned i = 0; i < g->n_inst; i++) {
        const struct lyra_g_inst *gi = &g->inst[i];
        if (!gi->c)
            continue;
        fprintf(f, "\n[%s] %s %s: %s\n", gi->name, gi->c->name, gi->c->version,
                gi->c->summary ? gi->c->summary : "");
        for (unsigned s = 0; s < gi->c->n_slots; s++) {
            const struct lyra_slot *sl = &gi->c->slots[s];
            int any = 0;
            for (unsigned b = 0; b < g->n_bind; b++) {
                const struct lyra_g_bind *gb = &g->bind[b];
                if (gb->user != i || gb->slot != s)
                    continue;
                const struct lyra_g_inst *p = &g->inst[gb->prov];
                const struct lyra_provide *pr = &p->c->provides[gb->provide];
                fprintf(f, "  %-14s -> %s (%s %u.%u)%s\n", sl->name, p->name, pr->iface,
                        pr->major, pr->minor, gb->account ? " [accounted]" : "");
                any = 1;
            }
            if (!any)
                fprintf(f, "  %-14s -> (unbound, optional)\n", sl->name);
        }
        for (unsigned k = 0; k < gi->c->n_params; k++) {
            const struct lyra_g_param *gp = &gi->params[k];
            char buf[256];
            if (gp->v.set)
                lyra_value_format(&gp->v, buf, sizeof(buf));
            else
                snprintf(buf, sizeof(buf), "(unset)");
            const char *src = gp->line ? "manifest" : "default";
            fprintf(f, "  %-14s = %-22s (%s)\n", gi->c->params[k].name, buf, src);
        }
    }
}

static void dot_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
}

void lyra_graph_dot(const struct lyra_graph *g, FILE *f)
{
    fprintf(f, "digraph \"");
    dot_escape(f, g->name);
    fprintf(f, "\" {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n");
    for (unsigned i = 0; i < g->n_inst; i++) {
        const struct lyra_g_inst *gi = &g->inst[i];
        fprintf(f, "  n%u [label=\"", i);
        dot_escape(f, gi->name);
        fprintf(f, "\\n");
        dot_escape(f, gi->c ? gi->c->name : gi->comp_name ? gi->comp_name : "?");
        fprintf(f, "\"];\n");
    }
    for (unsigned b = 0; b < g->n_bind; b++) {
        const struct lyra_g_bind *gb = &g->bind[b];
        const struct lyra_g_inst *u = &g->inst[gb->user];
        const struct lyra_g_inst *p = &g->inst[gb->prov];
        fprintf(f, "  n%u -> n%u [label=\"", gb->user, gb->prov);
        dot_escape(f, u->c->slots[gb->slot].name);
        fprintf(f, ":");
        dot_escape(f, p->c->provides[gb->provide].iface);
        fprintf(f, "\"%s];\n", gb->account ? ", style=bold, color=blue" : "");
    }
    fprintf(f, "}\n");
}

struct lyra_plan *lyra_graph_to_plan(const struct lyra_graph *g)
{
    struct lyra_plan *p = calloc(1, sizeof(*p));
    struct lyra_plan_inst *pi = calloc(g->n_inst + 1, sizeof(*pi));
    struct lyra_plan_bind *pb = calloc(g->n_bind + 1, sizeof(*pb));
    if (!p || !pi || !pb) {
        free(p);
        free(pi);
        free(pb);
        return NULL;
    }
    p->name = strdup(g->name);
    p->source = strdup(g->file);
    p->n_inst = (uint16_t)g->n_inst;
    p->n_bind = (uint16_t)g->n_bind;
    for (unsigned i = 0; i < g->n_inst; i++) {
        const struct lyra_g_inst *gi = &g->inst[i];
        const char **texts = calloc(gi->c->n_params + 1, sizeof(char *));
        for (unsigned k = 0; texts && k < gi->c->n_params; k++)
            texts[k] = gi->params[k].text ? strdup(gi->params[k].text) : NULL;
        pi[i] = (struct lyra_plan_inst){.name = strdup(gi->name), .c = gi->c, .params = texts};
    }
    for (unsigned b = 0; b < g->n_bind; b++) {
        const struct lyra_g_bind *gb = &g->bind[b];
        pb[b] = (struct lyra_plan_bind){.user = (uint16_t)gb->user, .slot = (uint16_t)gb->slot,
                                        .index = (uint16_t)gb->index, .prov = (uint16_t)gb->prov,
                                        .provide = (uint16_t)gb->provide, .account = gb->account};
    }
    p->inst = pi;
    p->bind = pb;
    return p;
}

void lyra_plan_free(struct lyra_plan *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n_inst; i++) {
        const struct lyra_plan_inst *pi = &p->inst[i];
        for (unsigned k = 0; pi->params && k < pi->c->n_params; k++)
            free((char *)pi->params[k]);
        free((void *)pi->params);
        free((char *)pi->name);
    }
    free((void *)p->inst);
    free((void *)p->bind);
    free((char *)p->name);
    free((char *)p->source);
    free(p);
}
