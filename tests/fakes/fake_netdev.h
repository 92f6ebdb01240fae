/* fake_netdev: the `netdev` interface for tests; records what is sent and
 * injects what is received.
 *
 * Component "fake_netdev" (lyra_component_fake_netdev). Slots: skb
 * (required: receive buffers come from it), os (required).
 * Parameters: mac (default 02:00:00:00:00:01), mtu (default 1500),
 * max_segs (gather segments beyond the linear part, default 4),
 * page_contig (bool, default off), csum_tx / csum_rx (integer LYRA_CSUM_*
 * masks, default 0), tx_record (frames kept, default 64; older ones are
 * dropped from the record and counted), tx_busy_every (integer, default 0:
 * every Nth xmit returns -EAGAIN), rx_pcap (file whose frames are injected
 * one per poll after start; default unset), tx_pcap (file written at stop
 * with every transmitted frame; default unset), rx_post (default 0: an skb
 * from alloc_rx per frame; N: N skbs kept posted from the pool, as a DMA
 * driver posts receive buffers (netdev 1.1, caps.rx_post): a frame is
 * written into the oldest, a fresh one is posted before it goes up, and
 * with none posted the frame is dropped; refilled at every poll and
 * delivery, returned at stop).
 * Stats: tx_frames, tx_bytes, tx_busy, rx_frames, rx_bytes, rx_nobuf
 * (no skb to receive into), tx_record_dropped, rx_posted (skbs posted now).
 * Transmitted frames are recorded flattened and padded to 60 bytes, as a
 * driver pads them. */
#ifndef LYRA_FAKE_NETDEV_H
#define LYRA_FAKE_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"
#include "lyra/netdev.h"

extern const struct lyra_component lyra_component_fake_netdev;

/* Queues a frame to deliver on the next poll (returns 0, or -ENOSPC when
 * 64 frames are already waiting). */
int fake_netdev_inject(void *self, const void *frame, size_t len);
/* Delivers a frame now: allocates an skb from the skb slot, copies the frame
 * and raises rx. Returns 0, or -ENOBUFS (counted rx_nobuf). */
int fake_netdev_deliver(void *self, const void *frame, size_t len);
/* Delivers n frames now as one run (skb 2.6 LYRA_SKB_F_GRO, netdev 1.3), as
 * a coalescing driver does: each in an skb of its own with CSUM_OK, the
 * first the head with the flag, the rest chained through `next` at their
 * TCP header (behind a 20-byte IPv4 header). The caller makes them a run.
 * 0, -ENODEV (no skb slot or user), -ENOBUFS. */
int fake_netdev_deliver_run(void *self, const uint8_t *const *frame, const size_t *len,
                            unsigned n);
/* Recorded transmitted frames, oldest first. */
unsigned fake_netdev_tx_count(void *self);
const uint8_t *fake_netdev_tx_frame(void *self, unsigned i, size_t *len);
/* Frame i's length as the driver was handed it: tx_frame's is padded with
 * zeros to the 60-byte minimum, as a NIC does; 0 when there is no frame i. */
uint32_t fake_netdev_tx_sent_len(void *self, unsigned i);
void fake_netdev_tx_clear(void *self);
/* Segments of the last transmitted skb as the driver saw them (linear part
 * counts as segment 0). */
unsigned fake_netdev_last_tx_segments(void *self);
/* Raises tx_ready / link events to the user. */
void fake_netdev_signal_tx_ready(void *self);
void fake_netdev_set_link(void *self, int up);
/* Whether the user called open (and not close since). */
int fake_netdev_is_open(void *self);
/* The receive filter the user last set (the fake does not filter). */
void fake_netdev_rx_mode(void *self, bool *allmulti, bool *promisc);
/* A card whose PROM holds an address no station may use (multicast, zero):
 * what the card reports from now on. The `mac` parameter refuses such an
 * address, as nic_pio's does: a manifest cannot ask for it. */
void fake_netdev_set_prom_mac(void *self, const uint8_t mac[6]);

#endif
