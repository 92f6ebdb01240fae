/* Accounting proxies (framework/src/acct_ifaces.c): an accounted binding
 * must offer its user every op the provider offers. An op missing from a
 * proxy table reads as NULL through every accounted binding, so the user
 * quietly takes another path: so it was for skb clone_add, and accounting
 * tcp's skb binding turned TSO off (and pkt_alloc, pkt_free with it). */
#include <criterion/criterion.h>
#include <string.h>

#include "acct.h"
#include "lyra/l3.h"

typedef void (*fnptr)(void);

static void dummy_op(void)
{
}

static const char *const ifaces[] = {"os", "skb", "netdev", "l2", "l3", "l4", "bus"};

/* A provider table like the template's, with every op set. */
static void full_table(unsigned char *real, const void *tmpl, size_t data)
{
    const struct lyra_ops_hdr *h = tmpl;
    memcpy(real, tmpl, sizeof(*h) + data);
    fnptr f = dummy_op;
    for (size_t off = sizeof(*h) + data; off + sizeof(f) <= h->size; off += sizeof(f))
        memcpy(real + off, &f, sizeof(f));
}

Test(acct, every_op_and_event_of_every_interface_goes_through_a_proxy)
{
    for (unsigned i = 0; i < sizeof(ifaces) / sizeof(ifaces[0]); i++) {
        const struct lyra_proxy_class *pc = lyra_proxy_class_find(ifaces[i]);
        cr_assert(pc, "%s has no proxy class", ifaces[i]);
        const struct lyra_ops_hdr *h = pc->ops;
        cr_assert_leq(h->size, LYRA_PROXY_TABLE_MAX, "%s", ifaces[i]);
        _Alignas(16) unsigned char real[LYRA_PROXY_TABLE_MAX], dst[LYRA_PROXY_TABLE_MAX];
        full_table(real, pc->ops, pc->ops_data);
        lyra_proxy_table(dst, pc->ops, real, pc->ops_data);
        unsigned n = 0;
        for (size_t off = sizeof(*h) + pc->ops_data; off + sizeof(fnptr) <= h->size;
             off += sizeof(fnptr), n++) {
            fnptr f;
            memcpy(&f, dst + off, sizeof(f));
            cr_assert(f != NULL, "%s: op %u (%s) has no proxy", ifaces[i], n,
                      n < pc->n_ops ? pc->names[n] : "?");
            cr_assert(f != dummy_op, "%s: op %u is the provider's own, not a proxy", ifaces[i], n);
        }
        cr_assert_eq(n, pc->n_ops, "%s: %u op slots, %u names", ifaces[i], n, pc->n_ops);
        if (!pc->events) {
            cr_assert_eq(pc->n_events, 0, "%s", ifaces[i]);
            continue;
        }
        /* and every event going up */
        const struct lyra_ops_hdr *eh = pc->events;
        full_table(real, pc->events, 0);
        lyra_proxy_table(dst, pc->events, real, 0);
        n = 0;
        for (size_t off = sizeof(*eh); off + sizeof(fnptr) <= eh->size; off += sizeof(fnptr), n++) {
            fnptr f;
            memcpy(&f, dst + off, sizeof(f));
            cr_assert(f != NULL && f != dummy_op, "%s: event %u (%s) has no proxy", ifaces[i], n,
                      n < pc->n_events ? pc->names[pc->n_ops + n] : "?");
        }
        cr_assert_eq(n, pc->n_events, "%s: %u event slots, %u names", ifaces[i], n, pc->n_events);
    }
}

/* Negative control: an op the provider leaves NULL stays NULL through the
 * proxy (optional ops stay visibly optional). */
Test(acct, an_op_the_provider_lacks_stays_missing)
{
    const struct lyra_proxy_class *pc = lyra_proxy_class_find("skb");
    cr_assert(pc);
    _Alignas(16) unsigned char real[LYRA_PROXY_TABLE_MAX], dst[LYRA_PROXY_TABLE_MAX];
    full_table(real, pc->ops, 0);
    size_t last = ((const struct lyra_ops_hdr *)pc->ops)->size - sizeof(fnptr);
    memset(real + last, 0, sizeof(fnptr));
    lyra_proxy_table(dst, pc->ops, real, 0);
    fnptr f;
    memcpy(&f, dst + last, sizeof(f));
    cr_assert(f == NULL, "the last skb op (%s) should stay NULL", pc->names[pc->n_ops - 1]);
}

static unsigned l3_rx_calls;

static void l3_user_rx(void *user, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info)
{
    (void)user, (void)skb, (void)info;
    l3_rx_calls++;
}

/* An event the user left NULL (l3's icmp_error and tx_ready are optional:
 * ip checks before raising them) stops at the proxy: the proxy registers
 * a table of its own that has every event, so ip raises them all. It
 * called through the user's NULL. */
Test(acct, an_optional_event_the_user_lacks_stops_at_the_proxy)
{
    const struct lyra_proxy_class *pc = lyra_proxy_class_find("l3");
    cr_assert(pc && pc->events);
    static const struct lyra_l3_events user = {
        .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, struct lyra_l3_events),
        .rx = l3_user_rx,
    };
    struct lyra_proxy px;
    memset(&px, 0, sizeof(px));
    px.cls = pc;
    px.events = &user;
    const struct lyra_l3_events *ev = pc->events;
    struct lyra_l3_icmp_err err;
    memset(&err, 0, sizeof(err));
    ev->icmp_error(&px, &err);
    ev->tx_ready(&px);
    struct lyra_skb sk;
    memset(&sk, 0, sizeof(sk));
    ev->rx(&px, &sk, NULL);
    cr_assert_eq(l3_rx_calls, 1, "rx goes through");
    cr_assert_eq(px.cnt[pc->n_ops + 0].calls, 1, "rx counted");
    cr_assert_eq(px.cnt[pc->n_ops + 1].calls, 0, "icmp_error: not the user's, not counted");
    cr_assert_eq(px.cnt[pc->n_ops + 2].calls, 0, "tx_ready: not the user's, not counted");
}
