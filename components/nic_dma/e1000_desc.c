/* Writers of e1000 descriptors (layouts in e1000_desc.h). The status byte
 * is written last with a release fence before it, for the device side. */
#include "e1000_desc.h"

void e1000_rxd_arm(uint8_t *d, uint64_t buf_bus)
{
    e1000_st64(d, buf_bus);
    memset(d + 8, 0, 8);
}

void e1000_txd_legacy(uint8_t *d, uint64_t addr, uint16_t len, uint8_t cmd)
{
    e1000_st64(d, addr);
    e1000_st16(d + 8, len);
    d[10] = 0; /* CSO */
    d[11] = cmd;
    d[12] = 0; /* STA: DD cleared */
    d[13] = 0; /* CSS */
    e1000_st16(d + 14, 0);
}

void e1000_txd_context(uint8_t *d, uint8_t ipcss, uint8_t ipcso, uint16_t ipcse, uint8_t tucss,
                       uint8_t tucso, uint16_t tucse, uint8_t tucmd)
{
    /* PAYLEN, HDRLEN, MSS 0: no TSE */
    const struct e1000_txd_tso c = {.ipcss = ipcss, .ipcso = ipcso, .ipcse = ipcse,
                                    .tucss = tucss, .tucso = tucso, .tucse = tucse,
                                    .tucmd = tucmd};
    e1000_txd_tso_context(d, &c);
}

/* Table 3-13 (manual 3.3.6): IPCSS 0, IPCSO 1, IPCSE 2..3, TUCSS 4, TUCSO 5,
 * TUCSE 6..7; dword 8: PAYLEN bits 0..19, DTYP 20..23, TUCMD 24..31; STA 12,
 * HDRLEN 13, MSS 14..15. */
void e1000_txd_tso_context(uint8_t *d, const struct e1000_txd_tso *c)
{
    d[0] = c->ipcss;
    d[1] = c->ipcso;
    e1000_st16(d + 2, c->ipcse);
    d[4] = c->tucss;
    d[5] = c->tucso;
    e1000_st16(d + 6, c->tucse);
    e1000_st32(d + 8, (c->paylen & 0xfffffu) | (uint32_t)E1000_TXD_DTYP_CTX << 20 |
                          (uint32_t)(c->tucmd | E1000_TXD_CMD_DEXT) << 24);
    d[12] = 0; /* STA */
    d[13] = c->hdrlen;
    e1000_st16(d + 14, c->mss);
}

void e1000_txd_data(uint8_t *d, uint64_t addr, uint32_t len, uint8_t dcmd, uint8_t popts)
{
    e1000_st64(d, addr);
    e1000_st32(d + 8, (len & 0xfffffu) | (uint32_t)E1000_TXD_DTYP_DATA << 20 |
                          (uint32_t)(dcmd | E1000_TXD_CMD_DEXT) << 24);
    d[12] = 0; /* STA */
    d[13] = popts;
    e1000_st16(d + 14, 0);
}
