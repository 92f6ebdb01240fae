/* IPv4 reassembly (see reass.h). A datagram's fragments stay sorted by
 * offset, so holes, duplicates and overlaps are found by one walk of its
 * chain (RFC 815's hole list, kept implicitly as the gaps between the
 * fragments held). */
#include "reass.h"

#include <string.h>

#include "ipv4_wire.h"

/* skb->cb slots of a held fragment */
#define CB_OFF 0  /* offset in the datagram's payload, bytes */
#define CB_LEN 1  /* payload bytes */
#define CB_HLEN 2 /* its IP header length: the payload starts at data + hlen */

#define F_OFF(s) ((uint32_t)(s)->cb[CB_OFF])
#define F_LEN(s) ((uint32_t)(s)->cb[CB_LEN])
#define F_END(s) (F_OFF(s) + F_LEN(s))
#define F_DATA(s) ((s)->data + (uint32_t)(s)->cb[CB_HLEN])

void reass_init(struct reass *r, struct reass_dgram *mem, unsigned max, uint32_t bytes_max,
                uint64_t timeout_ns, const struct lyra_skb_ops *skb, void *skb_self,
                uint32_t headroom)
{
    memset(r, 0, sizeof(*r));
    r->d = mem;
    r->max = mem ? max : 0;
    r->bytes_max = bytes_max;
    r->timeout = timeout_ns;
    r->skb = skb;
    r->skb_self = skb_self;
    r->headroom = headroom;
    for (unsigned i = 0; i < r->max; i++)
        memset(&r->d[i], 0, sizeof(r->d[i]));
}

static void dgram_free(struct reass *r, struct reass_dgram *d)
{
    struct lyra_skb *s = d->frags;
    while (s) {
        struct lyra_skb *n = s->next;
        s->next = NULL;
        lyra_skb_free(s);
        s = n;
    }
    r->bytes_held -= d->held;
    memset(d, 0, sizeof(*d));
}

/* The oldest datagram in progress other than `keep`, or NULL. */
static struct reass_dgram *oldest(struct reass *r, const struct reass_dgram *keep)
{
    struct reass_dgram *o = NULL;
    for (unsigned i = 0; i < r->max; i++) {
        struct reass_dgram *d = &r->d[i];
        if (d->used && d != keep && (!o || d->deadline < o->deadline))
            o = d;
    }
    return o;
}

static struct reass_dgram *find(struct reass *r, uint32_t src, uint32_t dst, uint16_t id,
                                uint8_t proto)
{
    for (unsigned i = 0; i < r->max; i++) {
        struct reass_dgram *d = &r->d[i];
        if (d->used && d->src == src && d->dst == dst && d->id == id && d->proto == proto)
            return d;
    }
    return NULL;
}

static struct reass_dgram *slot_new(struct reass *r)
{
    for (unsigned i = 0; i < r->max; i++)
        if (!r->d[i].used)
            return &r->d[i];
    struct reass_dgram *o = oldest(r, NULL);
    if (o) {
        r->st.full++; /* evicted to make room */
        dgram_free(r, o);
    }
    return o;
}

/* Drops the fragment and its whole datagram; returns false for reass_input. */
static bool drop_all(struct reass *r, struct reass_dgram *d, struct lyra_skb *skb,
                     uint64_t *counter)
{
    (*counter)++;
    lyra_skb_free(skb);
    dgram_free(r, d);
    return false;
}

/* Copies the held fragments of a complete datagram into one skb. */
static struct lyra_skb *assemble(struct reass *r, struct reass_dgram *d)
{
    struct lyra_skb *f0 = d->frags; /* offset 0: completeness says it is first */
    uint32_t hlen = (uint32_t)f0->cb[CB_HLEN];
    uint32_t len = hlen + d->total;
    struct lyra_skb *out = r->skb->alloc(r->skb_self, r->headroom, len);
    uint8_t *p = out ? lyra_skb_put(out, len) : NULL;
    if (!p) {
        /* Larger than any buffer the pool has (max_alloc: the reassembled
         * datagram is built linear), or no buffer of the size free now. */
        uint32_t max = lyra_skb_max_alloc(r->skb, r->skb_self, r->headroom);
        if (out || len > max || (max == UINT32_MAX && r->skb->avail(r->skb_self) > 0))
            r->st.too_big++;
        else
            r->st.nobuf++;
        lyra_skb_free(out);
        dgram_free(r, d);
        return NULL;
    }
    memcpy(p, f0->data, hlen);
    ip_st16(p + 2, (uint16_t)len);
    ip_st16(p + 6, (uint16_t)(ip_ld16(p + 6) & IPV4_DF)); /* offset 0, MF clear */
    ipv4_hdr_set_csum(p, hlen);
    for (struct lyra_skb *s = d->frags; s; s = s->next) {
        memcpy(p + hlen + F_OFF(s), F_DATA(s), F_LEN(s));
        r->st.copy_bytes += F_LEN(s);
    }
    out->flags = (uint16_t)(out->flags |
                            (f0->flags & (LYRA_SKB_F_BCAST | LYRA_SKB_F_MCAST | LYRA_SKB_F_HOST)));
    out->protocol = f0->protocol;
    out->tstamp = f0->tstamp;
    out->l3_off = (uint32_t)(out->data - out->head);
    r->st.reassembled++;
    dgram_free(r, d);
    return out;
}

bool reass_input(struct reass *r, struct lyra_skb *skb, uint64_t now, struct lyra_skb **out)
{
    *out = NULL;
    struct ipv4_view v;
    if (!lyra_skb_is_linear(skb) || ipv4_view_init(&v, skb->data, skb->len) != IPV4_OK) {
        r->st.bad++; /* the caller promised better: count, never crash */
        lyra_skb_free(skb);
        return false;
    }
    r->st.frags++;
    uint32_t hlen = ipv4_view_hlen(&v);
    uint32_t off = ipv4_view_frag_off(&v);
    uint32_t len = (uint32_t)ipv4_view_payload_len(&v);
    uint32_t end = off + len;
    bool mf = ipv4_view_mf(&v);
    /* RFC 791: every fragment but the last carries a multiple of 8 bytes,
     * and the datagram fits the 16-bit total length. */
    if (end + hlen > IPV4_MAX_LEN || (mf && (len == 0 || len % 8 != 0))) {
        r->st.bad++;
        lyra_skb_free(skb);
        return false;
    }
    skb->cb[CB_OFF] = off;
    skb->cb[CB_LEN] = len;
    skb->cb[CB_HLEN] = hlen;

    uint32_t src = ipv4_view_src(&v), dst = ipv4_view_dst(&v);
    uint16_t id = ipv4_view_id(&v);
    uint8_t proto = ipv4_view_proto(&v);
    struct reass_dgram *d = find(r, src, dst, id, proto);
    if (!d) {
        d = slot_new(r);
        if (!d) { /* max == 0: no reassembly at all */
            r->st.full++;
            lyra_skb_free(skb);
            return false;
        }
        *d = (struct reass_dgram){.used = true, .proto = proto, .id = id, .src = src,
                                  .dst = dst, .deadline = now + r->timeout};
    }

    /* The end of the datagram, once known, bounds every fragment. */
    if (d->have_last && (end > d->total || (!mf && end != d->total)))
        return drop_all(r, d, skb, &r->st.bad);
    bool new_last = !mf && !d->have_last;
    if (new_last)
        for (struct lyra_skb *s = d->frags; s; s = s->next)
            if (F_END(s) > end)
                return drop_all(r, d, skb, &r->st.bad);

    /* Overlaps: the same bytes are fine, different ones are not. */
    uint8_t *p = skb->data + hlen;
    uint32_t covered = off; /* how far [off, end) is held already, from off */
    for (struct lyra_skb *s = d->frags; s; s = s->next) {
        uint32_t so = F_OFF(s), se = F_END(s);
        uint32_t lo = so > off ? so : off, hi = se < end ? se : end;
        if (lo < hi && memcmp(F_DATA(s) + (lo - so), p + (lo - off), hi - lo) != 0)
            return drop_all(r, d, skb, &r->st.overlap);
        if (so <= covered && se > covered)
            covered = se;
    }
    if (covered >= end && !new_last) {
        r->st.dup++;
        lyra_skb_free(skb);
        return false;
    }

    /* Bounds on buffer bytes held: the oldest other datagrams go first. */
    while (r->bytes_held + skb->size > r->bytes_max) {
        struct reass_dgram *o = oldest(r, d);
        if (!o)
            return drop_all(r, d, skb, &r->st.full);
        r->st.full++;
        dgram_free(r, o);
    }
    if (d->held + skb->size > r->bytes_max)
        return drop_all(r, d, skb, &r->st.full);

    if (new_last) {
        d->have_last = true;
        d->total = end;
    }
    struct lyra_skb **pp = &d->frags;
    while (*pp && F_OFF(*pp) <= off)
        pp = &(*pp)->next;
    skb->next = *pp;
    *pp = skb;
    d->held += skb->size;
    r->bytes_held += skb->size;

    if (!d->have_last)
        return false;
    uint32_t have = 0;
    for (struct lyra_skb *s = d->frags; s && F_OFF(s) <= have; s = s->next)
        if (F_END(s) > have)
            have = F_END(s);
    if (have < d->total || F_OFF(d->frags) != 0)
        return false;
    *out = assemble(r, d);
    return *out != NULL;
}

uint64_t reass_next_deadline(const struct reass *r)
{
    uint64_t t = UINT64_MAX;
    for (unsigned i = 0; i < r->max; i++)
        if (r->d[i].used && r->d[i].deadline < t)
            t = r->d[i].deadline;
    return t;
}

bool reass_expire(struct reass *r, uint64_t now, struct lyra_skb **frag0)
{
    *frag0 = NULL;
    for (unsigned i = 0; i < r->max; i++) {
        struct reass_dgram *d = &r->d[i];
        if (!d->used || d->deadline > now)
            continue;
        r->st.timeout++;
        if (d->frags && F_OFF(d->frags) == 0) {
            *frag0 = d->frags;
            d->frags = d->frags->next;
            (*frag0)->next = NULL;
        }
        dgram_free(r, d);
        return true;
    }
    return false;
}

void reass_purge(struct reass *r)
{
    for (unsigned i = 0; i < r->max; i++)
        if (r->d[i].used)
            dgram_free(r, &r->d[i]);
}

unsigned reass_count(const struct reass *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->max; i++)
        n += r->d[i].used;
    return n;
}
