/* Accounting proxies for each interface the framework knows. A new
 * interface adds its table here; one that has none cannot be accounted
 * (the binder says so). Bytes are those of the packet or buffer an op
 * carries; ns include everything the callee does. */
#include <string.h>

#include "acct.h"
#include "lyra/bus.h"
#include "lyra/l2.h"
#include "lyra/l3.h"
#include "lyra/l4.h"
#include "lyra/netdev.h"
#include "lyra/os.h"
#include "lyra/skb.h"

/* Function pointers of ops table T behind its header and DATA bytes of
 * plain fields: what a proxy table must fill, one name each. */
#define PX_SLOTS(T, DATA) ((sizeof(T) - sizeof(struct lyra_ops_hdr) - (DATA)) / sizeof(void (*)(void)))

/* An op returning a value. ARGS name p->prov where the callee's self goes. */
#define PX_OP(PFX, T, NAME, IDX, RET, BYTES, PARAMS, ARGS)                        \
    static RET PFX##_##NAME PARAMS                                                \
    {                                                                             \
        struct lyra_proxy *p = self;                                              \
        uint64_t b = (BYTES), t0 = lyra_px_now(p);                                \
        RET r = ((const T *)p->ops)->NAME ARGS;                                   \
        lyra_px_count(p, IDX, b, t0);                                             \
        return r;                                                                 \
    }
#define PX_VOP(PFX, T, NAME, IDX, BYTES, PARAMS, ARGS)                            \
    static void PFX##_##NAME PARAMS                                               \
    {                                                                             \
        struct lyra_proxy *p = self;                                              \
        uint64_t b = (BYTES), t0 = lyra_px_now(p);                                \
        ((const T *)p->ops)->NAME ARGS;                                           \
        lyra_px_count(p, IDX, b, t0);                                             \
    }
/* An event going up: ARGS name p->user where the user's self goes. The
 * table a proxy registers below (l2, l3) has every event; one the user
 * left NULL (optional ones: l3 tx_ready, icmp_error) stops here, as the
 * provider would have skipped it. */
#define PX_EV(PFX, T, NAME, IDX, BYTES, PARAMS, ARGS)                             \
    static void PFX##_ev_##NAME PARAMS                                            \
    {                                                                             \
        struct lyra_proxy *p = self;                                              \
        if (!((const T *)p->events)->NAME)                                        \
            return;                                                               \
        uint64_t b = (BYTES), t0 = lyra_px_now(p);                                \
        ((const T *)p->events)->NAME ARGS;                                        \
        lyra_px_count(p, IDX, b, t0);                                             \
    }

/* ---- os ---- */
#define OS struct lyra_os_ops
PX_OP(pos, OS, now_ns, 0, uint64_t, 0, (void *self), (p->prov))
PX_VOP(pos, OS, timer_arm, 1, 0, (void *self, struct lyra_timer *t, uint64_t d), (p->prov, t, d))
PX_VOP(pos, OS, timer_cancel, 2, 0, (void *self, struct lyra_timer *t), (p->prov, t))
PX_VOP(pos, OS, random, 3, len, (void *self, void *buf, size_t len), (p->prov, buf, len))
PX_VOP(pos, OS, vlog, 4, 0, (void *self, int l, const char *w, const char *f, va_list ap),
       (p->prov, l, w, f, ap))
PX_OP(pos, OS, mem_alloc, 5, void *, size, (void *self, size_t size, size_t al),
      (p->prov, size, al))
PX_VOP(pos, OS, mem_free, 6, 0, (void *self, void *m), (p->prov, m))
PX_OP(pos, OS, lock_create, 7, int, 0, (void *self, void **l), (p->prov, l))
PX_VOP(pos, OS, lock_destroy, 8, 0, (void *self, void *l), (p->prov, l))
PX_VOP(pos, OS, lock, 9, 0, (void *self, void *l), (p->prov, l))
PX_VOP(pos, OS, unlock, 10, 0, (void *self, void *l), (p->prov, l))
PX_OP(pos, OS, page_size, 11, size_t, 0, (void *self), (p->prov))
PX_OP(pos, OS, page_alloc, 12, void *, 0, (void *self, size_t n), (p->prov, n))
PX_VOP(pos, OS, page_free, 13, 0, (void *self, void *m, size_t n), (p->prov, m, n))
PX_OP(pos, OS, page_remap, 14, int, 0, (void *self, void *d, void *s, size_t n),
      (p->prov, d, s, n))
PX_OP(pos, OS, page_protect, 15, int, 0, (void *self, void *m, size_t n, int prot),
      (p->prov, m, n, prot))
PX_OP(pos, OS, cow_register, 16, int, 0, (void *self, void *m, size_t n, lyra_cow_fn fn, void *c),
      (p->prov, m, n, fn, c))
PX_OP(pos, OS, cow_unregister, 17, int, 0, (void *self, void *m, size_t n), (p->prov, m, n))
PX_OP(pos, OS, run_timers, 18, uint64_t, 0, (void *self), (p->prov))
PX_OP(pos, OS, wait, 19, int, 0, (void *self, uint64_t d), (p->prov, d))
PX_VOP(pos, OS, wake, 20, 0, (void *self), (p->prov))
PX_OP(pos, OS, watch_fd, 21, int, 0, (void *self, int fd), (p->prov, fd))
PX_OP(pos, OS, unwatch_fd, 22, int, 0, (void *self, int fd), (p->prov, fd))
PX_OP(pos, OS, link_open, 23, int, 0,
      (void *self, const char *spec, const struct lyra_link_params *lp, struct lyra_link **out),
      (p->prov, spec, lp, out))
PX_VOP(pos, OS, link_close, 24, 0, (void *self, struct lyra_link *l), (p->prov, l))
PX_OP(pos, OS, link_send, 25, int, len, (void *self, struct lyra_link *l, const void *f, size_t len),
      (p->prov, l, f, len))
PX_OP(pos, OS, link_recv, 26, int, 0, (void *self, struct lyra_link *l, void *buf, size_t cap),
      (p->prov, l, buf, cap))
PX_OP(pos, OS, cond_create, 27, int, 0, (void *self, void **c), (p->prov, c))
PX_VOP(pos, OS, cond_destroy, 28, 0, (void *self, void *c), (p->prov, c))
PX_OP(pos, OS, cond_wait, 29, int, 0, (void *self, void *c, void *l, uint64_t d),
      (p->prov, c, l, d))
PX_VOP(pos, OS, cond_broadcast, 30, 0, (void *self, void *c), (p->prov, c))
PX_OP(pos, OS, mem_check, 31, int, len, (void *self, const void *m, size_t len),
      (p->prov, m, len))
PX_OP(pos, OS, page_swap, 32, int, 0, (void *self, void *x, void *y, size_t n),
      (p->prov, x, y, n))
PX_OP(pos, OS, step_now_ns, 33, uint64_t, 0, (void *self), (p->prov))
PX_VOP(pos, OS, mem_usage, 34, 0, (void *self, uint64_t *h, uint64_t *pg), (p->prov, h, pg))

static const struct lyra_os_ops px_os_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_OS_IFACE, LYRA_OS_MAJOR, LYRA_OS_MINOR, struct lyra_os_ops),
    .now_ns = pos_now_ns, .timer_arm = pos_timer_arm, .timer_cancel = pos_timer_cancel,
    .random = pos_random, .vlog = pos_vlog, .mem_alloc = pos_mem_alloc, .mem_free = pos_mem_free,
    .lock_create = pos_lock_create, .lock_destroy = pos_lock_destroy, .lock = pos_lock,
    .unlock = pos_unlock, .page_size = pos_page_size, .page_alloc = pos_page_alloc,
    .page_free = pos_page_free, .page_remap = pos_page_remap, .page_protect = pos_page_protect,
    .cow_register = pos_cow_register, .cow_unregister = pos_cow_unregister,
    .run_timers = pos_run_timers, .wait = pos_wait, .wake = pos_wake, .watch_fd = pos_watch_fd,
    .unwatch_fd = pos_unwatch_fd, .link_open = pos_link_open, .link_close = pos_link_close,
    .link_send = pos_link_send, .link_recv = pos_link_recv, .cond_create = pos_cond_create,
    .cond_destroy = pos_cond_destroy, .cond_wait = pos_cond_wait,
    .cond_broadcast = pos_cond_broadcast, .mem_check = pos_mem_check, .page_swap = pos_page_swap,
    .step_now_ns = pos_step_now_ns, .mem_usage = pos_mem_usage,
};
static const char *const os_names[] = {
    "now_ns", "timer_arm", "timer_cancel", "random", "vlog", "mem_alloc", "mem_free",
    "lock_create", "lock_destroy", "lock", "unlock", "page_size", "page_alloc", "page_free",
    "page_remap", "page_protect", "cow_register", "cow_unregister", "run_timers", "wait", "wake",
    "watch_fd", "unwatch_fd", "link_open", "link_close", "link_send", "link_recv",
    "cond_create", "cond_destroy", "cond_wait", "cond_broadcast", "mem_check", "page_swap",
    "step_now_ns", "mem_usage"};

/* ---- skb ---- */
#define SK struct lyra_skb_ops
PX_OP(psk, SK, alloc, 0, struct lyra_skb *, size, (void *self, uint32_t hr, uint32_t size),
      (p->prov, hr, size))
PX_OP(psk, SK, alloc_rx, 1, struct lyra_skb *, size, (void *self, uint32_t size),
      (p->prov, size))
PX_VOP(psk, SK, free, 2, 0, (void *self, struct lyra_skb *s), (p->prov, s))
PX_OP(psk, SK, add_data, 3, int, len,
      (void *self, struct lyra_skb *s, const void *d, uint32_t len, uint32_t fl, uint32_t *cp),
      (p->prov, s, d, len, fl, cp))
PX_OP(psk, SK, copy_out, 4, int, len,
      (void *self, const struct lyra_skb *s, uint32_t off, void *d, uint32_t len),
      (p->prov, s, off, d, len))
PX_OP(psk, SK, avail, 5, uint32_t, 0, (void *self), (p->prov))
PX_OP(psk, SK, max_alloc, 6, uint32_t, 0, (void *self, uint32_t h), (p->prov, h))
PX_OP(psk, SK, alloc_cls, 7, struct lyra_skb *, size,
      (void *self, int cls, uint32_t hr, uint32_t size), (p->prov, cls, hr, size))
PX_OP(psk, SK, tx_avail, 8, uint32_t, 0, (void *self, int cls, uint32_t h), (p->prov, cls, h))
PX_OP(psk, SK, clone, 9, struct lyra_skb *, 0, (void *self, struct lyra_skb *s, uint32_t h),
      (p->prov, s, h))
PX_OP(psk, SK, pkt_alloc, 10, void *, size, (void *self, size_t size), (p->prov, size))
PX_OP(psk, SK, pkt_free, 11, int, 0, (void *self, void *m), (p->prov, m))
PX_OP(psk, SK, clone_add, 12, int, 0, (void *self, struct lyra_skb *c, struct lyra_skb *s),
      (p->prov, c, s))
PX_OP(psk, SK, move_out, 13, int, len,
      (void *self, const struct lyra_skb *s, uint32_t off, void *d, uint32_t len),
      (p->prov, s, off, d, len))
PX_OP(psk, SK, clone_add_range, 14, int, 0,
      (void *self, struct lyra_skb *c, struct lyra_skb *s, uint32_t off, uint32_t len),
      (p->prov, c, s, off, len))

static const struct lyra_skb_ops px_skb_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_SKB_IFACE, LYRA_SKB_MAJOR, LYRA_SKB_MINOR, struct lyra_skb_ops),
    .alloc = psk_alloc, .alloc_rx = psk_alloc_rx, .free = psk_free, .add_data = psk_add_data,
    .copy_out = psk_copy_out, .avail = psk_avail, .max_alloc = psk_max_alloc,
    .alloc_cls = psk_alloc_cls, .tx_avail = psk_tx_avail, .clone = psk_clone,
    .pkt_alloc = psk_pkt_alloc, .pkt_free = psk_pkt_free, .clone_add = psk_clone_add,
    .move_out = psk_move_out, .clone_add_range = psk_clone_add_range,
};
static const char *const skb_names[] = {"alloc",     "alloc_rx", "free",      "add_data",
                                        "copy_out",  "avail",    "max_alloc", "alloc_cls",
                                        "tx_avail",  "clone",    "pkt_alloc", "pkt_free",
                                        "clone_add", "move_out", "clone_add_range"};

/* ---- netdev ---- */
#define ND struct lyra_netdev_ops
#define NE struct lyra_netdev_events
PX_OP(pnd, ND, open, 0, int, 0, (void *self), (p->prov))
PX_OP(pnd, ND, close, 1, int, 0, (void *self), (p->prov))
PX_OP(pnd, ND, xmit, 2, int, lyra_skb_total(skb), (void *self, struct lyra_skb *skb),
      (p->prov, skb))
PX_OP(pnd, ND, caps, 3, int, 0, (void *self, struct lyra_netdev_caps *c), (p->prov, c))
PX_OP(pnd, ND, set_rx_mode, 4, int, 0, (void *self, bool am, bool pr), (p->prov, am, pr))
PX_EV(pnd, NE, rx, 5, lyra_skb_total(skb), (void *self, struct lyra_skb *skb), (p->user, skb))
PX_EV(pnd, NE, tx_ready, 6, 0, (void *self), (p->user))
PX_EV(pnd, NE, link, 7, 0, (void *self, bool up), (p->user, up))

static const struct lyra_netdev_ops px_netdev_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR, ND),
    .open = pnd_open, .close = pnd_close, .xmit = pnd_xmit, .caps = pnd_caps,
    .set_rx_mode = pnd_set_rx_mode,
};
static const struct lyra_netdev_events px_netdev_events = {
    .hdr = LYRA_OPS_HDR(LYRA_NETDEV_IFACE, LYRA_NETDEV_MAJOR, LYRA_NETDEV_MINOR, NE),
    .rx = pnd_ev_rx, .tx_ready = pnd_ev_tx_ready, .link = pnd_ev_link,
};
static const char *const netdev_names[] = {"open", "close", "xmit", "caps", "set_rx_mode",
                                           "rx", "tx_ready", "link"};

/* ---- l2 ---- */
#define L2 struct lyra_l2_ops
#define L2E struct lyra_l2_events
PX_EV(pl2, L2E, rx, 7, lyra_skb_total(skb),
      (void *self, struct lyra_skb *skb, const struct lyra_l2_rxinfo *info), (p->user, skb, info))
PX_EV(pl2, L2E, tx_ready, 8, 0, (void *self), (p->user))
/* 2.2, optional: the proxy's table (what eth sees) has it whatever the
 * user's has, so it passes on only what the user takes */
static void pl2_ev_unreachable(void *self, const struct lyra_skb *skb)
{
    struct lyra_proxy *p = self;
    const L2E *ev = p->events;
    if (!LYRA_L2E_HAS(ev, 2, unreachable))
        return;
    uint64_t b = lyra_skb_total(skb), t0 = lyra_px_now(p);
    ev->unreachable(p->user, skb);
    lyra_px_count(p, 9, b, t0);
}

static const struct lyra_l2_events px_l2_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, L2E),
    .rx = pl2_ev_rx, .tx_ready = pl2_ev_tx_ready, .unreachable = pl2_ev_unreachable,
};

/* Registration carries the user's events: the proxy keeps them and hands
 * its own table down, so received packets are counted on the way up. */
static int pl2_register_proto(void *self, uint16_t et, const struct lyra_l2_events *ev, void *user)
{
    struct lyra_proxy *p = self;
    uint64_t t0 = lyra_px_now(p);
    p->events = ev;
    p->user = user;
    int r = ((const L2 *)p->ops)->register_proto(p->prov, et, &px_l2_events, p);
    lyra_px_count(p, 0, 0, t0);
    return r;
}
PX_OP(pl2, L2, add_addr, 1, int, 0, (void *self, uint32_t a), (p->prov, a))
PX_OP(pl2, L2, del_addr, 2, int, 0, (void *self, uint32_t a), (p->prov, a))
PX_OP(pl2, L2, output, 3, int, lyra_skb_total(skb),
      (void *self, struct lyra_skb *skb, uint16_t et, uint32_t nh), (p->prov, skb, et, nh))
PX_OP(pl2, L2, output_mac, 4, int, lyra_skb_total(skb),
      (void *self, struct lyra_skb *skb, uint16_t et, const uint8_t *d), (p->prov, skb, et, d))
PX_OP(pl2, L2, caps, 5, int, 0, (void *self, struct lyra_netdev_caps *c), (p->prov, c))
PX_OP(pl2, L2, headroom, 6, uint32_t, 0, (void *self), (p->prov))

static const struct lyra_l2_ops px_l2_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L2_IFACE, LYRA_L2_MAJOR, LYRA_L2_MINOR, L2),
    .register_proto = pl2_register_proto, .add_addr = pl2_add_addr, .del_addr = pl2_del_addr,
    .output = pl2_output, .output_mac = pl2_output_mac, .caps = pl2_caps,
    .headroom = pl2_headroom,
};
static const char *const l2_names[] = {"register_proto", "add_addr", "del_addr",   "output",
                                       "output_mac",     "caps",     "headroom",   "rx",
                                       "tx_ready",       "unreachable"};

/* ---- l3 ---- */
#define L3 struct lyra_l3_ops
#define L3E struct lyra_l3_events
PX_EV(pl3, L3E, rx, 7, lyra_skb_total(skb),
      (void *self, struct lyra_skb *skb, const struct lyra_l3_rxinfo *info), (p->user, skb, info))
PX_EV(pl3, L3E, icmp_error, 8, 0, (void *self, const struct lyra_l3_icmp_err *e), (p->user, e))
PX_EV(pl3, L3E, tx_ready, 9, 0, (void *self), (p->user))

static const struct lyra_l3_events px_l3_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, L3E),
    .rx = pl3_ev_rx, .icmp_error = pl3_ev_icmp_error, .tx_ready = pl3_ev_tx_ready,
};

/* As for l2: registration carries the user's events. */
static int pl3_register_proto(void *self, uint8_t proto, const struct lyra_l3_events *ev, void *user)
{
    struct lyra_proxy *p = self;
    uint64_t t0 = lyra_px_now(p);
    p->events = ev;
    p->user = user;
    int r = ((const L3 *)p->ops)->register_proto(p->prov, proto, &px_l3_events, p);
    lyra_px_count(p, 0, 0, t0);
    return r;
}
PX_OP(pl3, L3, route, 1, int, 0, (void *self, uint32_t d, struct lyra_l3_route *rt), (p->prov, d, rt))
PX_OP(pl3, L3, output, 2, int, lyra_skb_total(skb),
      (void *self, struct lyra_skb *skb, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
       uint8_t tos, int df),
      (p->prov, skb, src, dst, proto, ttl, tos, df))
PX_OP(pl3, L3, icmp_error, 3, int, 0,
      (void *self, const struct lyra_skb *o, uint8_t type, uint8_t code), (p->prov, o, type, code))
PX_OP(pl3, L3, headroom, 4, uint32_t, 0, (void *self), (p->prov))
PX_OP(pl3, L3, is_local, 5, int, 0, (void *self, uint32_t a), (p->prov, a))
PX_OP(pl3, L3, pmtu_update, 6, int, 0, (void *self, uint32_t d, uint32_t mtu), (p->prov, d, mtu))

static const struct lyra_l3_ops px_l3_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L3_IFACE, LYRA_L3_MAJOR, LYRA_L3_MINOR, L3),
    .register_proto = pl3_register_proto, .route = pl3_route, .output = pl3_output,
    .icmp_error = pl3_icmp_error, .headroom = pl3_headroom, .is_local = pl3_is_local,
    .pmtu_update = pl3_pmtu_update,
};
static const char *const l3_names[] = {"register_proto", "route", "output", "icmp_error",
                                       "headroom", "is_local", "pmtu_update", "rx",
                                       "icmp_error_up", "tx_ready"};

/* ---- l4 (type and protocol are data: copied from the real table) ---- */
#define L4 struct lyra_l4_ops
PX_OP(pl4, L4, open, 0, int, 0, (void *self), (p->prov))
PX_VOP(pl4, L4, close, 1, 0, (void *self, int h), (p->prov, h))
PX_OP(pl4, L4, bind, 2, int, 0, (void *self, int h, const struct lyra_sockaddr4 *a),
      (p->prov, h, a))
PX_OP(pl4, L4, connect, 3, int, 0, (void *self, int h, const struct lyra_sockaddr4 *a),
      (p->prov, h, a))
PX_OP(pl4, L4, listen, 4, int, 0, (void *self, int h, int backlog), (p->prov, h, backlog))
PX_OP(pl4, L4, accept, 5, int, 0, (void *self, int h, struct lyra_sockaddr4 *a), (p->prov, h, a))
PX_OP(pl4, L4, send, 6, long, len,
      (void *self, int h, const void *buf, size_t len, const struct lyra_sockaddr4 *to, int fl),
      (p->prov, h, buf, len, to, fl))
/* recv counts the bytes it returns, not the room offered */
static long pl4_recv(void *self, int h, const struct lyra_iov *iov, unsigned n,
                     struct lyra_sockaddr4 *from, struct lyra_l4_dst *to, int fl)
{
    struct lyra_proxy *p = self;
    uint64_t t0 = lyra_px_now(p);
    long r = ((const L4 *)p->ops)->recv(p->prov, h, iov, n, from, to, fl);
    lyra_px_count(p, 7, r > 0 ? (uint64_t)r : 0, t0);
    return r;
}
PX_OP(pl4, L4, shutdown, 8, int, 0, (void *self, int h, int how), (p->prov, h, how))
PX_OP(pl4, L4, name, 9, int, 0, (void *self, int h, int peer, struct lyra_sockaddr4 *a),
      (p->prov, h, peer, a))
PX_OP(pl4, L4, poll, 10, unsigned, 0, (void *self, int h), (p->prov, h))
PX_OP(pl4, L4, setopt, 11, int, 0, (void *self, int h, int o, int v), (p->prov, h, o, v))
PX_OP(pl4, L4, getopt, 12, int, 0, (void *self, int h, int o, int *v), (p->prov, h, o, v))
PX_VOP(pl4, L4, set_cookie, 13, 0, (void *self, int h, uintptr_t c), (p->prov, h, c))
PX_OP(pl4, L4, setopt_buf, 14, int, len, (void *self, int h, int o, const void *v, uint32_t len),
      (p->prov, h, o, v, len))
/* getopt_buf counts the bytes it wrote, not the room offered */
static int pl4_getopt_buf(void *self, int h, int o, void *v, uint32_t *len)
{
    struct lyra_proxy *p = self;
    uint64_t t0 = lyra_px_now(p);
    int r = ((const L4 *)p->ops)->getopt_buf(p->prov, h, o, v, len);
    lyra_px_count(p, 15, r == 0 && len ? *len : 0, t0);
    return r;
}
/* 1.3: a loan counts the bytes lent; loan_return the bytes given back.
 * The socket layer keeps the table it lent through (the proxy) in the
 * loan, so the return comes back this way. */
static long pl4_recv_loan(void *self, int h, struct lyra_l4_loan *loan, int fl)
{
    struct lyra_proxy *p = self;
    uint64_t t0 = lyra_px_now(p);
    long r = ((const L4 *)p->ops)->recv_loan(p->prov, h, loan, fl);
    lyra_px_count(p, 16, r > 0 ? (uint64_t)r : 0, t0);
    return r;
}
PX_VOP(pl4, L4, loan_return, 17, loan ? loan->len : 0, (void *self, struct lyra_l4_loan *loan),
       (p->prov, loan))
#define L4E struct lyra_l4_events
PX_EV(pl4, L4E, ready, 18, 0, (void *self, uintptr_t c, unsigned what), (p->user, c, what))

static const struct lyra_l4_events px_l4_events = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, L4E),
    .ready = pl4_ev_ready,
};

static const struct lyra_l4_ops px_l4_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_L4_IFACE, LYRA_L4_MAJOR, LYRA_L4_MINOR, L4),
    .open = pl4_open, .close = pl4_close, .bind = pl4_bind, .connect = pl4_connect,
    .listen = pl4_listen, .accept = pl4_accept, .send = pl4_send, .recv = pl4_recv,
    .shutdown = pl4_shutdown, .name = pl4_name, .poll = pl4_poll, .setopt = pl4_setopt,
    .getopt = pl4_getopt, .set_cookie = pl4_set_cookie, .setopt_buf = pl4_setopt_buf,
    .getopt_buf = pl4_getopt_buf, .recv_loan = pl4_recv_loan, .loan_return = pl4_loan_return,
};
static const char *const l4_names[] = {
    "open", "close", "bind", "connect", "listen", "accept", "send", "recv", "shutdown", "name",
    "poll", "setopt", "getopt", "set_cookie", "setopt_buf", "getopt_buf", "recv_loan",
    "loan_return", "ready"};

/* ---- bus (issue 12.6: the device model's time, apart from the driver's) ---- */
#define BU struct lyra_bus_ops
PX_OP(pbu, BU, info, 0, int, 0, (void *self, struct lyra_bus_info *i), (p->prov, i))
PX_OP(pbu, BU, inb, 1, uint8_t, 1, (void *self, uint32_t port), (p->prov, port))
PX_OP(pbu, BU, inw, 2, uint16_t, 2, (void *self, uint32_t port), (p->prov, port))
PX_OP(pbu, BU, inl, 3, uint32_t, 4, (void *self, uint32_t port), (p->prov, port))
PX_VOP(pbu, BU, outb, 4, 1, (void *self, uint32_t port, uint8_t v), (p->prov, port, v))
PX_VOP(pbu, BU, outw, 5, 2, (void *self, uint32_t port, uint16_t v), (p->prov, port, v))
PX_VOP(pbu, BU, outl, 6, 4, (void *self, uint32_t port, uint32_t v), (p->prov, port, v))
PX_VOP(pbu, BU, insw, 7, 2 * n, (void *self, uint32_t port, void *buf, size_t n),
       (p->prov, port, buf, n))
PX_VOP(pbu, BU, outsw, 8, 2 * n, (void *self, uint32_t port, const void *buf, size_t n),
       (p->prov, port, buf, n))
PX_OP(pbu, BU, read32, 9, uint32_t, 4, (void *self, uint32_t off), (p->prov, off))
PX_VOP(pbu, BU, write32, 10, 4, (void *self, uint32_t off, uint32_t v), (p->prov, off, v))
PX_OP(pbu, BU, cfg_read, 11, uint32_t, sz, (void *self, uint32_t off, unsigned sz),
      (p->prov, off, sz))
PX_VOP(pbu, BU, cfg_write, 12, sz, (void *self, uint32_t off, unsigned sz, uint32_t v),
       (p->prov, off, sz, v))
PX_OP(pbu, BU, dma_alloc, 13, void *, size,
      (void *self, size_t size, size_t al, uint64_t *bus), (p->prov, size, al, bus))
PX_VOP(pbu, BU, dma_free, 14, size, (void *self, void *m, size_t size), (p->prov, m, size))
PX_OP(pbu, BU, dma_map, 15, int, len, (void *self, const void *m, size_t len, uint64_t *bus),
      (p->prov, m, len, bus))
PX_VOP(pbu, BU, dma_unmap, 16, len, (void *self, const void *m, size_t len), (p->prov, m, len))
PX_OP(pbu, BU, irq_pending, 17, bool, 0, (void *self), (p->prov))
PX_VOP(pbu, BU, irq_enable, 18, 0, (void *self, bool on), (p->prov, on))
PX_VOP(pbu, BU, delay_us, 19, 0, (void *self, unsigned us), (p->prov, us))
PX_OP(pbu, BU, insw_csum, 20, uint16_t, 2 * n, (void *self, uint32_t port, void *buf, size_t n),
      (p->prov, port, buf, n))
PX_OP(pbu, BU, outsw_csum, 21, uint16_t, 2 * n,
      (void *self, uint32_t port, const void *buf, size_t n), (p->prov, port, buf, n))
#define BUE struct lyra_bus_events
PX_EV(pbu, BUE, irq, 22, 0, (void *self), (p->user))

static const struct lyra_bus_events px_bus_events = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, BUE),
    .irq = pbu_ev_irq,
};

static const struct lyra_bus_ops px_bus_ops = {
    .hdr = LYRA_OPS_HDR(LYRA_BUS_IFACE, LYRA_BUS_MAJOR, LYRA_BUS_MINOR, BU),
    .info = pbu_info, .inb = pbu_inb, .inw = pbu_inw, .inl = pbu_inl, .outb = pbu_outb,
    .outw = pbu_outw, .outl = pbu_outl, .insw = pbu_insw, .outsw = pbu_outsw,
    .read32 = pbu_read32, .write32 = pbu_write32, .cfg_read = pbu_cfg_read,
    .cfg_write = pbu_cfg_write, .dma_alloc = pbu_dma_alloc, .dma_free = pbu_dma_free,
    .dma_map = pbu_dma_map, .dma_unmap = pbu_dma_unmap, .irq_pending = pbu_irq_pending,
    .irq_enable = pbu_irq_enable, .delay_us = pbu_delay_us, .insw_csum = pbu_insw_csum,
    .outsw_csum = pbu_outsw_csum,
};
static const char *const bus_names[] = {
    "info", "inb", "inw", "inl", "outb", "outw", "outl", "insw", "outsw", "read32", "write32",
    "cfg_read", "cfg_write", "dma_alloc", "dma_free", "dma_map", "dma_unmap", "irq_pending",
    "irq_enable", "delay_us", "insw_csum", "outsw_csum", "irq"};

#define L4_DATA (offsetof(struct lyra_l4_ops, open) - sizeof(struct lyra_ops_hdr))
/* Each class's counts from its tables' types, and one name per slot: an
 * op added to an interface without a name here fails the build, and one
 * without a proxy reads as NULL in every accounted binding (tests/unit/
 * framework: test_acct; it was so for clone_add, and accounting tcp's skb
 * binding turned TSO off). */
#define PX_CLASS(IFACE, OPS_T, EV_T, DATA, NAMES, OPS, EVS)                                 \
    {IFACE, PX_SLOTS(OPS_T, DATA), PX_SLOTS(EV_T, 0), NAMES, OPS, EVS, DATA}
struct px_no_events {
    struct lyra_ops_hdr hdr;
};
#define NO struct px_no_events
_Static_assert(LYRA_COUNT(os_names) == PX_SLOTS(OS, 0), "os_names");
/* a proxy's counters (acct.h) hold every class's ops and events */
_Static_assert(PX_SLOTS(OS, 0) <= LYRA_PROXY_MAX, "LYRA_PROXY_MAX: os");
_Static_assert(PX_SLOTS(SK, 0) <= LYRA_PROXY_MAX, "LYRA_PROXY_MAX: skb");
_Static_assert(PX_SLOTS(ND, 0) + PX_SLOTS(NE, 0) <= LYRA_PROXY_MAX, "LYRA_PROXY_MAX: netdev");
_Static_assert(PX_SLOTS(L2, 0) + PX_SLOTS(L2E, 0) <= LYRA_PROXY_MAX, "LYRA_PROXY_MAX: l2");
_Static_assert(PX_SLOTS(L3, 0) + PX_SLOTS(L3E, 0) <= LYRA_PROXY_MAX, "LYRA_PROXY_MAX: l3");
_Static_assert(PX_SLOTS(L4, L4_DATA) + PX_SLOTS(L4E, 0) <= LYRA_PROXY_MAX, "LYRA_PROXY_MAX: l4");
_Static_assert(PX_SLOTS(BU, 0) + PX_SLOTS(BUE, 0) <= LYRA_PROXY_MAX, "LYRA_PROXY_MAX: bus");
_Static_assert(LYRA_COUNT(netdev_names) == PX_SLOTS(ND, 0) + PX_SLOTS(NE, 0), "netdev_names");
_Static_assert(LYRA_COUNT(l2_names) == PX_SLOTS(L2, 0) + PX_SLOTS(L2E, 0), "l2_names");
_Static_assert(LYRA_COUNT(l3_names) == PX_SLOTS(L3, 0) + PX_SLOTS(L3E, 0), "l3_names");
_Static_assert(LYRA_COUNT(l4_names) == PX_SLOTS(L4, L4_DATA) + PX_SLOTS(L4E, 0), "l4_names");
_Static_assert(LYRA_COUNT(bus_names) == PX_SLOTS(BU, 0) + PX_SLOTS(BUE, 0), "bus_names");

static const struct lyra_proxy_class classes[] = {
    PX_CLASS(LYRA_OS_IFACE, OS, NO, 0, os_names, &px_os_ops, NULL),
    PX_CLASS(LYRA_SKB_IFACE, SK, NO, 0, skb_names, &px_skb_ops, NULL),
    PX_CLASS(LYRA_NETDEV_IFACE, ND, NE, 0, netdev_names, &px_netdev_ops, &px_netdev_events),
    PX_CLASS(LYRA_L2_IFACE, L2, L2E, 0, l2_names, &px_l2_ops, &px_l2_events),
    PX_CLASS(LYRA_L3_IFACE, L3, L3E, 0, l3_names, &px_l3_ops, &px_l3_events),
    PX_CLASS(LYRA_L4_IFACE, L4, L4E, L4_DATA, l4_names, &px_l4_ops, &px_l4_events),
    PX_CLASS(LYRA_BUS_IFACE, BU, BUE, 0, bus_names, &px_bus_ops, &px_bus_events),
};

void lyra_proxy_table(void *dst, const void *tmpl, const void *real, size_t data)
{
    const struct lyra_ops_hdr *h = tmpl, *r = real;
    uint32_t size = h->size < LYRA_PROXY_TABLE_MAX ? h->size : LYRA_PROXY_TABLE_MAX;
    memcpy(dst, tmpl, size);
    /* The real side's version where it is older: a user checking the
     * minor (LYRA_SKB_HAS, socket's L4_HAS) sees what it would see unproxied. */
    struct lyra_ops_hdr *d = dst;
    if (r->minor < d->minor)
        d->minor = r->minor;
    if (r->size < d->size)
        d->size = r->size;
    size_t first = sizeof(struct lyra_ops_hdr) + data;
    if (first <= r->size && first <= size)
        memcpy((unsigned char *)dst + sizeof(struct lyra_ops_hdr),
               (const unsigned char *)real + sizeof(struct lyra_ops_hdr), data);
    typedef void (*fnptr)(void);
    for (size_t off = first; off + sizeof(fnptr) <= size; off += sizeof(fnptr)) {
        fnptr f = NULL;
        if (off + sizeof(fnptr) <= r->size)
            memcpy(&f, (const unsigned char *)real + off, sizeof(f));
        if (!f)
            memset((unsigned char *)dst + off, 0, sizeof(f));
    }
}

const struct lyra_proxy_class *lyra_proxy_class_find(const char *iface)
{
    for (unsigned i = 0; i < LYRA_COUNT(classes); i++)
        if (!strcmp(classes[i].iface, iface))
            return &classes[i];
    return NULL;
}
