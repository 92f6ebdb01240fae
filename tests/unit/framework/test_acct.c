/* Accounting proxies (framework/src/acct_ifaces.c): an accounted binding
 * must offer its user every op the provider offers. An op missing from a
 * proxy table reads as NULL through every accounted binding, so the user
 * quietly takes another path: so it was for skb clone_add, and accounting
 * tcp's skb binding turned TSO off (and pkt_alloc, pkt_free with it). */
#include <criterion/criterion.h>
#include <string.h>

#include "acct.h"

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
