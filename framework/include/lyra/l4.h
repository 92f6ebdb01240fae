/* Interface `l4` 1.2: a transport (udp, tcp, ICMP echo sockets) as the
 * socket layer sees it.
 *
 * A provider serves one socket type and IP protocol (`type`, `protocol` in
 * its ops table). Endpoints are small non-negative handles the provider
 * hands out from a table sized by its parameters. Every op is non-blocking:
 * where BSD would block, an op returns -EAGAIN and `poll` tells when to try
 * again. Errors are negative errno values with BSD meanings. Addresses and
 * ports are in host byte order.
 *
 * Contexts. Ops are called by the socket layer from an application thread
 * (or the loop's thread on bare metal) with the stack lock held; the poll
 * step takes the same lock, so ops never run concurrently with the
 * provider's receive path or timers. An op may call down (l3 output, skb)
 * and may raise the `ready` event synchronously (a recv that frees room,
 * a close). It must not call back into the socket layer's ops.
 * The `ready` event (1.1) is raised by the provider from its receive path
 * (poll step), from timers, or from inside an op, always with the stack
 * lock held; the user must not call the provider's ops from it (it only
 * records which endpoint may progress and wakes who waits for it).
 *
 * Readiness (1.1): whenever an endpoint's poll bits may have gained one of
 * IN, PRI, OUT, ERR, HUP, RDHUP (a datagram queued, urgent data, an error set, room to send
 * back, the peer's FIN, a connection to accept), the provider raises
 * `ready` with the cookie the user gave the endpoint (set_cookie) and the
 * bits concerned. Spurious events are allowed, a missing one is a lost
 * wake-up. OUT that depends on a resource shared by every endpoint (the
 * skb pool) may be reported once with LYRA_L4_EVERY. A recv that empties
 * the receive queue may report LYRA_L4_DRAINED: any later event about the
 * endpoint (IN, ERR, HUP: the user forgets DRAINED on every event) undoes it. The user wakes a
 * blocked call only on an event for its descriptor, so this is what makes
 * a blocked recv cost one transport call per datagram, not one per step.
 * (1.0 users had no events and re-ran their calls after every loop step:
 * hence the minor version, which a 1.1 user requires.) */
#ifndef LYRA_L4_H
#define LYRA_L4_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_L4_IFACE "l4"
#define LYRA_L4_MAJOR 1
#define LYRA_L4_MINOR 3 /* 1.1: ready event, set_cookie; 1.2: setopt_buf, getopt_buf;
                         * 1.3: LYRA_MSG_ZEROCOPY, LYRA_SO_ZEROCOPY, LYRA_SO_ZC_COMPL;
                         * recv_loan, loan_return, LYRA_SO_LOAN_MAX */

/* Cookies: 0 is "none" (an endpoint whose user set none raises no event);
 * LYRA_L4_EVERY in an event means every endpoint of the provider. */
#define LYRA_L4_NO_COOKIE ((uintptr_t)0)
#define LYRA_L4_EVERY (~(uintptr_t)0)
/* In an event's `what`, alone: the endpoint's receive queue just became
 * empty (IN no longer holds), so the user may answer a recv with -EAGAIN
 * without calling the provider until the next event about the endpoint.
 * Optional: a provider that never says it costs one more recv call. */
#define LYRA_L4_DRAINED 0x8000u

/* Socket types (the values of Linux's SOCK_STREAM and SOCK_DGRAM, so the
 * public API passes them through unchanged). */
#define LYRA_SOCK_STREAM 1
#define LYRA_SOCK_DGRAM 2

struct lyra_sockaddr4 {
    uint32_t addr; /* 0: any */
    uint16_t port; /* 0: any (bind: an ephemeral port) */
};

/* A piece of a receive buffer (recv scatters a datagram over several). */
struct lyra_iov {
    void *base;
    size_t len;
};

/* Where a received datagram was sent (RFC 1122 4.1.3.5: an application
 * must be able to learn the specific destination; IP_PKTINFO). */
struct lyra_l4_dst {
    uint32_t addr;  /* its IP destination: one of ours, or a broadcast */
    uint32_t local; /* our address it arrived on: addr, or for a broadcast
                     * the stack's address (the source a reply would use) */
    uint16_t port;  /* the local port (ICMP echo sockets: the id) */
};

/* poll() readiness bits (values of POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP). */
#define LYRA_POLL_IN 0x001
#define LYRA_POLL_PRI 0x002 /* urgent data not yet read past (tcp: RFC 9293 3.8.5) */
#define LYRA_POLL_OUT 0x004
#define LYRA_POLL_ERR 0x008
#define LYRA_POLL_HUP 0x010
#define LYRA_POLL_RDHUP 0x2000 /* the peer shut its sending side (Linux POLLRDHUP) */

/* send/recv flags (values of Linux's MSG_*). Transports see OOB, PEEK,
 * TRUNC, ERRQUEUE; one without out-of-band data or an error queue answers
 * OOB and ERRQUEUE with -EOPNOTSUPP (tcp sends OOB data as urgent data and,
 * its urgent data being in line, answers a recv with OOB -EINVAL, as Linux
 * with SO_OOBINLINE). DONTWAIT, WAITALL and NOSIGNAL are the
 * socket API's (waiting; NOSIGNAL is accepted and means nothing). */
#define LYRA_MSG_OOB 0x01
#define LYRA_MSG_PEEK 0x02
#define LYRA_MSG_TRUNC 0x20 /* recv: return the datagram's real length */
#define LYRA_MSG_DONTWAIT 0x40
#define LYRA_MSG_WAITALL 0x100
#define LYRA_MSG_ERRQUEUE 0x2000
#define LYRA_MSG_NOSIGNAL 0x4000
/* 1.3, send (issue 12.2b, Linux MSG_ZEROCOPY): on an endpoint with
 * LYRA_SO_ZEROCOPY the transport passes LYRA_SEG_F_REF to add_data and
 * reports the call's completion (lyra/l4_zc.h); otherwise ignored. */
#define LYRA_MSG_ZEROCOPY 0x4000000
/* 1.3, with LYRA_MSG_ZEROCOPY, from the socket layer only: this send
 * continues the previous one (a blocking stream send's next round), so it
 * takes no new completion id (lyra/l4_zc.h, lyra_zc_cont). No Linux flag
 * has this value. */
#define LYRA_MSG_ZC_CONT 0x40000000
/* 1.3, with LYRA_MSG_ZEROCOPY on a stream, from the socket layer only: the
 * round belongs to a blocking call that goes on until the socket layer
 * ends it with a zero-length send flagged LYRA_MSG_ZC_CALL |
 * LYRA_MSG_ZC_CONT, so the call's record is not completed between rounds
 * (as Linux, whose notification never comes before the call returns: else
 * later rounds would copy under an id already reported as referenced).
 * No Linux flag has this value. */
#define LYRA_MSG_ZC_CALL 0x10000000

/* Options for setopt/getopt (values are ints; a provider answers
 * -ENOPROTOOPT for one it does not have). */
enum lyra_sockopt {
    LYRA_SO_ERROR = 1,     /* get: pending error (positive errno), cleared */
    LYRA_SO_BROADCAST,     /* may send to broadcast addresses */
    LYRA_SO_REUSEADDR,     /* bind to a port another endpoint holds */
    LYRA_SO_RCVBUF,        /* receive queue bytes */
    LYRA_SO_SNDBUF,        /* send buffer bytes (stream) */
    LYRA_IP_TTL,           /* TTL of what this endpoint sends */
    LYRA_IP_TOS,
    LYRA_TCP_NODELAY,
    LYRA_SO_LINGER,        /* 1.1, set: -1 off, else seconds; 0: close aborts (RFC 793 ABORT) */
    /* 1.2, stream transports (int values) */
    LYRA_SO_KEEPALIVE,     /* 0/1: keepalive probes (RFC 1122 4.2.3.6) */
    LYRA_TCP_MAXSEG,       /* get: the MSS sent with; set before connect/listen: a cap */
    LYRA_TCP_KEEPIDLE,     /* seconds idle before the first keepalive probe */
    LYRA_TCP_KEEPINTVL,    /* seconds between probes */
    LYRA_TCP_KEEPCNT,      /* unanswered probes before the connection is dropped */
    LYRA_TCP_USER_TIMEOUT, /* ms data may stay unacknowledged before ETIMEDOUT; 0: the
                            * transport's own rule (RFC 5482; RFC 1122 4.2.3.5 R2) */
    /* 1.2, values that are not ints (setopt_buf / getopt_buf) */
    LYRA_TCP_CONGESTION,   /* a name ("newreno"), without a NUL on get when it fills len */
    LYRA_TCP_INFO,         /* get: struct lyra_tcp_info */
    /* int, get only (set: -ENOPROTOOPT); a transport without urgent data
     * answers -ENOPROTOOPT (the socket API's lyra_sockatmark: ENOTTY) */
    LYRA_SIOCATMARK,       /* 1 when the next byte to read is the urgent mark (sockatmark) */
    /* 1.3 (issue 12.2b): MSG_ZEROCOPY completions, tcp and udp */
    LYRA_SO_ZEROCOPY,      /* int 0/1: sends with LYRA_MSG_ZEROCOPY may reference */
    LYRA_SO_ZC_COMPL,      /* getopt_buf: take the oldest completion, struct
                            * lyra_zc_compl (lyra/l4_zc.h); -EAGAIN: none */
    LYRA_SO_LOAN_MAX,      /* int 1..LYRA_LOAN_MAX_LIMIT: loans a socket may hold
                            * (recv_loan), LYRA_LOAN_MAX_DEFAULT at open */
    LYRA_SO__L4_LAST = 63  /* the socket layer's own options start above */
};

/* A loan (1.3, issue 12.3): received payload read in place. data/len: one
 * contiguous piece of one received skb (its linear part or one segment);
 * the rest the provider fills for loan_return (the socket layer, the
 * provider's ops). Valid until returned, also after the socket closed,
 * never after the stack stopped. */
struct lyra_l4_loan {
    const void *data;
    size_t len;
    void *skb;           /* the skb the loan holds a reference on */
    uint32_t h, gen;     /* the endpoint and its incarnation (lyra_zc gen) */
    const void *l4;      /* the socket layer's: the provider to return it to */
    void *l4_self;
};
#define LYRA_LOAN_MAX_DEFAULT 8
#define LYRA_LOAN_MAX_LIMIT 1024

struct lyra_l4_ops {
    struct lyra_ops_hdr hdr;
    int type;     /* LYRA_SOCK_* */
    int protocol; /* IP protocol number: 17 UDP, 6 TCP, 1 ICMP (echo sockets) */
    /* A new endpoint: its handle, or -ENOBUFS when the table is full. */
    int (*open)(void *self);
    /* Releases h (a stream endpoint may linger to finish its close). */
    void (*close)(void *self, int h);
    /* -EADDRINUSE, -EADDRNOTAVAIL (not one of ours), -EINVAL (bound). */
    int (*bind)(void *self, int h, const struct lyra_sockaddr4 *a);
    /* Datagram: sets the default peer (addr 0 and port 0: dissolves it).
     * Stream: starts the handshake, -EINPROGRESS; poll OUT (or ERR) ends it. */
    int (*connect)(void *self, int h, const struct lyra_sockaddr4 *a);
    int (*listen)(void *self, int h, int backlog);
    /* A new handle for a completed connection, -EAGAIN when none. */
    int (*accept)(void *self, int h, struct lyra_sockaddr4 *peer);
    /* Bytes taken (a datagram is taken whole or not at all), -EAGAIN,
     * -EMSGSIZE, -EDESTADDRREQ, -ENETUNREACH, -EACCES (broadcast without
     * SO_BROADCAST), -ENOTCONN, -EPIPE, -ECONNREFUSED (a pending error).
     * When buf may be reused: the transport builds its skbs with the skb
     * provider's add_data (skb.h); memory add_data copied (skb_copy copies
     * all) is the caller's again when send returns; memory a referencing
     * provider kept is the caller's again only after the last skb holding
     * it completed (skb `done`: sent and reclaimed by the NIC, and for a
     * stream transport also acknowledged, since it keeps a clone for
     * retransmission). A transport that references must say which of its
     * sends do and how the application learns of their completion. */
    long (*send)(void *self, int h, const void *buf, size_t len, const struct lyra_sockaddr4 *to,
                 int flags);
    /* Bytes copied, filling the iovcnt pieces of iov in order (a datagram's
     * excess is discarded unless PEEK; with LYRA_MSG_TRUNC the datagram's
     * real length is returned), 0 at a stream's end, -EAGAIN when nothing
     * is queued, -EFAULT for a piece with NULL base and non-zero len.
     * from and to may be NULL; to (datagrams) tells where the datagram
     * was sent (the socket layer asks for it when IP_PKTINFO is on). */
    long (*recv)(void *self, int h, const struct lyra_iov *iov, unsigned iovcnt,
                 struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int flags);
    /* how: 0 read, 1 write, 2 both (SHUT_*). */
    int (*shutdown)(void *self, int h, int how);
    /* Local (peer 0) or remote (peer 1) address; -ENOTCONN. */
    int (*name)(void *self, int h, int peer, struct lyra_sockaddr4 *out);
    /* LYRA_POLL_* that hold now. */
    unsigned (*poll)(void *self, int h);
    int (*setopt)(void *self, int h, int opt, int val);
    int (*getopt)(void *self, int h, int opt, int *val);
    /* 1.1: the cookie `ready` events about h carry (0: none, the default
     * of a new or accepted endpoint). The user sets it right after open or
     * accept and re-polls, so an event before that is not lost. */
    void (*set_cookie)(void *self, int h, uintptr_t cookie);
    /* 1.2: options whose values are bytes (a name, a struct): set takes
     * len bytes at val; get fills at most *len bytes and sets *len to what
     * it wrote. -ENOPROTOOPT for an option the provider does not have, as
     * setopt. A provider without them leaves both NULL. */
    int (*setopt_buf)(void *self, int h, int opt, const void *val, uint32_t len);
    int (*getopt_buf)(void *self, int h, int opt, void *val, uint32_t *len);
    /* 1.3: the next received piece, in place (struct lyra_l4_loan): its
     * length; the bytes leave the receive queue as if read (a stream's
     * window opens; a datagram is one loan, its payload being linear). 0
     * at a stream's end, -EAGAIN when nothing is queued, -ENOBUFS when the
     * endpoint holds LYRA_SO_LOAN_MAX loans (only returns free them: never
     * worth waiting for), errors as recv. flags: none yet (0). */
    long (*recv_loan)(void *self, int h, struct lyra_l4_loan *loan, int flags);
    /* Frees what recv_loan lent (its skb reference), whether or not h is
     * still open. */
    void (*loan_return)(void *self, struct lyra_l4_loan *loan);
};

/* Does provider o have op `field` (by its minor version and table size)? */
#define LYRA_L4_HAS(o, minor_, field)                                                   \
    ((o)->hdr.minor >= (minor_) &&                                                      \
     (o)->hdr.size >= offsetof(struct lyra_l4_ops, field) + sizeof((o)->field) && (o)->field)

/* Connection states as struct lyra_tcp_info reports them (RFC 9293 3.3.2;
 * Linux's numbering, so tools that know it read them as they expect). */
enum lyra_tcp_state {
    LYRA_TCPS_ESTABLISHED = 1,
    LYRA_TCPS_SYN_SENT,
    LYRA_TCPS_SYN_RECEIVED,
    LYRA_TCPS_FIN_WAIT_1,
    LYRA_TCPS_FIN_WAIT_2,
    LYRA_TCPS_TIME_WAIT,
    LYRA_TCPS_CLOSED,
    LYRA_TCPS_CLOSE_WAIT,
    LYRA_TCPS_LAST_ACK,
    LYRA_TCPS_LISTEN,
    LYRA_TCPS_CLOSING,
};

/* lyra_tcp_info.options */
#define LYRA_TCPI_OPT_TIMESTAMPS 0x1
#define LYRA_TCPI_OPT_SACK 0x2
#define LYRA_TCPI_OPT_WSCALE 0x4

/* LYRA_TCP_INFO: a snapshot of one connection, Linux's struct tcp_info in
 * spirit (not its layout). Times in microseconds, windows in bytes. */
struct lyra_tcp_info {
    uint8_t state;         /* enum lyra_tcp_state */
    uint8_t options;       /* LYRA_TCPI_OPT_* negotiated */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t backoff;       /* RTO doublings now */
    uint8_t retransmits;   /* timer expiries in a row now */
    uint16_t reserved;
    uint32_t rto, rtt, rttvar;
    uint32_t snd_mss, rcv_mss;
    uint32_t snd_cwnd, snd_ssthresh;
    uint32_t snd_wnd, rcv_wnd;
    uint32_t unacked;      /* bytes sent, not yet acknowledged */
    uint32_t total_retrans;   /* segments sent again, over the connection's life */
    uint64_t bytes_acked;     /* sent and acknowledged */
    uint64_t bytes_received;  /* in order, delivered or queued for recv */
    char congestion[16];      /* the congestion control's name */
};

/* Events the user (the socket layer) implements (1.1). */
struct lyra_l4_events {
    struct lyra_ops_hdr hdr;
    /* Endpoint `cookie` (or LYRA_L4_EVERY) may progress for the LYRA_POLL_*
     * bits in `what`. Stack lock held; must not call the provider's ops. */
    void (*ready)(void *user, uintptr_t cookie, unsigned what);
};

#ifdef __cplusplus
}
#endif
#endif
