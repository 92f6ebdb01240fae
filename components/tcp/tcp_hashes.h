/* The values of a connection an off-path attacker must not guess, from one
 * keyed hash (SipHash-2-4, lyra/siphash.h) with a 16-byte secret drawn from
 * os random at start:
 *   - the initial sequence number, RFC 6528: ISN = M + F(4-tuple, key),
 *     M a clock ticking every 4 us (RFC 9293 3.4.1);
 *   - the ephemeral port, RFC 6056 3.3.3 (algorithm 3, "simple hash-based"):
 *     a per-destination offset, so ports toward one destination stay
 *     sequential (few collisions with TIME_WAIT) while another destination
 *     learns nothing from them;
 *   - the timestamp offset of a connection made from a SYN cookie (RFC
 *     7323 5.4 / 7.1: TSval = clock + offset, the offset per address pair,
 *     as Linux's secure_tcp_ts_off): with no state between SYN-ACK and ACK
 *     it must be computable again. Other connections draw theirs at random.
 * Addresses and ports in host order. */
#ifndef LYRA_TCP_HASHES_H
#define LYRA_TCP_HASHES_H

#include <stdint.h>

uint32_t tcp_isn(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr,
                 uint16_t rport, uint64_t now_ns);

uint32_t tcp_port_offset(const uint8_t key[16], uint32_t laddr, uint32_t raddr, uint16_t rport);

uint32_t tcp_ts_offset(const uint8_t key[16], uint32_t laddr, uint32_t raddr);

/* RFC 6056 3.3.3's loop: the first port of [min, max] from
 * min + (*next + offset) % n on that `usable` accepts; *next advances past
 * every port tried. 0 and *port, or -1 when none is usable. */
int tcp_port_pick(uint32_t offset, uint32_t *next, uint16_t min, uint16_t max,
                  int (*usable)(void *ctx, uint16_t port), void *ctx, uint16_t *port);

#endif
