/* A UDP service's thread: blocking recvfrom, one answer per datagram
 * (RFC 862, 863, 864 "UDP Based ... Service"). */
#include <errno.h>
#include <stdlib.h>

#include "svc.h"
#include "svc_pattern.h"

int svc_udp_alloc(struct svc *v)
{
    v->buf = lyra_pkt_alloc(v->s, SVC_UDP_BUF);
    return v->buf ? 0 : -ENOMEM;
}

void svc_udp_free(struct svc *v)
{
    lyra_pkt_free(v->s, v->buf);
    v->buf = NULL;
}

void *svc_udp_loop(void *arg)
{
    struct svc *v = arg;
    uint64_t line = 0;
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = lyra_recvfrom(v->s, v->fd, v->buf, SVC_UDP_BUF, 0, (struct sockaddr *)&from,
                                  &fl);
        if (n < 0) {
            if (errno == ECANCELED || errno == EBADF)
                break;
            continue; /* e.g. a pending ICMP error: keep serving */
        }
        if (v->kind == SVC_ECHO) {
            lyra_sendto(v->s, v->fd, v->buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        } else if (v->kind == SVC_CHARGEN) {
            /* RFC 864: a datagram of a random number (0..512) of characters,
             * starting the line after the previous datagram's last one */
            size_t len = (size_t)(rand_r(&v->seed) % 513);
            chargen_fill(v->buf, len, line * CHARGEN_LINE);
            line += (len + CHARGEN_LINE - 1) / CHARGEN_LINE;
            lyra_sendto(v->s, v->fd, v->buf, len, 0, (struct sockaddr *)&from, fl);
        }
    }
    return NULL;
}
