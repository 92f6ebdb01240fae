/* Interface `netdev` 1.1: a NIC as the link layer sees it.
 *
 * Users: one (eth). Events go up to the user bound with attach().
 *
 * Contexts (issue 8.6): every op and event runs on the stack's context: the
 * poll step (loop thread) or an application thread holding the stack lock;
 * never from an interrupt (a driver's interrupt handler only notes work for
 * its next poll step). rx comes from the driver's poll hook only, not from
 * a timer: the layers above answer a step's frames in their own hooks,
 * which run after it (tcp's receive batch, l3.h). Ops may call the events of the same user back only
 * from a later poll step, not from inside the op (no re-entry into eth).
 * Events may call ops of this driver (eth re-sends from tx_ready).
 * skb ownership: xmit 0 = the driver took it; any negative = the caller
 * keeps it, unchanged (the rule l2 2.0 and l3 2.0 output follow too). rx:
 * the user always takes the skb. A driver frees a sent skb once the card is
 * done with it, which runs its send completion (skb `done`, skb.h).
 *
 * Receive-buffer posting (1.1; caps.rx_post > 0): the driver keeps up to
 * rx_post skbs from its skb provider's alloc_rx (headroom, alignment and
 * placement the provider's) posted on its receive ring, the card writing
 * each frame at skb->data through the bus's DMA mapping, and hands the
 * filled skb up through rx without copying the frame. Ownership: a posted
 * skb is the driver's (out of the pool, in the provider's in_use); at rx it
 * is the user's like any received skb: the mapping is released and the
 * card no longer writes it, and the driver keeps no reference. Whatever
 * the user keeps (queues, reassembly, sockets) is not available to the
 * ring: when the provider has no buffer the driver leaves the descriptor
 * without one (counted, rx_nobuf in nic_dma) and the card drops what it
 * cannot place (counted), never stalling: descriptors are refilled in the
 * driver's poll step as buffers come back to the pool (nothing is owed to
 * the driver; the user frees received skbs as before). Contexts: posting
 * and refills run in the driver's poll step and start, never inside an op
 * or event of the user's. At stop the driver returns every posted skb to
 * the provider (so the provider must outlive the driver's stop). Sizing:
 * the pool needs rx_post buffers beyond what the stack holds. */
#ifndef LYRA_NETDEV_H
#define LYRA_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/component.h"
#include "lyra/skb.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LYRA_NETDEV_IFACE "netdev"
#define LYRA_NETDEV_MAJOR 1
#define LYRA_NETDEV_MINOR 3 /* 1.1: caps.rx_post (receive-buffer posting);
                             * 1.2: caps.tso_segs (TCP segmentation offload);
                             * 1.3: rx may hand a run (skb 2.6 LYRA_SKB_F_GRO) */

#define LYRA_ETH_HLEN 14
#define LYRA_ETH_ZLEN 60         /* minimum frame without FCS */
#define LYRA_ETH_MTU 1500
#define LYRA_ETH_FRAME_MAX 1514  /* header + MTU, without FCS */

/* A MAC a station may take as its own: unicast (first octet even) and not
 * all zero. The NICs' mac parameters and eth check it alike, so `lyranet
 * check` refuses at the NIC what eth's start would refuse. */
static inline bool lyra_eth_addr_is_station(const uint8_t a[6])
{
    return !(a[0] & 1) && (a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) != 0;
}

/* checksum offload bits in caps.csum_tx / caps.csum_rx */
#define LYRA_CSUM_IPV4 0x1
#define LYRA_CSUM_TCP 0x2
#define LYRA_CSUM_UDP 0x4

struct lyra_netdev_caps {
    uint32_t mtu;          /* largest payload above the Ethernet header */
    uint16_t max_segs;     /* gather: linear part plus this many segments */
    uint8_t page_contig;   /* a DMA segment must not cross a page (the driver
                            * splits with lyra/skb_pieces.h, os page size) */
    uint8_t csum_tx;       /* LYRA_CSUM_* the NIC computes on transmit */
    uint8_t csum_rx;       /* LYRA_CSUM_* the NIC verifies on receive */
    uint8_t link_up;
    uint8_t mac[6];
    /* 1.1: receive skbs the driver keeps posted from the skb provider (see
     * the top of this file); 0: it receives into memory of its own and
     * copies into skbs. A 1.0 driver leaves it as the user set it: users
     * zero the struct before calling caps. */
    uint16_t rx_post;
    /* 1.2: TCP segmentation offload (skb.h gso_size): the most segments
     * behind the linear part a frame with gso_size may have (the driver
     * counts the page splits it makes within this); 0: no TSO, the driver
     * refuses such frames (-EOPNOTSUPP). A TSO frame is at most
     * LYRA_TSO_MAX bytes above the Ethernet header, its headers plus
     * gso_size at most mtu. In 1.1's tail padding: the struct keeps its
     * size. */
    uint16_t tso_segs;
};

#define LYRA_TSO_MAX 65535u /* an IPv4 datagram's largest total length */

struct lyra_netdev_ops {
    struct lyra_ops_hdr hdr;
    int (*open)(void *self);
    int (*close)(void *self);
    /* Sends one frame (linear part, then segments). 0: the driver took the
     * skb and frees it when sent. -EAGAIN: busy, the caller keeps the skb
     * and may retry after the tx_ready event. Other errors: the caller keeps
     * the skb. Frames shorter than 60 bytes are padded by the driver. */
    int (*xmit)(void *self, struct lyra_skb *skb);
    int (*caps)(void *self, struct lyra_netdev_caps *caps);
    /* Receive filter: accept all multicast / promiscuous. */
    int (*set_rx_mode)(void *self, bool allmulti, bool promisc);
};

struct lyra_netdev_events {
    struct lyra_ops_hdr hdr;
    /* A received frame (Ethernet header at data); the user takes it. It may
     * carry segments (skb.h): the user pulls up what it parses. 1.3: to
     * events of 1.3 or later, a driver may hand a run of TCP segments
     * (skb.h LYRA_SKB_F_GRO); to older ones never. */
    void (*rx)(void *user, struct lyra_skb *skb);
    /* Transmit room is back after an -EAGAIN. */
    void (*tx_ready)(void *user);
    void (*link)(void *user, bool up);
};

#ifdef __cplusplus
}
#endif
#endif
