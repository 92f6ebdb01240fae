/* Stateless helpers shared by the IP transports (udp, the ICMP echo
 * sockets, tcp next): what an ICMP error means as an errno, and the
 * options every IP endpoint keeps, with one setter and one getter. */
#ifndef LYRA_L4_IP_H
#define LYRA_L4_IP_H

#include <errno.h>
#include <stdint.h>

#include "lyra/l4.h"

/* The errno an ICMP error (RFC 792) means to an endpoint, 0: nothing to
 * report. Linux's table (icmp_err_convert), with Linux-only errnos replaced
 * by portable ones: code 7 EHOSTDOWN and code 8 ENONET -> EHOSTUNREACH. */
static inline int lyra_l4_icmp_errno(uint8_t type, uint8_t code)
{
    switch (type) {
    case 3: /* destination unreachable */
        switch (code) {
        case 0: case 6: case 9: case 11: /* net unreachable/unknown/prohibited/for TOS */
            return ENETUNREACH;
        case 2: /* protocol unreachable */
            return ENOPROTOOPT;
        case 3: /* port unreachable */
            return ECONNREFUSED;
        case 4: /* fragmentation needed and DF set (RFC 1191) */
            return EMSGSIZE;
        case 5: /* source route failed */
            return EOPNOTSUPP;
        default:
            return code <= 15 ? EHOSTUNREACH : 0; /* unknown codes ignored, as Linux */
        }
    case 11: /* time exceeded */
        return EHOSTUNREACH;
    case 12: /* parameter problem */
        return EPROTO;
    default:
        return 0; /* source quench and the rest: nothing to report (RFC 6633) */
    }
}

/* What every IP endpoint keeps for its options (issue 8.5): the pending
 * error (SO_ERROR), TTL and TOS of what it sends, and the linger time
 * (SO_LINGER: -1 off, else seconds; 0 makes close abort). A transport
 * embeds one per endpoint, sets it up with lyra_l4_ipopts_init when the
 * endpoint opens, and passes every setopt/getopt through the helpers
 * below before its own options. The receive and send timeouts are the
 * socket layer's (per descriptor, LYRA_FD_RCVTIMEO/SNDTIMEO): an endpoint
 * never waits. */
struct lyra_l4_ipopts {
    int err;        /* pending error, positive errno; 0: none */
    uint8_t ttl;    /* 0: l3's own ttl */
    uint8_t tos;
    int32_t linger; /* -1: off */
};

static inline void lyra_l4_ipopts_init(struct lyra_l4_ipopts *o)
{
    o->err = 0;
    o->ttl = 0;
    o->tos = 0;
    o->linger = -1;
}

/* The pending error as a return value (-errno), reported once; 0: none. */
static inline int lyra_l4_take_err(struct lyra_l4_ipopts *o)
{
    int r = o->err;
    o->err = 0;
    return -r;
}

/* Linux's rules: TTL -1 means the default again (stored as 0, which l3
 * output reads as ip's own ttl), else 1..255 (RFC 1122 3.2.1.7: a host
 * never sends TTL 0); TOS 0..255; SO_LINGER -1 or a time >= 0; SO_ERROR is
 * read-only. Returns 0, -EINVAL, -ENOPROTOOPT, or 1 when opt is none of
 * these (the transport goes on with its own options). */
static inline int lyra_l4_ipopt_set(struct lyra_l4_ipopts *o, int opt, int val)
{
    switch (opt) {
    case LYRA_IP_TTL:
        if (val != -1 && (val < 1 || val > 255))
            return -EINVAL;
        o->ttl = val == -1 ? 0 : (uint8_t)val;
        return 0;
    case LYRA_IP_TOS:
        if (val < 0 || val > 255)
            return -EINVAL;
        o->tos = (uint8_t)val;
        return 0;
    case LYRA_SO_LINGER:
        if (val < -1)
            return -EINVAL;
        o->linger = val;
        return 0;
    case LYRA_SO_ERROR:
        return -ENOPROTOOPT;
    default:
        return 1;
    }
}

/* SO_ERROR reads and clears the pending error; IP_TTL reads the TTL sent
 * with (default_ttl when the endpoint has none of its own; 0 if the
 * transport cannot know l3's). Returns 0, or 1 when opt is none of these. */
static inline int lyra_l4_ipopt_get(struct lyra_l4_ipopts *o, int opt, int *val,
                                    uint8_t default_ttl)
{
    switch (opt) {
    case LYRA_SO_ERROR:
        *val = o->err;
        o->err = 0;
        return 0;
    case LYRA_IP_TTL:
        *val = o->ttl ? o->ttl : default_ttl;
        return 0;
    case LYRA_IP_TOS:
        *val = o->tos;
        return 0;
    case LYRA_SO_LINGER:
        *val = o->linger;
        return 0;
    default:
        return 1;
    }
}

#endif
