/* The stack runtime: plans become instances, bindings carry ops down and
 * events up, overrides are checked, two stacks do not share state. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "lyra/loader.h"
#include "lyra/manifest.h"
#include "lyra/stack.h"
#include "toy_components.h"

static struct lyra_plan *plan_of(const char *text)
{
    struct lyra_diag d;
    struct lyra_manifest m;
    struct lyra_graph g;
    lyra_diag_init(&d, "t.lyra");
    lyra_manifest_parse(text, strlen(text), "t.lyra", &m, &d);
    lyra_graph_build(&m, lyra_static_resolve, (void *)toy_all, &g, &d);
    cr_assert_eq(d.n, 0, "manifest has errors");
    struct lyra_plan *p = lyra_graph_to_plan(&g);
    lyra_graph_free(&g);
    lyra_manifest_free(&m);
    lyra_diag_free(&d);
    return p;
}

#define GOOD "[src]\ncomponent = toy_src\n[sink]\ncomponent = toy_sink\nlower = src\ncount = 9\n"

Test(stack, ops_down_events_up_and_lifecycle)
{
    struct lyra_plan *p = plan_of(GOOD);
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &s), 0);
    struct toy_state *src = lyra_stack_instance(s, "src", NULL);
    struct toy_state *sink = lyra_stack_instance(s, "sink", NULL);
    cr_assert(src && sink);
    cr_assert_eq(sink->count, 9);
    cr_assert_eq(src->count, 4);
    cr_assert_eq(sink->bound, 1);
    cr_assert_eq(src->attached, 1);
    cr_assert_eq(lyra_stack_start(s), 0);
    cr_assert(src->started && sink->started);
    sink->ops->send(sink->prov, 3);
    cr_assert_eq(src->sent, 3);
    cr_assert_eq(sink->got, 3, "the event went up to the user");
    cr_assert_eq(lyra_stack_counter(s, "src", "sent"), 3);
    cr_assert_eq(lyra_stack_counter(s, "sink", "nothing"), UINT64_MAX);
    lyra_stack_destroy(s);
    lyra_plan_free(p);
}

Test(stack, overrides_are_checked_and_named)
{
    struct lyra_plan *p = plan_of(GOOD);
    struct lyra_stack *s;
    struct lyra_diag d;
    const char *ok[] = {"sink.count=12", "src.label=hello", NULL};
    cr_assert_eq(lyra_stack_create(p, ok, NULL, &s), 0);
    cr_assert_eq(((struct toy_state *)lyra_stack_instance(s, "sink", NULL))->count, 12);
    cr_assert_str_eq(((struct toy_state *)lyra_stack_instance(s, "src", NULL))->label, "hello");
    lyra_stack_destroy(s);

    const char *bad[] = {"sink.count=500", "nope.count=1", "sink.colour=red", "garbage",
                         "src.loss=x", NULL};
    lyra_diag_init(&d, "t.lyra");
    cr_assert_eq(lyra_stack_create(p, bad, &d, &s), -EINVAL);
    cr_assert_null(s);
    cr_assert_eq(d.n, 5, "every bad override reported, got %u", d.n);
    cr_assert(strstr(d.v[0].msg, "override 'sink.count=500'"));
    cr_assert_eq(d.v[0].cls, LYRA_E_RANGE);
    cr_assert_eq(d.v[1].cls, LYRA_E_UNKNOWN_INSTANCE);
    cr_assert_eq(d.v[2].cls, LYRA_E_UNKNOWN_PARAM);
    cr_assert_eq(d.v[3].cls, LYRA_E_USAGE);
    cr_assert_eq(d.v[4].cls, LYRA_E_TYPE);
    lyra_diag_free(&d);
    lyra_plan_free(p);
}

Test(stack, two_stacks_from_one_plan_are_independent)
{
    struct lyra_plan *p = plan_of(GOOD);
    struct lyra_stack *a, *b;
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &a), 0);
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &b), 0);
    struct toy_state *sa = lyra_stack_instance(a, "sink", NULL);
    struct toy_state *sb = lyra_stack_instance(b, "sink", NULL);
    cr_assert_neq(sa, sb);
    sa->ops->send(sa->prov, 5);
    cr_assert_eq(lyra_stack_counter(a, "src", "sent"), 5);
    cr_assert_eq(lyra_stack_counter(b, "src", "sent"), 0);
    lyra_stack_destroy(a);
    lyra_stack_destroy(b);
    lyra_plan_free(p);
}

Test(stack, accounting_on_an_interface_without_proxy_is_a_manifest_error)
{
    struct lyra_plan *p = plan_of(GOOD "account = lower\n");
    struct lyra_stack *s;
    struct lyra_diag d;
    lyra_diag_init(&d, "t.lyra");
    cr_assert_eq(lyra_stack_create(p, NULL, &d, &s), -EINVAL);
    cr_assert(strstr(d.v[0].msg, "cannot be accounted"));
    lyra_diag_free(&d);
    lyra_plan_free(p);
}

Test(stack, stats_json_has_every_instance)
{
    struct lyra_plan *p = plan_of(GOOD);
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &s), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lyra_stack_stats_json(s, f);
    fclose(f);
    /* no os here: the RAM report has the structs only */
    char want[1024];
    snprintf(want, sizeof(want), "{\"src\": {\"sent\": 0, \"got\": 0, \"bindings\": {}}, "
                          "\"sink\": {\"sent\": 0, \"got\": 0, \"bindings\": {}}, "
                          "\"copy\": {\"tx_copied_bytes\": 0, \"tx_referenced_bytes\": 0, "
                          "\"rx_copied_bytes\": 0, \"rx_remapped_bytes\": 0, "
                          "\"rx_loaned_bytes\": 0, \"cow_faults\": 0, \"fallbacks\": {}, "
                          "\"by_component\": {}}, "
                          "\"ram\": {\"stack_bytes\": %zu, \"host_bytes\": 0, \"os_reports\": false, "
                          "\"instances\": {"
                          "\"src\": {\"component\": \"toy_src\", \"host\": false, \"struct\": %zu, "
                          "\"heap\": null, \"pages\": null}, "
                          "\"sink\": {\"component\": \"toy_sink\", \"host\": false, \"struct\": %zu, "
                          "\"heap\": null, \"pages\": null}}}}",
             2 * sizeof(struct toy_state), sizeof(struct toy_state), sizeof(struct toy_state));
    cr_assert_str_eq(buf, want);
    free(buf);
    lyra_stack_destroy(s);
    lyra_plan_free(p);
}

static char *printed(struct lyra_stack *s, void (*fn)(struct lyra_stack *, FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(s, f);
    fclose(f);
    return buf;
}

Test(stack, ram_reports_struct_sizes_without_an_os)
{
    struct lyra_plan *p = plan_of(GOOD);
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &s), 0);
    cr_assert_eq(lyra_stack_start(s), 0);
    struct lyra_ram r;
    cr_assert_eq(lyra_stack_ram(s, 0, &r), 0);
    cr_assert_eq(r.instance, sizeof(struct toy_state));
    cr_assert_eq(r.heap, UINT64_MAX, "no os to ask: unknown, not 0");
    cr_assert_eq(r.pages, UINT64_MAX);
    cr_assert_eq(lyra_stack_ram(s, 2, &r), -1, "past the end");
    /* --stats' line: the structs only, both instances (the same size) named */
    char *buf = printed(s, lyra_stack_stats_print);
    char want[128];
    snprintf(want, sizeof(want), "  ram: %.1f KiB (structs only: the os does not tell): "
             "src %.1f, sink %.1f\n", 2.0 * sizeof(struct toy_state) / 1024.0,
             sizeof(struct toy_state) / 1024.0, sizeof(struct toy_state) / 1024.0);
    cr_assert(strstr(buf, want), "%s", buf);
    free(buf);
    lyra_stack_destroy(s);
    lyra_plan_free(p);
}

/* Each instance gets what the os holds more after its own start: eater a's
 * heap, b's heap and pages; the os toy is a host stand-in, apart. */
#define EATERS "[defaults]\nos = os\n[os]\ncomponent = toy_memos\n[a]\ncomponent = toy_eater\nbytes = 300\n" \
               "[b]\ncomponent = toy_eater\nbytes = 5000\npages = 2\n"

Test(stack, ram_gives_each_instance_what_its_start_took)
{
    struct lyra_plan *p = plan_of(EATERS);
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &s), 0);
    struct lyra_ram r;
    cr_assert_eq(lyra_stack_ram(s, 1, &r), 0);
    cr_assert_eq(r.heap, UINT64_MAX, "not started yet: unknown");
    cr_assert_eq(lyra_stack_start(s), 0);
    const struct lyra_component *c;
    lyra_stack_instance(s, "a", &c);
    size_t eater = c->instance_size;
    lyra_stack_instance(s, "os", &c);
    size_t memos = c->instance_size;
    cr_assert_eq(lyra_stack_ram(s, 0, &r), 0);
    cr_assert(r.host && r.instance == memos && r.heap == 0 && r.pages == 0);
    cr_assert_eq(lyra_stack_ram(s, 1, &r), 0);
    cr_assert(!r.host && r.instance == eater && r.heap == 300 && r.pages == 0,
              "a: %llu %llu", (unsigned long long)r.heap, (unsigned long long)r.pages);
    cr_assert_eq(lyra_stack_ram(s, 2, &r), 0);
    cr_assert(r.heap == 5000 && r.pages == 2 * 4096, "b: %llu %llu",
              (unsigned long long)r.heap, (unsigned long long)r.pages);
    /* the three outputs say the same */
    char want[512];
    char *j = printed(s, lyra_stack_stats_json);
    snprintf(want, sizeof(want),
             "\"ram\": {\"stack_bytes\": %zu, \"host_bytes\": %zu, \"os_reports\": true, "
             "\"instances\": {\"os\": {\"component\": \"toy_memos\", \"host\": true, "
             "\"struct\": %zu, \"heap\": 0, \"pages\": 0}, \"a\": {\"component\": \"toy_eater\", "
             "\"host\": false, \"struct\": %zu, \"heap\": 300, \"pages\": 0}, \"b\": {\"component\": "
             "\"toy_eater\", \"host\": false, \"struct\": %zu, \"heap\": 5000, \"pages\": 8192}}}}",
             2 * eater + 300 + 5000 + 8192, memos, memos, eater, eater);
    cr_assert(strstr(j, want), "%s\nwant %s", j, want);
    free(j);
    char *t = printed(s, lyra_stack_stats_print);
    snprintf(want, sizeof(want),
             "  ram: %.1f KiB (structs and what each start took; host stand-ins %.1f KiB more): "
             "b %.1f, a %.1f\n",
             (2 * eater + 300 + 5000 + 8192) / 1024.0, memos / 1024.0,
             (eater + 5000 + 8192) / 1024.0, (eater + 300) / 1024.0);
    cr_assert(strstr(t, want), "%s\nwant %s", t, want);
    free(t);
    char *all = printed(s, lyra_stack_stats_print_all);
    snprintf(want, sizeof(want), "    %-24s %10zu %10d %10d\n", "b", eater, 5000, 8192);
    cr_assert(strstr(all, want), "%s\nwant %s", all, want);
    snprintf(want, sizeof(want), "    %-24s %10zu %10d %10d (host)\n", "os", memos, 0, 0);
    cr_assert(strstr(all, want), "%s\nwant %s", all, want);
    free(all);
    lyra_stack_destroy(s);
    lyra_plan_free(p);
}

Test(stack, ram_after_a_failed_start_is_unknown)
{
    struct lyra_plan *p = plan_of(EATERS "fail = 1\n");
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &s), 0);
    cr_assert_neq(lyra_stack_start(s), 0);
    struct lyra_ram r;
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(lyra_stack_ram(s, i, &r), 0);
        cr_assert_eq(r.heap, UINT64_MAX, "instance %u: a rolled-back start holds nothing known", i);
    }
    char *j = printed(s, lyra_stack_stats_json);
    cr_assert(strstr(j, "\"os_reports\": false"), "%s", j);
    free(j);
    lyra_stack_destroy(s);
    lyra_plan_free(p);
}

Test(stack, a_descriptor_older_than_flags_is_no_host_stand_in)
{
    /* toy_eater as built against ABI 1.1 (the descriptor ends before
     * flags), with a flags word in memory beyond it that must not be read */
    static struct lyra_component old;
    old = toy_eater;
    old.abi_minor = 1;
    old.desc_size = offsetof(struct lyra_component, flags);
    old.flags = LYRA_COMP_F_HOST;
    cr_assert_eq(LYRA_COMPONENT_FLAGS(&old), 0u);
    old.desc_size = sizeof(struct lyra_component);
    cr_assert_eq(LYRA_COMPONENT_FLAGS(&old), LYRA_COMP_F_HOST);
    cr_assert_eq(LYRA_COMPONENT_FLAGS(&toy_memos), LYRA_COMP_F_HOST);
}

Test(stack, run_without_os_is_refused)
{
    struct lyra_plan *p = plan_of(GOOD);
    struct lyra_stack *s;
    cr_assert_eq(lyra_stack_create(p, NULL, NULL, &s), 0);
    cr_assert_eq(lyra_stack_run(s), -ENOSYS);
    cr_assert_eq(lyra_stack_poll(s), UINT64_MAX);
    lyra_stack_destroy(s);
    lyra_plan_free(p);
}

/* A slot without a bind function: the framework stores each provider. */
struct stored {
    int pad;
    const struct toy_pkt_ops *ops[2];
    void *self[2];
};

static const struct lyra_slot store_slot = {
    .name = "lower", .iface = "pkt", .major = 1, .minor = 0, .min = 1, .max = 2,
    LYRA_SLOT_STORE(struct stored, ops, self)};

Test(stack, slot_store_binds_by_index_and_checks_the_table)
{
    static const struct toy_pkt_ops v1 = {LYRA_OPS_HDR("pkt", 1, 0, struct toy_pkt_ops), NULL};
    static const struct toy_pkt_ops v2 = {LYRA_OPS_HDR("pkt", 2, 0, struct toy_pkt_ops), NULL};
    struct stored st = {0};
    int a, b;
    cr_assert_eq(lyra_slot_bind(&store_slot, &st, 0, &v1, &a), 0);
    cr_assert_eq(lyra_slot_bind(&store_slot, &st, 1, &v1, &b), 0);
    cr_assert_eq(st.ops[0], &v1);
    cr_assert_eq(st.self[0], &a);
    cr_assert_eq(st.self[1], &b);
    cr_assert_eq(lyra_slot_bind(&store_slot, &st, 2, &v1, &a), -EINVAL, "beyond max");
    cr_assert_eq(lyra_slot_bind(&store_slot, &st, 0, &v2, &a), -EINVAL, "other major");
    cr_assert_eq(lyra_slot_bind(&store_slot, &st, 0, NULL, &a), -EINVAL, "no table");
    cr_assert_eq(st.self[0], &a, "a refused bind changes nothing");
}
