/* UDP datagrams (header and data, as IP carried them) from real Linux
 * traffic, for the udp tests. Each array is the IP payload of one frame,
 * copied from `tshark -r FILE -x` (tests/data/udp/README.txt and
 * tests/data/ip/README.txt say how the captures were made). */
#ifndef UDP_VECTORS_H
#define UDP_VECTORS_H

#include <stdint.h>

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define LINUX_IP IP4(192, 0, 2, 1)
#define STACK_IP IP4(192, 0, 2, 2)
#define SUBNET_BCAST IP4(192, 0, 2, 255)

/* tests/data/udp/udp-linux.pcap frame 1: 192.0.2.1:40000 -> 192.0.2.2:7,
 * "Lyra!" (odd length), checksum 0xffad. */
static const uint8_t linux_lyra[] = {0x9c, 0x40, 0x00, 0x07, 0x00, 0x0d, 0xff,
                                     0xad, 0x4c, 0x79, 0x72, 0x61, 0x21};
/* frame 4: 192.0.2.1:40002 -> 192.0.2.2:9, "nocsum", sent with SO_NO_CHECK:
 * checksum 0 (none). */
static const uint8_t linux_nocsum[] = {0x9c, 0x42, 0x00, 0x09, 0x00, 0x0e, 0x00,
                                       0x00, 0x6e, 0x6f, 0x63, 0x73, 0x75, 0x6d};
/* frame 5: 192.0.2.1:40003 -> 192.0.2.2:9, "Lyra" 20 a7: its checksum
 * computes to 0, which Linux sent as 0xffff (RFC 768). */
static const uint8_t linux_ffff[] = {0x9c, 0x43, 0x00, 0x09, 0x00, 0x0e, 0xff,
                                     0xff, 0x4c, 0x79, 0x72, 0x61, 0x20, 0xa7};
/* frame 6: 192.0.2.1:40000 -> 192.0.2.2:9, no data, checksum 0xdf90. */
static const uint8_t linux_empty[] = {0x9c, 0x40, 0x00, 0x09, 0x00, 0x08, 0xdf, 0x90};
/* frame 3: 192.0.2.1:40001 -> 192.0.2.255:9 (broadcast), "bcast", 0xa6b1. */
static const uint8_t linux_bcast[] = {0x9c, 0x41, 0x00, 0x09, 0x00, 0x0d, 0xa6,
                                      0xb1, 0x62, 0x63, 0x61, 0x73, 0x74};
/* tests/data/ip/udp-unreach-linux.pcap frame 1: 192.0.2.1:46351 ->
 * 192.0.2.2:9, "lyranet\n". Captured with transmit checksum offload on:
 * 0x8425 is only the pseudo header's folded sum (the seed a NIC starts
 * from), not a valid checksum. */
static const uint8_t linux_seed[] = {0xb5, 0x0f, 0x00, 0x09, 0x00, 0x10, 0x84, 0x25,
                                     0x6c, 0x79, 0x72, 0x61, 0x6e, 0x65, 0x74, 0x0a};

#endif
