/* nic_pio's state, shared by its files: nic_pio.c (the component, its
 * transmit path and poll step), nic_pio_rx.c (the receive ring). */
#ifndef LYRA_NIC_PIO_PRIV_H
#define LYRA_NIC_PIO_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "lyra/bus.h"
#include "lyra/netdev.h"
#include "lyra/os.h"
#include "lyra/skb.h"
#include "lyra/tcp_gro.h"
#include "eth_fcs.h"
#include "ne2k_hw.h"
#include "nic_pio_tso.h"
#include "nic_pio_tx.h"

#define WHO "nic_pio"

#define NIC_IMR (ISR_PRX | ISR_PTX | ISR_RXE | ISR_TXE | ISR_OVW | ISR_CNT)
#define RX_MAX_LEN 1522 /* 1514, a VLAN tag, and the CRC real cards count */
#define FCS_LEN ETH_FCS_LEN

enum fcs_mode { FCS_UNKNOWN, FCS_NONE, FCS_COUNTED };

enum txb_state { TXB_FREE, TXB_READY, TXB_SENDING };

#define NIC_STATS(X) \
    X(tx_frames) X(tx_bytes) X(tx_busy) X(tx_errors) X(tx_too_big) X(tx_rdma_fail) \
    X(rx_frames) X(rx_bytes) X(rx_nobuf) X(rx_bad) X(rx_overflow) X(rx_down) X(rx_rdma_fail) \
    X(rx_crc) X(rx_frame) X(rx_missed) X(rx_fcs_stripped) X(rx_filtered) X(rx_summed) \
    X(tx_tso_frames) X(tx_tso_segments)

struct nic_stats {
#define NIC_STAT_FIELD(n) uint64_t n;
    NIC_STATS(NIC_STAT_FIELD)
#undef NIC_STAT_FIELD
};

struct nic_pio {
    const struct lyra_bus_ops *bus;
    void *bus_self;
    const struct lyra_skb_ops *skb;
    void *skb_self;
    struct lyra_os os;
    const struct lyra_netdev_events *ev;
    void *user;

    struct ne2k_hw hw;
    uint8_t mac_param[6], mac[6];
    bool mac_set;
    bool sw_ucast;      /* mac is not the PROM's: RCR.PRO, unicast filtered here */
    uint8_t rx_crc;     /* param: FCS_UNKNOWN (auto), FCS_NONE (off), FCS_COUNTED (on) */
    uint8_t fcs;        /* what the ring holds, as far as known */
    uint32_t rx_budget, tx_bufs;
    bool allmulti, promisc;
    bool csum_tx; /* param: checksum insertion offered (nic_pio_tx.c) */
    bool tso;     /* param: TSO frames taken and cut here (nic_pio_tso.c) */
    bool gro_param; /* param: receive coalescing (lyra/tcp_gro.h) */

    bool started, opened;
    uint8_t next_pkt;  /* page of the next frame to read */
    bool rx_more;      /* the last walk stopped on its budget */
    bool in_recovery;  /* frames go to rxq, not up */
    struct lyra_skb_queue rxq;
    struct lyra_gro gro; /* the run being coalesced within a poll step */

    uint8_t tx_state[2];
    uint16_t tx_len[2];   /* bytes on the card (padded) */
    uint16_t tx_real[2];  /* frame bytes */
    int tx_sending;       /* buffer being sent, -1: none */
    bool need_tx_ready;
    struct nic_pio_tso tso_q; /* the TSO frame whose segments are still to write */

    struct nic_stats st;
    struct nic_pio_tx_stats tx;
};

/* nic_pio_rx.c */
/* Takes up to budget frames from the ring up (or to rxq in recovery). */
unsigned nic_pio_rx_walk(struct nic_pio *n, unsigned budget);
/* A ring overflow (ISR.OVW) recovered by the datasheet's procedure: the
 * work done (at least 1). */
unsigned nic_pio_rx_overflow(struct nic_pio *n, unsigned budget);
/* The run being coalesced goes up (end of a poll step). */
void nic_pio_rx_flush(struct nic_pio *n);
/* The card's tally counters added to the stats. */
void nic_pio_read_tallies(struct nic_pio *n);

#endif
