/* The endpoint table of a udp instance: endpoints, their receive queues,
 * port ownership and the demultiplexing of received datagrams (to the
 * endpoint whose local and, when it is connected, remote address and port
 * match; the most specific one, as in BSD and Linux).
 *
 * The table is one array from os mem_alloc at start (no allocation after
 * that); an endpoint is addressed by its index (the l4 handle). */
#ifndef LYRA_UDP_TABLE_H
#define LYRA_UDP_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/l4_ip.h"
#include "lyra/skb.h"

struct udp_ep {
    bool used;
    bool addr_locked;  /* bound to a specific address by bind (kept on dissolve) */
    bool laddr_bcast;  /* laddr is a broadcast address: not a source to send from */
    bool connected;
    bool reuse;        /* SO_REUSEADDR */
    bool bcast_ok;     /* SO_BROADCAST */
    bool shut_rd, shut_wr;
    struct lyra_l4_ipopts o; /* SO_ERROR, IP_TTL, IP_TOS, SO_LINGER (lyra/l4_ip.h) */
    uint32_t laddr;    /* 0: any */
    uint16_t lport;    /* 0: not bound */
    uint16_t rport;
    uint32_t raddr;
    uint32_t rcvbuf;   /* payload bytes the queue may hold */
    uint32_t q_bytes;  /* payload bytes queued */
    struct lyra_skb_queue q;
    uintptr_t cookie;  /* l4 1.1: what ready events about it carry (0: none) */
};

struct udp_table {
    struct udp_ep *ep;
    uint32_t n;
    uint16_t port_min, port_max;
    uint32_t next_eph; /* where the next ephemeral search starts */
};

/* Uses n entries at mem (all free). */
void udp_table_init(struct udp_table *t, struct udp_ep *mem, uint32_t n, uint16_t port_min,
                    uint16_t port_max, uint32_t rnd);
/* The endpoint behind handle h, NULL when h is not open. */
struct udp_ep *udp_table_get(struct udp_table *t, int h);
/* A free entry, reset, with rcvbuf set: its handle, or -ENOBUFS. */
int udp_table_open(struct udp_table *t, uint32_t rcvbuf);
/* Frees the queued datagrams and the entry. */
void udp_table_close(struct udp_table *t, int h);
/* Endpoints open now, and datagrams queued on all of them. */
uint32_t udp_table_count(const struct udp_table *t, uint32_t *queued);

/* Would h bound to addr:port clash with another endpoint? Two endpoints
 * clash on one port when their addresses overlap (equal, or either is
 * any), unless both set SO_REUSEADDR (`reuse` is h's). */
bool udp_table_clash(const struct udp_table *t, int h, uint32_t addr, uint16_t port, bool reuse);
/* A port of [port_min, port_max] no endpoint holds: the search starts
 * where the last one ended (first at a random offset) and skips ports in
 * use. 0 and the port, or -EADDRINUSE when every port is taken. */
int udp_table_ephemeral(struct udp_table *t, uint16_t *port);

/* Does e take a datagram src:sport -> dst:dport? */
bool udp_ep_match(const struct udp_ep *e, uint32_t src, uint16_t sport, uint32_t dst,
                  uint16_t dport);
/* Unicast demultiplexing: the most specific endpoint that takes the
 * datagram (connected, then bound to dst, then bound to any), -1 if none. */
int udp_table_lookup(const struct udp_table *t, uint32_t src, uint16_t sport, uint32_t dst,
                     uint16_t dport);
/* Broadcast and multicast: the next endpoint after `after` (-1: from the
 * start) that takes the datagram, -1 when there is no more. */
int udp_table_next_match(const struct udp_table *t, int after, uint32_t src, uint16_t sport,
                         uint32_t dst, uint16_t dport);

#endif
