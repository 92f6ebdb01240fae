/* e1000_model's register map: the 8254x registers, bits and descriptor
 * fields the model decodes, written from the 8254x manual (Intel 317453,
 * chapter 13 for registers, 3.2-3.3 for descriptors). Repeated here on
 * purpose rather than shared with the nic_dma driver's e1000_regs.h, so the
 * model checks the driver instead of sharing its mistakes. */
#ifndef E1000_MODEL_REGS_H
#define E1000_MODEL_REGS_H

#define MMIO_SIZE (128u * 1024u)
#define REG_SPACE 0x8000u /* registers kept; above reads 0 */

#define R_CTRL 0x0000
#define R_STATUS 0x0008
#define R_EECD 0x0010
#define R_EERD 0x0014
#define R_ICR 0x00c0
#define R_ICS 0x00c8
#define R_IMS 0x00d0
#define R_IMC 0x00d8
#define R_RCTL 0x0100
#define R_TCTL 0x0400
#define R_RDBAL 0x2800
#define R_RDBAH 0x2804
#define R_RDLEN 0x2808
#define R_RDH 0x2810
#define R_RDT 0x2818
#define R_TDBAL 0x3800
#define R_TDBAH 0x3804
#define R_TDLEN 0x3808
#define R_TDH 0x3810
#define R_TDT 0x3818
#define R_STATS_LO 0x4000 /* statistics: read to clear */
#define R_STATS_HI 0x4100
#define R_MPC 0x4010
#define R_RNBC 0x40a0
#define R_RXCSUM 0x5000
#define R_MTA 0x5200
#define R_RAL0 0x5400
#define N_RA 16

#define CTRL_RST (1u << 26)
#define STATUS_FD (1u << 0)
#define STATUS_LU (1u << 1)
#define STATUS_SPEED_1000 (2u << 6)
#define ICR_TXDW (1u << 0)
#define ICR_TXQE (1u << 1)
#define ICR_LSC (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO (1u << 6)
#define ICR_RXT0 (1u << 7)
#define RCTL_EN (1u << 1)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LPE (1u << 5)
#define RCTL_BAM (1u << 15)
#define RCTL_BSEX (1u << 25)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define RXCSUM_IPOFLD (1u << 8)
#define RXCSUM_TUOFLD (1u << 9)
#define RAH_AV (1u << 31)

#define PCI_CMD_MASTER 0x0004

#define TXD_CMD_EOP 0x01
#define TXD_CMD_TSE 0x04 /* DCMD of a TCP/IP data descriptor (manual 3.3.7) */
#define TXD_CMD_RS 0x08
#define TXD_CMD_DEXT 0x20
#define TXD_STA_DD 0x01
#define TXD_POPTS_IXSM 0x01
#define TXD_POPTS_TXSM 0x02
/* TCP/IP context descriptor TUCMD (manual 3.3.6.1) */
#define TXD_TUCMD_TCP 0x01 /* TCP (else UDP) */
#define TXD_TUCMD_IP 0x02  /* IPv4 (else IPv6) */
#define TXD_TUCMD_TSE 0x04 /* a TCP segmentation context */
#define RXD_STA_DD 0x01
#define RXD_STA_EOP 0x02
#define RXD_STA_IXSM 0x04
#define RXD_STA_TCPCS 0x20
#define RXD_STA_IPCS 0x40
#define RXD_ERR_TCPE 0x20
#define RXD_ERR_IPE 0x40

#endif
