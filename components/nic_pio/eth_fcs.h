/* The Ethernet frame check sequence (IEEE 802.3 CRC-32), which nic_pio's
 * rx_crc=auto looks for at the end of received frames: a DP8390 stores it
 * behind the frame, QEMU's NE2000 does not. */
#ifndef NIC_PIO_ETH_FCS_H
#define NIC_PIO_ETH_FCS_H

#include <stdbool.h>
#include <stdint.h>

#define ETH_FCS_LEN 4

/* Whether the last 4 of len bytes (len >= 4) are the FCS of the ones
 * before (least significant byte first, as on the wire). */
bool eth_fcs_good(const uint8_t *p, uint32_t len);

#endif
