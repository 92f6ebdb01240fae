/* e1000 descriptor layouts (manual 3.2.3 receive, 3.3.3 legacy transmit,
 * 3.3.6 TCP/IP context, 3.3.7 TCP/IP data) and little-endian load/store
 * helpers. Descriptors live in DMA memory the device also writes: every
 * access goes through these helpers, byte order explicit, and the status
 * byte the device writes back is read with a volatile load. */
#ifndef NIC_DMA_E1000_DESC_H
#define NIC_DMA_E1000_DESC_H

#include <stdint.h>
#include <string.h>

#define E1000_DESC_SIZE 16

/* receive descriptor: addr 0..7, length 8..9, checksum 10..11, status 12,
 * errors 13, special 14..15 */
#define E1000_RXD_STAT_DD 0x01
#define E1000_RXD_STAT_EOP 0x02
#define E1000_RXD_STAT_IXSM 0x04 /* ignore checksum indication */
#define E1000_RXD_STAT_TCPCS 0x20
#define E1000_RXD_STAT_IPCS 0x40
#define E1000_RXD_ERR_CE 0x01
#define E1000_RXD_ERR_SE 0x02
#define E1000_RXD_ERR_SEQ 0x04
#define E1000_RXD_ERR_CXE 0x10
#define E1000_RXD_ERR_TCPE 0x20
#define E1000_RXD_ERR_IPE 0x40
#define E1000_RXD_ERR_RXE 0x80
#define E1000_RXD_ERR_FRAME \
    (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | E1000_RXD_ERR_CXE | \
     E1000_RXD_ERR_RXE)

/* legacy transmit descriptor: addr 0..7, length 8..9, CSO 10, CMD 11,
 * STA 12, CSS 13, special 14..15 */
#define E1000_TXD_CMD_EOP 0x01
#define E1000_TXD_CMD_IFCS 0x02
#define E1000_TXD_CMD_IC 0x04  /* legacy descriptors */
#define E1000_TXD_CMD_TSE 0x04 /* TCP/IP data descriptors: DCMD.TSE (3.3.7) */
#define E1000_TXD_CMD_RS 0x08
#define E1000_TXD_CMD_DEXT 0x20
#define E1000_TXD_STAT_DD 0x01
/* extended descriptors: DTYP in bits 20..23 of the dword at 8 */
#define E1000_TXD_DTYP_CTX 0x0
#define E1000_TXD_DTYP_DATA 0x1
/* context TUCMD (bits 24..31 of the dword at 8) */
#define E1000_TXD_TUCMD_TCP 0x01
#define E1000_TXD_TUCMD_IP 0x02
#define E1000_TXD_TUCMD_TSE 0x04
/* data descriptor POPTS (byte 13) */
#define E1000_TXD_POPTS_IXSM 0x01
#define E1000_TXD_POPTS_TXSM 0x02
/* the largest buffer one transmit descriptor may carry (manual 3.3.3) */
#define E1000_TXD_MAX_LEN 16288

static inline uint16_t e1000_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t e1000_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t e1000_ld64(const uint8_t *p)
{
    return (uint64_t)e1000_ld32(p) | (uint64_t)e1000_ld32(p + 4) << 32;
}

static inline void e1000_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void e1000_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void e1000_st64(uint8_t *p, uint64_t v)
{
    e1000_st32(p, (uint32_t)v);
    e1000_st32(p + 4, (uint32_t)(v >> 32));
}

/* The byte the device writes back (DD): a fresh load every time, then an
 * acquire fence so the rest of the descriptor and the buffer are read
 * after it. */
static inline uint8_t e1000_ld_status(const uint8_t *d, unsigned off)
{
    uint8_t v = *(const volatile uint8_t *)(d + off);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return v;
}

/* receive descriptor view */
static inline uint16_t e1000_rxd_len(const uint8_t *d)
{
    return e1000_ld16(d + 8);
}
static inline uint8_t e1000_rxd_status(const uint8_t *d)
{
    return e1000_ld_status(d, 12);
}
static inline uint8_t e1000_rxd_errors(const uint8_t *d)
{
    return d[13];
}

static inline uint8_t e1000_txd_status(const uint8_t *d)
{
    return e1000_ld_status(d, 12);
}

/* Arms a receive descriptor with a buffer (status cleared). */
void e1000_rxd_arm(uint8_t *d, uint64_t buf_bus);
/* A legacy transmit descriptor. */
void e1000_txd_legacy(uint8_t *d, uint64_t addr, uint16_t len, uint8_t cmd);
/* A TCP/IP context descriptor: TCP/UDP checksum from tucss to tucse
 * (0: the end of the packet), stored at tucso; IP checksum likewise
 * (ipcss 0, ipcso 0: none). */
void e1000_txd_context(uint8_t *d, uint8_t ipcss, uint8_t ipcso, uint16_t ipcse, uint8_t tucss,
                       uint8_t tucso, uint16_t tucse, uint8_t tucmd);
/* The fields of a TCP segmentation context (manual 3.3.6, 3.5): the
 * checksum offsets as above, and the packet's shape: hdrlen bytes of
 * header, then paylen (20 bits) bytes of payload cut into mss-byte frames.
 * tucmd should hold E1000_TXD_TUCMD_TSE. */
struct e1000_txd_tso {
    uint8_t ipcss, ipcso, tucss, tucso;
    uint16_t ipcse, tucse;
    uint8_t tucmd, hdrlen;
    uint16_t mss;
    uint32_t paylen;
};
void e1000_txd_tso_context(uint8_t *d, const struct e1000_txd_tso *c);
/* A TCP/IP data descriptor (DEXT, DTYP 1): dcmd uses the E1000_TXD_CMD_*
 * bits, popts the E1000_TXD_POPTS_* ones (valid on a packet's first). */
void e1000_txd_data(uint8_t *d, uint64_t addr, uint32_t len, uint8_t dcmd, uint8_t popts);

#endif
