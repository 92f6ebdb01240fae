/* Component `tcp`: TCP (RFC 9293) as an `l4` provider (SOCK_STREAM,
 * protocol 6) over one `l3`: parameters, lifecycle, counters.
 *
 * The connection table (control blocks, endpoints, out-of-order ranges,
 * the 4-tuple hash) comes from os mem_alloc at start, sized by max_conns;
 * nothing is allocated per segment but skbs from the pool. */
#include "tcp_priv.h"

const struct tcp_cc_ops *const tcp_cc_algs[] = {&tcp_cc_newreno, &tcp_cc_cubic};
const unsigned tcp_cc_nalgs = sizeof(tcp_cc_algs) / sizeof(tcp_cc_algs[0]);

/* issue 10.2: a connection's protocol state, timers, congestion and SACK
 * state included, within lwIP's budget (tcp_pcb: 280 bytes) */
_Static_assert(sizeof(struct tcp_cb) <= 256, "tcp_cb over 256 bytes");

enum {
    P_MAX_CONNS, P_BACKLOG_MAX, P_SND_BUF, P_RCV_BUF, P_OOO_RANGES, P_MSS, P_RTO_MIN, P_RTO_MAX,
    P_RTO_INIT, P_DELACK, P_TIME_WAIT, P_SYN_RETRIES, P_SYNACK_RETRIES, P_RETRIES2,
    P_KEEP_IDLE, P_KEEP_INTVL, P_KEEP_CNT, P_WSCALE, P_TIMESTAMPS, P_SACK, P_CC, P_PORT_MIN,
    P_PORT_MAX, P_SYNCOOKIES, P_CHALLENGE_ACK_LIMIT, P_SNDQ_SKB_MAX, P__COUNT
};

static const struct lyra_param tcp_params[P__COUNT] = {
    [P_MAX_CONNS] = {"max_conns", LYRA_P_INT, "64", 1, 65000,
                     LYRA_DOC("connections at once, listeners and TIME_WAIT included (the oldest "
                     "TIME_WAIT is reclaimed when the table is full)")},
    [P_BACKLOG_MAX] = {"backlog_max", LYRA_P_INT, "128", 1, 65000,
                       LYRA_DOC("largest listen() backlog: the length of each of a listener's two "
                       "queues, half-open (SYN queue) and unaccepted (accept queue); beyond the "
                       "first a SYN gets a SYN cookie (syncookies), beyond the second it is "
                       "dropped (syn_backlog_drops)")},
    [P_SND_BUF] = {"snd_buf", LYRA_P_SIZE, "64k", 2048, 1 << 30,
                   LYRA_DOC("send buffer bytes per connection (SO_SNDBUF sets it per socket)")},
    [P_RCV_BUF] = {"rcv_buf", LYRA_P_SIZE, "64k", 2048, 1 << 30,
                   LYRA_DOC("receive buffer bytes per connection: the window offered "
                   "(SO_RCVBUF sets it per socket)")},
    [P_OOO_RANGES] = {"ooo_ranges", LYRA_P_INT, "8", 1, 64,
                      LYRA_DOC("out-of-order ranges held per connection; a segment needing "
                      "one more is dropped (rx_ooo_drop)")},
    [P_MSS] = {"mss", LYRA_P_INT, "1460", 64, 65495,
               LYRA_DOC("largest MSS announced (the route's MTU less 40 caps it)")},
    [P_RTO_MIN] = {"rto_min_ms", LYRA_P_INT, "200", 1, 60000,
                   LYRA_DOC("minimum retransmission timeout (RFC 6298 2.4 says 1 s; 200 ms as "
                   "Linux; tests lower it)")},
    [P_RTO_MAX] = {"rto_max_ms", LYRA_P_INT, "60000", 1, 600000,
                   LYRA_DOC("maximum retransmission timeout (RFC 6298 2.5: at least 60 s)")},
    [P_RTO_INIT] = {"rto_init_ms", LYRA_P_INT, "1000", 1, 60000,
                    LYRA_DOC("retransmission timeout before an RTT sample (RFC 6298 2.1); "
                             "three of it after a handshake that was retransmitted and gave no "
                             "sample (5.7: 3 s)")},
    [P_DELACK] = {"delack_ms", LYRA_P_INT, "40", 1, 200,
                  LYRA_DOC("longest an ACK is delayed (RFC 9293 3.8.6.3; every second segment "
                  "and out-of-order data are acknowledged at once)")},
    [P_TIME_WAIT] = {"time_wait_ms", LYRA_P_INT, "60000", 1, 600000,
                     LYRA_DOC("TIME_WAIT's 2 MSL; also how long a closed socket waits in "
                     "FIN_WAIT_2 for the peer's FIN")},
    [P_SYN_RETRIES] = {"syn_retries", LYRA_P_INT, "7", 1, 127,
                       LYRA_DOC("SYN retransmissions before connect fails with ETIMEDOUT (7: "
                       "183 s with the default RTOs; RFC 9293 MUST-23 asks at least 3 minutes)")},
    [P_SYNACK_RETRIES] = {"synack_retries", LYRA_P_INT, "5", 1, 127,
                          LYRA_DOC("SYN-ACK retransmissions before a half-open connection goes")},
    [P_RETRIES2] = {"retries2", LYRA_P_INT, "15", 1, 127,
                    LYRA_DOC("retransmissions of data before the connection fails with "
                    "ETIMEDOUT (RFC 1122 4.2.3.5 R2; TCP_USER_TIMEOUT overrides)")},
    [P_KEEP_IDLE] = {"keep_idle_s", LYRA_P_INT, "7200", 1, 32767,
                     LYRA_DOC("idle seconds before the first keepalive probe (RFC 1122 "
                     "4.2.3.6: at least two hours by default)")},
    [P_KEEP_INTVL] = {"keep_intvl_s", LYRA_P_INT, "75", 1, 32767,
                      LYRA_DOC("seconds between keepalive probes")},
    [P_KEEP_CNT] = {"keep_cnt", LYRA_P_INT, "9", 1, 127,
                    LYRA_DOC("unanswered keepalive probes before the connection is dropped")},
    [P_WSCALE] = {"wscale", LYRA_P_BOOL, "on", 0, -1,
                  LYRA_DOC("offer window scaling (RFC 7323 2)")},
    [P_TIMESTAMPS] = {"timestamps", LYRA_P_BOOL, "on", 0, -1,
                      LYRA_DOC("offer timestamps, with PAWS (RFC 7323 3, 5)")},
    [P_SACK] = {"sack", LYRA_P_BOOL, "on", 0, -1,
                LYRA_DOC("offer SACK-permitted; when the peer agrees, send SACK blocks for "
                "out-of-order data (RFC 2018) and recover from loss with the SACK scoreboard "
                "(RFC 6675) rather than NewReno")},
    [P_CC] = {"cc", LYRA_P_STRING, "newreno", 0, 0,
              LYRA_DOC("congestion control: newreno (RFC 5681, 6582) or cubic (RFC 9438); "
              "TCP_CONGESTION picks per socket")},
    [P_PORT_MIN] = {"port_min", LYRA_P_INT, "49152", 1, 65535,
                    LYRA_DOC("lowest ephemeral port (RFC 6335 dynamic range by default)")},
    [P_PORT_MAX] = {"port_max", LYRA_P_INT, "65535", 1, 65535,
                    LYRA_DOC("highest ephemeral port, at least port_min")},
    [P_SYNCOOKIES] = {"syncookies", LYRA_P_BOOL, "on", 0, -1,
                      LYRA_DOC("answer SYNs with a SYN cookie when a listener's SYN queue or the "
                      "table is full (as Linux's tcp_syncookies=1); off: drop them")},
    [P_CHALLENGE_ACK_LIMIT] = {"challenge_ack_limit", LYRA_P_INT, "2", 1, 65535,
                               LYRA_DOC("challenge ACKs (RFC 5961) a connection sends per second; "
                               "per connection, not per host (CVE-2016-5696); 2: Linux's one per "
                               "500 ms per socket (tcp_invalid_ratelimit)")},
    [P_SNDQ_SKB_MAX] = {"sndq_skb_max", LYRA_P_SIZE, "0", 0, 65535,
                        LYRA_DOC("bytes one send-queue skb holds at most, in whole segments; 0: "
                        "64 KB where a TSO frame shows a run of skbs or the skb provider "
                        "references payload, else one segment; one segment always where the "
                        "payload is summed in the copy")},
};

static int cc_index(const char *name)
{
    for (unsigned k = 0; k < tcp_cc_nalgs; k++)
        if (!strcmp(tcp_cc_algs[k]->name, name))
            return (int)k;
    return -1;
}

static int tcp_check(const struct lyra_value *p, struct lyra_diag *d)
{
    int bad = 0;
    if (p[P_PORT_MIN].u.i > p[P_PORT_MAX].u.i) {
        lyra_diag_add(d, LYRA_E_RANGE, P_PORT_MIN + 1, "%lld exceeds port_max (%lld)",
                      (long long)p[P_PORT_MIN].u.i, (long long)p[P_PORT_MAX].u.i);
        bad = 1;
    }
    if (p[P_RTO_MIN].u.i > p[P_RTO_MAX].u.i) {
        lyra_diag_add(d, LYRA_E_RANGE, P_RTO_MIN + 1, "%lld exceeds rto_max_ms (%lld)",
                      (long long)p[P_RTO_MIN].u.i, (long long)p[P_RTO_MAX].u.i);
        bad = 1;
    }
    if (cc_index(p[P_CC].u.s ? p[P_CC].u.s : "") < 0) {
        lyra_diag_add(d, LYRA_E_RANGE, P_CC + 1, "unknown congestion control \"%s\" (have: newreno, cubic)",
                      p[P_CC].u.s ? p[P_CC].u.s : "");
        bad = 1;
    }
    return bad;
}

static int tcp_create(void *self, const struct lyra_value *p, struct lyra_diag *d)
{
    struct tcp *u = self;
    memset(u, 0, sizeof(*u));
    if (tcp_check(p, d))
        return -EINVAL;
    struct tcp_cfg *g = &u->cfg;
    g->max_conns = (uint32_t)p[P_MAX_CONNS].u.i;
    g->backlog_max = (uint32_t)p[P_BACKLOG_MAX].u.i;
    g->snd_buf = (uint32_t)p[P_SND_BUF].u.i;
    g->rcv_buf = (uint32_t)p[P_RCV_BUF].u.i;
    g->ooo_ranges = (uint32_t)p[P_OOO_RANGES].u.i;
    g->mss = (uint16_t)p[P_MSS].u.i;
    g->rto_min_ms = (uint32_t)p[P_RTO_MIN].u.i;
    g->rto_max_ms = (uint32_t)p[P_RTO_MAX].u.i;
    g->rto_init_ms = (uint32_t)p[P_RTO_INIT].u.i;
    g->delack_ms = (uint32_t)p[P_DELACK].u.i;
    g->time_wait_ms = (uint32_t)p[P_TIME_WAIT].u.i;
    g->syn_retries = (uint8_t)p[P_SYN_RETRIES].u.i;
    g->synack_retries = (uint8_t)p[P_SYNACK_RETRIES].u.i;
    g->retries2 = (uint8_t)p[P_RETRIES2].u.i;
    g->keep_idle_s = (uint32_t)p[P_KEEP_IDLE].u.i;
    g->keep_intvl_s = (uint32_t)p[P_KEEP_INTVL].u.i;
    g->keep_cnt = (uint32_t)p[P_KEEP_CNT].u.i;
    g->wscale = p[P_WSCALE].u.b;
    g->timestamps = p[P_TIMESTAMPS].u.b;
    g->sack = p[P_SACK].u.b;
    g->cc_idx = (uint8_t)cc_index(p[P_CC].u.s);
    g->port_min = (uint16_t)p[P_PORT_MIN].u.i;
    g->port_max = (uint16_t)p[P_PORT_MAX].u.i;
    g->syncookies = p[P_SYNCOOKIES].u.b;
    g->challenge_ack_limit = (uint32_t)p[P_CHALLENGE_ACK_LIMIT].u.i;
    g->sndq_skb_max = (uint32_t)p[P_SNDQ_SKB_MAX].u.i;
    u->rto_lim.min_us = g->rto_min_ms * 1000u;
    u->rto_lim.max_us = g->rto_max_ms * 1000u;
    u->rto_lim.init_us = g->rto_init_ms * 1000u;
    u->rto_lim.g_us = 1000u; /* the ms clock */
    return 0;
}

static void release(struct tcp *u)
{
    if (u->cb)
        for (uint32_t k = 0; k < u->cfg.max_conns; k++)
            tcp_conn_release(u, (int)k);
    if (u->pend)
        tcp_batch_cancel(u);
    /* zc last: freeing the send queues above ran their skbs' `done` */
    void *mem[] = {u->cb, u->ep, u->ranges, u->hash, u->pend, u->zc};
    for (unsigned k = 0; k < 6; k++)
        if (mem[k])
            u->os.ops->mem_free(u->os.self, mem[k]);
    u->cb = NULL;
    u->ep = NULL;
    u->ranges = NULL;
    u->hash = NULL;
    u->pend = NULL;
    u->zc = NULL;
}

/* A MSG_ZEROCOPY completion was queued: POLLERR (lyra/l4_zc.h). */
static void zc_notify(void *ctx, struct lyra_zc *z)
{
    struct tcp *u = ctx;
    tcp_ready(u, (int)(z - u->zc), LYRA_POLL_ERR);
}

static int tcp_start(void *self)
{
    struct tcp *u = self;
    if (!u->os.ops || !u->skb || !u->l3)
        return -ENOTCONN;
    if (u->started)
        return 0;
    uint32_t n = u->cfg.max_conns;
    uint32_t nb = 16;
    while (nb < n * 2)
        nb <<= 1;
    const struct lyra_os_ops *o = u->os.ops;
    u->cb = o->mem_alloc(u->os.self, (size_t)n * sizeof(struct tcp_cb), alignof(struct tcp_cb));
    u->ep = o->mem_alloc(u->os.self, (size_t)n * sizeof(struct tcp_ep), alignof(struct tcp_ep));
    u->ranges = o->mem_alloc(u->os.self, (size_t)n * u->cfg.ooo_ranges * sizeof(struct tcp_range),
                             alignof(struct tcp_range));
    u->hash = o->mem_alloc(u->os.self, (size_t)nb * sizeof(uint16_t), alignof(uint16_t));
    u->pend = o->mem_alloc(u->os.self, (size_t)tcp_pend_words(u) * sizeof(uint64_t),
                           alignof(uint64_t));
    u->zc = o->mem_alloc(u->os.self, (size_t)n * sizeof(struct lyra_zc), alignof(struct lyra_zc));
    if (!u->cb || !u->ep || !u->ranges || !u->hash || !u->pend || !u->zc) {
        lyra_log(&u->os, LYRA_LOG_ERROR, WHO, "no memory for %u connections", (unsigned)n);
        u->cfg.max_conns = 0;
        release(u);
        u->cfg.max_conns = n;
        return -ENOMEM;
    }
    for (uint32_t k = 0; k < n; k++)
        lyra_zc_init(&u->zc[k], zc_notify, u);
    tcp_batch_cancel(u);
    u->hash_mask = nb - 1;
    for (uint32_t k = 0; k < nb; k++)
        u->hash[k] = TCP_NONE;
    u->free_head = TCP_NONE;
    for (uint32_t k = n; k-- > 0;) {
        u->cb[k].state = TCPS_FREE;
        u->ep[k].hnext = u->free_head;
        u->free_head = (uint16_t)k;
    }
    u->nconns = 0;
    o->random(u->os.self, u->key, sizeof(u->key));
    o->random(u->os.self, &u->port_next, sizeof(u->port_next));
    int e = u->l3->register_proto(u->l3_self, LYRA_IPPROTO_TCP, &tcp_l3_events, u);
    if (e == -EEXIST && u->registered)
        e = 0; /* registered at an earlier start (l3 has no unregister) */
    if (e) {
        lyra_log(&u->os, LYRA_LOG_ERROR, WHO, "l3 refused IP protocol 6 (%d)", e);
        release(u);
        return e;
    }
    u->registered = true;
    u->started = true;
    return 0;
}

static void tcp_stop(void *self)
{
    struct tcp *u = self;
    if (!u->started)
        return;
    u->started = false;
    release(u); /* every connection, timer and queued skb goes */
}

static void tcp_destroy(void *self)
{
    tcp_stop(self);
}

static void tcp_stats(void *self, struct lyra_stats_sink *sink)
{
    struct tcp *u = self;
#define TCP_STAT_EMIT(n) lyra_stat(sink, #n, u->st.n);
    TCP_STATS(TCP_STAT_EMIT)
#undef TCP_STAT_EMIT
    uint64_t est = 0, tw = 0, listen = 0, held = 0, bufs = 0;
    for (uint32_t k = 0; u->cb && k < u->cfg.max_conns; k++) {
        est += u->cb[k].state == TCPS_ESTABLISHED;
        tw += u->cb[k].state == TCPS_TIME_WAIT;
        listen += u->cb[k].state == TCPS_LISTEN;
        if (u->cb[k].state == TCPS_FREE)
            continue;
        const struct tcp_ep *e = &u->ep[k];
        held += e->sndq.len + e->rcvq.len;
        const struct lyra_skb *o;
        bufs += tcp_sndq_bufs(e);
        for (o = e->rcvq.head; o; o = o->next)
            bufs += tcp_q_bufs(o);
        for (o = e->ooo; o; o = o->next) {
            held++;
            bufs += tcp_q_bufs(o);
        }
    }
    lyra_stat(sink, "conns", u->nconns);
    lyra_stat(sink, "established", est);
    lyra_stat(sink, "time_wait", tw);
    lyra_stat(sink, "listening", listen);
    lyra_stat(sink, "skbs_held", held);
    lyra_stat(sink, "bufs_held", bufs);
    lyra_stat(sink, "copy_bytes", u->copy_bytes);
}

static const struct lyra_provide tcp_provides[] = {
    {
        .iface = LYRA_L4_IFACE,
        .major = LYRA_L4_MAJOR,
        .minor = LYRA_L4_MINOR,
        .ops = &tcp_l4_ops,
        .attach = tcp_l4_attach,
        .max_users = 1,
        .doc = LYRA_DOC("stream endpoints (SOCK_STREAM, IP protocol 6) for the socket layer"),
    },
};

static const struct lyra_slot tcp_slots[] = {
    {
        .name = "l3",
        .iface = LYRA_L3_IFACE,
        .major = LYRA_L3_MAJOR,
        .minor = 1, /* l3 2.1: the path MTU (route's link_mtu, pmtu_update) */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct tcp, l3, l3_self),
        .doc = LYRA_DOC("IPv4: protocol 6 registered at start, routes (path MTU), output with DF, "
               "ICMP errors"),
    },
    {
        .name = "skb",
        .iface = LYRA_SKB_IFACE,
        .major = LYRA_SKB_MAJOR,
        .minor = 1, /* skb 2.1: clone, for segments that share the send queue's payload */
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct tcp, skb, skb_self),
        .doc = LYRA_DOC("payload buffers of the send queue (cloned per segment) and control "
                        "segments from the control reserve"),
    },
    {
        .name = "os",
        .iface = LYRA_OS_IFACE,
        .major = LYRA_OS_MAJOR,
        .minor = 0,
        .min = 1,
        .max = 1,
        LYRA_SLOT_STORE(struct tcp, os.ops, os.self),
        .doc = LYRA_DOC("the table's memory at start, one timer per connection, the clock, "
                        "randomness for ISNs, ports and timestamps, logging"),
    },
};

LYRA_EXPORT const struct lyra_component lyra_component_tcp = {
    LYRA_COMPONENT_HDR,
    .name = "tcp",
    .version = "1.0.0",
    .summary = LYRA_DOC("TCP (RFC 9293): stream endpoints over l3"),
    .doc = LYRA_DOC("@component tcp\n"
           "@summary TCP: all eleven states, MSS, window scaling, timestamps with PAWS, SACK "
           "(blocks sent, RFC 6675 recovery), RFC 6298 RTO, NewReno and CUBIC, delayed ACKs, "
           "Nagle, SWS avoidance, persist and keepalive, RFC 5961 challenge ACKs "
           "(per-connection limit), SYN cookies, bounded everything\n"
           "@provides l4 1.2 (one user: the socket layer; SOCK_STREAM, protocol 6; event ready)\n"
           "@uses l3 l3 2.1 (events rx, icmp_error, tx_ready; pmtu_update; 2.2: route gso_segs for TSO; 2.3: rx takes runs of segments; 2.4: icmp_err local ends a connect); skb skb 2.1 (clone; 2.5: clone_add for TSO; 2.7: move_out for one-segment reads; 2.8: clone_add_range for part of a queued skb); os os 2.0\n"
           "@context task (the stack's poll step; ops under the socket layer's lock)\n"
           "@rfc 9293 (TCP), 1122 4.2 (host rules), 5681 and 6582 (NewReno), 6298 (RTO), 7323 "
           "(window scale, timestamps, PAWS), 2018 (SACK), 6675 (SACK recovery), 2883 (D-SACK), "
           "6528 (ISN), 6056 (ports), 896 (Nagle), 5961 (blind in-window attacks), 4987 3.6 "
           "(SYN cookies), 9438 (CUBIC), 1191 (path MTU), 5927 (ICMP errors checked against "
           "the window)\n"
           "The send queue holds the application's bytes as payload skbs of one MSS; each "
           "segment is a clone with its own header, so a retransmission copies nothing. "
           "Received payload stays in the skbs ip handed up until recv copies it out; "
           "out-of-order segments are held (ooo_ranges per connection, within the receive "
           "buffer) and reported in SACK blocks; the peer's SACK blocks mark the send queue's "
           "skbs (the scoreboard) for RFC 6675 recovery.\n"
           "@stat rx_predicted: segments taken by header prediction, without the state "
           "machine: in order with data, established, within the window, nothing new "
           "acknowledged (alone or in a run; in rx_segments too)\n"
           "@stat rx_segments rx_bytes; rx_bad_csum rx_bad_hdr: malformed; rx_to_closed: "
           "answered with RST; rx_out_of_window rx_paws: answered with an ACK; rx_dup_data; "
           "rx_ooo rx_ooo_drop: held out of order, and dropped for want of room\n"
           "@stat tx_tso tx_tso_segs: TSO frames handed down (l3 2.2 gso_segs, skb 2.5), and the "
           "segments the NIC cut them into (in tx_segments too)\n"
           "@stat sndq_splits sndq_split_fail: send-queue skbs of several segments cut into "
           "one-segment pieces when loss recovery needed per-segment marks, and pieces not "
           "cut for want of a buffer (the skb stays whole, its marks coarser)\n"
           "@stat tx_segments tx_bytes tx_retrans_segs tx_retrans_bytes; tx_nobuf: no buffer "
           "(the timer or tx_ready retries); fast_retransmits rto_expiries probes_sent "
           "keepalives_sent\n"
           "@stat sack_blocks_rcvd; sack_blocks_bad: ignored as bogus; dsack_rcvd: D-SACK "
           "blocks (RFC 2883); sack_recoveries: RFC 6675 recoveries; sack_rescue_rtx: rescue "
           "retransmissions; sack_lost_rtx: retransmissions found lost by SACKs of data sent "
           "after them, and sent again; sack_reneging: SACKed data dropped by the receiver, "
           "found at a timeout\n"
           "@stat conns_opened conns_accepted conns_established conns_reset conns_timed_out "
           "conns_refused; conns_unreachable: connects ended because the next hop never "
           "answered ARP (ip's local host unreachable, l3 2.4); syn_backlog_drops syn_no_mem: "
           "SYNs dropped at a full accept queue (or SYN queue without cookies) or table; "
           "tw_reclaimed: TIME_WAIT entries ended early for a new connection; syn_evicted: "
           "half-open connections that gave their slot\n"
           "@stat syncookies_sent syncookies_ok syncookies_failed: SYN cookies sent, returned "
           "good, returned bad; challenge_acks challenge_acks_limited: RFC 5961 challenge ACKs "
           "sent, and not sent for challenge_ack_limit; rx_bad_ack: segments dropped for an "
           "unacceptable ACK (RFC 5961 5.2)\n"
"@stat icmp_errors_in: ICMP errors ip passed up; icmp_errors_bad_seq: of those, "
           "quoting a sequence number not in flight (RFC 5927: ignored); pmtu_lowered: "
           "connections whose MSS a fragmentation needed lowered (what was sent resent, cut); "
           "pmtu_ignored: fragmentation needed not believed (about a SYN, not below what the "
           "connection sends, below ip's pmtu_min); pmtu_mss_synced: MSS changed to follow the "
           "route's path MTU (another connection's news, or an estimate aged out)\n"
           "@stat conns established time_wait listening: now\n"
           "@stat skbs_held: skbs in the connections' queues now; bufs_held: the provider's "
           "buffers they hold (with those chained behind a queued skb): what a leak check "
           "at stop subtracts\n"
           "@stat copy_bytes: payload bytes tcp copied through the skb provider\n"),
    .provides = tcp_provides,
    .n_provides = LYRA_COUNT(tcp_provides),
    .slots = tcp_slots,
    .n_slots = LYRA_COUNT(tcp_slots),
    .params = tcp_params,
    .n_params = LYRA_COUNT(tcp_params),
    .instance_size = sizeof(struct tcp),
    .create = tcp_create,
    .start = tcp_start,
    .stop = tcp_stop,
    .destroy = tcp_destroy,
    .poll = tcp_batch_flush,
    .stats = tcp_stats,
    .check = tcp_check,
};
