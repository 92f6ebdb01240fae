/* DP8390 (NS DP8390D/NS32490D NIC) and NE2000 board register map.
 *
 * Offsets are relative to the board's I/O window. Registers 0x00-0x0F are
 * the DP8390's, paged by CR.PS1:PS0; 0x10 is the NE2000 remote-DMA data
 * port and 0x1F its reset port (a read resets the board). Names follow the
 * datasheet. The nic_pio driver's own: the ne2k_model device model keeps a
 * register map of its own (models/ne2k/ne2k_model_regs.h). */
#ifndef NE2K_REGS_H
#define NE2K_REGS_H

/* ----- all pages ----- */
#define NE_CR 0x00 /* command register */

/* ----- page 0, read ----- */
#define NE_CLDA0 0x01
#define NE_CLDA1 0x02
#define NE_BNRY 0x03 /* boundary pointer (r/w) */
#define NE_TSR 0x04  /* transmit status */
#define NE_NCR 0x05  /* number of collisions */
#define NE_FIFO 0x06
#define NE_ISR 0x07  /* interrupt status (r/w: write 1 to clear) */
#define NE_CRDA0 0x08 /* current remote DMA address */
#define NE_CRDA1 0x09
#define NE_RSR 0x0C   /* receive status */
#define NE_CNTR0 0x0D /* tally: frame alignment errors */
#define NE_CNTR1 0x0E /* tally: CRC errors */
#define NE_CNTR2 0x0F /* tally: missed packets */

/* ----- page 0, write ----- */
#define NE_PSTART 0x01
#define NE_PSTOP 0x02
#define NE_TPSR 0x04
#define NE_TBCR0 0x05
#define NE_TBCR1 0x06
#define NE_RSAR0 0x08
#define NE_RSAR1 0x09
#define NE_RBCR0 0x0A
#define NE_RBCR1 0x0B
#define NE_RCR 0x0C
#define NE_TCR 0x0D
#define NE_DCR 0x0E
#define NE_IMR 0x0F

/* ----- page 1 (r/w) ----- */
#define NE_PAR0 0x01 /* ..0x06 physical address */
#define NE_CURR 0x07 /* current page */
#define NE_MAR0 0x08 /* ..0x0F multicast hash */

/* ----- page 2 (read back of page 0 write registers) ----- */
#define NE_P2_PSTART 0x01
#define NE_P2_PSTOP 0x02
#define NE_P2_TPSR 0x04
#define NE_P2_RCR 0x0C
#define NE_P2_TCR 0x0D
#define NE_P2_DCR 0x0E
#define NE_P2_IMR 0x0F

/* ----- NE2000 board ----- */
#define NE_DATA 0x10  /* remote DMA data port (byte or word per DCR.WTS) */
#define NE_RESET 0x1F /* read: reset the board */
#define NE_IO_SIZE 0x20

/* CR bits */
#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RD0 0x08 /* remote read */
#define CR_RD1 0x10 /* remote write */
#define CR_RD2 0x20 /* abort/complete remote DMA */
#define CR_RDMASK 0x38
#define CR_SEND 0x18 /* send packet command (RD0|RD1) */
#define CR_PS0 0x40
#define CR_PS1 0x80
#define CR_PAGEMASK 0xC0

/* ISR / IMR bits */
#define ISR_PRX 0x01 /* packet received */
#define ISR_PTX 0x02 /* packet transmitted */
#define ISR_RXE 0x04 /* receive error */
#define ISR_TXE 0x08 /* transmit error */
#define ISR_OVW 0x10 /* receive ring overwrite warning */
#define ISR_CNT 0x20 /* a tally counter's MSB is set */
#define ISR_RDC 0x40 /* remote DMA complete */
#define ISR_RST 0x80 /* reset status (read only) */

/* DCR bits */
#define DCR_WTS 0x01 /* word transfer */
#define DCR_BOS 0x02 /* big-endian byte order */
#define DCR_LAS 0x04
#define DCR_LS 0x08  /* normal operation (not loopback select) */
#define DCR_ARM 0x10 /* auto-initialise remote (send packet) */
#define DCR_FT1 0x40 /* FIFO threshold 8 bytes (with FT0 clear) */
#define DCR_WORD (DCR_FT1 | DCR_LS | DCR_WTS) /* 0x49 */
#define DCR_BYTE (DCR_FT1 | DCR_LS)           /* 0x48 */

/* TCR bits */
#define TCR_CRC 0x01 /* inhibit CRC */
#define TCR_LB0 0x02 /* loopback mode 1 (internal) */
#define TCR_LB1 0x04
#define TCR_LBMASK 0x06
#define TCR_ATD 0x08
#define TCR_OFST 0x10

/* TSR bits */
#define TSR_PTX 0x01
#define TSR_COL 0x04
#define TSR_ABT 0x08
#define TSR_CRS 0x10
#define TSR_FU 0x20
#define TSR_CDH 0x40
#define TSR_OWC 0x80

/* RCR bits */
#define RCR_SEP 0x01 /* save errored packets */
#define RCR_AR 0x02  /* accept runts */
#define RCR_AB 0x04  /* accept broadcast */
#define RCR_AM 0x08  /* accept multicast (hashed by MAR) */
#define RCR_PRO 0x10 /* promiscuous physical */
#define RCR_MON 0x20 /* monitor: check, do not buffer */

/* RSR bits (also the status byte of the ring header) */
#define RSR_PRX 0x01
#define RSR_CRC 0x02
#define RSR_FAE 0x04
#define RSR_FO 0x08
#define RSR_MPA 0x10
#define RSR_PHY 0x20 /* multicast or broadcast */
#define RSR_DIS 0x40
#define RSR_DFR 0x80

/* NE2000 card memory: 16 KiB at 0x4000-0x7FFF, in 256-byte pages. The
 * address PROM sits at 0x0000-0x001F (each byte doubled). */
#define NE_MEM_START 0x4000
#define NE_MEM_END 0x8000
#define NE_MEM_SIZE (NE_MEM_END - NE_MEM_START)
#define NE_PAGE 256
#define NE_PROM_SIZE 32

/* The 4-byte header the DP8390 writes before each frame in the ring:
 * status (RSR), next page, byte count low, high. The count includes the
 * header (and on real hardware the CRC; QEMU and the posix model leave the
 * CRC out). */
#define NE_RXHDR_LEN 4

#endif
