/* fake_l3: the `l3` interface (2.1) for testing a transport alone.
 *
 * Component "fake_l3" (lyra_component_fake_l3). Slot: skb (optional; the
 * buffers fake_l3_rx delivers in). Parameters: addr (prefix, default
 * 192.0.2.2/24), gateway (IPv4, default unset), headroom (default 34: an
 * IPv4 and an Ethernet header), mtu (default 1500: the routes' mtu and
 * link_mtu), csum_tx (integer LYRA_CSUM_* mask the routes report, default
 * 0), pmtu_min (default 552, as ip's).
 *
 * It answers as ip would, from the settable fields of struct fake_l3_cfg:
 * route gives src = addr and next hop LYRA_L2_BROADCAST for the limited and
 * the subnet's broadcast, the address itself on the subnet and for
 * multicast, the gateway beyond (-ENETUNREACH without one, or always
 * route_err when that is set); is_local is true for addr and both
 * broadcasts. output records each skb (bytes, src, dst, proto, ttl, tos,
 * df, skb flags and checksum offsets, headroom) and frees it; icmp_error
 * records the call and the bytes at the original's IP header; pmtu_update
 * keeps one path MTU for every destination, cfg.mtu: a claim below it and
 * not below pmtu_min lowers it (ip's rules, without aging), and it returns
 * cfg.mtu (or -ERANGE, or pmtu_ret when that is set).
 * Stats: out, out_unrecorded, icmp_errors, rx_injected, rx_nobuf,
 * pmtu_updates (calls). */
#ifndef LYRA_FAKE_L3_H
#define LYRA_FAKE_L3_H

#include <stdint.h>

#include "lyra/component.h"
#include "lyra/l3.h"

extern const struct lyra_component lyra_component_fake_l3;

/* What the fake answers; tests change these between calls. */
struct fake_l3_cfg {
    uint32_t addr;     /* ours (route src, is_local) */
    uint8_t plen;      /* subnet prefix length */
    uint32_t gateway;  /* 0: nothing beyond the subnet */
    uint32_t headroom; /* headroom() */
    uint32_t mtu;      /* route's mtu (the path MTU; pmtu_update lowers it) */
    uint32_t link_mtu; /* route's link_mtu */
    uint32_t pmtu_min; /* pmtu_update: -ERANGE below it */
    int pmtu_ret;      /* non-zero: pmtu_update returns it, changing nothing */
    uint32_t pmtu_dst, pmtu_claim; /* the last pmtu_update's arguments */
    uint8_t csum_tx;   /* route's csum_tx */
    uint8_t gso_segs;  /* route's gso_segs (l3 2.2, TSO) */
    int route_err;     /* non-zero: route() returns it */
    int output_err;    /* output() records the skb and returns it; when it is not 0 the
                        * caller keeps the skb (l3 2.0), else it is freed */
    int icmp_ret;      /* icmp_error() returns it */
    uint32_t rx_split; /* fake_l3_rx: transport bytes past this many go in a segment
                        * (in the skb's own buffer, past the linear part); 0: linear */
    int rx_add_data;   /* fake_l3_rx: the transport bytes go in with the provider's add_data
                        * (over fake_skb_split: in 64-byte pieces); rx_split is then unused */
    int nic_sum;       /* output: an skb with LYRA_SKB_F_CSUM_TX (not TSO) is recorded with
                        * its checksum stored, as the NIC would (a transport's suite runs
                        * unchanged with csum_tx offered) */
};

#define FAKE_L3_OUT_MAX 32
#define FAKE_L3_OUT_BYTES 2048
#define FAKE_L3_ICMP_MAX 16
#define FAKE_L3_QUOTE 64

/* One datagram output was given (data at the transport header). */
struct fake_l3_out {
    uint8_t b[FAKE_L3_OUT_BYTES];
    uint32_t len;   /* bytes kept in b */
    uint32_t total; /* the skb's length (more than len when it did not fit) */
    uint32_t src, dst;
    uint8_t proto, ttl, tos;
    int df;
    uint16_t skb_flags, csum_start, csum_off; /* as given: csum_start from head */
    uint32_t headroom;                         /* lyra_skb_headroom() at output */
    int32_t csum_at; /* csum_start - headroom: where the sum starts in b (-1: before data) */
    uint32_t nseg;
    uint32_t kept; /* bytes in pieces whose sum the skb provider kept (skb 2.2) */
    uint16_t gso_size; /* skb 2.5 */
    uint32_t lin;      /* the linear part's length (a TSO frame: its header) */
    uint32_t tail_fnv; /* FNV-1a (32 bit) of every byte past the linear part */
};

/* One icmp_error call. */
struct fake_l3_icmp {
    uint8_t type, code;
    uint8_t quote[FAKE_L3_QUOTE]; /* bytes from the original's IP header */
    uint32_t quote_len;
    uint32_t l4_at; /* where its data pointed, counted from the IP header */
};

struct fake_l3_cfg *fake_l3_cfg(void *self);

/* Delivers a transport datagram (len bytes at l4) up to whoever registered
 * info->proto, as ip would: in an rx skb from the skb slot, behind a valid
 * 20-byte IPv4 header made from info (skb->l3_off at it, skb->data at the
 * transport header). 0, -ENOTCONN (nobody registered it, or no skb slot),
 * -ENOBUFS (counted rx_nobuf). */
int fake_l3_rx(void *self, const void *l4, uint32_t len, const struct lyra_l3_rxinfo *info);
/* Delivers n transport segments as one run (skb 2.6 LYRA_SKB_F_GRO, l3
 * 2.3), as ip hands a coalescing driver's run up: each in an rx skb of
 * its own with LYRA_SKB_F_CSUM_OK, the first the head with the flag, the
 * rest chained through `next` with data at their transport header. The
 * caller makes them a run (same headers but for sequence number). 0,
 * -ENOTCONN, -ENOBUFS. */
int fake_l3_rx_run(void *self, const uint8_t *const *l4, const uint32_t *len, unsigned n,
                   const struct lyra_l3_rxinfo *info);
/* Raises icmp_error for e->proto's user (0, or -ENOTCONN). */
int fake_l3_icmp_error(void *self, const struct lyra_l3_icmp_err *e);
/* Raises tx_ready for every registered user. */
void fake_l3_tx_ready(void *self);
/* Is proto registered? */
int fake_l3_registered(void *self, uint8_t proto);

/* Recorded outputs and icmp_error calls since the last clear, oldest
 * first; beyond the MAX ones they are only counted. */
unsigned fake_l3_out_count(void *self);
const struct fake_l3_out *fake_l3_out(void *self, unsigned i);
unsigned fake_l3_icmp_count(void *self);
const struct fake_l3_icmp *fake_l3_icmp(void *self, unsigned i);
void fake_l3_clear(void *self);

#endif
