/* Helpers shared by the ip unit tests: frames of the Linux captures in
 * tests/data (README.txt there) and hand-built fragments. */
#ifndef IP_TEST_UTIL_H
#define IP_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "ipv4_wire.h"
#include "lt.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define LINUX_IP IP(192, 0, 2, 1)
#define STACK_IP IP(192, 0, 2, 2)
#define ETH_HLEN 14
#define MS 1000000ull
#define S 1000000000ull

struct frame {
    uint8_t b[1600];
    uint32_t len;
};

/* Frame n (1-based, as tshark numbers them) of tests/data/NAME. */
static inline void load_frame(const char *name, unsigned n, struct frame *f)
{
    struct lt_pcap p;
    cr_assert_eq(lt_pcap_open(&p, name), 0, "cannot open %s", name);
    const uint8_t *fr = NULL;
    uint32_t len = 0;
    for (unsigned i = 0; i < n; i++)
        len = lt_pcap_next(&p, &fr);
    cr_assert(len > 0 && len <= sizeof(f->b), "%s has no frame %u", name, n);
    memcpy(f->b, fr, len);
    f->len = len;
    lt_pcap_close(&p);
}

/* The IP datagram inside an Ethernet frame. */
static inline const uint8_t *l3(const struct frame *f)
{
    return f->b + ETH_HLEN;
}

static inline uint32_t l3_len(const struct frame *f)
{
    return f->len - ETH_HLEN;
}

/* Writes a fragment (20-byte header, then len bytes of data) into buf and
 * returns its length. off in bytes. */
static inline uint32_t make_frag(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t id,
                                 uint8_t proto, uint32_t off, int mf, const uint8_t *data,
                                 uint32_t len)
{
    struct ipv4_repr r = {.src = src, .dst = dst, .proto = proto, .ttl = 64, .id = id,
                          .mf = mf != 0, .frag_off = off, .payload_len = len};
    ipv4_repr_emit(&r, buf);
    memcpy(buf + IPV4_HDR_LEN, data, len);
    return IPV4_HDR_LEN + len;
}

#endif
