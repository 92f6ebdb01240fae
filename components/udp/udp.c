/* Component `udp`: UDP for a host (RFC 768, RFC 1122 section 4.1) as an
 * `l4` provider (type LYRA_SOCK_DGRAM, protocol 17) over one `l3`.
 *
 * Endpoints live in a table from os mem_alloc at start (udp_table.c);
 * header and checksum in udp_wire.c. Received datagrams are queued as the
 * skbs ip handed up (header pulled, source in skb->cb): no copy until recv
 * copies into the user's buffer with skb copy_out. Sending takes a pool
 * skb with room for the headers below (and for the payload when it fits
 * the linear part, skb 2.0 max_alloc) and puts the payload in with skb
 * add_data, which chains what does not fit (skb_copy copies, skb_zc may
 * reference the user's memory).
 *
 * Ownership: every skb l3 hands up ends in an endpoint queue or is freed
 * next to the counter saying why; queued skbs are freed by recv, close and
 * stop. Every skb made for output is handed to l3 output (which takes it)
 * or freed on the error path that counts it. */
#include "udp_priv.h"

/* ----- lifecycle ---------------------------------------------------------- */

enum { P_MAX_SOCKETS, P_RX_QUEUE, P_RX_BYTES, P_CSUM_TX, P_PORT_MIN, P_PORT_MAX, P__COUNT };

static const struct lyra_param udp_params[P__COUNT] = {
    [P_MAX_SOCKETS] = {"max_sockets", LYRA_P_INT, "16", 1, 4096,
                       LYRA_DOC("endpoints open at once (the table is allocated at start)")},
    [P_RX_QUEUE] = {"rx_queue", LYRA_P_INT, "16", 1, 65536,
                    LYRA_DOC("datagrams queued per endpoint; more are dropped (rx_queue_full)")},
    [P_RX_BYTES] = {"rx_bytes", LYRA_P_SIZE, "64k", 0, 1 << 30,
                    LYRA_DOC("payload bytes queued per endpoint (SO_RCVBUF sets it per endpoint); "
                    "more are dropped (rx_queue_full)")},
    [P_CSUM_TX] = {"csum_tx", LYRA_P_BOOL, "on", 0, -1,
                   LYRA_DOC("checksum what is sent (off: 0, \"none\", which RFC 768 allows); the NIC "
                   "computes it when it offers UDP checksum offload")},
    [P_PORT_MIN] = {"port_min", LYRA_P_INT, "49152", 1, 65535,
                    LYRA_DOC("lowest ephemeral port (RFC 6335 dynamic range by default)")},
    [P_PORT_MAX] = {"port_max", LYRA_P_INT, "65535", 1, 65535,
                    LYRA_DOC("highest ephemeral port, at least port_min")},
};

/* Rules between parameters (check hook, ABI 0.1): run before anything starts. */
static int udp_check(const struct lyra_value *p, struct lyra_diag *d)
{
    if (p[P_PORT_MIN].u.i > p[P_PORT_MAX].u.i) {
        lyra_diag_add(d, LYRA_E_RANGE, P_PORT_MIN + 1, "%lld exceeds port_max (%lld)",
                      (long long)p[P_PORT_MIN].u.i, (long long)p[P_PORT_MAX].u.i);
        return 1;
    }
    return 0;
}

static int udp_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct udp *u = self;
    memset(u, 0, sizeof(*u));
    u->max_sockets = (uint32_t)p[P_MAX_SOCKETS].u.i;
    u->rx_queue = (uint32_t)p[P_RX_QUEUE].u.i;
    u->rx_bytes = (uint32_t)p[P_RX_BYTES].u.i;
    u->csum_tx = p[P_CSUM_TX].u.b;
    int64_t lo = p[P_PORT_MIN].u.i, hi = p[P_PORT_MAX].u.i;
    if (lo < 1 || hi > 65535 || lo > hi || u->max_sockets == 0 || u->rx_queue == 0) {
        lyra_diag_add(d, LYRA_E_RANGE, 0,
                      "port_min (%lld) must not exceed port_max (%lld), both in 1..65535",
                      (long long)lo, (long long)hi);
        return -EINVAL;
    }
    u->port_min = (uint16_t)lo;
    u->port_max = (uint16_t)hi;
    return 0;
}

static void release(struct udp *u)
{
    for (uint32_t i = 0; i < u->tab.n; i++)
        udp_table_close(&u->tab, (int)i);
    if (u->mem)
        u->os.ops->mem_free(u->os.self, u->mem);
    u->mem = NULL;
    if (u->zc) /* after the endpoints: their skbs' `done` may still come (from the NIC) */
        u->os.ops->mem_free(u->os.self, u->zc);
    u->zc = NULL;
    udp_table_init(&u->tab, NULL, 0, u->port_min, u->port_max, 0);
}

static int udp_start(void *self)
{
    struct udp *u = self;
    if (!u->os.ops || !u->skb || !u->l3)
        return -ENOTCONN;
    if (u->started)
        return 0;
    u->mem = u->os.ops->mem_alloc(u->os.self, (size_t)u->max_sockets * sizeof(struct udp_ep),
                                  alignof(struct udp_ep));
    u->zc = u->os.ops->mem_alloc(u->os.self, (size_t)u->max_sockets * sizeof(struct lyra_zc),
                                 alignof(struct lyra_zc));
    if (!u->mem || !u->zc) {
        if (u->mem)
            u->os.ops->mem_free(u->os.self, u->mem);
        if (u->zc)
            u->os.ops->mem_free(u->os.self, u->zc);
        u->mem = NULL;
        u->zc = NULL;
        lyra_log(&u->os, LYRA_LOG_ERROR, WHO, "no memory for %u endpoints",
                 (unsigned)u->max_sockets);
        return -ENOMEM;
    }
    uint8_t rnd[4];
    u->os.ops->random(u->os.self, rnd, sizeof(rnd));
    uint32_t r = (uint32_t)rnd[0] << 24 | (uint32_t)rnd[1] << 16 | (uint32_t)rnd[2] << 8 | rnd[3];
    udp_table_init(&u->tab, u->mem, u->max_sockets, u->port_min, u->port_max, r);
    for (uint32_t k = 0; k < u->max_sockets; k++)
        lyra_zc_init(&u->zc[k], udp_zc_notify, u);
    int e = u->l3->register_proto(u->l3_self, LYRA_IPPROTO_UDP, &udp_l3_events, u);
    if (e == -EEXIST && u->registered)
        e = 0; /* registered at an earlier start (l3 has no unregister) */
    if (e) {
        lyra_log(&u->os, LYRA_LOG_ERROR, WHO, "l3 refused IP protocol 17 (%d)", e);
        release(u);
        return e;
    }
    u->registered = true;
    u->started = true;
    return 0;
}

static void udp_stop(void *self)
{
    struct udp *u = self;
    if (!u->started)
        return;
    u->started = false;
    release(u); /* every endpoint and queued skb goes */
}

static void udp_destroy(void *self)
{
    udp_stop(self);
}

static void udp_stats(void *self, struct lyra_stats_sink *sink)
{
    struct udp *u = self;
#define UDP_STAT_EMIT(n) lyra_stat(sink, #n, u->st.n);
    UDP_STATS(UDP_STAT_EMIT)
#undef UDP_STAT_EMIT
    uint32_t queued = 0;
    lyra_stat(sink, "endpoints", udp_table_count(&u->tab, &queued));
    lyra_stat(sink, "rx_queued", queued);
    lyra_stat(sink, "copy_bytes", u->copy_bytes);
}

/* ----- descriptor --------------------------------------------------------- */

static const struct lyra_provide udp_provides[] = {
    {
        .iface = LYRA_L4_IFACE,
        .major = LYRA_L4_MAJOR,
        .minor = LYRA_L4_MINOR,
        .ops = &udp_l4_ops,
        .attach = udp_l4_attach,
        .max_users = 1,
        .doc = LYRA_DOC("datagram endpoints (SOCK_DGRAM, IP protocol 17) for the socket layer"),
    },
};

static const struct lyra_slot udp_slots[] = {
    {
        .name = "l3",
        .iface = LYRA_L3_IFACE,
        .major = LYRA_L3_MAJOR,
        .minor = 0, /* l3 2.0 is all udp uses */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct udp, l3, l3_self),
        .doc = LYRA_DOC("IPv4: protocol 17 registered at start, routes, output, ICMP errors"),
    },
    {
        .name = "skb",
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = 0, /* skb 2.0 */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct udp, skb, skb_self),
        .doc = LYRA_DOC("buffers for sent datagrams; copies into user memory on recv"),
    },
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 0, /* 2.0 is all udp uses */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct udp, os.ops, os.self),
        .doc = LYRA_DOC("the endpoint table's memory at start, randomness for ephemeral ports, logging"),
    },
};

LYRA_EXPORT const struct lyra_component lyra_component_udp = {
    LYRA_COMPONENT_HDR,
    .name = "udp",
    .version = "1.0.0",
    .summary = LYRA_DOC("UDP (RFC 768, RFC 1122 4.1): datagram endpoints over l3"),
    .doc = LYRA_DOC("@component udp\n"
           "@summary UDP: checksums, demultiplexing by most specific endpoint, bounded "
           "receive queues, ephemeral ports, ICMP errors to connected endpoints\n"
           "@provides l4 1.1 (one user: the socket layer; SOCK_DGRAM, protocol 17; event ready)\n"
           "@uses l3 l3 2.0 (events rx, icmp_error, tx_ready); skb skb 2.0 (2.7: move_out for whole datagrams); os os 2.0\n"
           "@context task (the stack's poll step; ops under the socket layer's lock)\n"
           "@rfc 768 (UDP), 1122 4.1 (host rules), 6335 (port ranges), 6056 (port choice)\n"
           "Received datagrams are queued as they came (no copy) up to rx_queue datagrams "
           "and rx_bytes payload bytes per endpoint; recv copies them out. A datagram goes "
           "to the most specific endpoint (connected to its source, then bound to its "
           "destination address, then bound to any); a broadcast or multicast one to every "
           "matching endpoint (copies for all but the last). Unicast with no endpoint gets "
           "ICMP port unreachable (rate-limited by ip). Checksums: verified unless 0 or the "
           "NIC did it; computed on send in software, or by the NIC when the route says it "
           "offers UDP checksum offload; csum_tx=off sends 0. Ephemeral ports come from "
           "port_min..port_max, the first at a random offset, then in order, skipping ports "
           "in use.\n"
           "@stat rx_datagrams rx_bytes: datagrams (and payload bytes) an endpoint queued; "
           "rx_short rx_bad_len rx_bad_csum: malformed; rx_nonlinear: skb with segments; "
           "rx_down: received while stopped\n"
           "@stat no_port: unicast for no endpoint (ICMP requested); no_port_bcast: broadcast "
           "or multicast for no endpoint; rx_queue_full: over rx_queue or the byte budget\n"
           "@stat rx_bcast_copies rx_bcast_nobuf: copies of a broadcast for more endpoints, "
           "and those the pool could not give\n"
           "@stat tx_datagrams tx_bytes; tx_too_big: larger than any buffer of the pool (-EMSGSIZE); tx_nobuf: no buffer or dropped below for want of "
           "room (-EAGAIN); tx_noroute; tx_errors: other output failures; tx_csum_offload: "
           "checksums left to the NIC\n"
           "@stat icmp_errors_in: ICMP errors l3 passed up; icmp_errors_set: errors pending "
           "on an endpoint because of them; tx_ready: l3 said room is back\n"
           "@stat endpoints rx_queued: endpoints open and datagrams queued now\n"
           "@stat copy_bytes: payload bytes udp copied through the skb provider (send, recv, "
           "broadcast copies)\n"),
    .provides = udp_provides,
    .n_provides = LYRA_COUNT(udp_provides),
    .slots = udp_slots,
    .n_slots = LYRA_COUNT(udp_slots),
    .params = udp_params,
    .n_params = LYRA_COUNT(udp_params),
    .instance_size = sizeof(struct udp),
    .create = udp_create,
    .start = udp_start,
    .stop = udp_stop,
    .destroy = udp_destroy,
    .poll = NULL,
    .stats = udp_stats,
    .check = udp_check,
};
