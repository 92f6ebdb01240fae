/* Intel 8254x (e1000) registers and bits the nic_dma driver uses.
 *
 * From the PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual (8254x), section 13 (registers) and 3.2/3.3
 * (descriptors). Offsets are from BAR0. The 82574L (e1000e) keeps these
 * offsets for everything used here except EERD's field layout. */
#ifndef NIC_DMA_E1000_REGS_H
#define NIC_DMA_E1000_REGS_H

#define E1000_VENDOR_INTEL 0x8086
#define E1000_DEV_82540EM 0x100e
#define E1000_DEV_82574L 0x10d3

/* PCI configuration space */
#define E1000_PCI_COMMAND 0x04
#define E1000_PCI_CMD_MEM 0x0002    /* memory space enable */
#define E1000_PCI_CMD_MASTER 0x0004 /* bus master enable: DMA needs it */

/* registers */
#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EECD 0x0010
#define E1000_EERD 0x0014
#define E1000_ICR 0x00c0
#define E1000_ICS 0x00c8
#define E1000_IMS 0x00d0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_RDTR 0x2820
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_MPC 0x4010  /* missed packets (read to clear) */
#define E1000_RNBC 0x40a0 /* receive no buffers (read to clear) */
#define E1000_RXCSUM 0x5000
#define E1000_MTA 0x5200 /* 128 x 32 bits */
#define E1000_MTA_N 128
#define E1000_RAL(n) (0x5400 + 8 * (n))
#define E1000_RAH(n) (0x5404 + 8 * (n))
#define E1000_RA_N 16

/* CTRL */
#define E1000_CTRL_FD (1u << 0)
#define E1000_CTRL_LRST (1u << 3)
#define E1000_CTRL_ASDE (1u << 5)
#define E1000_CTRL_SLU (1u << 6)
#define E1000_CTRL_RST (1u << 26)
#define E1000_CTRL_PHY_RST (1u << 31)

/* STATUS */
#define E1000_STATUS_FD (1u << 0)
#define E1000_STATUS_LU (1u << 1)

/* EERD: 82540 (address << 8, DONE bit 4); 82574 (address << 2, DONE bit 1) */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE_82540 (1u << 4)
#define E1000_EERD_ADDR_SHIFT_82540 8
#define E1000_EERD_DONE_82574 (1u << 1)
#define E1000_EERD_ADDR_SHIFT_82574 2
#define E1000_EERD_DATA_SHIFT 16
#define E1000_EEPROM_CSUM_WORDS 0x40 /* words 0..0x3f sum to 0xbaba */
#define E1000_EEPROM_CSUM 0xbaba

/* ICR / IMS / IMC / ICS */
#define E1000_ICR_TXDW (1u << 0)
#define E1000_ICR_TXQE (1u << 1)
#define E1000_ICR_LSC (1u << 2)
#define E1000_ICR_RXSEQ (1u << 3)
#define E1000_ICR_RXDMT0 (1u << 4)
#define E1000_ICR_RXO (1u << 6)
#define E1000_ICR_RXT0 (1u << 7)

/* RCTL */
#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_SBP (1u << 2)
#define E1000_RCTL_UPE (1u << 3)
#define E1000_RCTL_MPE (1u << 4)
#define E1000_RCTL_LPE (1u << 5)
#define E1000_RCTL_RDMTS_HALF (0u << 8)
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_BAM (1u << 15)
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_BSIZE_MASK (3u << 16)
#define E1000_RCTL_BSEX (1u << 25)
#define E1000_RCTL_SECRC (1u << 26)
/* BSIZE 11b with BSEX: 4096-byte buffers */
#define E1000_RCTL_BSIZE_2048 (0u << E1000_RCTL_BSIZE_SHIFT) /* BSEX off */
#define E1000_RCTL_BSIZE_4096 (E1000_RCTL_BSEX | (3u << E1000_RCTL_BSIZE_SHIFT))

/* TCTL */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)
#define E1000_TCTL_CT_SHIFT 4
#define E1000_TCTL_COLD_SHIFT 12

/* TIPG for the 82540 on copper (manual 13.4.34): IPGT 10, IPGR1 8, IPGR2 6 */
#define E1000_TIPG_DEFAULT (10u | (8u << 10) | (6u << 20))

/* RXCSUM */
#define E1000_RXCSUM_IPOFLD (1u << 8)
#define E1000_RXCSUM_TUOFLD (1u << 9)

/* RAH */
#define E1000_RAH_AV (1u << 31)

#endif
