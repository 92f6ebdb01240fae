/* udp's private state and what its files share: the instance, the
 * per-datagram cb, counters and the functions one file gives another.
 * (udp.c: lifecycle and descriptor; udp_rx.c: input from l3; udp_ep.c:
 * endpoint ops; udp_tx.c: send; udp_recv.c: recv.) */
#ifndef LYRA_UDP_PRIV_H
#define LYRA_UDP_PRIV_H

#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "lyra/component.h"
#include "lyra/diag.h"
#include "lyra/l2.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/l4_zc.h"
#include "lyra/netdev.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "udp_table.h"
#include "udp_wire.h"

#define WHO "udp"
#define IPV4_LIMITED_BCAST 0xffffffffu

/* ICMP (RFC 792) as far as errors map to errno values. */
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define ICMP_CODE_NET_UNREACH 0
#define ICMP_CODE_PORT_UNREACH 3
#define ICMP_CODE_NET_UNKNOWN 6
#define ICMP_CODE_NET_PROHIBITED 9
#define ICMP_CODE_NET_UNREACH_TOS 11

#define UDP_STATS(X)                                                                          \
    X(rx_datagrams) X(rx_bytes) X(rx_short) X(rx_bad_len) X(rx_bad_csum) X(rx_nonlinear)     \
    X(rx_down) X(no_port) X(no_port_bcast) X(rx_queue_full) X(rx_bcast_copies)                 \
    X(rx_bcast_nobuf) X(tx_datagrams) X(tx_bytes) X(tx_nobuf) X(tx_too_big) X(tx_noroute) X(tx_errors)       \
    X(tx_csum_offload) X(icmp_errors_in) X(icmp_errors_set) X(tx_ready)  \
    X(zc_sends) X(zc_copy_fallback) X(zc_nobufs) X(rx_loaned_bytes) X(rx_loans)

struct udp_stats {
#define UDP_STAT_FIELD(n) uint64_t n;
    UDP_STATS(UDP_STAT_FIELD)
#undef UDP_STAT_FIELD
};

struct udp {
    struct lyra_os os;
    const struct lyra_skb_ops *skb;
    void *skb_self;
    const struct lyra_l3_ops *l3;
    void *l3_self;
    /* parameters */
    uint32_t max_sockets, rx_queue, rx_bytes;
    bool csum_tx;
    uint16_t port_min, port_max;
    /* state */
    bool started, registered;
    struct udp_ep *mem;
    struct lyra_zc *zc; /* per endpoint: MSG_ZEROCOPY completions (lyra/l4_zc.h), apart
                         * from the table, which open and close clear */
    struct udp_table tab;
    struct udp_stats st;
    uint64_t copy_bytes; /* payload bytes copied in (send) and out (recv, broadcast copies) */
    /* l4 1.1: the socket layer's events (attach) */
    const struct lyra_l4_events *ev;
    void *ev_user;
};

/* What recv needs of a queued datagram, kept in skb->cb (written and read
 * with memcpy: cb is an array of another type). */
struct udp_cb {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t len; /* payload bytes */
};

_Static_assert(sizeof(struct udp_cb) <= sizeof(((struct lyra_skb *)0)->cb), "cb too small");

static inline void cb_put(struct lyra_skb *skb, const struct udp_cb *cb)
{
    memcpy(skb->cb, cb, sizeof(*cb));
}

static inline struct udp_cb cb_get(const struct lyra_skb *skb)
{
    struct udp_cb cb;
    memcpy(&cb, skb->cb, sizeof(cb));
    return cb;
}

extern const struct lyra_l3_events udp_l3_events;
extern const struct lyra_l4_ops udp_l4_ops;

/* udp_ep.c */
bool udp_is_bcast(struct udp *u, uint32_t a, const struct lyra_l3_route *rt);
int udp_autobind(struct udp *u, struct udp_ep *e);
struct udp_ep *udp_ep_get(struct udp *u, int h);
/* Endpoint e (NULL: every endpoint) may progress for the LYRA_POLL_* bits
 * in what: tells the socket layer (l4 1.1 ready). */
void udp_ready(struct udp *u, const struct udp_ep *e, unsigned what);
int udp_l4_attach(void *self, const void *events, void *user);
/* A MSG_ZEROCOPY completion was queued: POLLERR (lyra/l4_zc.h). */
void udp_zc_notify(void *ctx, struct lyra_zc *z);
/* udp_tx.c */
long udp_op_send(void *self, int h, const void *buf, size_t len,
                    const struct lyra_sockaddr4 *to, int flags);
/* udp_recv.c (l4 1.3 loans too) */
long udp_op_recv_loan(void *self, int h, struct lyra_l4_loan *ln, int flags);
void udp_op_loan_return(void *self, struct lyra_l4_loan *ln);
long udp_op_recv(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                 struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags);

#endif
