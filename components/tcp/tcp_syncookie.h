/* SYN cookies (as Linux's and FreeBSD's syncookies; D. J. Bernstein's
 * design): when a listener has no room for another half-open connection,
 * its SYN-ACK's sequence number carries what the connection needs, so
 * nothing is kept until the peer's final ACK returns it (SEG.ACK - 1).
 *
 * The cookie, 32 bits, bit 0 the lowest:
 *   0-1    MSS index: the peer's MSS rounded down to 536, 1300, 1440, 1460
 *          (Linux's IPv4 table);
 *   2-5    the peer's window shift + 1 (0: no window scale option);
 *   6      SACK-permitted;
 *   7      the low bit of the time counter (one step per 64 s);
 *   8-31   a MAC: SipHash-2-4 under the stack's secret over the 4-tuple,
 *          the peer's ISN, the whole counter and bits 0-7.
 * Window scale and SACK-permitted ride in the cookie itself (as FreeBSD
 * does), so they are not lost without timestamps; timestamps are on when
 * the ACK carries them (RFC 7323 3.2: a peer that offered them sends them
 * on every segment).
 *
 * A cookie is good while the counter is the one it was made with or the
 * next: 64 to 128 s. A guess passes with probability 2^-24 (the MAC) per
 * segment. Pure functions: time and secret are passed in. */
#ifndef LYRA_TCP_SYNCOOKIE_H
#define LYRA_TCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_COOKIE_PERIOD_MS 64000u /* one counter step */
#define TCP_COOKIE_NO_WS 0xffu      /* tcp_cookie_opts.ws: no window scale option */

/* A connection's 4-tuple, host order. */
struct tcp_tuple {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
};

/* What a cookie keeps of the peer's SYN. */
struct tcp_cookie_opts {
    uint16_t mss; /* from the table: 536, 1300, 1440 or 1460 */
    uint8_t ws;   /* the peer's shift (0..14), or TCP_COOKIE_NO_WS */
    bool sack;    /* SACK-permitted offered (and on here) */
};

/* The time counter at now_ns (monotonic). */
uint32_t tcp_cookie_count(uint64_t now_ns);

/* The cookie for a SYN with sequence number peer_isn; o->mss is rounded
 * down to the table first (below 536 counts as 536). */
uint32_t tcp_cookie_make(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                         uint32_t count, const struct tcp_cookie_opts *o);

/* Is cookie one this key made for t and peer_isn, at count or count - 1?
 * Fills *o when it is. */
bool tcp_cookie_check(const uint8_t key[16], const struct tcp_tuple *t, uint32_t peer_isn,
                      uint32_t count, uint32_t cookie, struct tcp_cookie_opts *o);

#endif
