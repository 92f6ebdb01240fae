/* ARP packets on the wire (RFC 826), for Ethernet and IPv4 only.
 *
 * Untrusted input: arp_repr_parse() checks the length once, then the fixed
 * fields, and only then fills the repr; a caller never reads the bytes
 * itself. Output: fill a struct arp_repr and arp_repr_emit() it into
 * ARP_LEN bytes. Trailing bytes after the 28 (Ethernet padding to 60) are
 * ignored, as RFC 826 packets carry no length of their own. */
#ifndef LYRA_ARP_WIRE_H
#define LYRA_ARP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "eth_wire.h"

#define ARP_LEN 28 /* 8 fixed + 2 * (6 + 4) */

#define ARP_HTYPE_ETHER 1      /* ar$hrd: Ethernet (10Mb), RFC 826 / IANA */
#define ARP_PTYPE_IPV4 0x0800  /* ar$pro: the ethertype of IPv4 */
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_repr {
    uint16_t op;
    uint8_t sha[ETH_ALEN]; /* sender hardware address */
    uint32_t spa;          /* sender protocol address, host order */
    uint8_t tha[ETH_ALEN];
    uint32_t tpa;
};

/* 0; -EBADMSG when shorter than ARP_LEN (malformed); -EPROTONOSUPPORT when
 * the hardware or protocol type or lengths are not Ethernet/IPv4 or the
 * opcode is neither request nor reply (a packet we cannot interpret, not
 * a broken one: RFC 826 says to discard it). */
int arp_repr_parse(const uint8_t *buf, size_t len, struct arp_repr *out);
/* Writes ARP_LEN bytes at buf. */
void arp_repr_emit(const struct arp_repr *r, uint8_t *buf);

#endif
