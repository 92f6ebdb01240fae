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
    d[0] = ipcss;
    d[1] = ipcso;
    e1000_st16(d + 2, ipcse);
    d[4] = tucss;
    d[5] = tucso;
    e1000_st16(d + 6, tucse);
    /* PAYLEN 0 (no TSE), DTYP 0 (context), TUCMD with DEXT */
    e1000_st32(d + 8, (uint32_t)E1000_TXD_DTYP_CTX << 20 |
                          (uint32_t)(tucmd | E1000_TXD_CMD_DEXT) << 24);
    d[12] = 0; /* STA */
    d[13] = 0; /* HDRLEN */
    e1000_st16(d + 14, 0); /* MSS */
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
