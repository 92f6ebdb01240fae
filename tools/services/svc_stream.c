/* echo (RFC 862), discard (RFC 863), chargen (RFC 864) and stall over a
 * TCP connection, one non-blocking step at a time (svc_tcp.c polls). */
#include <string.h>

#include "svc.h"
#include "svc_pattern.h"

short svc_stream_events(const struct svc *v, const struct svc_conn *c)
{
    switch (v->kind) {
    case SVC_ECHO: /* read only into room; write while something is held */
        return (short)((c->len - c->off < SVC_ECHO_BUF && !c->eof ? POLLIN : 0) |
                       (c->off < c->len ? POLLOUT : 0));
    case SVC_DISCARD:
        return POLLIN;
    case SVC_CHARGEN:
        return (short)(POLLOUT | (c->eof ? 0 : POLLIN));
    default: /* stall: never reads; only notices the peer leaving */
        return POLLRDHUP;
    }
}

/* RFC 862: what arrives goes back. Reading stops while the buffer is
 * full, so a peer that does not read its echo stops being read. */
static int echo(struct svc *v, struct svc_conn *c)
{
    for (int round = 0; round < SVC_ROUNDS; round++) {
        long got = 0, put = 0;
        if (c->off < c->len) {
            put = svc_send(v, c, c->buf + c->off, c->len - c->off);
            if (put < 0)
                return svc_bail(put);
            c->off += (size_t)put;
            if (c->off == c->len)
                c->off = c->len = 0;
        }
        if (c->len - c->off < SVC_ECHO_BUF && !c->eof) {
            if (c->off) { /* what is held moves to the front, the room behind it */
                memmove(c->buf, c->buf + c->off, c->len - c->off);
                c->len -= c->off;
                c->off = 0;
            }
            got = svc_recv(v, c, c->buf + c->len, SVC_ECHO_BUF - c->len);
            if (got == 0)
                c->eof = 1;
            else if (got > 0)
                c->len += (size_t)got;
            else if (got != SVC_AGAIN)
                return svc_bail(got);
        }
        if (c->eof && c->off == c->len)
            return SVC_CLOSE; /* all echoed and the peer is done */
        if (got <= 0 && put <= 0)
            break;
    }
    return SVC_KEEP;
}

/* RFC 863: read and throw away until the peer closes. One segment's
 * payload per read, each into the next page of the scratch buffer (packet
 * memory): on a zero-copy assembly such a read may remap the received page
 * instead of copying it (socket.h); the rounds read as much per wake-up
 * as SVC_ROUNDS reads of the whole buffer would. */
static int discard(struct svc *v, struct svc_conn *c)
{
    size_t pages = v->page + SVC_RX_SEG <= SVC_SCRATCH ? SVC_SCRATCH / v->page : 1;
    size_t rounds = SVC_ROUNDS * (SVC_SCRATCH / SVC_RX_SEG);
    for (size_t round = 0; round < rounds; round++) {
        long got = svc_recv(v, c, v->buf + (round % pages) * v->page, SVC_RX_SEG);
        if (got == 0)
            return SVC_CLOSE;
        if (got == SVC_AGAIN)
            break;
        if (got < 0)
            return svc_bail(got);
    }
    return SVC_KEEP;
}

/* RFC 864: the pattern without end, whatever arrives thrown away, until
 * sending fails (the peer closed). Sent from a precomputed table of two
 * periods, so any window of one period is contiguous. */
static int chargen(struct svc *v, struct svc_conn *c, short rev)
{
    if ((rev & (POLLIN | POLLHUP | POLLERR)) && !c->eof) {
        long got = svc_recv(v, c, v->buf, SVC_SCRATCH);
        if (got == 0)
            c->eof = 1;
        else if (got < 0 && got != SVC_AGAIN)
            return svc_bail(got);
    }
    for (int round = 0; round < SVC_ROUNDS; round++) {
        long put = svc_send(v, c, v->table + c->pos % CHARGEN_PERIOD, CHARGEN_PERIOD);
        if (put < 0)
            return svc_bail(put);
        if (!put)
            break;
        c->pos += (uint64_t)put;
    }
    return SVC_KEEP;
}

int svc_stream_io(struct svc *v, struct svc_conn *c, short rev)
{
    switch (v->kind) {
    case SVC_ECHO:
        return echo(v, c);
    case SVC_DISCARD:
        return discard(v, c);
    case SVC_CHARGEN:
        return chargen(v, c, rev);
    default:
        return rev ? SVC_CLOSE : SVC_KEEP; /* stall: RDHUP, HUP or ERR */
    }
}
