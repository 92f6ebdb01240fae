/* IEEE 802.3 CRC-32: see eth_fcs.h. */
#include "eth_fcs.h"

/* CRC-32 of IEEE 802.3 (reflected 0xEDB88320), four bits at a time. */
static uint32_t eth_crc(const uint8_t *p, uint32_t len)
{
    static const uint32_t tab[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
    };
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < len; i++) {
        c ^= p[i];
        c = (c >> 4) ^ tab[c & 15];
        c = (c >> 4) ^ tab[c & 15];
    }
    return ~c;
}

bool eth_fcs_good(const uint8_t *p, uint32_t len)
{
    uint32_t c = eth_crc(p, len - ETH_FCS_LEN);
    const uint8_t *f = p + len - ETH_FCS_LEN;
    return f[0] == (uint8_t)c && f[1] == (uint8_t)(c >> 8) && f[2] == (uint8_t)(c >> 16) &&
           f[3] == (uint8_t)(c >> 24);
}
