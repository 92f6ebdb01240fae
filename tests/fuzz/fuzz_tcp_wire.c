/* libFuzzer entry for tcp's wire format (components/tcp/tcp_wire.h): the
 * whole input is one TCP segment (header, options, data) as IP would hand
 * it up, parsed from a buffer of exactly its size.
 *
 * Checked on every input, abort() otherwise so the fuzzer keeps it:
 *  - the result is one of enum tcp_parse_result;
 *  - an accepted header lies inside the input, its payload is the rest,
 *    at most 4 SACK blocks, a window shift of at most 14;
 *  - when its options fit in 40 bytes (Linux's layout is not always the
 *    most compact), the header built again parses to the same fields, and
 *    a checksum filled in over the rebuilt segment verifies;
 *  - the checksum of the input computes without reading past it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_tcp_wire: %s\n", what);
        abort();
    }
}

static int same_opts(const struct tcp_hdr_opts *a, const struct tcp_hdr_opts *b)
{
    if (a->has != b->has)
        return 0;
    if ((a->has & TCP_HAS_MSS) && a->mss != b->mss)
        return 0;
    if ((a->has & TCP_HAS_WS) && a->ws != b->ws)
        return 0;
    if ((a->has & TCP_HAS_TS) && (a->tsval != b->tsval || a->tsecr != b->tsecr))
        return 0;
    if (a->has & TCP_HAS_SACK) {
        if (a->nsack != b->nsack)
            return 0;
        for (unsigned k = 0; k < a->nsack; k++)
            if (a->sack[k].left.v != b->sack[k].left.v ||
                a->sack[k].right.v != b->sack[k].right.v)
                return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535)
        return 0; /* an IPv4 payload is shorter */
    uint32_t len = (uint32_t)size;
    uint8_t *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    (void)tcp_csum_verify(p, len, 0xc0000201u, 0xc0000202u);

    struct tcp_repr r;
    enum tcp_parse_result e = tcp_repr_parse(p, len, &r);
    must((unsigned)e < TCP_PARSE_NRESULTS, "result out of the enum");
    if (e != TCP_OK) {
        free(p);
        return 0;
    }
    must(r.hlen >= TCP_HDR_LEN && r.hlen <= TCP_HDR_MAX && r.hlen <= len, "header length");
    must(r.payload_off == r.hlen && r.payload_off + r.payload_len == len, "payload");
    must(r.opt.ws <= TCP_WS_MAX && r.opt.ws <= r.opt.ws_raw, "window shift");
    must(!(r.opt.has & TCP_HAS_SACK) || (r.opt.nsack >= 1 && r.opt.nsack <= TCP_SACK_MAX),
         "sack blocks");

    uint32_t olen = tcp_opts_len(&r.opt);
    uint32_t cap = TCP_HDR_MAX + r.payload_len;
    uint8_t *b = malloc(cap);
    uint32_t hl = tcp_repr_build(b, cap, &r);
    must((hl == 0) == (olen > TCP_OPT_MAX), "build refuses exactly what does not fit");
    if (hl) {
        must(hl == TCP_HDR_LEN + olen && hl % 4 == 0, "built length");
        memcpy(b + hl, p + r.payload_off, r.payload_len);
        struct tcp_repr q;
        must(tcp_repr_parse(b, hl + r.payload_len, &q) == TCP_OK, "rebuilt header parses");
        must(q.sport == r.sport && q.dport == r.dport && q.seq.v == r.seq.v &&
                 q.ack.v == r.ack.v && q.flags == r.flags && q.reserved == r.reserved &&
                 q.window == r.window && q.csum == r.csum && q.urg == r.urg &&
                 q.payload_len == r.payload_len && q.opt.notes == 0 && same_opts(&q.opt, &r.opt),
             "rebuilt header has the same fields");
        tcp_csum_fill(b, hl + r.payload_len, 0xc0000201u, 0xc0000202u);
        must(tcp_csum_verify(b, hl + r.payload_len, 0xc0000201u, 0xc0000202u),
             "filled checksum verifies");
    }
    free(b);
    free(p);
    return 0;
}
