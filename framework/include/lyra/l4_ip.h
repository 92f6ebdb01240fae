/* Stateless helpers shared by the IP transports (udp, the ICMP echo
 * sockets, tcp next): what an ICMP error means as an errno. */
#ifndef LYRA_L4_IP_H
#define LYRA_L4_IP_H

#include <errno.h>
#include <stdint.h>

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

#endif
