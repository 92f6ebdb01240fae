/* --stats table and --stats-json writer. (%llu with casts, not PRIu64:
 * Debian's arm-none-eabi newlib does not define PRIu64.) */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/copy_stats.h"
#include "lyra/stack.h"

struct print_ctx {
    FILE *f;
    const char *last;
    int header;
};

static void print_counter(void *ctx, const char *inst, const char *name, uint64_t v)
{
    struct print_ctx *p = ctx;
    if (!p->last || strcmp(p->last, inst))
        fprintf(p->f, "  %s\n", inst);
    p->last = inst;
    fprintf(p->f, "    %-28s %llu\n", name, (unsigned long long)v);
}

static void print_binding(void *ctx, const char *user, const char *slot, const char *prov,
                          const char *iface, const char *op, int is_event, uint64_t calls,
                          uint64_t bytes, uint64_t ns)
{
    struct print_ctx *p = ctx;
    if (!calls)
        return;
    if (!p->header) {
        fprintf(p->f, "  %-28s %-14s %10s %12s %12s %9s\n", "binding", "op", "calls", "bytes",
                "ns", "ns/call");
        p->header = 1;
    }
    char b[160];
    snprintf(b, sizeof(b), "%s.%s->%s", user, slot, prov);
    char o[64];
    snprintf(o, sizeof(o), "%s%s", is_event ? "^" : "", op);
    fprintf(p->f, "  %-28s %-14s %10llu %12llu %12llu %9llu\n", b, o, (unsigned long long)calls,
            (unsigned long long)bytes, (unsigned long long)ns,
            (unsigned long long)(calls ? ns / calls : 0));
    (void)iface;
}

static void print_copy_line(struct lyra_stack *s, FILE *f)
{
    struct lyra_copy_stats st;
    lyra_stack_copy_stats(s, &st);
    lyra_copy_stats_line(&st, f);
}

/* The RAM report (lyra_stack_ram): an instance's bytes, all three kinds
 * (a kind the os cannot tell counts 0; *known says whether any could). */
static uint64_t ram_of(const struct lyra_stack *s, unsigned i, struct lyra_ram *r, int *known)
{
    if (lyra_stack_ram(s, i, r))
        return 0;
    int k = r->heap != UINT64_MAX;
    if (known)
        *known |= k;
    return r->instance + (k ? r->heap + r->pages : 0);
}

/* The stack's bytes and the host stand-ins' (os_posix, device models). */
static int ram_totals(const struct lyra_stack *s, uint64_t *stack, uint64_t *host)
{
    int known = 0;
    struct lyra_ram r;
    *stack = *host = 0;
    for (unsigned i = 0; lyra_stack_instance_name(s, i); i++) {
        uint64_t b = ram_of(s, i, &r, &known);
        *(r.host ? host : stack) += b;
    }
    return known;
}

/* One line: the stack's total, the stand-ins' apart, then the stack's
 * dearest instances (--stats). */
static void print_ram_line(const struct lyra_stack *s, FILE *f)
{
    uint64_t stack, host;
    int known = ram_totals(s, &stack, &host);
    fprintf(f, "  ram: %.1f KiB (%s", (double)stack / 1024.0,
            known ? "structs and what each start took" : "structs only: the os does not tell");
    if (host)
        fprintf(f, "; host stand-ins %.1f KiB more", (double)host / 1024.0);
    fputc(')', f);
    /* the four dearest, by bytes then plan order: each instance goes into
     * a short list kept sorted (after those of as many bytes) */
    enum { TOP = 4 };
    uint64_t tb[TOP];
    unsigned ti[TOP], nt = 0;
    struct lyra_ram r;
    for (unsigned i = 0; lyra_stack_instance_name(s, i); i++) {
        uint64_t b = ram_of(s, i, &r, NULL);
        if (r.host || !b || (nt == TOP && b <= tb[TOP - 1]))
            continue;
        unsigned k = nt < TOP ? nt++ : TOP - 1;
        for (; k > 0 && tb[k - 1] < b; k--) {
            tb[k] = tb[k - 1];
            ti[k] = ti[k - 1];
        }
        tb[k] = b;
        ti[k] = i;
    }
    for (unsigned k = 0; k < nt; k++)
        fprintf(f, "%s %s %.1f", k ? "," : ":", lyra_stack_instance_name(s, ti[k]),
                (double)tb[k] / 1024.0);
    fputc('\n', f);
}

/* Every instance's three figures (--stats=all). */
static void print_ram_all(const struct lyra_stack *s, FILE *f)
{
    struct lyra_ram r;
    fprintf(f, "  %-26s %10s %10s %10s\n", "ram (bytes)", "struct", "heap", "pages");
    for (unsigned i = 0; !lyra_stack_ram(s, i, &r); i++) {
        const char *name = lyra_stack_instance_name(s, i), *tag = r.host ? " (host)" : "";
        if (r.heap == UINT64_MAX)
            fprintf(f, "    %-24s %10llu %10s %10s%s\n", name, (unsigned long long)r.instance, "?",
                    "?", tag);
        else
            fprintf(f, "    %-24s %10llu %10llu %10llu%s\n", name,
                    (unsigned long long)r.instance, (unsigned long long)r.heap,
                    (unsigned long long)r.pages, tag);
    }
}

static void print_bindings(struct lyra_stack *s, struct print_ctx *p)
{
    struct lyra_stats_visitor vb = {.binding = print_binding, .ctx = p};
    lyra_stack_stats(s, &vb);
    if (p->header)
        fprintf(p->f, "  (^ marks events going up; ns include what the callee calls)\n");
}

void lyra_stack_stats_print_all(struct lyra_stack *s, FILE *f)
{
    struct print_ctx p = {f, NULL, 0};
    fprintf(f, "stats of stack %s\n", lyra_stack_name(s));
    struct lyra_stats_visitor v = {.counter = print_counter, .ctx = &p};
    lyra_stack_stats(s, &v);
    print_copy_line(s, f);
    print_ram_all(s, f);
    print_bindings(s, &p);
}

/* The short form: per instance one line of NAME=VALUE for the counters that
 * moved, wrapped under the first at WRAP columns. */
#define WRAP 100

struct brief_ctx {
    FILE *f;
    char inst[40];
    unsigned col, shown, hidden;
};

static void brief_counter(void *ctx, const char *inst, const char *name, uint64_t v)
{
    struct brief_ctx *b = ctx;
    if (!v) {
        b->hidden++;
        return;
    }
    char item[96];
    int n = snprintf(item, sizeof(item), "%s=%llu", name, (unsigned long long)v);
    if (strncmp(b->inst, inst, sizeof(b->inst) - 1) || !b->col) {
        fprintf(b->f, "%s  %-6s", b->col ? "\n" : "", inst);
        snprintf(b->inst, sizeof(b->inst), "%s", inst);
        b->col = 2 + (unsigned)(strlen(inst) > 6 ? strlen(inst) : 6);
    } else if (b->col + 1 + (unsigned)n > WRAP) {
        fprintf(b->f, "\n%*s", 8, "");
        b->col = 8;
    }
    fprintf(b->f, " %s", item);
    b->col += 1 + (unsigned)n;
    b->shown++;
}

void lyra_stack_stats_print(struct lyra_stack *s, FILE *f)
{
    struct brief_ctx b = {.f = f};
    fprintf(f, "stats of stack %s (counters that moved)\n", lyra_stack_name(s));
    struct lyra_stats_visitor v = {.counter = brief_counter, .ctx = &b};
    lyra_stack_stats(s, &v);
    if (b.col)
        fputc('\n', f);
    fprintf(f, "  (%u counters at 0 not shown: --stats=all)\n", b.hidden);
    print_copy_line(s, f);
    print_ram_line(s, f);
    struct print_ctx p = {f, NULL, 0};
    print_bindings(s, &p);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* The "copy" object (lyra/copy_stats.h, docs/buffers.md "Copies"). */
static void copy_json(const struct lyra_copy_stats *st, FILE *f)
{
    fprintf(f,
            "{\"tx_copied_bytes\": %llu, \"tx_referenced_bytes\": %llu, "
            "\"rx_copied_bytes\": %llu, \"rx_remapped_bytes\": %llu, "
            "\"rx_loaned_bytes\": %llu, \"cow_faults\": %llu, \"fallbacks\": {",
            (unsigned long long)st->tx_copied_bytes, (unsigned long long)st->tx_referenced_bytes,
            (unsigned long long)st->rx_copied_bytes, (unsigned long long)st->rx_remapped_bytes,
            (unsigned long long)st->rx_loaned_bytes, (unsigned long long)st->cow_faults);
    for (unsigned i = 0; i < st->n_fallbacks; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, st->fallbacks[i].reason);
        fprintf(f, ": %llu", (unsigned long long)st->fallbacks[i].count);
    }
    fprintf(f, "}, \"by_component\": {");
    for (unsigned i = 0; i < st->n_components; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, st->by_component[i].inst);
        fprintf(f, ": %llu", (unsigned long long)st->by_component[i].copy_bytes);
    }
    fprintf(f, "}}");
}

/* The "ram" object (lyra_stack_ram): the stack's bytes and the host
 * stand-ins' apart, and each instance's figures; heap and pages null where
 * the os cannot tell. */
static void ram_json(const struct lyra_stack *s, FILE *f)
{
    uint64_t stack, host;
    int known = ram_totals(s, &stack, &host);
    struct lyra_ram r;
    fprintf(f, "{\"stack_bytes\": %llu, \"host_bytes\": %llu, \"os_reports\": %s, "
               "\"instances\": {",
            (unsigned long long)stack, (unsigned long long)host, known ? "true" : "false");
    for (unsigned i = 0; !lyra_stack_ram(s, i, &r); i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, lyra_stack_instance_name(s, i));
        const struct lyra_component *c = NULL;
        lyra_stack_instance((struct lyra_stack *)s, lyra_stack_instance_name(s, i), &c);
        fprintf(f, ": {\"component\": ");
        json_str(f, c ? c->name : "");
        fprintf(f, ", \"host\": %s, \"struct\": %llu, ", r.host ? "true" : "false",
                (unsigned long long)r.instance);
        if (r.heap == UINT64_MAX)
            fprintf(f, "\"heap\": null, \"pages\": null}");
        else
            fprintf(f, "\"heap\": %llu, \"pages\": %llu}", (unsigned long long)r.heap,
                    (unsigned long long)r.pages);
    }
    fprintf(f, "}}");
}

struct json_ctx {
    FILE *f;
    const char *inst;
    const char *want; /* instance being written */
    int first;
    const char *bind_key;
    int in_ops;
    int first_op;
};

static void json_counter(void *ctx, const char *inst, const char *name, uint64_t v)
{
    struct json_ctx *j = ctx;
    if (strcmp(inst, j->want))
        return;
    fprintf(j->f, "%s", j->first ? "" : ", ");
    j->first = 0;
    json_str(j->f, name);
    fprintf(j->f, ": %llu", (unsigned long long)v);
}

static void json_binding(void *ctx, const char *user, const char *slot, const char *prov,
                         const char *iface, const char *op, int is_event, uint64_t calls,
                         uint64_t bytes, uint64_t ns)
{
    struct json_ctx *j = ctx;
    if (strcmp(user, j->want))
        return;
    if (!j->bind_key || strcmp(j->bind_key, slot)) {
        if (j->bind_key)
            fprintf(j->f, "}}");
        fprintf(j->f, "%s", j->first ? "" : ", ");
        j->first = 0;
        json_str(j->f, slot);
        fprintf(j->f, ": {\"provider\": ");
        json_str(j->f, prov);
        fprintf(j->f, ", \"iface\": ");
        json_str(j->f, iface);
        fprintf(j->f, ", \"ops\": {");
        j->bind_key = slot;
        j->in_ops = 1;
        j->first_op = 1;
    }
    if (is_event && j->in_ops) {
        fprintf(j->f, "}, \"events\": {");
        j->in_ops = 0;
        j->first_op = 1;
    }
    fprintf(j->f, "%s", j->first_op ? "" : ", ");
    j->first_op = 0;
    json_str(j->f, op);
    fprintf(j->f, ": {\"calls\": %llu, \"bytes\": %llu, \"ns\": %llu}", (unsigned long long)calls,
            (unsigned long long)bytes, (unsigned long long)ns);
}

void lyra_stack_stats_json(struct lyra_stack *s, FILE *f)
{
    /* Instances with counters or bindings; every instance appears, even
     * one that reports nothing, so scripts can rely on the keys. */
    fprintf(f, "{");
    int first_inst = 1;
    for (unsigned i = 0;; i++) {
        const char *name = lyra_stack_instance_name(s, i);
        if (!name)
            break;
        fprintf(f, "%s", first_inst ? "" : ", ");
        first_inst = 0;
        json_str(f, name);
        fprintf(f, ": {");
        struct json_ctx j = {.f = f, .want = name, .first = 1};
        struct lyra_stats_visitor v = {.counter = json_counter, .ctx = &j};
        lyra_stack_stats(s, &v);
        int had = !j.first;
        struct json_ctx jb = {.f = f, .want = name, .first = 1};
        fprintf(f, "%s\"bindings\": {", had ? ", " : "");
        struct lyra_stats_visitor vb = {.binding = json_binding, .ctx = &jb};
        lyra_stack_stats(s, &vb);
        if (jb.bind_key)
            fprintf(f, "}}");
        fprintf(f, "}}");
    }
    fprintf(f, "%s\"copy\": ", first_inst ? "" : ", ");
    struct lyra_copy_stats st;
    lyra_stack_copy_stats(s, &st);
    copy_json(&st, f);
    fprintf(f, ", \"ram\": ");
    ram_json(s, f);
    fprintf(f, "}");
}
