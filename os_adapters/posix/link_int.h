/* Links for host device models (os 1.1): the generic end (impairment of
 * what it sends and of what it receives, queues for delay and rate, pcap
 * capture, stats)
 * and the backends behind it (link_wire.c, link_tap.c). Internal to
 * os_posix. */
#ifndef LYRA_LINK_INT_H
#define LYRA_LINK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "os_posix_int.h"

/* Largest frame a link carries (slots of the in-process wire queues and of
 * the egress queue). Ethernet with MTU 1500 needs 1514 (1518 tagged). */
#define LINK_FRAME_MAX 2048u
/* Frames each bounded queue holds: each way of an in-process wire, the
 * egress (delay/rate) queue of an end. */
#define LINK_QUEUE_FRAMES 256u
/* A frame held back for reordering goes out at the latest this long after
 * it was held, even if fewer than reorder_depth frames passed it. */
#define LINK_REORDER_HOLD_NS 10000000ull

struct link_frame {
    uint64_t due; /* egress queue: when it leaves */
    uint32_t len;
    uint8_t data[LINK_FRAME_MAX];
};

struct link_ring {
    struct link_frame *slot; /* LINK_QUEUE_FRAMES */
    unsigned head, n;
};

struct lyra_link;

struct link_backend {
    const char *kind;
    /* puts one frame on the medium now: 0, -EAGAIN (full) or -errno */
    int (*xmit)(struct lyra_link *l, const void *f, size_t len);
    /* takes the next received frame: length, 0 when none, -EMSGSIZE */
    int (*recv)(struct lyra_link *l, void *buf, size_t cap);
    void (*close)(struct lyra_link *l);
};

struct pcap_writer;

/* One direction's impairment pipeline (link_impair.c): the same code for
 * what an end sends (its frames go on the medium) and for what it receives
 * (its frames go to the stack through q). */
struct link_dir {
    struct lyra_link *l;
    bool rx;
    uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm, reorder_depth;
    uint64_t delay_ns, rate_bps;
    bool impaired;                /* any of loss/dup/reorder/corrupt */
    bool shaped;                  /* delay or rate */
    bool queued;                  /* frames go through q (shaped, or rx impaired) */
    struct link_ring q;           /* by due time (FIFO: due never decreases) */
    uint64_t busy_until;          /* rate: when the medium is free again */
    struct link_frame *held;      /* reorder: the frame held back, or NULL */
    bool holding;
    uint32_t held_passed;         /* frames that overtook it so far */
    uint64_t held_since;
    struct lyra_timer timer;      /* releases q's frames and the held one */
    uint64_t rng;                 /* rx: its own splitmix64 stream */
    atomic_uint_fast64_t *c_loss, *c_dup, *c_reorder, *c_corrupt, *c_full;
};

struct lyra_link {
    struct os_posix *os;
    const struct link_backend *be;
    void *be_state;
    char spec[128];

    /* both pipelines and the capture: guarded by mu (send, recv, the
     * timers, close) */
    pthread_mutex_t mu;
    struct lyra_link_params p;
    struct link_dir tx, rx;
    struct pcap_writer *pcap;
};

/* link.c */
int os_link_open(void *self, const char *spec, const struct lyra_link_params *p,
                 struct lyra_link **out);
void os_link_close(void *self, struct lyra_link *l);
int os_link_send(void *self, struct lyra_link *l, const void *frame, size_t len);
int os_link_recv(void *self, struct lyra_link *l, void *buf, size_t cap);

/* link_impair.c: both pipelines, with l->mu held */
int link_impair_init(struct lyra_link *l);
void link_impair_fini(struct lyra_link *l);
void link_impair_cancel(struct lyra_link *l); /* both timers */
int link_impair_send(struct lyra_link *l, const void *frame, size_t len);
/* the next frame for the stack through the receiving pipeline: as the
 * backend's recv; only when l->rx.queued */
int link_impair_recv(struct lyra_link *l, void *buf, size_t cap);
void link_impair_flush(struct link_dir *d, uint64_t now); /* due frames out */
/* hands a frame to the backend, capturing and counting it */
int link_emit(struct lyra_link *l, const void *frame, size_t len);

/* rings */
int link_ring_init(struct link_ring *r);
void link_ring_fini(struct link_ring *r);
struct link_frame *link_ring_tail(struct link_ring *r); /* NULL when full */
void link_ring_push(struct link_ring *r);
struct link_frame *link_ring_head(struct link_ring *r); /* NULL when empty */
void link_ring_pop(struct link_ring *r);

/* backends: fill l->be and l->be_state */
int link_wire_open(struct lyra_link *l, const char *name);
int link_tap_open(struct lyra_link *l, const char *ifname);

/* pcap_writer.c: classic pcap, Ethernet, snaplen 65535 */
struct pcap_writer *pcap_writer_open(const char *path, int *err);
void pcap_writer_frame(struct pcap_writer *w, const void *f, size_t len);
void pcap_writer_close(struct pcap_writer *w); /* flushes */

#endif
