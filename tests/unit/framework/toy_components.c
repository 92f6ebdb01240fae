#include <string.h>
#include "toy_components.h"
#include "lyra/diag.h"

#include <errno.h>
#include <stddef.h>

static int toy_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct toy_state *s = self;
    (void)d;
    s->created = 1;
    s->count = p[0].u.i;
    s->label = p[1].u.s;
    return 0;
}
static int toy_start(void *self)
{
    ((struct toy_state *)self)->started = 1;
    return 0;
}
static void toy_stop(void *self)
{
    ((struct toy_state *)self)->stopped = 1;
}
static int toy_send(void *self, int v)
{
    struct toy_state *s = self;
    s->sent += v;
    if (s->ev)
        s->ev->got(s->user, v);
    return 0;
}
static void toy_got(void *user, int v)
{
    ((struct toy_state *)user)->got += v;
}
static int toy_bind(void *self, unsigned idx, const void *ops, void *prov)
{
    struct toy_state *s = self;
    (void)idx;
    s->bound++;
    s->ops = ops;
    s->prov = prov;
    return 0;
}
static int toy_attach(void *self, const void *ev, void *user)
{
    struct toy_state *s = self;
    s->attached++;
    s->ev = ev;
    s->user = user;
    return 0;
}
static void toy_stats(void *self, struct lyra_stats_sink *k)
{
    struct toy_state *s = self;
    lyra_stat(k, "sent", (uint64_t)s->sent);
    lyra_stat(k, "got", (uint64_t)s->got);
}

static const struct toy_pkt_ops pkt12 = {LYRA_OPS_HDR("pkt", 1, 2, struct toy_pkt_ops), toy_send};
static const struct toy_pkt_events ev10 = {LYRA_OPS_HDR("pkt", 1, 0, struct toy_pkt_events), toy_got};
static const struct toy_pkt_ops other10 = {LYRA_OPS_HDR("other", 1, 0, struct toy_pkt_ops), toy_send};

static const struct lyra_param params[] = {
    {"count", LYRA_P_INT, "4", 1, 100, "a count"},
    {"label", LYRA_P_STRING, "x", 0, -1, "a label"},
    {"mac", LYRA_P_MAC, NULL, 0, -1, "an optional MAC"},
    {"loss", LYRA_P_PERCENT, "0%", 0, 1000000, "a percentage"},
};

#define TOY(NAME, PROV, NPROV, SLOTS, NSLOTS)                                                    \
    const struct lyra_component NAME = {                                                        \
        LYRA_COMPONENT_HDR, .name = #NAME, .version = "1.0", .summary = "toy " #NAME,          \
        .provides = PROV, .n_provides = NPROV, .slots = SLOTS, .n_slots = NSLOTS,              \
        .params = params, .n_params = LYRA_COUNT(params),                                       \
        .instance_size = sizeof(struct toy_state), .create = toy_create, .start = toy_start,   \
        .stop = toy_stop, .stats = toy_stats}

static const struct lyra_provide src_prov[] = {
    {"pkt", 1, 2, &pkt12, toy_attach, 0, "packets"}};
static const struct lyra_provide excl_prov[] = {
    {"pkt", 1, 2, &pkt12, toy_attach, 1, "one user only"}};
static const struct lyra_provide other_prov[] = {{"other", 1, 0, &other10, NULL, 0, NULL}};
static const struct lyra_slot sink_slots[] = {
    {"lower", "pkt", 1, 0, 1, 1, &ev10, toy_bind, "required", 0, 0},
    {"opt", "pkt", 1, 0, 0, 1, NULL, toy_bind, "optional", 0, 0}};
static const struct lyra_slot v2_slots[] = {{"lower", "pkt", 2, 0, 1, 1, NULL, toy_bind, NULL, 0, 0}};
static const struct lyra_slot v13_slots[] = {{"lower", "pkt", 1, 3, 1, 1, NULL, toy_bind, NULL, 0, 0}};
static const struct lyra_slot multi_slots[] = {{"lower", "pkt", 1, 0, 1, 2, NULL, toy_bind, NULL, 0, 0}};
static const struct lyra_slot relay_slots[] = {{"lower", "pkt", 1, 0, 0, 1, &ev10, toy_bind, NULL, 0, 0}};

TOY(toy_src, src_prov, 1, NULL, 0);
TOY(toy_sink, NULL, 0, sink_slots, 2);
TOY(toy_sink_v2, NULL, 0, v2_slots, 1);
TOY(toy_sink_v13, NULL, 0, v13_slots, 1);
TOY(toy_multi, NULL, 0, multi_slots, 1);
TOY(toy_excl, excl_prov, 1, NULL, 0);
TOY(toy_relay, src_prov, 1, relay_slots, 1);
TOY(toy_other, other_prov, 1, NULL, 0);

/* a check hook (ABI 0.1): count must be even, label not "bad" */
static int toy_check(const struct lyra_value *p, struct lyra_diag *d)
{
    int bad = 0;
    if (p[0].u.i % 2)
        bad++, lyra_diag_add(d, LYRA_E_RANGE, 1, "%lld is odd", (long long)p[0].u.i);
    if (!strcmp(p[1].u.s, "bad"))
        bad++, lyra_diag_add(d, LYRA_E_RANGE, 0, "label and count disagree");
    return bad;
}

const struct lyra_component toy_checked = {
    LYRA_COMPONENT_HDR, .name = "toy_checked", .version = "1.0", .summary = "toy with check",
    .provides = src_prov, .n_provides = 1, .params = params, .n_params = LYRA_COUNT(params),
    .instance_size = sizeof(struct toy_state), .create = toy_create, .start = toy_start,
    .stop = toy_stop, .stats = toy_stats, .check = toy_check};
/* as built before ABI 0.1: the descriptor ends before `check` */
const struct lyra_component toy_old = {
    .abi_major = LYRA_ABI_MAJOR, .abi_minor = 0, .desc_size = LYRA_DESC_SIZE_0_0,
    .name = "toy_old", .version = "1.0", .summary = "toy 0.0 descriptor",
    .provides = src_prov, .n_provides = 1, .params = params, .n_params = LYRA_COUNT(params),
    .instance_size = sizeof(struct toy_state), .create = toy_create, .start = toy_start,
    .stop = toy_stop, .stats = toy_stats, .check = toy_check /* beyond desc_size: unread */};

const struct lyra_component *const toy_all[] = {&toy_src, &toy_sink, &toy_sink_v2, &toy_sink_v13,
                                                &toy_multi, &toy_excl, &toy_relay, &toy_other,
                                                &toy_checked, &toy_old, &toy_memos,
                                                &toy_eater, NULL};
