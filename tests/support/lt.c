#include "lt.h"

#include <unistd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/diag.h"
#include "lyra/inet_csum.h"
#include "lyra/skb.h"

int lt_try_create(const struct lyra_component *c, const char *const *params, struct lt_inst **out)
{
    struct lt_inst *i = calloc(1, sizeof(*i));
    i->c = c;
    i->values = calloc(c->n_params + 1, sizeof(*i->values));
    i->texts = calloc(c->n_params + 1, sizeof(char *));
    for (unsigned k = 0; k < c->n_params; k++)
        i->texts[k] = c->params[k].def ? strdup(c->params[k].def) : NULL;
    for (unsigned n = 0; params && params[n]; n++) {
        const char *eq = strchr(params[n], '=');
        if (!eq) {
            fprintf(stderr, "lt_create: '%s' is not name=value\n", params[n]);
            abort();
        }
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - params[n]), params[n]);
        int k = lyra_component_param(c, name);
        if (k < 0) {
            fprintf(stderr, "lt_create: %s has no parameter '%s'\n", c->name, name);
            abort();
        }
        free(i->texts[k]);
        i->texts[k] = strdup(eq + 1);
    }
    for (unsigned k = 0; k < c->n_params; k++) {
        char err[256];
        const struct lyra_param *p = &c->params[k];
        if (lyra_value_parse(p->type, i->texts[k], p->min, p->max, &i->values[k], err,
                             sizeof(err))) {
            fprintf(stderr, "lt_create: %s.%s: %s\n", c->name, p->name, err);
            abort();
        }
    }
    i->self = calloc(1, c->instance_size ? c->instance_size : 1);
    struct lyra_diag d;
    lyra_diag_init(&d, c->name);
    int r = c->create ? c->create(i->self, i->values, &d) : 0;
    if (r) {
        lyra_diag_print(&d, stderr);
        lyra_diag_free(&d);
        for (unsigned k = 0; k < c->n_params; k++)
            free(i->texts[k]);
        free(i->texts);
        free(i->values);
        free(i->self);
        free(i);
        *out = NULL;
        return r;
    }
    lyra_diag_free(&d);
    *out = i;
    return 0;
}

struct lt_inst *lt_create(const struct lyra_component *c, const char *const *params)
{
    struct lt_inst *i;
    int r = lt_try_create(c, params, &i);
    if (r) {
        fprintf(stderr, "lt_create: %s create failed: %s\n", c->name, strerror(-r));
        abort();
    }
    return i;
}

static const struct lyra_slot *slot_of(struct lt_inst *user, const char *slot, unsigned *idx)
{
    const struct lyra_slot *s = lyra_component_slot(user->c, slot, idx);
    if (!s) {
        fprintf(stderr, "lt_bind: %s has no slot '%s'\n", user->c->name, slot);
        abort();
    }
    return s;
}

/* A multi-provider slot gets index 0, 1, ... in binding order. */
static unsigned next_index(struct lt_inst *user, unsigned slot_idx)
{
    if (slot_idx >= LT_MAX_SLOTS) {
        fprintf(stderr, "lt_bind: slot index %u beyond harness limit\n", slot_idx);
        abort();
    }
    return user->bound[slot_idx]++;
}

int lt_bind(struct lt_inst *user, const char *slot, struct lt_inst *prov)
{
    unsigned si;
    const struct lyra_slot *s = slot_of(user, slot, &si);
    for (unsigned k = 0; k < prov->c->n_provides; k++) {
        const struct lyra_provide *p = &prov->c->provides[k];
        if (strcmp(p->iface, s->iface))
            continue;
        const char *why;
        int r = lyra_ops_check(p->ops, s->iface, s->major, s->minor, 0, &why);
        if (r) {
            fprintf(stderr, "lt_bind: %s.%s -> %s: %s\n", user->c->name, slot, prov->c->name, why);
            return r;
        }
        r = lyra_slot_bind(s, user->self, next_index(user, si), p->ops, prov->self);
        if (r)
            return r;
        if (p->attach)
            r = p->attach(prov->self, s->events, user->self);
        return r;
    }
    fprintf(stderr, "lt_bind: %s provides no '%s'\n", prov->c->name, s->iface);
    return -ENOENT;
}

int lt_bind_raw(struct lt_inst *user, const char *slot, const void *ops, void *prov)
{
    unsigned si;
    const struct lyra_slot *s = slot_of(user, slot, &si);
    return lyra_slot_bind(s, user->self, next_index(user, si), ops, prov);
}

int lt_start(struct lt_inst *i)
{
    int r = i->c->start ? i->c->start(i->self) : 0;
    if (!r)
        i->started = 1;
    return r;
}

void lt_stop(struct lt_inst *i)
{
    if (i->started && i->c->stop)
        i->c->stop(i->self);
    i->started = 0;
}

void lt_destroy(struct lt_inst *i)
{
    if (!i)
        return;
    lt_stop(i);
    if (i->c->destroy)
        i->c->destroy(i->self);
    for (unsigned k = 0; k < i->c->n_params; k++)
        free(i->texts[k]);
    free(i->texts);
    free(i->values);
    free(i->self);
    free(i);
}

int lt_poll(struct lt_inst *i, unsigned budget)
{
    return i->c->poll ? i->c->poll(i->self, budget) : 0;
}

struct stat_find {
    const char *name;
    uint64_t v;
};

static void stat_cb(struct lyra_stats_sink *s, const char *name, uint64_t v)
{
    struct stat_find *f = s->ctx;
    if (!strcmp(name, f->name))
        f->v = v;
}

uint64_t lt_stat(struct lt_inst *i, const char *name)
{
    struct stat_find f = {name, UINT64_MAX};
    struct lyra_stats_sink s = {stat_cb, &f};
    if (i->c->stats)
        i->c->stats(i->self, &s);
    return f.v;
}

const void *lt_ops(struct lt_inst *i, const char *iface)
{
    for (unsigned k = 0; k < i->c->n_provides; k++)
        if (!strcmp(i->c->provides[k].iface, iface))
            return i->c->provides[k].ops;
    return NULL;
}

uint8_t *lt_read_data(const char *name, size_t *len)
{
    const char *src = getenv("LYRA_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/%s", src ? src : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "lt_read_data: cannot open %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    *len = (size_t)n;
    return b;
}

static uint32_t rd32(const uint8_t *p, int sw)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return sw ? __builtin_bswap32(v) : v;
}

int lt_pcap_open(struct lt_pcap *p, const char *name)
{
    p->buf = lt_read_data(name, &p->len);
    if (p->len < 24)
        return -EINVAL;
    uint32_t magic;
    memcpy(&magic, p->buf, 4);
    if (magic == 0xa1b2c3d4)
        p->swapped = 0;
    else if (magic == 0xd4c3b2a1)
        p->swapped = 1;
    else
        return -EINVAL; /* pcapng is not read here: save captures with -F pcap */
    p->off = 24;
    return 0;
}

uint32_t lt_pcap_next(struct lt_pcap *p, const uint8_t **frame)
{
    if (p->off + 16 > p->len)
        return 0;
    uint32_t incl = rd32(p->buf + p->off + 8, p->swapped);
    if (p->off + 16 + incl > p->len)
        return 0;
    *frame = p->buf + p->off + 16;
    p->off += 16 + incl;
    return incl;
}

void lt_pcap_close(struct lt_pcap *p)
{
    free(p->buf);
    p->buf = NULL;
}

const char *lt_netns_missing(void)
{
    if (geteuid() != 0)
        return "not root";
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long eff = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            break;
    if (f)
        fclose(f);
    if (!((eff >> 12) & 1)) /* CAP_NET_ADMIN */
        return "root without CAP_NET_ADMIN (a container without it?)";
    if (access("/dev/net/tun", R_OK | W_OK))
        return "/dev/net/tun is missing";
    return NULL;
}

struct lyra_skb_seg *lt_skb_add_seg(struct lyra_skb *s, const void *p, uint32_t len,
                                    uint32_t flags)
{
    /* descriptor k (0 = first hand-made one) sits k + 1 slots from the end */
    uintptr_t end = (uintptr_t)(s->head + s->size);
    uintptr_t at = (end - (uintptr_t)(s->nseg + 1) * sizeof(struct lyra_skb_seg)) &
                   ~(uintptr_t)(_Alignof(struct lyra_skb_seg) - 1);
    if (at < (uintptr_t)(s->data + s->len) || at + sizeof(struct lyra_skb_seg) > end)
        return NULL;
    struct lyra_skb_seg *g = (struct lyra_skb_seg *)at;
    *g = (struct lyra_skb_seg){.ptr = p, .len = len, .flags = flags};
    lyra_skb_seg_append(s, g);
    return g;
}

static void put_csum(uint8_t *at, uint32_t sum, int nonzero)
{
    uint16_t c = (uint16_t)~lyra_csum_fold(sum);
    if (nonzero && !c)
        c = 0xffff; /* alike in ones' complement; UDP's 0 means none */
    at[0] = (uint8_t)(c >> 8);
    at[1] = (uint8_t)c;
}

int lt_ipv4_fix_csum(uint8_t *ip, size_t len)
{
    size_t ihl = len ? (size_t)(ip[0] & 15) * 4 : 0;
    if (len < 20 || ihl < 20 || ihl > len)
        return -1;
    ip[10] = ip[11] = 0;
    put_csum(ip + 10, lyra_csum_add(ip, ihl, 0), 0);
    return 0;
}

void lt_ipv4_fix_l4_csum(uint8_t *ip, size_t len)
{
    size_t ihl = (size_t)(ip[0] & 15) * 4, tot = (size_t)(ip[2] << 8 | ip[3]);
    unsigned proto = ip[9];
    size_t at = proto == 6 ? 16 : proto == 17 ? 6 : proto == 1 ? 2 : 0; /* the field */
    if (!at || ((ip[6] << 8 | ip[7]) & 0x3fff) || tot < ihl + at + 2 || tot > len)
        return;
    uint8_t *t = ip + ihl;
    if (proto == 17 && !(t[at] | t[at + 1]))
        return; /* UDP without a checksum */
    t[at] = t[at + 1] = 0;
    uint32_t ps = proto == 1 ? 0 : lyra_csum_add(ip + 12, 8, 0) + proto + (uint32_t)(tot - ihl);
    put_csum(t + at, lyra_csum_add(t, tot - ihl, ps), 1);
}
