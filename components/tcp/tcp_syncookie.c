#include "tcp_syncookie.h"

#include "lyra/siphash.h"

/* Linux's msstab for IPv4 (tcp_syncookies.c): the common MSS values, each
 * a little below a usual path MTU's (576, 1340 for tunnels, 1480, 1500) */
static const uint16_t mss_tab[4] = {536, 1300, 1440, 1460};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

uint32_t tcp_cookie_count(uint64_t now_ns)
{
    return (uint32_t)(now_ns / ((uint64_t)TCP_COOKIE_PERIOD_MS * 1000000u));
}

static uint32_t mac24(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                      uint32_t count, uint8_t low)
{
    uint8_t m[22];
    put32(m, t->laddr);
    put32(m + 4, t->raddr);
    put32(m + 8, (uint32_t)t->lport << 16 | t->rport);
    put32(m + 12, peer_isn);
    put32(m + 16, count);
    m[20] = low;
    m[21] = 'c'; /* not the ISN's or the ports' input: a function of its own */
    return (uint32_t)(lyra_siphash24(key, m, sizeof(m)) >> 40);
}

uint32_t tcp_cookie_make(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                         uint32_t count, const struct tcp_cookie_opts *o)
{
    uint32_t idx = 0;
    while (idx < 3 && mss_tab[idx + 1] <= o->mss)
        idx++;
    uint32_t ws = o->ws <= 14 ? o->ws + 1u : 0u;
    uint8_t low = (uint8_t)(idx | ws << 2 | (o->sack ? 1u : 0u) << 6 | (count & 1u) << 7);
    return mac24(key, t, peer_isn, count, low) << 8 | low;
}

bool tcp_cookie_check(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                      uint32_t count, uint32_t cookie, struct tcp_cookie_opts *o)
{
    uint8_t low = (uint8_t)cookie;
    /* the one counter of {count, count - 1} with the cookie's low bit */
    uint32_t made = count - ((count ^ (uint32_t)(low >> 7)) & 1u);
    if (mac24(key, t, peer_isn, made, low) != cookie >> 8)
        return false;
    uint32_t ws = (low >> 2) & 0xfu; /* 1..15: shifts 0..14, every one RFC 7323 allows */
    o->mss = mss_tab[low & 3u];
    o->ws = ws ? (uint8_t)(ws - 1u) : (uint8_t)TCP_COOKIE_NO_WS;
    o->sack = (low >> 6) & 1u;
    return true;
}
