/* Manifest semantics: components, parameters, bindings, and the checks that
 * make a graph safe to assemble. Every error is collected, none stops the
 * others from being found. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/l4.h"
#include "lyra/manifest.h"

#define SEC_ASSEMBLY "assembly"
#define SEC_DEFAULTS "defaults"
#define SEC_COPY "copy"
#define SEC_RAM "ram"
#define MAX_INST 1024

static const char *own(struct lyra_graph *g, const char *s)
{
    char *c = strdup(s ? s : "");
    char **o = realloc(g->owned, (g->n_owned + 1) * sizeof(*o));
    if (!c || !o) {
        free(c);
        if (o)
            g->owned = o;
        return "";
    }
    g->owned = o;
    o[g->n_owned++] = c;
    return c;
}

static int find_inst(const struct lyra_graph *g, const char *name, size_t n)
{
    for (unsigned i = 0; i < g->n_inst; i++)
        if (strlen(g->inst[i].name) == n && !memcmp(g->inst[i].name, name, n))
            return (int)i;
    return -1;
}

static const struct lyra_mf_kv *find_kv(const struct lyra_mf_section *s, const char *key)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->kv[i].key, key))
            return &s->kv[i];
    return NULL;
}

/* "a, b" -> tokens, trimmed; returns count, -1 on an empty token. */
static int split_list(const char *v, char tok[][128], int max)
{
    int n = 0;
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == s || n == max || e - s >= 128)
            return -1;
        memcpy(tok[n], s, (size_t)(e - s));
        tok[n][e - s] = 0;
        n++;
        if (!*p)
            return n;
        p++;
    }
}

static void names_list(const struct lyra_component *c, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < c->n_params && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", c->params[i].name);
    for (unsigned i = 0; i < c->n_slots && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s (slot)", o ? ", " : "", c->slots[i].name);
    if (!o)
        snprintf(buf, len, "none");
}

static void set_param(struct lyra_g_inst *gi, int k, const char *text, unsigned line,
                      struct lyra_diag *d, struct lyra_graph *g)
{
    const struct lyra_param *p = &gi->c->params[k];
    char err[256];
    struct lyra_value v;
    const char *t = own(g, text);
    int r = lyra_value_parse(p->type, t, p->min, p->max, &v, err, sizeof(err));
    if (r) {
        lyra_diag_add(d, r == -ERANGE ? LYRA_E_RANGE : LYRA_E_TYPE, line, "%s.%s: %s",
                      gi->name, p->name, err);
        return;
    }
    gi->params[k].v = v;
    gi->params[k].text = t;
    gi->params[k].line = line;
}

static bool iface_compatible(const struct lyra_slot *s, const struct lyra_provide *p)
{
    return !strcmp(s->iface, p->iface) && s->major == p->major && p->minor >= s->minor;
}

/* Adds a binding of user's slot to provider token "inst" or "inst.iface". */
static void bind_one(struct lyra_graph *g, unsigned user, unsigned slot, const char *tok,
                     unsigned line, const char *via, struct lyra_diag *d)
{
    struct lyra_g_inst *u = &g->inst[user];
    const struct lyra_slot *s = &u->c->slots[slot];
    const char *dot = strchr(tok, '.');
    size_t n = dot ? (size_t)(dot - tok) : strlen(tok);
    int pi = find_inst(g, tok, n);
    if (pi < 0) {
        lyra_diag_add(d, LYRA_E_UNKNOWN_INSTANCE, line,
                      "%s%s.%s = %s: no instance named '%.*s' in this manifest", via, u->name,
                      s->name, tok, (int)n, tok);
        return;
    }
    struct lyra_g_inst *p = &g->inst[pi];
    if (!p->c)
        return; /* its component is unknown: already reported */
    int found = -1;
    for (unsigned k = 0; k < p->c->n_provides; k++) {
        const struct lyra_provide *pr = &p->c->provides[k];
        if (dot ? !strcmp(pr->iface, dot + 1) : !strcmp(pr->iface, s->iface)) {
            found = (int)k;
            break;
        }
    }
    if (found < 0) {
        char have[256];
        size_t o = 0;
        have[0] = 0;
        for (unsigned k = 0; k < p->c->n_provides && o < sizeof(have); k++)
            o += (size_t)snprintf(have + o, sizeof(have) - o, "%s%s %u.%u", o ? ", " : "",
                                  p->c->provides[k].iface, p->c->provides[k].major,
                                  p->c->provides[k].minor);
        if (dot) /* name the selector that is wrong */
            lyra_diag_add(d, LYRA_E_IFACE, line,
                          "%s%s.%s = %s: %s (%s) has no interface '%s'; it provides %s", via,
                          u->name, s->name, tok, p->name, p->c->name, dot + 1,
                          o ? have : "nothing");
        else
            lyra_diag_add(d, LYRA_E_IFACE, line,
                          "%s%s.%s needs interface %s %u.%u, but %s (%s) provides %s", via,
                          u->name, s->name, s->iface, s->major, s->minor, p->name, p->c->name,
                          o ? have : "nothing");
        return;
    }
    const struct lyra_provide *pr = &p->c->provides[found];
    if (!iface_compatible(s, pr)) {
        lyra_diag_add(d, LYRA_E_IFACE, line,
                      "%s%s.%s needs interface %s %u.%u (major %u, minor >= %u), but %s (%s) "
                      "provides %s %u.%u",
                      via, u->name, s->name, s->iface, s->major, s->minor, s->major, s->minor,
                      p->name, p->c->name, pr->iface, pr->major, pr->minor);
        return;
    }
    unsigned idx = 0;
    for (unsigned b = 0; b < g->n_bind; b++)
        if (g->bind[b].user == user && g->bind[b].slot == slot)
            idx++;
    struct lyra_g_bind *nb = realloc(g->bind, (g->n_bind + 1) * sizeof(*nb));
    if (!nb)
        return;
    g->bind = nb;
    g->bind[g->n_bind++] = (struct lyra_g_bind){.user = user, .slot = slot, .index = idx,
                                                .prov = (unsigned)pi, .provide = (unsigned)found,
                                                .line = line};
}

/* Transports bound to one slot must differ in (type, protocol): socket()
 * picks one by them, and two of a kind would also both register their IP
 * protocol with l3, which the second's start refuses. */
static void check_l4_choice(const struct lyra_graph *g, struct lyra_diag *d)
{
    for (unsigned a = 0; a < g->n_bind; a++) {
        const struct lyra_g_bind *ba = &g->bind[a];
        const struct lyra_provide *pa = &g->inst[ba->prov].c->provides[ba->provide];
        if (strcmp(pa->iface, LYRA_L4_IFACE) || !pa->ops)
            continue;
        const struct lyra_l4_ops *oa = pa->ops;
        for (unsigned b = 0; b < a; b++) {
            const struct lyra_g_bind *bb = &g->bind[b];
            if (bb->user != ba->user || bb->slot != ba->slot)
                continue;
            const struct lyra_provide *pb = &g->inst[bb->prov].c->provides[bb->provide];
            const struct lyra_l4_ops *ob = pb->ops;
            if (strcmp(pb->iface, LYRA_L4_IFACE) || !ob || ob->type != oa->type ||
                ob->protocol != oa->protocol)
                continue;
            lyra_diag_add(d, LYRA_E_CARDINALITY, ba->line,
                          "%s.%s: %s and %s are both transports of socket type %d, protocol "
                          "%d; bind one of them",
                          g->inst[ba->user].name, g->inst[ba->user].c->slots[ba->slot].name,
                          g->inst[bb->prov].name, g->inst[ba->prov].name, oa->type, oa->protocol);
            break;
        }
    }
}

static bool slot_bound(const struct lyra_graph *g, unsigned user, unsigned slot)
{
    for (unsigned b = 0; b < g->n_bind; b++)
        if (g->bind[b].user == user && g->bind[b].slot == slot)
            return true;
    return false;
}

/* Depth-first search for a cycle of user -> provider edges. */
static int dfs(const struct lyra_graph *g, unsigned v, unsigned char *state, unsigned *stack,
               unsigned depth, unsigned *cyc_bind)
{
    state[v] = 1;
    stack[depth] = v;
    for (unsigned b = 0; b < g->n_bind; b++) {
        if (g->bind[b].user != v)
            continue;
        unsigned w = g->bind[b].prov;
        if (state[w] == 1) {
            *cyc_bind = b;
            return (int)w;
        }
        if (state[w] == 0) {
            int r = dfs(g, w, state, stack, depth + 1, cyc_bind);
            if (r >= 0)
                return r;
        }
    }
    state[v] = 2;
    return -1;
}

static void check_cycles(const struct lyra_graph *g, struct lyra_diag *d)
{
    unsigned char *state = calloc(g->n_inst + 1, 1);
    unsigned *stack = calloc(g->n_inst + 1, sizeof(unsigned));
    if (!state || !stack)
        goto out;
    for (unsigned i = 0; i < g->n_inst; i++) {
        if (state[i])
            continue;
        unsigned cb = 0;
        int start = dfs(g, i, state, stack, 0, &cb);
        if (start < 0)
            continue;
        /* Describe the cycle from `start` along the current DFS path. */
        char path[512];
        size_t o = 0;
        unsigned k = 0;
        while (stack[k] != (unsigned)start)
            k++;
        for (unsigned j = k; o < sizeof(path); j++) {
            o += (size_t)snprintf(path + o, sizeof(path) - o, "%s -> ", g->inst[stack[j]].name);
            if (stack[j] == g->bind[cb].user)
                break;
        }
        if (o < sizeof(path))
            snprintf(path + o, sizeof(path) - o, "%s", g->inst[start].name);
        lyra_diag_add(d, LYRA_E_CYCLE, g->bind[cb].line,
                      "binding cycle: %s (a component cannot use itself through its providers)",
                      path);
        /* One report per cycle: mark the whole path done and go on. */
        for (unsigned j = 0; j < g->n_inst; j++)
            if (state[j] == 1)
                state[j] = 2;
    }
out:
    free(state);
    free(stack);
}

unsigned lyra_graph_build(const struct lyra_manifest *m, lyra_resolve_fn resolve, void *rctx,
                          struct lyra_graph *g, struct lyra_diag *d)
{
    unsigned before = d->n + d->dropped;
    memset(g, 0, sizeof(*g));
    g->file = own(g, m->file);
    char nb[128];
    lyra_manifest_name(m->file, nb, sizeof(nb));
    g->name = own(g, nb);
    const struct lyra_mf_section *asm_sec = NULL, *def_sec = NULL;

    /* Pass 1: instances and components. */
    g->inst = calloc(m->n + 1, sizeof(*g->inst));
    if (!g->inst)
        return 1;
    for (unsigned i = 0; i < m->n; i++) {
        const struct lyra_mf_section *s = &m->sec[i];
        if (!strcmp(s->name, SEC_ASSEMBLY)) {
            asm_sec = s;
            continue;
        }
        if (!strcmp(s->name, SEC_DEFAULTS)) {
            def_sec = s;
            continue;
        }
        if (g->n_inst >= MAX_INST) {
            lyra_diag_add(d, LYRA_E_CARDINALITY, s->line, "more than %d instances", MAX_INST);
            break;
        }
        if (!strcmp(s->name, SEC_COPY) || !strcmp(s->name, SEC_RAM)) {
            /* --stats-json gives each stack top-level "copy" and "ram"
             * objects beside its instances (lyra/copy_stats.h,
             * lyra_stack_ram): an instance of either name would be a
             * second key of it */
            lyra_diag_add(d, LYRA_E_DUPLICATE, s->line,
                          "[%s]: the name is reserved (--stats-json's %s object); "
                          "call the instance something else",
                          s->name, s->name);
            /* it stays an instance: what it says and what refers to it
             * are still checked, without errors that follow from this one */
        }
        struct lyra_g_inst *gi = &g->inst[g->n_inst++];
        gi->name = own(g, s->name);
        gi->line = s->line;
        const struct lyra_mf_kv *ck = find_kv(s, "component");
        if (!ck) {
            lyra_diag_add(d, LYRA_E_SYNTAX, s->line,
                          "[%s]: expected 'component = NAME' (which component this instance is)",
                          s->name);
            continue;
        }
        gi->comp_name = own(g, ck->value);
        char msg[512] = "";
        const struct lyra_component *c = NULL;
        int r = resolve(rctx, ck->value, &c, msg, sizeof(msg));
        if (r == -ENOENT) {
            lyra_diag_add(d, LYRA_E_UNKNOWN_COMPONENT, ck->line,
                          "unknown component '%s'%s%s (see `lyranet list`)", ck->value,
                          msg[0] ? ": " : "", msg);
            continue;
        }
        if (r) {
            lyra_diag_add(d, LYRA_E_LOAD, ck->line, "component '%s' cannot be loaded: %s",
                          ck->value, msg);
            continue;
        }
        gi->c = c;
        gi->params = calloc(c->n_params + 1, sizeof(*gi->params));
        if (!gi->params) {
            gi->c = NULL;
            continue;
        }
    }

    /* Pass 2: parameters (defaults first, then the file). */
    for (unsigned i = 0, ii = 0; i < m->n; i++) {
        const struct lyra_mf_section *s = &m->sec[i];
        if (s == asm_sec || s == def_sec)
            continue;
        if (ii >= g->n_inst)
            break;
        struct lyra_g_inst *gi = &g->inst[ii++];
        if (!gi->c)
            continue;
        for (unsigned k = 0; k < gi->c->n_params; k++) {
            const struct lyra_param *p = &gi->c->params[k];
            char err[256];
            if (lyra_value_parse(p->type, p->def ? own(g, p->def) : NULL, p->min, p->max,
                                 &gi->params[k].v, err, sizeof(err)))
                lyra_diag_add(d, LYRA_E_LOAD, gi->line,
                              "component %s: default of '%s' is invalid: %s", gi->c->name,
                              p->name, err);
            gi->params[k].text = p->def ? own(g, p->def) : NULL;
        }
        for (unsigned k = 0; k < s->n; k++) {
            const struct lyra_mf_kv *kv = &s->kv[k];
            if (!strcmp(kv->key, "component") || !strcmp(kv->key, "account"))
                continue;
            int pi = lyra_component_param(gi->c, kv->key);
            if (pi >= 0) {
                set_param(gi, pi, kv->value, kv->line, d, g);
                continue;
            }
            if (lyra_component_slot(gi->c, kv->key, NULL))
                continue; /* bindings: pass 3 */
            char names[1024];
            names_list(gi->c, names, sizeof(names));
            lyra_diag_add(d, LYRA_E_UNKNOWN_PARAM, kv->line,
                          "component %s has no parameter or slot '%s' (it has: %s)", gi->c->name,
                          kv->key, names);
        }
    }

    /* Rules between parameters (the components' check hooks), once every
     * value is known, so check reports what create would refuse. */
    for (unsigned i = 0; i < g->n_inst; i++) {
        struct lyra_g_inst *gi = &g->inst[i];
        if (!gi->c || !gi->params)
            continue;
        unsigned n = gi->c->n_params;
        struct lyra_value *v = calloc(n + 1, sizeof(*v));
        unsigned *lines = calloc(n + 1, sizeof(*lines));
        if (v && lines) {
            for (unsigned k = 0; k < n; k++) {
                v[k] = gi->params[k].v;
                lines[k] = gi->params[k].line;
            }
            lyra_component_run_check(gi->c, gi->name, v, lines, gi->line, d);
        }
        free(v);
        free(lines);
    }

    /* Pass 3: bindings named in each section. */
    for (unsigned i = 0, ii = 0; i < m->n; i++) {
        const struct lyra_mf_section *s = &m->sec[i];
        if (s == asm_sec || s == def_sec)
            continue;
        if (ii >= g->n_inst)
            break;
        unsigned ui = ii++;
        struct lyra_g_inst *gi = &g->inst[ui];
        for (unsigned k = 0; k < s->n; k++) {
            const struct lyra_mf_kv *kv = &s->kv[k];
            if (!gi->c) {
                /* Still report references to instances that do not exist. */
                continue;
            }
            unsigned si;
            const struct lyra_slot *sl;
            if (!strcmp(kv->key, "account")) {
                char tok[64][128];
                int n = split_list(kv->value, tok, 64);
                if (n < 0) {
                    lyra_diag_add(d, LYRA_E_SYNTAX, kv->line,
                                  "account: expected all, none or a list of slot names");
                    continue;
                }
                for (int t = 0; t < n; t++) {
                    if (!strcmp(tok[t], "all"))
                        gi->account_slots = 0xffffffffu;
                    else if (!strcmp(tok[t], "none"))
                        gi->account_slots = 0;
                    else if (lyra_component_slot(gi->c, tok[t], &si) && si < 32)
                        gi->account_slots |= 1u << si;
                    else
                        lyra_diag_add(d, LYRA_E_UNKNOWN_PARAM, kv->line,
                                      "account: component %s has no slot '%s'", gi->c->name,
                                      tok[t]);
                }
                continue;
            }
            if (!(sl = lyra_component_slot(gi->c, kv->key, &si)))
                continue;
            if (si < 32)
                gi->named_slots |= 1u << si; /* a failed binding is not also "unbound" */
            char tok[64][128];
            int n = split_list(kv->value, tok, 64);
            if (n < 0) {
                lyra_diag_add(d, LYRA_E_SYNTAX, kv->line,
                              "%s.%s: expected INSTANCE or a comma-separated list of instances",
                              gi->name, sl->name);
                continue;
            }
            for (int t = 0; t < n; t++)
                bind_one(g, ui, si, tok[t], kv->line, "", d);
        }
    }

    /* [defaults]: SLOT = INST for every instance that leaves SLOT unbound. */
    if (def_sec) {
        for (unsigned k = 0; k < def_sec->n; k++) {
            const struct lyra_mf_kv *kv = &def_sec->kv[k];
            const char *dot = strchr(kv->value, '.');
            int pi = find_inst(g, kv->value, dot ? (size_t)(dot - kv->value) : strlen(kv->value));
            if (pi < 0) {
                lyra_diag_add(d, LYRA_E_UNKNOWN_INSTANCE, kv->line,
                              "[defaults] %s = %s: no instance named '%s'", kv->key, kv->value,
                              kv->value);
                continue;
            }
            for (unsigned ui = 0; ui < g->n_inst; ui++) {
                unsigned si;
                if (!g->inst[ui].c || ui == (unsigned)pi ||
                    !lyra_component_slot(g->inst[ui].c, kv->key, &si))
                    continue;
                if (!slot_bound(g, ui, si))
                    bind_one(g, ui, si, kv->value, kv->line, "[defaults] ", d);
            }
        }
    }

    /* [assembly] */
    if (asm_sec) {
        for (unsigned k = 0; k < asm_sec->n; k++) {
            const struct lyra_mf_kv *kv = &asm_sec->kv[k];
            if (!strcmp(kv->key, "name")) {
                g->name = own(g, kv->value);
            } else if (!strcmp(kv->key, "account")) {
                struct lyra_value v;
                char err[256];
                if (lyra_value_parse(LYRA_P_BOOL, kv->value, 0, -1, &v, err, sizeof(err)))
                    lyra_diag_add(d, LYRA_E_TYPE, kv->line, "assembly.account: %s", err);
                else
                    g->account_all = v.u.b;
            } else if (!strcmp(kv->key, "doc")) {
                /* free text */
            } else {
                lyra_diag_add(d, LYRA_E_UNKNOWN_PARAM, kv->line,
                              "[assembly] has no key '%s' (it has: name, account, doc)", kv->key);
            }
        }
    }

    /* Accounting flags on bindings. */
    for (unsigned b = 0; b < g->n_bind; b++) {
        struct lyra_g_bind *gb = &g->bind[b];
        gb->account = g->account_all || (gb->slot < 32 && (g->inst[gb->user].account_slots >> gb->slot) & 1);
    }

    /* Cardinality: slots, then providers' user limits. */
    for (unsigned ui = 0; ui < g->n_inst; ui++) {
        const struct lyra_g_inst *gi = &g->inst[ui];
        if (!gi->c)
            continue;
        for (unsigned si = 0; si < gi->c->n_slots; si++) {
            const struct lyra_slot *sl = &gi->c->slots[si];
            unsigned n = 0, line = gi->line;
            for (unsigned b = 0; b < g->n_bind; b++)
                if (g->bind[b].user == ui && g->bind[b].slot == si) {
                    n++;
                    line = g->bind[b].line;
                }
            if (n < sl->min && n == 0 && si < 32 && (gi->named_slots >> si) & 1)
                continue; /* its binding failed: already reported */
            if (n < sl->min && n == 0)
                lyra_diag_add(d, LYRA_E_UNBOUND, gi->line,
                              "[%s]: required slot '%s' (interface %s %u.%u) is not bound; add "
                              "'%s = INSTANCE'",
                              gi->name, sl->name, sl->iface, sl->major, sl->minor, sl->name);
            else if (n < sl->min)
                lyra_diag_add(d, LYRA_E_CARDINALITY, line,
                              "%s.%s takes at least %u providers, %u bound", gi->name, sl->name,
                              sl->min, n);
            else if (n > sl->max)
                lyra_diag_add(d, LYRA_E_CARDINALITY, line,
                              "%s.%s takes at most %u provider%s, %u bound", gi->name, sl->name,
                              sl->max, sl->max == 1 ? "" : "s", n);
        }
    }
    for (unsigned pi = 0; pi < g->n_inst; pi++) {
        const struct lyra_g_inst *gp = &g->inst[pi];
        if (!gp->c)
            continue;
        for (unsigned k = 0; k < gp->c->n_provides; k++) {
            unsigned max = gp->c->provides[k].max_users, n = 0, line = 0;
            if (!max)
                continue;
            for (unsigned b = 0; b < g->n_bind; b++)
                if (g->bind[b].prov == pi && g->bind[b].provide == k) {
                    n++;
                    line = g->bind[b].line;
                }
            if (n > max)
                lyra_diag_add(d, LYRA_E_CARDINALITY, line,
                              "%s (%s) serves at most %u user%s of %s, %u bound", gp->name,
                              gp->c->name, max, max == 1 ? "" : "s", gp->c->provides[k].iface, n);
        }
    }
    check_l4_choice(g, d);
    check_cycles(g, d);
    return d->n + d->dropped - before;
}

void lyra_graph_free(struct lyra_graph *g)
{
    for (unsigned i = 0; i < g->n_inst; i++)
        free(g->inst[i].params);
    free(g->inst);
    free(g->bind);
    for (unsigned i = 0; i < g->n_owned; i++)
        free(g->owned[i]);
    free(g->owned);
    memset(g, 0, sizeof(*g));
}
