/* fake_skb_split: a second `skb` provider for tests (issue 8.1): skb_copy
 * itself, built with SKB_COPY_PIECE_MAX 64, so add_data puts every payload
 * in segments of at most 64 bytes (never in the linear tail). The eth, ip,
 * icmp socket and udp suites run over it too (their *_split builds), which
 * shows that everything reading skbs handles many pieces; same parameters
 * and counters as skb_copy, plus chunk_in_use. */
#define SKB_COPY_NAME "fake_skb_split"
#define SKB_COPY_COMPONENT lyra_component_fake_skb_split
#define SKB_COPY_SUMMARY "test skb provider: skb_copy with payload in pieces of at most 64 bytes"
#define SKB_COPY_PIECE_MAX 64u
#include "skb_copy.c"
