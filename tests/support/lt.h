/* Test harness: instantiate one component from its descriptor, bind its
 * slots by hand to fakes or real providers, and drive its lifecycle. Unit
 * tests use this to test a component alone. Failures abort the test with a
 * message (Criterion reports the crash of the test as a failure). */
#ifndef LYRA_TEST_LT_H
#define LYRA_TEST_LT_H

#include <stdint.h>

#include "lyra/component.h"

#define LT_MAX_SLOTS 16

struct lt_inst {
    const struct lyra_component *c;
    void *self;
    struct lyra_value *values;
    char **texts;
    int started;
    unsigned bound[LT_MAX_SLOTS];
};

/* Creates an instance; params is a NULL-terminated list of "name=value"
 * (others take their defaults). Returns NULL and prints why on failure. */
struct lt_inst *lt_create(const struct lyra_component *c, const char *const *params);
/* As lt_create, but returns the create() error instead of failing hard. */
int lt_try_create(const struct lyra_component *c, const char *const *params,
                  struct lt_inst **out);
/* Binds user's slot to the first interface of prov that matches it, calls
 * the slot's bind and the provider's attach. Returns 0 or negative errno. */
int lt_bind(struct lt_inst *user, const char *slot, struct lt_inst *prov);
/* Binds a slot to a raw ops table/instance (hand-written fakes). */
int lt_bind_raw(struct lt_inst *user, const char *slot, const void *ops, void *prov);
int lt_start(struct lt_inst *i);
void lt_stop(struct lt_inst *i);
void lt_destroy(struct lt_inst *i);
int lt_poll(struct lt_inst *i, unsigned budget);
/* A counter the instance reports through its stats hook (UINT64_MAX if absent). */
uint64_t lt_stat(struct lt_inst *i, const char *name);
/* The ops table the instance provides for an interface name (NULL if none). */
const void *lt_ops(struct lt_inst *i, const char *iface);

struct lyra_skb;
struct lyra_skb_seg;
/* Chains len bytes at p to s as a segment (skb 2.0) whose descriptor lives
 * at the far end of s's own buffer, so it lasts exactly as long as s (the
 * provider leaves descriptors it does not own alone at free). For tests
 * that build segmented skbs by hand; nothing may be put or pulled up into
 * the linear tail afterwards. NULL when the buffer has no room left. */
struct lyra_skb_seg *lt_skb_add_seg(struct lyra_skb *s, const void *p, uint32_t len,
                                    uint32_t flags);

/* Reads a whole file from tests/data (LYRA_SOURCE_DIR/tests/data/NAME). */
uint8_t *lt_read_data(const char *name, size_t *len);

/* Frames of a pcap file (tests/data/NAME) one by one. */
struct lt_pcap {
    uint8_t *buf;
    size_t len, off;
    int swapped;
};
int lt_pcap_open(struct lt_pcap *p, const char *name);
/* Returns the next frame's length and pointer (0 at the end). */
uint32_t lt_pcap_next(struct lt_pcap *p, const uint8_t **frame);
void lt_pcap_close(struct lt_pcap *p);

/* Why the TAP/namespace tests cannot run here (not root, no CAP_NET_ADMIN in
 * the effective set, no /dev/net/tun), or NULL when they can. Tests skip
 * loudly with this reason, never pass silently. */
const char *lt_netns_missing(void);

/* Test packets made right, for fuzz harnesses that want mutated bytes past
 * the checksum checks. lt_ipv4_fix_csum: the IPv4 header at ip (len bytes
 * there) gets a right header checksum; -1 (nothing done) when its IHL does
 * not fit len. lt_ipv4_fix_l4_csum, after it: an unfragmented TCP, UDP or
 * ICMP datagram whose total length fits len gets a right transport
 * checksum (a UDP one of 0, none, is kept); any other is left as it is. */
int lt_ipv4_fix_csum(uint8_t *ip, size_t len);
void lt_ipv4_fix_l4_csum(uint8_t *ip, size_t len);


#endif
