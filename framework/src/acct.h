/* Accounting proxies: a proxy sits on one binding, forwards every op down
 * and every event up, and counts calls, bytes and monotonic ns. Only
 * bindings the manifest marks are proxied, so unmarked ones cost nothing. */
#ifndef LYRA_ACCT_H
#define LYRA_ACCT_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/os.h"

#define LYRA_PROXY_MAX 35 /* os: 35 ops (2.5) */
#define LYRA_PROXY_TABLE_MAX 512

struct lyra_acct_cnt {
    uint64_t calls, bytes, ns;
};

struct lyra_proxy_class;

struct lyra_proxy {
    const struct lyra_proxy_class *cls;
    const void *ops; /* the provider's real table and instance */
    void *prov;
    const void *events; /* the user's real events and instance */
    void *user;
    const struct lyra_os_ops *os; /* clock for ns; NULL: ns not counted */
    void *os_self;
    struct lyra_acct_cnt cnt[LYRA_PROXY_MAX]; /* ops, then events */
    /* The tables handed to the two sides: the class's tables with every op
     * the real side leaves NULL set NULL too, so optional ops stay visibly
     * optional through a proxy. */
    _Alignas(16) unsigned char ops_copy[LYRA_PROXY_TABLE_MAX];
    _Alignas(16) unsigned char events_copy[LYRA_PROXY_TABLE_MAX];
};

/* Copies a proxy table, keeping NULL what `real` leaves NULL, and with
 * `real`'s minor version and size where they are smaller (a user that
 * checks them before calling an op sees what it would see unproxied; a
 * proxy never adds an op). Tables are a
 * struct lyra_ops_hdr, then `data` bytes of plain fields copied from `real`
 * (l4's type and protocol), then function pointers only. */
void lyra_proxy_table(void *dst, const void *tmpl, const void *real, size_t data);

struct lyra_proxy_class {
    const char *iface;
    unsigned n_ops, n_events;
    const char *const *names; /* n_ops op names then n_events event names */
    const void *ops;          /* proxy ops table (instance: struct lyra_proxy) */
    const void *events;       /* proxy events table, NULL if the interface has none */
    size_t ops_data;          /* plain fields after the ops header (see lyra_proxy_table) */
};

const struct lyra_proxy_class *lyra_proxy_class_find(const char *iface);

static inline uint64_t lyra_px_now(const struct lyra_proxy *p)
{
    return p->os ? p->os->now_ns(p->os_self) : 0;
}

static inline void lyra_px_count(struct lyra_proxy *p, unsigned i, uint64_t bytes, uint64_t t0)
{
    struct lyra_acct_cnt *c = &p->cnt[i];
    c->calls++;
    c->bytes += bytes;
    if (p->os)
        c->ns += p->os->now_ns(p->os_self) - t0;
}

#endif
