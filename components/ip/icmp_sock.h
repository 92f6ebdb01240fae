/* ICMP echo ("ping") sockets: ip's `l4` provider of type LYRA_SOCK_DGRAM,
 * protocol 1, with the semantics of Linux's SOCK_DGRAM/IPPROTO_ICMP
 * sockets (icmp(7), net/ipv4/ping.c):
 *  - send takes an ICMP echo request (RFC 792: type 8, code 0, at least the
 *    8-byte header) and its data; the identifier the application wrote is
 *    replaced by the endpoint's own (its "port": bind sets it, else an
 *    ephemeral one from os random, unique among endpoints), the checksum
 *    is computed here, and the message goes out through ip_output;
 *  - an echo reply (type 0) whose identifier is an endpoint's, to the
 *    endpoint's bound address (if any) and from its peer (if connected),
 *    is queued on it (at most ICMP_SOCK_QLEN datagrams; beyond, dropped and
 *    counted); recv returns the ICMP header and data, `from` the source
 *    with port 0;
 *  - an ICMP error quoting one of our echo requests sets a pending error
 *    (SO_ERROR, returned once by the next recv or send) on a connected
 *    endpoint, with Linux's errno for the type and code.
 * Differences from Linux: a connected endpoint only takes replies from its
 * peer (Linux matches the identifier alone); soft errors (time exceeded,
 * most unreachable codes) are reported too, there being no IP_RECVERR.
 *
 * The endpoint table has `icmp_sockets` entries, from os mem_alloc at
 * start, freed at stop (queued skbs go back to the pool). Nothing on the
 * data path allocates but the skbs. */
#ifndef LYRA_ICMP_SOCK_H
#define LYRA_ICMP_SOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/l4_ip.h"
#include "lyra/skb.h"

/* Echo replies queued per endpoint before new ones are dropped. */
#define ICMP_SOCK_QLEN 8
/* Upper bound of the icmp_sockets parameter. */
#define ICMP_SOCK_MAX 256

struct icmp_ep {
    bool used;
    bool bound;     /* id assigned (bind, or autobind at connect/send) */
    bool connected; /* peer set */
    uint16_t id;    /* the echo identifier: the endpoint's "port" */
    uint32_t laddr; /* bound local address; 0: any */
    uint32_t peer;  /* connected peer */
    struct lyra_l4_ipopts o; /* SO_ERROR, IP_TTL, IP_TOS, SO_LINGER (lyra/l4_ip.h) */
    struct lyra_skb_queue rq; /* echo replies; cb[0] holds the source */
    uintptr_t cookie; /* l4 1.1: what ready events about it carry (0: none) */
};

struct icmp_socks {
    struct icmp_ep *ep; /* n entries, os mem_alloc at start */
    unsigned n;
    /* l4 1.1: the socket layer's events (attach) */
    const struct lyra_l4_events *ev;
    void *ev_user;
};

struct ip;

/* The l4 ops table ip provides (self: the ip instance). */
extern const struct lyra_l4_ops icmp_sock_l4_ops;

/* l4 1.1 attach (self: the ip instance): keeps the user's events. */
int icmp_sock_attach(void *self, const void *events, void *user);

/* Takes the table (n entries, may be NULL when n is 0) at start. */
void icmp_sock_init(struct icmp_socks *t, struct icmp_ep *mem, unsigned n);

/* Closes every endpoint, freeing what is queued (stop). */
void icmp_sock_purge(struct icmp_socks *t);

/* An echo reply (data at the ICMP header, checksum verified). Takes the
 * skb and returns true when an endpoint matched (queued or dropped as
 * queue full, counted); false leaves the skb with the caller. */
bool icmp_sock_input(struct ip *ip, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info);

/* An ICMP error quoting an ICMP echo request we sent (err->proto 1,
 * err->l4 its first 8 bytes). True when an endpoint owns the identifier
 * (its pending error set if it is connected). */
bool icmp_sock_error(struct ip *ip, const struct lyra_l3_icmp_err *err);

/* Linux's errno for an ICMP error type and code (icmp_err_convert). */
int icmp_sock_errno(uint8_t type, uint8_t code);

#endif
