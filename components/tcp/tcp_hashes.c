#include "tcp_hashes.h"

#include "lyra/siphash.h"

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

uint32_t tcp_isn(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr,
                 uint16_t rport, uint64_t now_ns)
{
    uint8_t m[12];
    put32(m, laddr);
    put32(m + 4, raddr);
    put32(m + 8, (uint32_t)lport << 16 | rport);
    /* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey) */
    return (uint32_t)(now_ns / 4000) + (uint32_t)lyra_siphash24(key, m, sizeof(m));
}

uint32_t tcp_port_offset(const uint8_t key[16], uint32_t laddr, uint32_t raddr, uint16_t rport)
{
    uint8_t m[11];
    put32(m, laddr);
    put32(m + 4, raddr);
    m[8] = (uint8_t)(rport >> 8), m[9] = (uint8_t)rport;
    m[10] = 'p'; /* not the ISN's input: its own function F */
    return (uint32_t)lyra_siphash24(key, m, sizeof(m));
}

uint32_t tcp_ts_offset(const uint8_t key[16], uint32_t laddr, uint32_t raddr)
{
    uint8_t m[9];
    put32(m, laddr);
    put32(m + 4, raddr);
    m[8] = 't';
    return (uint32_t)lyra_siphash24(key, m, sizeof(m));
}

int tcp_port_pick(uint32_t offset, uint32_t *next, uint16_t min, uint16_t max,
                  int (*usable)(void *ctx, uint16_t port), void *ctx, uint16_t *port)
{
    if (min > max)
        return -1;
    uint32_t n = (uint32_t)max - min + 1;
    for (uint32_t count = n; count > 0; count--) {
        uint16_t p = (uint16_t)(min + (*next + offset) % n);
        ++*next;
        if (usable(ctx, p)) {
            *port = p;
            return 0;
        }
    }
    return -1;
}
