/* TCP options: parsing and building (see tcp_wire.h). */
#include "tcp_wire.h"

/* The one length each fixed-size kind must have, and the error when not. */
static enum tcp_parse_result fixed_len(uint8_t kind, uint8_t len)
{
    switch (kind) {
    case TCP_OPT_MSS:
        return len == 4 ? TCP_OK : TCP_E_MSS_LEN; /* RFC 9293 3.2 */
    case TCP_OPT_WS:
        return len == 3 ? TCP_OK : TCP_E_WS_LEN; /* RFC 7323 2.2 */
    case TCP_OPT_SACK_PERM:
        return len == 2 ? TCP_OK : TCP_E_SACK_PERM_LEN; /* RFC 2018 2 */
    case TCP_OPT_TS:
        return len == 10 ? TCP_OK : TCP_E_TS_LEN; /* RFC 7323 3.2 */
    case TCP_OPT_SACK:
        /* RFC 2018 3: 2 + 8n bytes; n <= 4 is also what 40 bytes hold */
        return len >= 10 && len <= 34 && (len - 2) % 8 == 0 ? TCP_OK : TCP_E_SACK_LEN;
    default:
        return TCP_OK;
    }
}

static void note_seen(struct tcp_hdr_opts *o, uint8_t bit)
{
    if (o->has & bit)
        o->notes |= TCP_NOTE_DUP;
    o->has |= bit;
}

enum tcp_parse_result tcp_opts_parse(const uint8_t *p, uint32_t len, struct tcp_hdr_opts *o)
{
    *o = (struct tcp_hdr_opts){0};
    /* RFC 7323 Appendix A: the layout nearly every segment of a
     * timestamped connection carries (NOP, NOP, TS), taken in one step */
    if (len == 12 && p[0] == TCP_OPT_NOP && p[1] == TCP_OPT_NOP && p[2] == TCP_OPT_TS &&
        p[3] == 10) {
        o->has = TCP_HAS_TS;
        o->tsval = tcp_ld32(p + 4);
        o->tsecr = tcp_ld32(p + 8);
        return TCP_OK;
    }
    uint32_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == TCP_OPT_EOL)
            break; /* RFC 9293 3.2: the rest is padding */
        if (kind == TCP_OPT_NOP) {
            i++;
            continue;
        }
        /* every other kind has a length byte counting kind and length */
        if (i + 1 >= len)
            return TCP_E_OPT_TRUNC;
        uint8_t olen = p[i + 1];
        if (olen < 2)
            return TCP_E_OPT_LEN; /* RFC 9293 3.1 MUST-7: a zero length would loop */
        if (olen > len - i)
            return TCP_E_OPT_OVERRUN;
        enum tcp_parse_result e = fixed_len(kind, olen);
        if (e != TCP_OK)
            return e;
        const uint8_t *v = p + i + 2;
        switch (kind) {
        case TCP_OPT_MSS:
            note_seen(o, TCP_HAS_MSS);
            o->mss = tcp_ld16(v);
            break;
        case TCP_OPT_WS:
            note_seen(o, TCP_HAS_WS);
            o->ws_raw = v[0];
            /* RFC 7323 2.3: log a shift over 14 and use 14 */
            o->ws = v[0] > TCP_WS_MAX ? (uint8_t)TCP_WS_MAX : v[0];
            if (v[0] > TCP_WS_MAX)
                o->notes |= TCP_NOTE_WS_CLAMPED;
            break;
        case TCP_OPT_SACK_PERM:
            note_seen(o, TCP_HAS_SACK_PERM);
            break;
        case TCP_OPT_SACK:
            note_seen(o, TCP_HAS_SACK);
            o->nsack = (uint8_t)((olen - 2) / 8);
            for (unsigned k = 0; k < o->nsack; k++) {
                o->sack[k].left = tcp_seq(tcp_ld32(v + 8 * k));
                o->sack[k].right = tcp_seq(tcp_ld32(v + 8 * k + 4));
            }
            break;
        case TCP_OPT_TS:
            note_seen(o, TCP_HAS_TS);
            o->tsval = tcp_ld32(v);
            o->tsecr = tcp_ld32(v + 4);
            break;
        default:
            o->notes |= TCP_NOTE_UNKNOWN; /* RFC 9293 3.1 MUST-6: skip by length */
            break;
        }
        i += olen;
    }
    return TCP_OK;
}

static uint8_t *put4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    p[0] = a;
    p[1] = b;
    p[2] = c;
    p[3] = d;
    return p + 4;
}

uint32_t tcp_opts_build(uint8_t *p, const struct tcp_hdr_opts *o)
{
    uint8_t *w = p;
    if (o->has & TCP_HAS_MSS)
        w = put4(w, TCP_OPT_MSS, 4, (uint8_t)(o->mss >> 8), (uint8_t)o->mss);
    if (o->has & TCP_HAS_TS) {
        /* Linux puts SACK-permitted in the padding before the timestamps */
        if (o->has & TCP_HAS_SACK_PERM)
            w = put4(w, TCP_OPT_SACK_PERM, 2, TCP_OPT_TS, 10);
        else
            w = put4(w, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_TS, 10);
        tcp_st32(w, o->tsval);
        tcp_st32(w + 4, o->tsecr);
        w += 8;
    } else if (o->has & TCP_HAS_SACK_PERM) {
        w = put4(w, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK_PERM, 2);
    }
    if (o->has & TCP_HAS_WS)
        w = put4(w, TCP_OPT_NOP, TCP_OPT_WS, 3, o->ws);
    if (o->has & TCP_HAS_SACK) {
        w = put4(w, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK, (uint8_t)(2 + 8 * o->nsack));
        for (unsigned k = 0; k < o->nsack; k++) {
            tcp_st32(w, o->sack[k].left.v);
            tcp_st32(w + 4, o->sack[k].right.v);
            w += 8;
        }
    }
    return (uint32_t)(w - p);
}
