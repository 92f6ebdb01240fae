/* Manifest parser and graph checks: one test per error class, all errors of
 * a file in one run, and what a good manifest resolves to. */
#include <criterion/criterion.h>
#include <string.h>

#include "lyra/loader.h"
#include "lyra/manifest.h"
#include "toy_components.h"

struct run {
    struct lyra_diag d;
    struct lyra_manifest m;
    struct lyra_graph g;
};

static void check(struct run *r, const char *text)
{
    lyra_diag_init(&r->d, "t.lyra");
    lyra_manifest_parse(text, strlen(text), "t.lyra", &r->m, &r->d);
    lyra_graph_build(&r->m, lyra_static_resolve, (void *)toy_all, &r->g, &r->d);
}

static void done(struct run *r)
{
    lyra_graph_free(&r->g);
    lyra_manifest_free(&r->m);
    lyra_diag_free(&r->d);
}

/* The only error is of class cls, at line `line`, and its text has `frag`. */
static void expect_one(struct run *r, enum lyra_diag_class cls, unsigned line, const char *frag)
{
    for (unsigned i = 0; i < r->d.n; i++)
        cr_log_info("diag %u: %s line %u: %s", i, lyra_diag_class_name(r->d.v[i].cls),
                    r->d.v[i].line, r->d.v[i].msg);
    cr_assert_eq(r->d.n, 1, "expected exactly one error, got %u", r->d.n);
    cr_assert_eq(r->d.v[0].cls, cls, "class %s, expected %s", lyra_diag_class_name(r->d.v[0].cls),
                 lyra_diag_class_name(cls));
    cr_assert_eq(r->d.v[0].line, line, "line %u, expected %u", r->d.v[0].line, line);
    cr_assert(strstr(r->d.v[0].msg, frag), "message '%s' lacks '%s'", r->d.v[0].msg, frag);
}

#define GOOD "[src]\ncomponent = toy_src\n[sink]\ncomponent = toy_sink\nlower = src\n"

Test(manifest, good_graph_resolves_with_effective_values)
{
    struct run r;
    check(&r, "# a comment\n" GOOD "count = 7   # trailing comment\nlabel = \"a # b\"\n");
    cr_assert_eq(r.d.n, 0);
    cr_assert_eq(r.g.n_inst, 2);
    cr_assert_eq(r.g.n_bind, 1);
    cr_assert_eq(r.g.bind[0].user, 1);
    cr_assert_eq(r.g.bind[0].prov, 0);
    cr_assert_eq(r.g.inst[1].params[0].v.u.i, 7);
    cr_assert_eq(r.g.inst[1].params[0].line, 7);
    cr_assert_str_eq(r.g.inst[1].params[1].v.u.s, "a # b");
    cr_assert_eq(r.g.inst[0].params[0].v.u.i, 4, "default applies");
    cr_assert_eq(r.g.inst[0].params[0].line, 0);
    cr_assert_not(r.g.inst[0].params[2].v.set, "no default, not given: unset");
    done(&r);
}

Test(manifest, syntax_error_unclosed_section)
{
    struct run r;
    check(&r, "[src\ncomponent = toy_src\n");
    cr_assert_geq(lyra_diag_count(&r.d, LYRA_E_SYNTAX), 1);
    cr_assert_eq(r.d.v[0].line, 1);
    cr_assert(strstr(r.d.v[0].msg, "expected ']'"), "%s", r.d.v[0].msg);
    done(&r);
}

Test(manifest, syntax_error_missing_equals)
{
    struct run r;
    check(&r, GOOD "count 5\n");
    expect_one(&r, LYRA_E_SYNTAX, 6, "expected '=' after 'count'");
    done(&r);
}

Test(manifest, syntax_error_key_before_section)
{
    struct run r;
    check(&r, "count = 5\n" GOOD);
    expect_one(&r, LYRA_E_SYNTAX, 1, "expected a section header");
    done(&r);
}

Test(manifest, syntax_error_unterminated_quote_and_nul)
{
    struct run r;
    const char text[] = GOOD "label = \"abc\n[x\0y]\n";
    lyra_diag_init(&r.d, "t.lyra");
    lyra_manifest_parse(text, sizeof(text) - 1, "t.lyra", &r.m, &r.d);
    cr_assert_eq(r.d.n, 2);
    cr_assert(strstr(r.d.v[0].msg, "closing '\"'"), "%s", r.d.v[0].msg);
    cr_assert_eq(r.d.v[1].line, 7);
    cr_assert(strstr(r.d.v[1].msg, "NUL"), "%s", r.d.v[1].msg);
    lyra_manifest_free(&r.m);
    lyra_diag_free(&r.d);
}

Test(manifest, unknown_component)
{
    struct run r;
    check(&r, GOOD "[x]\ncomponent = nosuch\n");
    expect_one(&r, LYRA_E_UNKNOWN_COMPONENT, 7, "unknown component 'nosuch'");
    done(&r);
}

Test(manifest, unknown_parameter_lists_what_exists)
{
    struct run r;
    check(&r, GOOD "colour = red\n");
    expect_one(&r, LYRA_E_UNKNOWN_PARAM, 6, "no parameter or slot 'colour'");
    cr_assert(strstr(r.d.v[0].msg, "count"), "lists the real parameters: %s", r.d.v[0].msg);
    done(&r);
}

Test(manifest, wrong_type)
{
    struct run r;
    check(&r, GOOD "count = many\n");
    expect_one(&r, LYRA_E_TYPE, 6, "expected an integer");
    done(&r);
}

Test(manifest, wrong_type_mac_and_percent)
{
    struct run r;
    check(&r, GOOD "mac = 02:00:00:00:00\nloss = 5\n");
    cr_assert_eq(lyra_diag_count(&r.d, LYRA_E_TYPE), 2);
    done(&r);
}

Test(manifest, out_of_range)
{
    struct run r;
    check(&r, GOOD "count = 101\n");
    expect_one(&r, LYRA_E_RANGE, 6, "out of range 1..100");
    done(&r);
}

Test(manifest, out_of_range_percent)
{
    struct run r;
    check(&r, GOOD "loss = 100.5%\n");
    expect_one(&r, LYRA_E_RANGE, 6, "0%..100%");
    done(&r);
}

Test(manifest, required_slot_unbound)
{
    struct run r;
    check(&r, "[sink]\ncomponent = toy_sink\n");
    expect_one(&r, LYRA_E_UNBOUND, 1, "required slot 'lower'");
    done(&r);
}

Test(manifest, interface_mismatch)
{
    struct run r;
    check(&r, "[o]\ncomponent = toy_other\n[sink]\ncomponent = toy_sink\nlower = o\n");
    expect_one(&r, LYRA_E_IFACE, 5, "needs interface pkt 1.0");
    done(&r);
}

/* issue 9.1: a wrong selector is named, with what the instance provides */
Test(manifest, wrong_interface_selector_names_it)
{
    struct run r;
    check(&r, "[src]\ncomponent = toy_src\n[sink]\ncomponent = toy_sink\nlower = src.l5\n");
    expect_one(&r, LYRA_E_IFACE, 5,
               "sink.lower = src.l5: src (toy_src) has no interface 'l5'; it provides pkt 1.2");
    done(&r);
}

/* issue 9.1: check hooks run in `check`, every error at FILE:LINE at once */
Test(manifest, check_hook_errors_point_at_the_parameter)
{
    struct run r;
    check(&r, "[c]\ncomponent = toy_checked\ncount = 7\nlabel = bad\n");
    for (unsigned i = 0; i < r.d.n; i++)
        cr_log_info("diag %u: line %u: %s", i, r.d.v[i].line, r.d.v[i].msg);
    cr_assert_eq(r.d.n, 2);
    cr_assert_eq(r.d.v[0].cls, LYRA_E_RANGE);
    cr_assert_eq(r.d.v[0].line, 3);
    cr_assert_str_eq(r.d.v[0].msg, "c.count: 7 is odd");
    cr_assert_eq(r.d.v[1].line, 1, "no parameter named: the instance's line");
    cr_assert_str_eq(r.d.v[1].msg, "c: label and count disagree");
    done(&r);
    check(&r, "[c]\ncomponent = toy_checked\ncount = 8\n");
    cr_assert_eq(r.d.n, 0);
    done(&r);
}

Test(manifest, descriptor_without_check_hook_still_resolves)
{
    struct run r;
    check(&r, "[c]\ncomponent = toy_old\ncount = 7\n");
    cr_assert_eq(r.d.n, 0, "a 0.0 descriptor's check is not read");
    done(&r);
}

Test(manifest, version_mismatch_major)
{
    struct run r;
    check(&r, "[src]\ncomponent = toy_src\n[s]\ncomponent = toy_sink_v2\nlower = src\n");
    expect_one(&r, LYRA_E_IFACE, 5, "pkt 1.2");
    done(&r);
}

Test(manifest, version_mismatch_minor_too_old)
{
    struct run r;
    check(&r, "[src]\ncomponent = toy_src\n[s]\ncomponent = toy_sink_v13\nlower = src\n");
    expect_one(&r, LYRA_E_IFACE, 5, "minor >= 3");
    done(&r);
}

Test(manifest, duplicate_instance)
{
    struct run r;
    check(&r, GOOD "[src]\ncomponent = toy_src\n");
    expect_one(&r, LYRA_E_DUPLICATE, 6, "duplicate instance name 'src'");
    done(&r);
}

/* "copy" names each stack's copy object in --stats-json, beside the
 * instances: an instance of that name is refused, once, and what binds
 * to it still resolves (no errors that follow from the first). */
Test(manifest, the_name_copy_is_reserved)
{
    struct run r;
    check(&r, "[copy]\ncomponent = toy_src\n[s]\ncomponent = toy_sink\nlower = copy\n");
    expect_one(&r, LYRA_E_DUPLICATE, 1, "[copy]: the name is reserved");
    done(&r);
}

/* "ram" likewise (lyra_stack_ram's object) */
Test(manifest, the_name_ram_is_reserved)
{
    struct run r;
    check(&r, "[s]\ncomponent = toy_sink\nlower = ram\n[ram]\ncomponent = toy_src\n");
    expect_one(&r, LYRA_E_DUPLICATE, 4, "[ram]: the name is reserved (--stats-json's ram object)");
    done(&r);
}

Test(manifest, duplicate_key)
{
    struct run r;
    check(&r, GOOD "count = 1\ncount = 2\n");
    expect_one(&r, LYRA_E_DUPLICATE, 7, "'count' set twice");
    done(&r);
}

Test(manifest, unknown_instance_in_binding)
{
    struct run r;
    check(&r, "[sink]\ncomponent = toy_sink\nlower = nic\n");
    cr_assert_eq(lyra_diag_count(&r.d, LYRA_E_UNKNOWN_INSTANCE), 1);
    cr_assert_eq(r.d.v[0].line, 3);
    cr_assert(strstr(r.d.v[0].msg, "no instance named 'nic'"));
    done(&r);
}

Test(manifest, cardinality_slot_takes_one)
{
    struct run r;
    check(&r, GOOD "[src2]\ncomponent = toy_src\n[s2]\ncomponent = toy_sink\nlower = src, src2\n");
    expect_one(&r, LYRA_E_CARDINALITY, 10, "takes at most 1 provider");
    done(&r);
}

Test(manifest, cardinality_multi_slot_takes_two)
{
    struct run r;
    check(&r, "[a]\ncomponent = toy_src\n[b]\ncomponent = toy_src\n[m]\ncomponent = toy_multi\n"
              "lower = a, b\n");
    cr_assert_eq(r.d.n, 0);
    cr_assert_eq(r.g.bind[1].index, 1, "second provider gets index 1");
    done(&r);
}

Test(manifest, cardinality_provider_user_limit)
{
    struct run r;
    check(&r, "[e]\ncomponent = toy_excl\n[a]\ncomponent = toy_sink\nlower = e\n"
              "[b]\ncomponent = toy_sink\nlower = e\n");
    expect_one(&r, LYRA_E_CARDINALITY, 8, "serves at most 1 user");
    done(&r);
}

Test(manifest, binding_cycle)
{
    struct run r;
    check(&r, "[a]\ncomponent = toy_relay\nlower = b\n[b]\ncomponent = toy_relay\nlower = a\n");
    cr_assert_eq(lyra_diag_count(&r.d, LYRA_E_CYCLE), 1);
    cr_assert_eq(r.d.n, 1);
    cr_assert(strstr(r.d.v[0].msg, "a -> b -> a") || strstr(r.d.v[0].msg, "b -> a -> b"), "%s",
              r.d.v[0].msg);
    done(&r);
}

Test(manifest, self_binding_is_a_cycle)
{
    struct run r;
    check(&r, "[a]\ncomponent = toy_relay\nlower = a\n");
    expect_one(&r, LYRA_E_CYCLE, 3, "a -> a");
    done(&r);
}

Test(manifest, all_errors_in_one_run_in_line_order)
{
    struct run r;
    check(&r, "[src]\n"                 /* 1 */
              "component = toy_src\n"   /* 2 */
              "count = zero\n"          /* 3 type */
              "[sink]\n"                /* 4 */
              "component = toy_sink\n"  /* 5 */
              "lower = ghost\n"         /* 6 unknown instance */
              "count = 1000\n"          /* 7 range */
              "bogus = 1\n"             /* 8 unknown param */
              "[x]\n"                   /* 9 */
              "component = nothing\n"   /* 10 unknown component */
              "[src]\n"                 /* 11 duplicate */
              "oops\n");                /* 12 syntax */
    cr_assert_eq(r.d.n, 7, "got %u errors", r.d.n);
    /* lines 3, 6, 7, 8, 10, 11, 12 (sink's lower is unbound: reported once as unknown) */
    unsigned lines[16], n = 0;
    for (unsigned i = 0; i < r.d.n; i++)
        lines[n++] = r.d.v[i].line;
    unsigned want[] = {3, 6, 7, 8, 10, 11, 12};
    for (unsigned w = 0; w < 7; w++) {
        int found = 0;
        for (unsigned i = 0; i < n; i++)
            found |= lines[i] == want[w];
        cr_assert(found, "no error at line %u", want[w]);
    }
    done(&r);
}

Test(manifest, defaults_section_binds_unbound_slots)
{
    struct run r;
    check(&r, "[defaults]\nlower = src\n[src]\ncomponent = toy_src\n[a]\ncomponent = toy_sink\n"
              "[b]\ncomponent = toy_sink\nlower = src2\n[src2]\ncomponent = toy_src\n");
    cr_assert_eq(r.d.n, 0);
    cr_assert_eq(r.g.n_bind, 2);
    for (unsigned b = 0; b < r.g.n_bind; b++) {
        const char *u = r.g.inst[r.g.bind[b].user].name, *p = r.g.inst[r.g.bind[b].prov].name;
        if (!strcmp(u, "a"))
            cr_assert_str_eq(p, "src");
        else
            cr_assert_str_eq(p, "src2", "an explicit binding wins over [defaults]");
    }
    done(&r);
}

Test(manifest, account_marks_bindings)
{
    struct run r;
    check(&r, GOOD "account = lower\n");
    cr_assert_eq(r.d.n, 0);
    cr_assert(r.g.bind[0].account);
    done(&r);
    check(&r, "[assembly]\naccount = on\n" GOOD);
    cr_assert_eq(r.d.n, 0);
    cr_assert(r.g.bind[0].account);
    done(&r);
    check(&r, GOOD "account = nosuchslot\n");
    expect_one(&r, LYRA_E_UNKNOWN_PARAM, 6, "no slot 'nosuchslot'");
    done(&r);
}

Test(manifest, missing_component_key)
{
    struct run r;
    check(&r, GOOD "[x]\ncount = 3\n");
    expect_one(&r, LYRA_E_SYNTAX, 6, "expected 'component = NAME'");
    done(&r);
}

Test(manifest, dot_output_names_every_binding)
{
    struct run r;
    check(&r, GOOD);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lyra_graph_dot(&r.g, f);
    fclose(f);
    cr_assert(strstr(buf, "digraph"));
    cr_assert(strstr(buf, "n1 -> n0 [label=\"lower:pkt\""), "%s", buf);
    free(buf);
    done(&r);
}
