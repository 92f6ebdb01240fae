/* fake_netdev: a NIC for tests that records what is sent and injects what
 * is received. See fake_netdev.h.
 *
 * All storage (transmit record, inject queue, pcap frame buffer) comes from
 * the os slot's mem_alloc at start, sized by parameters; nothing is
 * allocated per frame. pcap files are classic pcap (magic a1b2c3d4, either
 * byte order, µs or ns stamps read; written as µs, linktype 1, snaplen
 * 65535). A bad or truncated rx_pcap fails start with an error log line.
 * tx_bytes counts frames as sent, i.e. after padding to 60 bytes. */
#include "fake_netdev.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lyra/diag.h"
#include "lyra/inet_csum.h"
#include "lyra/os.h"
#include "lyra/skb_pieces.h"

#define INJECT_MAX 64
#define PCAP_SNAPLEN 65535u
#define VLAN_HLEN 4

struct fake_netdev {
    /* parameters */
    uint8_t mac[6];
    uint32_t mtu;
    uint16_t max_segs;
    bool page_contig;
    uint8_t csum_tx, csum_rx;
    unsigned tx_record;
    unsigned tx_busy_every;
    unsigned rx_post; /* receive skbs kept posted (netdev 1.1); 0: one per frame */
    const char *rx_pcap, *tx_pcap;

    /* bindings */
    const struct lyra_skb_ops *skb;
    void *skb_self;
    struct lyra_os os;
    bool has_user;
    void (*ev_rx)(void *user, struct lyra_skb *skb);
    void (*ev_tx_ready)(void *user);
    void (*ev_link)(void *user, bool up);
    void *user;

    /* state */
    bool started, opened, link_up, allmulti, promisc;
    uint32_t frame_max; /* largest frame sent or injected (header + mtu + a VLAN tag) */
    void *mem;          /* the one block from mem_alloc */
    uint8_t *rec;       /* tx_record frames of frame_max bytes */
    uint32_t *rec_len;  /* as on the wire: padded to the minimum frame, as a NIC does */
    uint32_t *rec_sent; /* as the driver was handed it */
    unsigned rec_head, rec_n;
    uint8_t *inj; /* INJECT_MAX frames of frame_max bytes */
    uint32_t *inj_len;
    unsigned inj_head, inj_n;
    uint8_t *scratch; /* a frame being sent when nothing is recorded */
    uint8_t *pbuf;    /* one rx_pcap frame */
    uint32_t pbuf_size;
    FILE *rxf, *txf;
    bool rx_swapped;
    unsigned last_segs;
    uint64_t xmit_calls;
    struct lyra_skb **post; /* rx_post slots, a FIFO: the oldest is filled first */
    unsigned post_head, post_n;

    /* stats */
    uint64_t tx_frames, tx_bytes, tx_busy, tx_invalid, tx_record_dropped, tx_pcap_errors;
    uint64_t tx_bounced, tx_bounce_nobuf;
    uint64_t rx_frames, rx_bytes, rx_nobuf, rx_nouser;
};

enum {
    P_MAC,
    P_MTU,
    P_MAX_SEGS,
    P_PAGE_CONTIG,
    P_CSUM_TX,
    P_CSUM_RX,
    P_TX_RECORD,
    P_TX_BUSY_EVERY,
    P_RX_PCAP,
    P_TX_PCAP,
    P_RX_POST,
};

static const struct lyra_param fnd_params[] = {
    [P_MAC] = {"mac", LYRA_P_MAC, "02:00:00:00:00:01", 0, -1,
               "the MAC the card reports (unicast, non-zero)"},
    [P_MTU] = {"mtu", LYRA_P_INT, "1500", 68, 9000, "largest payload above the Ethernet header"},
    [P_MAX_SEGS] = {"max_segs", LYRA_P_INT, "4", 0, 64,
                    "gather segments an xmit may carry beyond the linear part"},
    [P_PAGE_CONTIG] = {"page_contig", LYRA_P_BOOL, "off", 0, -1,
                       "segments must not cross a page (xmit rejects those that do)"},
    [P_CSUM_TX] = {"csum_tx", LYRA_P_INT, "0", 0, 7, "LYRA_CSUM_* mask computed on transmit"},
    [P_CSUM_RX] = {"csum_rx", LYRA_P_INT, "0", 0, 7, "LYRA_CSUM_* mask verified on receive"},
    [P_TX_RECORD] = {"tx_record", LYRA_P_INT, "64", 0, 65536,
                     "transmitted frames kept for inspection (older ones are dropped)"},
    [P_TX_BUSY_EVERY] = {"tx_busy_every", LYRA_P_INT, "0", 0, 1000000,
                         "every Nth xmit returns -EAGAIN (0: never)"},
    [P_RX_PCAP] = {"rx_pcap", LYRA_P_STRING, NULL, 0, -1,
                   "pcap file whose frames are received, one per poll, after start"},
    [P_TX_PCAP] = {"tx_pcap", LYRA_P_STRING, NULL, 0, -1,
                   "pcap file written with every transmitted frame (complete after stop)"},
    [P_RX_POST] = {"rx_post", LYRA_P_INT, "0", 0, 1024,
                   "receive skbs kept posted from the skb slot, as a DMA driver posts buffers "
                   "(netdev 1.1): a frame lands in the oldest, a fresh one replaces it; with "
                   "none posted the frame is dropped (rx_nobuf); 0: an skb per frame"},
};

static const char WHO[] = "fake_netdev";

/* ---- pcap ---- */

static uint32_t rd32(const uint8_t *p, bool swapped)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

/* Reads the global header and checks every record, then leaves the file at
 * the first record. Returns 0 or -EINVAL/-errno after logging why. */
static int pcap_open_rx(struct fake_netdev *nd)
{
    nd->rxf = fopen(nd->rx_pcap, "rb");
    if (!nd->rxf) {
        int e = errno;
        lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "rx_pcap %s: %s", nd->rx_pcap, strerror(e));
        return -e;
    }
    const char *why = NULL;
    long size = -1;
    if (!fseek(nd->rxf, 0, SEEK_END))
        size = ftell(nd->rxf);
    uint8_t h[24];
    if (size < 0 || fseek(nd->rxf, 0, SEEK_SET)) {
        why = "cannot seek";
    } else if (size < 24 || fread(h, 1, sizeof(h), nd->rxf) != sizeof(h)) {
        why = "shorter than a pcap header";
    } else {
        uint32_t magic;
        memcpy(&magic, h, 4);
        nd->rx_swapped = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
        bool nsec = magic == 0xa1b23c4du || magic == 0x4d3cb2a1u;
        if (magic != 0xa1b2c3d4u && magic != 0xd4c3b2a1u && !nsec)
            why = "not a classic pcap file (bad magic; pcapng is not read)";
        else if (rd32(h + 20, nd->rx_swapped) != 1)
            why = "link type is not Ethernet (1)";
    }
    uint32_t max = 0;
    unsigned rec = 0;
    bool in_rec = !why;
    for (long off = 24; !why && off < size; rec++) {
        uint8_t r[16];
        if (size - off < 16 || fread(r, 1, sizeof(r), nd->rxf) != sizeof(r)) {
            why = "truncated record header";
            break;
        }
        uint32_t incl = rd32(r + 8, nd->rx_swapped);
        if (incl > PCAP_SNAPLEN) {
            why = "record longer than 65535 bytes";
            break;
        }
        if (size - off - 16 < (long)incl || fseek(nd->rxf, (long)incl, SEEK_CUR)) {
            why = "truncated record";
            break;
        }
        if (incl > max)
            max = incl;
        off += 16 + (long)incl;
    }
    if (why) {
        if (in_rec)
            lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "rx_pcap %s: %s (record %u)", nd->rx_pcap,
                     why, rec + 1);
        else
            lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "rx_pcap %s: %s", nd->rx_pcap, why);
        fclose(nd->rxf);
        nd->rxf = NULL;
        return -EINVAL;
    }
    if (fseek(nd->rxf, 24, SEEK_SET)) {
        fclose(nd->rxf);
        nd->rxf = NULL;
        return -EIO;
    }
    nd->pbuf_size = max ? max : 1;
    return 0;
}

/* Reads the next frame into pbuf; returns its length, 0 at the end. */
static uint32_t pcap_next_rx(struct fake_netdev *nd)
{
    uint8_t r[16];
    if (fread(r, 1, sizeof(r), nd->rxf) != sizeof(r))
        goto end;
    uint32_t incl = rd32(r + 8, nd->rx_swapped);
    if (incl > nd->pbuf_size || fread(nd->pbuf, 1, incl, nd->rxf) != incl) {
        lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "rx_pcap %s changed while read", nd->rx_pcap);
        goto end;
    }
    return incl;
end:
    fclose(nd->rxf);
    nd->rxf = NULL;
    return 0;
}

static int pcap_open_tx(struct fake_netdev *nd)
{
    nd->txf = fopen(nd->tx_pcap, "wb");
    if (!nd->txf) {
        int e = errno;
        lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "tx_pcap %s: %s", nd->tx_pcap, strerror(e));
        return -e;
    }
    /* native byte order, as classic pcap writers do */
    uint8_t h[24];
    uint32_t magic = 0xa1b2c3d4u, zero = 0, snap = PCAP_SNAPLEN, link = 1;
    uint16_t vmaj = 2, vmin = 4;
    memcpy(h, &magic, 4);
    memcpy(h + 4, &vmaj, 2);
    memcpy(h + 6, &vmin, 2);
    memcpy(h + 8, &zero, 4);
    memcpy(h + 12, &zero, 4);
    memcpy(h + 16, &snap, 4);
    memcpy(h + 20, &link, 4);
    if (fwrite(h, sizeof(h), 1, nd->txf) != 1) {
        lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "tx_pcap %s: cannot write", nd->tx_pcap);
        fclose(nd->txf);
        nd->txf = NULL;
        return -EIO;
    }
    return 0;
}

static void pcap_write_tx(struct fake_netdev *nd, const uint8_t *f, uint32_t len)
{
    uint64_t now = lyra_now(&nd->os);
    uint32_t r[4] = {(uint32_t)(now / 1000000000u), (uint32_t)(now % 1000000000u / 1000u), len,
                     len};
    if (fwrite(r, sizeof(r), 1, nd->txf) != 1 || fwrite(f, 1, len, nd->txf) != len)
        nd->tx_pcap_errors++;
}

/* ---- checksums ---- */

/* True when the NIC, per csum_rx, verified the frame's TCP or UDP sum. */
static bool rx_csum_ok(const struct fake_netdev *nd, const uint8_t *f, size_t len)
{
    if (!nd->csum_rx || len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return false;
    const uint8_t *ip = f + 14;
    unsigned ihl = (ip[0] & 0xfu) * 4u;
    unsigned tot = (unsigned)(ip[2] << 8 | ip[3]);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || 14 + (size_t)tot > len)
        return false;
    if ((nd->csum_rx & LYRA_CSUM_IPV4) && lyra_csum_fold(lyra_csum_add(ip, ihl, 0)) != 0xffff)
        return false;
    if ((ip[6] << 8 | ip[7]) & 0x3fff)
        return false; /* a fragment: no L4 sum to check */
    uint8_t proto = ip[9];
    if (!((proto == 6 && (nd->csum_rx & LYRA_CSUM_TCP)) ||
          (proto == 17 && (nd->csum_rx & LYRA_CSUM_UDP))))
        return false;
    const uint8_t *l4 = ip + ihl;
    unsigned l4len = tot - ihl;
    if (l4len < (proto == 6 ? 20u : 8u))
        return false;
    if (proto == 17 && !(l4[6] | l4[7]))
        return false; /* UDP without a checksum */
    uint32_t s = lyra_csum_add(ip + 12, 8, 0) + proto + l4len;
    return lyra_csum_fold(lyra_csum_add(l4, l4len, s)) == 0xffff;
}

/* ---- netdev ops ---- */

static int fnd_open(void *self)
{
    ((struct fake_netdev *)self)->opened = true;
    return 0;
}

static int fnd_close(void *self)
{
    ((struct fake_netdev *)self)->opened = false;
    return 0;
}

static int fnd_caps(void *self, struct lyra_netdev_caps *c)
{
    struct fake_netdev *nd = self;
    memset(c, 0, sizeof(*c));
    c->mtu = nd->mtu;
    c->max_segs = nd->max_segs;
    c->page_contig = nd->page_contig;
    c->csum_tx = nd->csum_tx;
    c->csum_rx = nd->csum_rx;
    c->rx_post = (uint16_t)nd->rx_post;
    c->link_up = nd->link_up;
    memcpy(c->mac, nd->mac, 6);
    return 0;
}

static int fnd_set_rx_mode(void *self, bool allmulti, bool promisc)
{
    struct fake_netdev *nd = self;
    nd->allmulti = allmulti;
    nd->promisc = promisc;
    return 0;
}

/* Where an offloaded sum starts in the frame: csum_start counts from
 * head (skb.h), the frame from data. -1 when it lies before the frame. */
static int64_t csum_frame_start(const struct lyra_skb *skb)
{
    uintptr_t h = (uintptr_t)skb->head, d = (uintptr_t)skb->data;
    if (d < h || skb->csum_start < d - h)
        return -1;
    return (int64_t)(skb->csum_start - (d - h));
}

/* Checks what a real NIC with these caps would refuse; *pieces: how many
 * it would gather (0: more than 1 + max_segs, to be bounced). */
static int tx_check(struct fake_netdev *nd, const struct lyra_skb *skb, unsigned *pieces)
{
    struct lyra_skb_piece pc[65]; /* max_segs is at most 64 */
    int np = lyra_skb_pieces(skb, 0, pc, 1u + nd->max_segs);
    if (np == -EINVAL)
        return -EINVAL;
    *pieces = np < 0 ? 0 : (unsigned)np;
    if (lyra_skb_total(skb) > nd->frame_max)
        return -EMSGSIZE;
    if (nd->page_contig) {
        size_t ps = nd->os.ops->page_size(nd->os.self);
        const struct lyra_skb_seg *g;
        LYRA_SKB_FOR_EACH_SEG(skb, g) {
            uintptr_t a = (uintptr_t)g->ptr;
            if (g->len && a / ps != (a + g->len - 1) / ps)
                return -EINVAL;
        }
    }
    if (skb->flags & LYRA_SKB_F_CSUM_TX) {
        int64_t css = csum_frame_start(skb);
        if (css < 0 || (uint64_t)css + skb->csum_off + 2 > lyra_skb_total(skb))
            return -EINVAL;
    }
    return 0;
}

static int fnd_xmit(void *self, struct lyra_skb *skb)
{
    struct fake_netdev *nd = self;
    if (!nd->started)
        return -ENETDOWN;
    nd->xmit_calls++;
    if (nd->tx_busy_every && nd->xmit_calls % nd->tx_busy_every == 0) {
        nd->tx_busy++;
        return -EAGAIN;
    }
    unsigned pieces = 0;
    int r = tx_check(nd, skb, &pieces);
    if (r) {
        nd->tx_invalid++;
        return r;
    }
    if (pieces == 0 && lyra_skb_total(skb)) {
        /* more pieces than it gathers: as a driver, the shared bounce */
        struct lyra_skb *b = lyra_skb_bounce(nd->skb, nd->skb_self, skb);
        if (!b) {
            nd->tx_bounce_nobuf++;
            return -ENOBUFS;
        }
        nd->tx_bounced++;
        lyra_skb_free(skb);
        skb = b;
        pieces = 1;
    }

    /* record in the ring (overwriting the oldest when full) or scratch */
    uint8_t *f = nd->scratch;
    uint32_t *lenp = NULL, *sentp = NULL;
    if (nd->tx_record) {
        unsigned slot;
        if (nd->rec_n == nd->tx_record) {
            slot = nd->rec_head;
            nd->rec_head = (slot + 1) % nd->tx_record;
            nd->tx_record_dropped++;
        } else {
            slot = (nd->rec_head + nd->rec_n++) % nd->tx_record;
        }
        f = nd->rec + (size_t)slot * nd->frame_max;
        lenp = &nd->rec_len[slot];
        sentp = &nd->rec_sent[slot];
    } else {
        nd->tx_record_dropped++;
    }
    uint32_t len = lyra_skb_flatten(skb, f, nd->frame_max);
    if (skb->flags & LYRA_SKB_F_CSUM_TX) {
        /* as CHECKSUM_PARTIAL: the field holds the pseudo-header sum;
         * tx_check made the frame offsets fit */
        uint32_t css = (uint32_t)csum_frame_start(skb);
        uint32_t at = css + (uint32_t)skb->csum_off;
        uint16_t c = (uint16_t)~lyra_csum_fold(lyra_csum_add(f + css, len - css, 0));
        if (!c)
            c = 0xffff;
        f[at] = (uint8_t)(c >> 8);
        f[at + 1] = (uint8_t)c;
    }
    if (sentp)
        *sentp = len;
    if (len < LYRA_ETH_ZLEN) {
        memset(f + len, 0, LYRA_ETH_ZLEN - len);
        len = LYRA_ETH_ZLEN;
    }
    if (lenp)
        *lenp = len;
    if (nd->txf)
        pcap_write_tx(nd, f, len);
    nd->last_segs = pieces;
    nd->tx_frames++;
    nd->tx_bytes += len;
    lyra_skb_free(skb);
    return 0;
}

static const struct lyra_netdev_ops fnd_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR,
                        struct lyra_netdev_ops),
    .open = fnd_open,
    .close = fnd_close,
    .xmit = fnd_xmit,
    .caps = fnd_caps,
    .set_rx_mode = fnd_set_rx_mode,
};

/* An events table may be older (shorter) than ours: take what it has. */
#define EV_HAS(ev, field) \
    ((ev)->hdr.size >= offsetof(struct lyra_netdev_events, field) + sizeof((ev)->field))

static int fnd_attach(void *self, const void *events, void *user)
{
    struct fake_netdev *nd = self;
    const struct lyra_netdev_events *ev = events;
    if (nd->has_user)
        return -EBUSY;
    if (ev && ev->hdr.major != LYRA_NETDEV_MAJOR)
        return -EPROTO;
    nd->has_user = true;
    nd->user = user;
    nd->ev_rx = ev && EV_HAS(ev, rx) ? ev->rx : NULL;
    nd->ev_tx_ready = ev && EV_HAS(ev, tx_ready) ? ev->tx_ready : NULL;
    nd->ev_link = ev && EV_HAS(ev, link) ? ev->link : NULL;
    return 0;
}

/* ---- receive-buffer posting (rx_post) ---- */

/* Keeps rx_post skbs posted while the provider has some. */
static void post_refill(struct fake_netdev *nd)
{
    while (nd->post && nd->post_n < nd->rx_post) {
        struct lyra_skb *skb = nd->skb->alloc_rx(nd->skb_self, nd->frame_max);
        if (!skb)
            return;
        nd->post[(nd->post_head + nd->post_n++) % nd->rx_post] = skb;
    }
}

static struct lyra_skb *post_take(struct fake_netdev *nd)
{
    if (!nd->post_n)
        return NULL;
    struct lyra_skb *skb = nd->post[nd->post_head];
    nd->post_head = (nd->post_head + 1) % nd->rx_post;
    nd->post_n--;
    return skb;
}

/* ---- test API ---- */

LYRA_EXPORT int fake_netdev_deliver(void *self, const void *frame, size_t len)
{
    struct fake_netdev *nd = self;
    if (!nd->skb || len > UINT32_MAX)
        return -ENODEV;
    struct lyra_skb *skb;
    if (nd->rx_post) {
        post_refill(nd);
        skb = post_take(nd); /* the card's "DMA" fills it below */
    } else {
        skb = nd->skb->alloc_rx(nd->skb_self, (uint32_t)len);
    }
    uint8_t *p = skb ? lyra_skb_put(skb, (uint32_t)len) : NULL;
    if (!p) {
        if (skb)
            lyra_skb_free(skb);
        nd->rx_nobuf++;
        return -ENOBUFS;
    }
    if (nd->rx_post)
        post_refill(nd); /* a fresh buffer in its place before it goes up */
    memcpy(p, frame, len);
    const uint8_t *f = frame;
    skb->flags |= LYRA_SKB_F_RX;
    if (len >= LYRA_ETH_HLEN) {
        static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        if (!memcmp(f, bcast, 6))
            skb->flags |= LYRA_SKB_F_BCAST;
        else if (f[0] & 1)
            skb->flags |= LYRA_SKB_F_MCAST;
        else if (!memcmp(f, nd->mac, 6))
            skb->flags |= LYRA_SKB_F_HOST;
        skb->protocol = (uint16_t)(f[12] << 8 | f[13]);
    }
    if (rx_csum_ok(nd, f, len))
        skb->flags |= LYRA_SKB_F_CSUM_OK;
    if (nd->os.ops)
        skb->tstamp = lyra_now(&nd->os);
    nd->rx_frames++;
    nd->rx_bytes += len;
    if (nd->ev_rx) {
        nd->ev_rx(nd->user, skb);
    } else {
        nd->rx_nouser++;
        lyra_skb_free(skb);
    }
    return 0;
}

LYRA_EXPORT int fake_netdev_deliver_run(void *self, const uint8_t *const *frame,
                                        const size_t *len, unsigned n)
{
    struct fake_netdev *nd = self;
    if (!nd->skb || !n || !nd->ev_rx)
        return -ENODEV;
    struct lyra_skb *head = NULL, *tail = NULL;
    for (unsigned k = 0; k < n; k++) {
        struct lyra_skb *skb = nd->skb->alloc_rx(nd->skb_self, (uint32_t)len[k]);
        uint8_t *p = skb ? lyra_skb_put(skb, (uint32_t)len[k]) : NULL;
        if (!p || len[k] < LYRA_ETH_HLEN + 20) {
            lyra_skb_free(skb);
            lyra_skb_free(head);
            return -ENOBUFS;
        }
        memcpy(p, frame[k], len[k]);
        skb->flags |= LYRA_SKB_F_RX | LYRA_SKB_F_CSUM_OK;
        nd->rx_frames++;
        nd->rx_bytes += len[k];
        if (!head) {
            head = tail = skb;
            continue;
        }
        /* a follower, as a coalescing driver leaves it: at its TCP header */
        lyra_skb_pull(skb, LYRA_ETH_HLEN + 20);
        skb->l4_off = (uint32_t)(skb->data - skb->head);
        skb->l3_off = skb->l4_off - 20;
        tail->next = skb;
        tail = skb;
        head->flags |= LYRA_SKB_F_GRO;
    }
    nd->ev_rx(nd->user, head);
    return 0;
}

LYRA_EXPORT int fake_netdev_inject(void *self, const void *frame, size_t len)
{
    struct fake_netdev *nd = self;
    if (!nd->started)
        return -ENETDOWN;
    if (len > nd->frame_max)
        return -EMSGSIZE;
    if (nd->inj_n == INJECT_MAX)
        return -ENOSPC;
    unsigned slot = (nd->inj_head + nd->inj_n++) % INJECT_MAX;
    memcpy(nd->inj + (size_t)slot * nd->frame_max, frame, len);
    nd->inj_len[slot] = (uint32_t)len;
    return 0;
}

LYRA_EXPORT unsigned fake_netdev_tx_count(void *self)
{
    return ((struct fake_netdev *)self)->rec_n;
}

LYRA_EXPORT const uint8_t *fake_netdev_tx_frame(void *self, unsigned i, size_t *len)
{
    struct fake_netdev *nd = self;
    if (i >= nd->rec_n)
        return NULL;
    unsigned slot = (nd->rec_head + i) % nd->tx_record;
    if (len)
        *len = nd->rec_len[slot];
    return nd->rec + (size_t)slot * nd->frame_max;
}

LYRA_EXPORT uint32_t fake_netdev_tx_sent_len(void *self, unsigned i)
{
    struct fake_netdev *nd = self;
    if (i >= nd->rec_n)
        return 0;
    return nd->rec_sent[(nd->rec_head + i) % nd->tx_record];
}

LYRA_EXPORT void fake_netdev_tx_clear(void *self)
{
    struct fake_netdev *nd = self;
    nd->rec_head = nd->rec_n = 0;
}

LYRA_EXPORT unsigned fake_netdev_last_tx_segments(void *self)
{
    return ((struct fake_netdev *)self)->last_segs;
}

LYRA_EXPORT void fake_netdev_signal_tx_ready(void *self)
{
    struct fake_netdev *nd = self;
    if (nd->ev_tx_ready)
        nd->ev_tx_ready(nd->user);
}

LYRA_EXPORT void fake_netdev_set_link(void *self, int up)
{
    struct fake_netdev *nd = self;
    nd->link_up = up != 0;
    if (nd->ev_link)
        nd->ev_link(nd->user, nd->link_up);
}

LYRA_EXPORT int fake_netdev_is_open(void *self)
{
    return ((struct fake_netdev *)self)->opened;
}

LYRA_EXPORT void fake_netdev_rx_mode(void *self, bool *allmulti, bool *promisc)
{
    struct fake_netdev *nd = self;
    *allmulti = nd->allmulti;
    *promisc = nd->promisc;
}

LYRA_EXPORT void fake_netdev_set_prom_mac(void *self, const uint8_t mac[6])
{
    struct fake_netdev *nd = self;
    memcpy(nd->mac, mac, 6);
}

/* ---- lifecycle ---- */

static int fnd_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct fake_netdev *nd = self;
    memset(nd, 0, sizeof(*nd));
    if (!lyra_eth_addr_is_station(p[P_MAC].u.mac)) { /* as nic_pio's */
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "fake_netdev.mac: a station MAC must be unicast and non-zero");
        return -EINVAL;
    }
    memcpy(nd->mac, p[P_MAC].u.mac, 6);
    nd->mtu = (uint32_t)p[P_MTU].u.i;
    nd->max_segs = (uint16_t)p[P_MAX_SEGS].u.i;
    nd->page_contig = p[P_PAGE_CONTIG].u.b;
    nd->csum_tx = (uint8_t)p[P_CSUM_TX].u.i;
    nd->csum_rx = (uint8_t)p[P_CSUM_RX].u.i;
    nd->tx_record = (unsigned)p[P_TX_RECORD].u.i;
    nd->tx_busy_every = (unsigned)p[P_TX_BUSY_EVERY].u.i;
    nd->rx_post = (unsigned)p[P_RX_POST].u.i;
    nd->rx_pcap = p[P_RX_PCAP].set ? p[P_RX_PCAP].u.s : NULL;
    nd->tx_pcap = p[P_TX_PCAP].set ? p[P_TX_PCAP].u.s : NULL;
    nd->link_up = true;
    nd->frame_max = LYRA_ETH_HLEN + nd->mtu + VLAN_HLEN;
    return 0;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void release(struct fake_netdev *nd)
{
    if (nd->rxf)
        fclose(nd->rxf);
    nd->rxf = NULL;
    if (nd->txf && fclose(nd->txf))
        lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "tx_pcap %s: write failed", nd->tx_pcap);
    else if (nd->tx_pcap_errors)
        lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "tx_pcap %s: %llu frames not written",
                 nd->tx_pcap, (unsigned long long)nd->tx_pcap_errors);
    nd->txf = NULL;
    struct lyra_skb *skb;
    while ((skb = post_take(nd)))
        lyra_skb_free(skb);
    nd->post = NULL;
    if (nd->mem)
        nd->os.ops->mem_free(nd->os.self, nd->mem);
    nd->mem = NULL;
    nd->started = false;
    nd->rec_n = nd->rec_head = nd->inj_n = nd->inj_head = 0;
}

static int fnd_start(void *self)
{
    struct fake_netdev *nd = self;
    if (!nd->os.ops || !nd->skb)
        return -EINVAL;
    int r = 0;
    if (nd->rx_pcap)
        r = pcap_open_rx(nd);
    if (!r && nd->tx_pcap)
        r = pcap_open_tx(nd);
    if (r) {
        release(nd);
        return r;
    }

    size_t fm = nd->frame_max;
    size_t o_rec = 0;
    size_t o_rlen = o_rec + align8((size_t)nd->tx_record * fm);
    size_t o_rsent = o_rlen + align8((size_t)nd->tx_record * sizeof(uint32_t));
    size_t o_inj = o_rsent + align8((size_t)nd->tx_record * sizeof(uint32_t));
    size_t o_ilen = o_inj + align8((size_t)INJECT_MAX * fm);
    size_t o_scr = o_ilen + align8(INJECT_MAX * sizeof(uint32_t));
    size_t o_post = o_scr + align8(fm);
    size_t o_pbuf = o_post + align8((size_t)nd->rx_post * sizeof(struct lyra_skb *));
    size_t total = o_pbuf + (nd->rxf ? nd->pbuf_size : 0);
    uint8_t *m = nd->os.ops->mem_alloc(nd->os.self, total, 64);
    if (!m) {
        lyra_log(&nd->os, LYRA_LOG_ERROR, WHO, "cannot allocate %zu bytes", total);
        release(nd);
        return -ENOMEM;
    }
    nd->mem = m;
    nd->rec = m + o_rec;
    nd->rec_len = (uint32_t *)(void *)(m + o_rlen);
    nd->rec_sent = (uint32_t *)(void *)(m + o_rsent);
    nd->inj = m + o_inj;
    nd->inj_len = (uint32_t *)(void *)(m + o_ilen);
    nd->scratch = m + o_scr;
    nd->pbuf = nd->rxf ? m + o_pbuf : NULL;
    nd->post = nd->rx_post ? (struct lyra_skb **)(void *)(m + o_post) : NULL;
    nd->post_head = nd->post_n = 0;
    post_refill(nd);
    nd->rec_n = nd->rec_head = nd->inj_n = nd->inj_head = 0;
    nd->xmit_calls = 0;
    nd->started = true;
    return 0;
}

static void fnd_stop(void *self)
{
    release(self);
}

static void fnd_destroy(void *self)
{
    struct fake_netdev *nd = self;
    /* stop released everything; files only if stop never ran */
    if (nd->rxf)
        fclose(nd->rxf);
    if (nd->txf)
        fclose(nd->txf);
    nd->rxf = nd->txf = NULL;
}

static int fnd_poll(void *self, unsigned budget)
{
    struct fake_netdev *nd = self;
    unsigned n = 0;
    if (!nd->started)
        return 0;
    post_refill(nd); /* buffers that came back since */
    while (n < budget && nd->inj_n) {
        unsigned slot = nd->inj_head;
        nd->inj_head = (nd->inj_head + 1) % INJECT_MAX;
        nd->inj_n--;
        fake_netdev_deliver(nd, nd->inj + (size_t)slot * nd->frame_max, nd->inj_len[slot]);
        n++;
    }
    if (n < budget && nd->rxf) {
        uint32_t len = pcap_next_rx(nd);
        if (nd->rxf || len) {
            fake_netdev_deliver(nd, nd->pbuf, len);
            n++;
        }
    }
    return (int)n;
}

static void fnd_stats(void *self, struct lyra_stats_sink *s)
{
    struct fake_netdev *nd = self;
    lyra_stat(s, "tx_frames", nd->tx_frames);
    lyra_stat(s, "tx_bytes", nd->tx_bytes);
    lyra_stat(s, "tx_busy", nd->tx_busy);
    lyra_stat(s, "tx_invalid", nd->tx_invalid);
    lyra_stat(s, "tx_bounced", nd->tx_bounced);
    lyra_stat(s, "tx_bounce_nobuf", nd->tx_bounce_nobuf);
    lyra_stat(s, "tx_record_dropped", nd->tx_record_dropped);
    lyra_stat(s, "tx_pcap_errors", nd->tx_pcap_errors);
    lyra_stat(s, "rx_frames", nd->rx_frames);
    lyra_stat(s, "rx_bytes", nd->rx_bytes);
    lyra_stat(s, "rx_nobuf", nd->rx_nobuf);
    lyra_stat(s, "rx_nouser", nd->rx_nouser);
    lyra_stat(s, "rx_posted", nd->post_n);
}

static const struct lyra_provide fnd_provides[] = {
    {LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR, &fnd_ops, fnd_attach, 1,
     "a NIC that records transmitted frames and receives injected ones"},
};

static const struct lyra_slot fnd_slots[] = {
    {"skb", LYRA_SKB_IFACE, LYRA_SKB_MAJOR, 0, 1, 1, NULL, NULL,
     "receive buffers",
     LYRA_SLOT_STORE(struct fake_netdev, skb, skb_self)},
    {"os", LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, 1, 1, NULL, NULL,
     "memory at start, time stamps, page size, logs",
     LYRA_SLOT_STORE(struct fake_netdev, os.ops, os.self)},
};

LYRA_EXPORT const struct lyra_component lyra_component_fake_netdev = {
    LYRA_COMPONENT_HDR,
    .flags = LYRA_COMP_F_HOST, /* not in an embedded image: RAM report */
    .name = "fake_netdev",
    .version = "1.0.0",
    .summary = "test NIC: records what is sent, receives injected frames or a pcap",
    .doc = "Transmitted frames are flattened, padded to 60 bytes and kept (tx_record), and "
           "written to tx_pcap. Frames given to fake_netdev_inject() or read from rx_pcap "
           "are received on poll. tx_busy_every makes xmit busy now and then. rx_post "
           "receives into skbs kept posted from the pool, as nic_dma does (netdev 1.1).",
    .provides = fnd_provides,
    .n_provides = LYRA_COUNT(fnd_provides),
    .slots = fnd_slots,
    .n_slots = LYRA_COUNT(fnd_slots),
    .params = fnd_params,
    .n_params = LYRA_COUNT(fnd_params),
    .instance_size = sizeof(struct fake_netdev),
    .create = fnd_create,
    .start = fnd_start,
    .stop = fnd_stop,
    .destroy = fnd_destroy,
    .poll = fnd_poll,
    .stats = fnd_stats,
};
