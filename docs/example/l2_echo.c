/* l2_echo: answers Ethernet frames of one ethertype by sending them back.
 *
 * The example of docs/components.md: a complete component in one file. It
 * uses `l2` (registered at start for its ethertype) and `os` (logging), and
 * provides nothing. */
#include <errno.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/l2.h"
#include "lyra/os.h"

/* Parameters, in descriptor order: p[P_ETHERTYPE] in create. */
enum { P_ETHERTYPE, P_MAX_LEN };

/* All state lives in the instance: two stacks can each have an l2_echo. */
struct l2_echo {
    const struct lyra_l2_ops *l2;
    void *l2_self;
    struct lyra_os os;
    uint16_t ethertype;
    uint32_t max_len;
    uint64_t echoed, too_long, send_failed;
};

/* Event from l2: a frame of our ethertype; we own the skb from here on. */
static void on_rx(void *user, struct lyra_skb *skb, const struct lyra_l2_rxinfo *info)
{
    struct l2_echo *e = user;
    if (lyra_skb_total(skb) > e->max_len) {
        e->too_long++;
        lyra_skb_free(skb);
        return;
    }
    /* l2 2.0: 0 means output took the skb; on an error it is still ours */
    if (e->l2->output_mac(e->l2_self, skb, e->ethertype, info->src) == 0) {
        e->echoed++;
    } else {
        e->send_failed++;
        lyra_skb_free(skb);
    }
}

static const struct lyra_l2_events l2_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, struct lyra_l2_events),
    .rx = on_rx,
};

static int create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct l2_echo *e = self;
    (void)d;
    e->ethertype = (uint16_t)p[P_ETHERTYPE].u.i;
    e->max_len = (uint32_t)p[P_MAX_LEN].u.i;
    return 0;
}

static int start(void *self)
{
    struct l2_echo *e = self;
    int r = e->l2->register_proto(e->l2_self, e->ethertype, &l2_events, e);
    if (r)
        lyra_log(&e->os, LYRA_LOG_ERROR, "l2_echo", "ethertype 0x%04x: %s", e->ethertype,
                 strerror(-r));
    return r;
}

static void stats(void *self, struct lyra_stats_sink *s)
{
    struct l2_echo *e = self;
    lyra_stat(s, "echoed", e->echoed);
    lyra_stat(s, "too_long", e->too_long);
    lyra_stat(s, "send_failed", e->send_failed);
}

static const struct lyra_slot slots[] = {
    {.name = "lower", .iface = LYRA_L2_IFACE, .major = LYRA_L2_MAJOR, .minor = LYRA_L2_MINOR,
     .min = 1, .max = 1, .doc = LYRA_DOC("the Ethernet layer to echo on"),
     LYRA_SLOT_STORE(struct l2_echo, l2, l2_self)},
    {.name = "os", .iface = LYRA_OS_IFACE, .major = LYRA_OS_MAJOR, .minor = LYRA_OS_MINOR,
     .min = 1, .max = 1, .doc = LYRA_DOC("logging"),
     LYRA_SLOT_STORE(struct l2_echo, os.ops, os.self)},
};

static const struct lyra_param params[] = {
    [P_ETHERTYPE] = {"ethertype", LYRA_P_INT, "0x88b5", 0x600, 0xffff,
                     LYRA_DOC("ethertype to echo (0x88b5: IEEE local experimental)")},
    [P_MAX_LEN] = {"max_len", LYRA_P_SIZE, "1500", 0, 1500, LYRA_DOC("longest payload echoed")},
};

LYRA_EXPORT const struct lyra_component lyra_component_l2_echo = {
    LYRA_COMPONENT_HDR,
    .name = "l2_echo",
    .version = "1.0.0",
    .summary = LYRA_DOC("sends frames of one ethertype back to their sender (example component)"),
    .slots = slots,
    .n_slots = LYRA_COUNT(slots),
    .params = params,
    .n_params = LYRA_COUNT(params),
    .instance_size = sizeof(struct l2_echo),
    .create = create,
    .start = start,
    .stats = stats,
};
