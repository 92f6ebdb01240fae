/* skb_zc internals, shared by its files: skb_zc.c (the component, pools,
 * clone), skb_zc_tx.c (add_data: reference or copy), skb_zc_pkt.c (packet
 * memory, page references, copy on write), skb_zc_rx.c (page receive
 * buffers, copy_out by remapping). See docs/buffers.md, "skb_zc". */
#ifndef LYRA_SKB_ZC_H
#define LYRA_SKB_ZC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/os.h"
#include "lyra/skb.h"
#include "skb_fill.h"
#include "skb_pool.h"
#include "skb_segs.h"
#include "skb_xfer.h"

#define SKB_ZC_NAME "skb_zc"
/* at most this many referenced segments per skb (the paper's dataseg[0..1]) */
#define SKB_ZC_REF_SEGS 2u
/* where a received TCP payload with timestamps starts behind rx_headroom:
 * Ethernet 14, IPv4 20, TCP 20 + 12 of options */
#define SKB_ZC_RX_HDRS (14u + 20u + 32u)
/* protect calls that end at a send's last page (the ones that may take
 * pages ahead) without a lifting write before protection ahead resumes */
#define SKB_ZC_AHEAD_QUIET 64u
/* parameters (skb_zc.c P__N) */
#define SKB_ZC_NPARAMS 14

/* A page of packet memory, as copy on write sees it. state is shared with
 * the fault hook, which may run on an application thread at any time. */
enum zc_pg_state {
    ZC_PG_IDLE = 0,    /* no reference, writable (or read-only after a refused page
                        * swap: the first write lifts it, as for ZC_PG_RO) */
    ZC_PG_PROT = 1,    /* referenced: read-only, a bounce page reserved */
    ZC_PG_BOUNCED = 2, /* written since: the alias shows the bounce copy */
    ZC_PG_LOCKED = 3,  /* one side is moving it between states */
    /* no reference, still read-only: protection is lifted lazily, by the
     * first write (the hook) or a receive remap, so a page sent again and
     * again without being written costs no mprotect per send */
    ZC_PG_RO = 4,
};

struct zc_page {
    uint32_t refs;     /* descriptors referencing it (stack context only) */
    uint32_t bounce;   /* reserved bounce page + 1; 0: none */
    uint32_t region;   /* index of its region */
    atomic_uint state; /* enum zc_pg_state */
    /* the alias does not show the application's page: a receive swapped
     * the page in under the application only (os page_swap); the alias is
     * brought back in line when the page is next referenced (stack
     * context only; nothing reads the alias of an unreferenced page) */
    uint8_t alias_stale;
    uint8_t used; /* a region holds it (pkt_alloc's first fit) */
};

struct skb_zc;

/* The pages of packet memory a segment descriptor references: n entries
 * of skb_zc.pg from pg (n 0: none). */
struct zc_span {
    uint32_t pg, n;
};

/* skb_zc's own event counters, reported under these names in this order
 * (a table and one loop: less code than a call per counter). */
#define SKB_ZC_COUNTERS(X)                                                                  \
    X(add_data_short)    /* add_data took less than asked: buffers or descriptors out */   \
    X(add_data_efault)   /* a NULL, wrapping or unreadable range */                        \
    X(add_data_emsgsize) /* more than a copy could ever chain */                           \
    X(copy_out_einval)                                                                      \
    X(clones) X(clone_ranges) X(clone_fail) X(pkt_alloc_fail) X(pkt_free_bad)              \
    X(rx_fixup_bytes) /* application bytes moved in front of a remapped payload */

enum skb_zc_counter {
#define SKB_ZC_COUNTER_ENUM(n) ZC_##n,
    SKB_ZC_COUNTERS(SKB_ZC_COUNTER_ENUM)
#undef SKB_ZC_COUNTER_ENUM
    ZC_NCOUNTERS
};

/* One pkt_alloc: the application's mapping and the stack's alias of the
 * same pages. */
struct zc_region {
    struct skb_zc *zc;  /* for the fault hook */
    uint8_t *app;       /* page aligned; pkt_alloc returned app + pkt_off */
    uint8_t *alias;     /* the stack's view: segments reference these addresses */
    uint32_t npages;
    uint32_t first;     /* its first entry in skb_zc.pg */
    uint32_t refs;      /* page references in all */
    uint8_t used;
    uint8_t freed;      /* pkt_free came while referenced: released at the last */
};

struct skb_zc {
    struct lyra_os os;
    int os_bound;
    struct skb_pool pool; /* transmit: headers, copied payload, follow_data, clones */
    struct skb_pool rx;   /* receive: one page each */
    struct skb_pool big;  /* transmit, when a normal buffer is too small */
    struct skb_segs segs;
    struct skb_fill fill;
    struct skb_xfer xfer;
    /* the parameters, in the order of skb_zc.c's P_* indices: create
     * copies them in one loop (asserted there) */
    union {
        struct {
            uint32_t count, buf_size, headroom, rx_headroom, reserve_ctl, nsegs;
            uint32_t rx_pages, pkt_pages, pkt_regions, cow_pages, ref_min, big_count, big_size;
            uint32_t protect_ahead; /* pages (skb_zc_pkt.c ahead_run) */
        };
        uint32_t param[SKB_ZC_NPARAMS];
    };
    size_t psize;
    uint32_t pkt_off; /* in-page offset of what pkt_alloc returns */
    uint8_t *rx_mem;  /* rx_pages pages */
    /* bounce pages for copy on write */
    uint8_t *bounce_mem;
    uint32_t *bounce_free, nbounce_free;
    /* packet memory */
    struct zc_region *reg;
    struct zc_page *pg;
    uint32_t pg_in_use, reg_in_use;
    uint32_t reg_hi; /* regions at and above this index are unused: zc_pkt_find's bound */
    /* per segment descriptor: the packet-memory pages it references, so
     * they are released whatever trim did to ptr/len */
    struct zc_span *span;
    uint32_t spans_live; /* descriptors whose span is not empty */
    void *tables; /* the one allocation reg, pg, bounce_free and span live in */
    atomic_uint cow_faults; /* counted by the fault hook */
    atomic_uint cow_unprotects; /* writes to ZC_PG_RO pages: lifted, nothing copied */
    /* protection ahead backs off while writes lift protected pages
     * (skb_zc_pkt.c ahead_run): cow_unprotects when last looked at, and
     * the protect calls ending at a send's last page made since it moved */
    uint32_t ahead_seen, ahead_quiet;
    uint64_t n[ZC_NCOUNTERS]; /* SKB_ZC_COUNTERS */
};

/* skb_zc_pkt.c */
/* At start, with nsegs, pkt_* and cow_pages set: the tables and bounce
 * pages. When it fails, what it took is left for zc_pkt_fini (start's stop). */
int zc_pkt_init(struct skb_zc *z);
void zc_pkt_fini(struct skb_zc *z);
void *zc_pkt_alloc(void *self, size_t size);
int zc_pkt_free(void *self, void *p);
/* The region (index) holding [p, p + len) of application addresses, or -1. */
long zc_pkt_find(const struct skb_zc *z, const uint8_t *p, uint32_t len);
/* References the pages of region r holding app bytes [p, p + len) for the
 * descriptor whose span is sp (the pages sp covers already are not
 * referenced again): protects the newly referenced ones and extends sp
 * over them. 0, or the fallback reason (> 0) to copy (sp unchanged). */
int zc_pages_ref(struct skb_zc *z, long r, const uint8_t *p, uint32_t len, struct zc_span *sp);
/* Stack side: takes a page out of a stable state (spinning while the
 * fault hook has it ZC_PG_LOCKED) into ZC_PG_LOCKED; returns the state it
 * had. The caller stores the next state. */
unsigned zc_page_lock(struct zc_page *pg);
/* Drops the references of span sp (sp->n > 0; pages of one region). */
void zc_pages_unref(struct skb_zc *z, const struct zc_span *sp);

/* skb_zc_tx.c */
int zc_add_data(void *self, struct lyra_skb *skb, const void *p, uint32_t len, uint32_t flags,
                uint32_t *copied);
/* The pools' release, at an skb's last free: its descriptors' page
 * references go, then what its segments hold. */
void zc_release(void *owner, struct lyra_skb *skb);

/* skb_zc_rx.c */
struct lyra_skb *zc_alloc_rx(void *self, uint32_t size);
int zc_copy_out(void *self, const struct lyra_skb *skb, uint32_t off, void *dst, uint32_t len);
int zc_move_out(void *self, const struct lyra_skb *skb, uint32_t off, void *dst, uint32_t len);

#endif
