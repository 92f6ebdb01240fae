/* tcp_wire: parsing, building and checksums against segments Linux sent
 * (tests/data/tcp/tcp-linux.pcap, made by tests/data/tcp/capture.sh; see
 * its README.txt), every malformed header with its own reason, and
 * round trips.
 *
 * The expected field values are TShark 4.0's dissection of the capture
 * (tshark -T fields -e tcp.seq_raw ...; SACK edges are the client's ISN
 * plus tshark's relative values), not this parser's output. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lt.h"
#include "tcp_wire.h"

#define CLIENT_IP 0xc0000201u /* 192.0.2.1 */
#define SERVER_IP 0xc0000202u /* 192.0.2.2 */

/* Frame n (from 1) of the capture: its TCP segment copied into a buffer of
 * exactly its size (so ASan sees any read past it), and its addresses. */
struct seg {
    uint8_t *p;
    uint32_t len, src, dst;
};

static struct seg frame_seg(unsigned n)
{
    struct lt_pcap pc;
    cr_assert_eq(lt_pcap_open(&pc, "tcp/tcp-linux.pcap"), 0);
    const uint8_t *f = NULL;
    uint32_t flen = 0;
    for (unsigned i = 0; i < n; i++)
        flen = lt_pcap_next(&pc, &f);
    cr_assert(flen >= 34 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6, "frame %u: IPv4 TCP", n);
    const uint8_t *ip = f + 14;
    uint32_t ihl = (ip[0] & 0x0fu) * 4, tot = (uint32_t)(ip[2] << 8 | ip[3]);
    cr_assert(tot <= flen - 14 && tot > ihl);
    struct seg s = {.len = tot - ihl, .src = tcp_ld32(ip + 12), .dst = tcp_ld32(ip + 16)};
    s.p = malloc(s.len);
    memcpy(s.p, ip + ihl, s.len);
    lt_pcap_close(&pc);
    return s;
}

/* Parses frame n, checks the checksum Linux computed, builds the header
 * again from what was parsed and compares every byte. */
static struct tcp_repr parse_frame(unsigned n, struct seg *out)
{
    struct seg s = frame_seg(n);
    struct tcp_repr r;
    memset(&r, 0xa5, sizeof(r));
    cr_assert_eq(tcp_repr_parse(s.p, s.len, &r), TCP_OK, "frame %u", n);
    cr_assert(tcp_csum_verify(s.p, s.len, s.src, s.dst), "frame %u: Linux's checksum verifies", n);
    uint8_t hdr[TCP_HDR_MAX];
    cr_assert_eq(tcp_repr_build(hdr, sizeof(hdr), &r), r.hlen, "frame %u: same length built", n);
    cr_assert_arr_eq(hdr, s.p, r.hlen, "frame %u: the header built is Linux's, byte for byte", n);
    /* the checksum computed again, from a zeroed field, is Linux's */
    uint16_t linux_csum = tcp_ld16(s.p + TCP_CSUM_OFF);
    tcp_st16(s.p + TCP_CSUM_OFF, 0x1234);
    tcp_csum_fill(s.p, s.len, s.src, s.dst);
    cr_assert_eq(tcp_ld16(s.p + TCP_CSUM_OFF), linux_csum, "frame %u", n);
    if (out)
        *out = s;
    else
        free(s.p);
    return r;
}

Test(tcp_wire, linux_syn_every_field)
{
    struct seg s;
    struct tcp_repr r = parse_frame(1, &s);
    cr_assert_eq(s.src, CLIENT_IP);
    cr_assert_eq(r.sport, 40000);
    cr_assert_eq(r.dport, 5001);
    cr_assert_eq(r.seq.v, 4057616501u);
    cr_assert_eq(r.ack.v, 0u);
    cr_assert_eq(r.hlen, 40);
    cr_assert_eq(r.flags, TCP_SYN);
    cr_assert_eq(r.reserved, 0);
    cr_assert_eq(r.window, 64240);
    cr_assert_eq(r.csum, 0x5914);
    cr_assert_eq(r.urg, 0);
    cr_assert_eq(r.payload_off, 40);
    cr_assert_eq(r.payload_len, 0);
    cr_assert_eq(r.opt.has, TCP_HAS_MSS | TCP_HAS_SACK_PERM | TCP_HAS_TS | TCP_HAS_WS);
    cr_assert_eq(r.opt.notes, 0);
    cr_assert_eq(r.opt.mss, 1460);
    cr_assert_eq(r.opt.ws, 10);
    cr_assert_eq(r.opt.ws_raw, 10);
    cr_assert_eq(r.opt.tsval, 927614608u);
    cr_assert_eq(r.opt.tsecr, 0u);
    /* Linux's SYN layout: MSS, SACK-perm+TS, NOP, WS */
    static const uint8_t layout[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
    cr_assert_arr_eq(s.p + 20, layout, sizeof(layout));
    cr_assert_eq(s.p[36], TCP_OPT_NOP);
    cr_assert_eq(s.p[37], TCP_OPT_WS);
    free(s.p);
}

Test(tcp_wire, linux_syn_ack_every_field)
{
    struct seg s;
    struct tcp_repr r = parse_frame(2, &s);
    cr_assert_eq(s.src, SERVER_IP);
    cr_assert_eq(r.sport, 5001);
    cr_assert_eq(r.dport, 40000);
    cr_assert_eq(r.seq.v, 2076599350u);
    cr_assert_eq(r.ack.v, 4057616502u);
    cr_assert_eq(r.hlen, 40);
    cr_assert_eq(r.flags, TCP_SYN | TCP_ACK);
    cr_assert_eq(r.window, 65160);
    cr_assert_eq(r.csum, 0x6420);
    cr_assert_eq(r.payload_len, 0);
    cr_assert_eq(r.opt.has, TCP_HAS_MSS | TCP_HAS_SACK_PERM | TCP_HAS_TS | TCP_HAS_WS);
    cr_assert_eq(r.opt.mss, 1460);
    cr_assert_eq(r.opt.ws, 10);
    cr_assert_eq(r.opt.tsval, 2709352400u);
    cr_assert_eq(r.opt.tsecr, 927614608u);
    free(s.p);
}

Test(tcp_wire, linux_syn_with_a_small_mss)
{
    struct tcp_repr r = parse_frame(9, NULL);
    cr_assert_eq(r.sport, 40001);
    cr_assert_eq(r.seq.v, 2853352661u);
    cr_assert_eq(r.window, 65400);
    cr_assert_eq(r.csum, 0xf5b8);
    cr_assert_eq(r.opt.mss, 200);
    cr_assert_eq(r.opt.tsval, 2889226442u);
}

Test(tcp_wire, linux_data_with_timestamps_odd_length)
{
    struct seg s;
    struct tcp_repr r = parse_frame(4, &s);
    cr_assert_eq(r.sport, 40000);
    cr_assert_eq(r.seq.v, 4057616502u);
    cr_assert_eq(r.ack.v, 2076599351u);
    cr_assert_eq(r.hlen, 32);
    cr_assert_eq(r.flags, TCP_PSH | TCP_ACK);
    cr_assert_eq(r.window, 63, "unscaled, as on the wire");
    cr_assert_eq(r.csum, 0xb0ec);
    cr_assert_eq(r.payload_off, 32);
    cr_assert_eq(r.payload_len, 5);
    cr_assert_arr_eq(s.p + r.payload_off, "Lyra!", 5);
    cr_assert_eq(r.opt.has, TCP_HAS_TS);
    cr_assert_eq(r.opt.tsval, 927614709u);
    cr_assert_eq(r.opt.tsecr, 2709352400u);
    static const uint8_t layout[] = {1, 1, 8, 10};
    cr_assert_arr_eq(s.p + 20, layout, 4, "NOP NOP TS");
    free(s.p);
}

Test(tcp_wire, linux_full_segments_and_a_fin)
{
    struct tcp_repr r = parse_frame(12, NULL);
    cr_assert_eq(r.seq.v, 2853352662u);
    cr_assert_eq(r.ack.v, 570060320u);
    cr_assert_eq(r.flags, TCP_ACK);
    cr_assert_eq(r.csum, 0x36ba);
    cr_assert_eq(r.payload_len, 188, "MSS 200 less 12 of timestamps");
    r = parse_frame(16, NULL);
    cr_assert_eq(r.seq.v, 2853353414u);
    cr_assert_eq(r.flags, TCP_PSH | TCP_ACK);
    cr_assert_eq(r.csum, 0xba48);
    r = parse_frame(6, NULL);
    cr_assert_eq(r.seq.v, 4057616507u);
    cr_assert_eq(r.flags, TCP_FIN | TCP_ACK);
    cr_assert_eq(r.csum, 0x9006);
    cr_assert_eq(r.opt.tsval, 927614809u);
    cr_assert_eq(r.opt.tsecr, 2709352500u);
}

Test(tcp_wire, linux_sack_one_block)
{
    struct tcp_repr r = parse_frame(19, NULL);
    cr_assert_eq(r.sport, 5001);
    cr_assert_eq(r.seq.v, 570060320u);
    cr_assert_eq(r.ack.v, 2853353038u);
    cr_assert_eq(r.hlen, 44);
    cr_assert_eq(r.flags, TCP_ACK);
    cr_assert_eq(r.window, 64);
    cr_assert_eq(r.csum, 0x3282);
    cr_assert_eq(r.payload_len, 0);
    cr_assert_eq(r.opt.has, TCP_HAS_TS | TCP_HAS_SACK);
    cr_assert_eq(r.opt.tsval, 1174936374u);
    cr_assert_eq(r.opt.tsecr, 2889226542u);
    cr_assert_eq(r.opt.nsack, 1);
    /* ISN 2853352661 + tshark's relative 565..753 (segment D) */
    cr_assert_eq(r.opt.sack[0].left.v, 2853353226u);
    cr_assert_eq(r.opt.sack[0].right.v, 2853353414u);
}

Test(tcp_wire, linux_sack_two_blocks_most_recent_first)
{
    struct tcp_repr r = parse_frame(22, NULL);
    cr_assert_eq(r.hlen, 52);
    cr_assert_eq(r.csum, 0x4bcf);
    cr_assert_eq(r.ack.v, 2853353038u);
    cr_assert_eq(r.opt.nsack, 2);
    /* relative 941..1317 (F and G), then 565..753 (D): RFC 2018 4 */
    cr_assert_eq(r.opt.sack[0].left.v, 2853353602u);
    cr_assert_eq(r.opt.sack[0].right.v, 2853353978u);
    cr_assert_eq(r.opt.sack[1].left.v, 2853353226u);
    cr_assert_eq(r.opt.sack[1].right.v, 2853353414u);
}

Test(tcp_wire, linux_sack_covering_a_fin)
{
    struct tcp_repr r = parse_frame(30, NULL);
    cr_assert_eq(r.ack.v, 2853353414u);
    cr_assert_eq(r.csum, 0x21ef);
    cr_assert_eq(r.opt.nsack, 1);
    cr_assert_eq(r.opt.sack[0].left.v, 2853353602u);
    cr_assert_eq(r.opt.sack[0].right.v, 2853353979u, "relative 1318: the FIN counts");
    cr_assert_eq(r.opt.tsval, 1174937837u);
}

Test(tcp_wire, every_frame_of_the_capture_parses_rebuilds_and_verifies)
{
    struct lt_pcap pc;
    cr_assert_eq(lt_pcap_open(&pc, "tcp/tcp-linux.pcap"), 0);
    const uint8_t *f;
    unsigned n = 0;
    while (lt_pcap_next(&pc, &f))
        n++;
    lt_pcap_close(&pc);
    cr_assert_eq(n, 34);
    for (unsigned i = 1; i <= n; i++)
        parse_frame(i, NULL);
}

Test(tcp_wire, a_corrupted_byte_fails_the_checksum)
{
    struct seg s = frame_seg(4);
    for (uint32_t i = 0; i < s.len; i++) {
        s.p[i] ^= 0x01;
        cr_assert(!tcp_csum_verify(s.p, s.len, s.src, s.dst), "byte %u flipped", i);
        s.p[i] ^= 0x01;
    }
    cr_assert(!tcp_csum_verify(s.p, s.len, s.src ^ 1, s.dst), "another source address");
    cr_assert(!tcp_csum_verify(s.p, s.len - 1, s.src, s.dst), "another length");
    free(s.p);
}

/* --- malformed headers: each with its own reason ------------------------ */

/* A 20-byte header with data offset `doff` words, followed by opts (n
 * bytes) and `extra` data bytes, in a buffer of exactly that size. */
static enum tcp_parse_result parse_with(unsigned doff, const uint8_t *opts, uint32_t n,
                                        uint32_t extra, struct tcp_repr *r)
{
    uint32_t len = 20 + n + extra;
    uint8_t *p = calloc(1, len ? len : 1);
    p[0] = 0x9c; /* port 40000 */
    p[1] = 0x40;
    p[3] = 80;
    p[12] = (uint8_t)(doff << 4);
    p[13] = TCP_ACK;
    if (n)
        memcpy(p + 20, opts, n);
    struct tcp_repr tmp;
    enum tcp_parse_result e = tcp_repr_parse(p, len, r ? r : &tmp);
    free(p);
    return e;
}

#define OPTS(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

Test(tcp_wire, fewer_than_20_bytes_is_short)
{
    uint8_t hdr[20] = {0};
    hdr[12] = 0x50;
    for (uint32_t len = 0; len < 20; len++) {
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, hdr, len);
        struct tcp_repr r;
        cr_assert_eq(tcp_repr_parse(p, len, &r), TCP_E_SHORT, "len %u", len);
        free(p);
    }
}

Test(tcp_wire, a_data_offset_below_five_words)
{
    for (unsigned doff = 0; doff < 5; doff++)
        cr_assert_eq(parse_with(doff, NULL, 0, 40, NULL), TCP_E_DOFF_SMALL, "doff %u", doff);
    cr_assert_eq(parse_with(5, NULL, 0, 40, NULL), TCP_OK);
}

Test(tcp_wire, a_data_offset_beyond_the_segment)
{
    /* 24 bytes given, data offset 7 (28 bytes) .. 15 */
    for (unsigned doff = 7; doff <= 15; doff++)
        cr_assert_eq(parse_with(doff, OPTS(1, 1, 1, 1), 0, NULL), TCP_E_DOFF_BEYOND, "doff %u",
                     doff);
    cr_assert_eq(parse_with(6, OPTS(1, 1, 1, 1), 0, NULL), TCP_OK, "exactly the segment");
}

Test(tcp_wire, an_option_kind_without_room_for_its_length)
{
    cr_assert_eq(parse_with(6, OPTS(1, 1, 1, 2), 0, NULL), TCP_E_OPT_TRUNC);
    cr_assert_eq(parse_with(6, OPTS(1, 1, 1, 99), 10, NULL), TCP_E_OPT_TRUNC,
                 "data after the header is not the option's");
}

Test(tcp_wire, option_lengths_0_and_1)
{
    cr_assert_eq(parse_with(6, OPTS(99, 0, 1, 1), 0, NULL), TCP_E_OPT_LEN);
    cr_assert_eq(parse_with(6, OPTS(99, 1, 1, 1), 0, NULL), TCP_E_OPT_LEN);
    cr_assert_eq(parse_with(6, OPTS(2, 0, 1, 1), 0, NULL), TCP_E_OPT_LEN, "known kind too");
}

Test(tcp_wire, an_option_overrunning_the_header)
{
    cr_assert_eq(parse_with(6, OPTS(99, 5, 0, 0), 0, NULL), TCP_E_OPT_OVERRUN);
    cr_assert_eq(parse_with(6, OPTS(1, 1, 99, 3), 40, NULL), TCP_E_OPT_OVERRUN,
                 "not into the data");
    cr_assert_eq(parse_with(7, OPTS(1, 1, 8, 10, 0, 0, 0, 0), 0, NULL), TCP_E_OPT_OVERRUN,
                 "timestamps cut short by the header's end");
    cr_assert_eq(parse_with(6, OPTS(99, 4, 0, 0), 0, NULL), TCP_OK, "exactly to the end");
}

Test(tcp_wire, wrong_lengths_of_known_kinds)
{
    cr_assert_eq(parse_with(6, OPTS(2, 3, 5, 1), 0, NULL), TCP_E_MSS_LEN);
    cr_assert_eq(parse_with(7, OPTS(2, 5, 5, 180, 0, 1, 1, 1), 0, NULL), TCP_E_MSS_LEN);
    cr_assert_eq(parse_with(6, OPTS(3, 2, 1, 1), 0, NULL), TCP_E_WS_LEN);
    cr_assert_eq(parse_with(6, OPTS(3, 4, 7, 0), 0, NULL), TCP_E_WS_LEN);
    cr_assert_eq(parse_with(6, OPTS(4, 3, 0, 1), 0, NULL), TCP_E_SACK_PERM_LEN);
    cr_assert_eq(parse_with(8, OPTS(8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0), 0, NULL),
                 TCP_E_TS_LEN);
    cr_assert_eq(parse_with(7, OPTS(8, 8, 0, 0, 0, 1, 0, 0), 0, NULL), TCP_E_TS_LEN);
}

/* tcp_opts_parse takes NOP, NOP, TS (12 bytes) in one step: it must
 * give what the option walk gives, and near misses must take the walk. */
Test(tcp_wire, the_nop_nop_timestamp_layout_and_its_near_misses)
{
    struct tcp_repr r;
    cr_assert_eq(parse_with(8, OPTS(1, 1, 8, 10, 0, 0, 0, 7, 0x80, 0, 0, 9), 0, &r), TCP_OK);
    cr_assert_eq(r.opt.has, TCP_HAS_TS);
    cr_assert_eq(r.opt.notes, 0);
    cr_assert_eq(r.opt.tsval, 7);
    cr_assert_eq(r.opt.tsecr, 0x80000009u);
    /* the same option after other padding: the walk, the same result */
    cr_assert_eq(parse_with(9, OPTS(1, 1, 8, 10, 0, 0, 0, 7, 0x80, 0, 0, 9, 1, 1, 1, 0), 0, &r),
                 TCP_OK);
    cr_assert_eq(r.opt.has, TCP_HAS_TS);
    cr_assert_eq(r.opt.tsval, 7);
    cr_assert_eq(r.opt.tsecr, 0x80000009u);
    /* a wrong length in the layout's place is still refused */
    cr_assert_eq(parse_with(8, OPTS(1, 1, 8, 9, 0, 0, 0, 7, 0, 0, 0, 9), 0, &r), TCP_E_TS_LEN);
    /* NOP, NOP, SACK (10 bytes) is not the layout: its blocks are read */
    cr_assert_eq(parse_with(8, OPTS(1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2), 0, &r), TCP_OK);
    cr_assert_eq(r.opt.has, TCP_HAS_SACK);
    cr_assert_eq(r.opt.nsack, 1);
}

Test(tcp_wire, sack_lengths_other_than_2_plus_8n_for_1_to_4)
{
    uint8_t o[40];
    for (unsigned olen = 2; olen <= 40; olen++) {
        memset(o, 0, sizeof(o));
        o[0] = TCP_OPT_SACK;
        o[1] = (uint8_t)olen;
        enum tcp_parse_result want =
            (olen >= 10 && olen <= 34 && (olen - 2) % 8 == 0) ? TCP_OK : TCP_E_SACK_LEN;
        struct tcp_repr r;
        cr_assert_eq(parse_with(15, o, 40, 0, &r), want, "length %u", olen);
        if (want == TCP_OK)
            cr_assert_eq(r.opt.nsack, (olen - 2) / 8);
    }
}

Test(tcp_wire, every_reason_has_a_distinct_name)
{
    for (unsigned a = 0; a < TCP_PARSE_NRESULTS; a++) {
        cr_assert_not_null(tcp_parse_result_name(a));
        cr_assert_str_neq(tcp_parse_result_name(a), "?", "result %u named", a);
        for (unsigned b = 0; b < a; b++)
            cr_assert_str_neq(tcp_parse_result_name(a), tcp_parse_result_name(b));
    }
    cr_assert_str_eq(tcp_parse_result_name(TCP_PARSE_NRESULTS), "?");
}

/* --- accepted, but noted ----------------------------------------------- */

Test(tcp_wire, a_window_shift_over_14_is_clamped_and_noted)
{
    struct tcp_repr r;
    for (unsigned ws = 0; ws <= 255; ws++) {
        cr_assert_eq(parse_with(6, OPTS(1, 3, 3, (uint8_t)ws), 0, &r), TCP_OK);
        cr_assert_eq(r.opt.ws_raw, ws);
        cr_assert_eq(r.opt.ws, ws > 14 ? 14 : ws, "RFC 7323 2.3: %u", ws);
        cr_assert_eq(!!(r.opt.notes & TCP_NOTE_WS_CLAMPED), ws > 14);
    }
}

Test(tcp_wire, unknown_kinds_are_skipped_by_their_length)
{
    struct tcp_repr r;
    /* kind 30 (MPTCP) of 6 bytes, then MSS: the MSS is still read */
    cr_assert_eq(parse_with(8, OPTS(30, 6, 1, 2, 3, 4, 2, 4, 0x05, 0xb4, 0, 0), 0, &r), TCP_OK);
    cr_assert_eq(r.opt.has, TCP_HAS_MSS);
    cr_assert_eq(r.opt.mss, 1460);
    cr_assert_eq(r.opt.notes, TCP_NOTE_UNKNOWN);
}

Test(tcp_wire, eol_ends_the_list_and_the_rest_is_padding)
{
    struct tcp_repr r;
    /* after EOL, bytes that would be a bad option are not looked at */
    cr_assert_eq(parse_with(7, OPTS(2, 4, 1, 0, 0, 99, 0, 0), 0, &r), TCP_OK);
    cr_assert_eq(r.opt.has, TCP_HAS_MSS);
    cr_assert_eq(r.opt.mss, 256);
}

Test(tcp_wire, a_kind_seen_twice_keeps_the_last_and_is_noted)
{
    struct tcp_repr r;
    cr_assert_eq(parse_with(7, OPTS(2, 4, 1, 0, 2, 4, 2, 0), 0, &r), TCP_OK);
    cr_assert_eq(r.opt.mss, 512);
    cr_assert_eq(r.opt.notes, TCP_NOTE_DUP);
}

Test(tcp_wire, urgent_and_ecn_bits_and_reserved_bits_are_reported)
{
    uint8_t p[20] = {0};
    p[12] = 0x5f; /* reserved all ones */
    p[13] = TCP_CWR | TCP_ECE | TCP_URG | TCP_ACK;
    p[18] = 0x12;
    p[19] = 0x34;
    struct tcp_repr r;
    cr_assert_eq(tcp_repr_parse(p, 20, &r), TCP_OK);
    cr_assert_eq(r.flags, TCP_CWR | TCP_ECE | TCP_URG | TCP_ACK);
    cr_assert_eq(r.reserved, 0x0f);
    cr_assert_eq(r.urg, 0x1234);
    uint8_t b[20];
    cr_assert_eq(tcp_repr_build(b, 20, &r), 20);
    cr_assert_arr_eq(b, p, 20);
}

/* --- building ------------------------------------------------------------ */

Test(tcp_wire, option_sets_that_do_not_fit_are_refused)
{
    struct tcp_repr r = {.opt = {.has = TCP_HAS_TS | TCP_HAS_SACK, .nsack = 3}};
    uint8_t b[TCP_HDR_MAX];
    cr_assert_eq(tcp_opts_len(&r.opt), 12 + 28);
    cr_assert_eq(tcp_repr_build(b, sizeof(b), &r), 60, "40 bytes fit");
    r.opt.nsack = 4;
    cr_assert_eq(tcp_repr_build(b, sizeof(b), &r), 0, "48 do not");
    r.opt = (struct tcp_hdr_opts){.has = TCP_HAS_SACK, .nsack = 0};
    cr_assert_eq(tcp_repr_build(b, sizeof(b), &r), 0, "no block");
    r.opt.nsack = 5;
    cr_assert_eq(tcp_repr_build(b, sizeof(b), &r), 0, "five blocks");
    r.opt = (struct tcp_hdr_opts){.has = TCP_HAS_MSS, .mss = 1460};
    cr_assert_eq(tcp_repr_build(b, 23, &r), 0, "buffer too small");
    cr_assert_eq(tcp_repr_build(b, 24, &r), 24);
}

Test(tcp_wire, sack_permitted_without_timestamps_is_nop_nop_padded)
{
    struct tcp_repr r = {.opt = {.has = TCP_HAS_MSS | TCP_HAS_SACK_PERM | TCP_HAS_WS,
                                 .mss = 1460, .ws = 7}};
    uint8_t b[TCP_HDR_MAX];
    cr_assert_eq(tcp_repr_build(b, sizeof(b), &r), 32);
    static const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
    cr_assert_arr_eq(b + 20, want, sizeof(want));
}

/* --- round trips ---------------------------------------------------------- */

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*s >> 33);
}

Test(tcp_wire, random_headers_round_trip_through_build_and_parse)
{
    uint64_t st = 12345;
    unsigned built = 0;
    for (unsigned i = 0; i < 20000; i++) {
        struct tcp_repr a = {0};
        a.sport = (uint16_t)rnd(&st);
        a.dport = (uint16_t)rnd(&st);
        a.seq = tcp_seq(rnd(&st));
        a.ack = tcp_seq(rnd(&st));
        a.flags = (uint8_t)rnd(&st);
        a.reserved = (uint8_t)(rnd(&st) & 0x0f);
        a.window = (uint16_t)rnd(&st);
        a.csum = (uint16_t)rnd(&st);
        a.urg = (uint16_t)rnd(&st);
        a.opt.has = (uint8_t)(rnd(&st) & 0x1f);
        a.opt.mss = (uint16_t)rnd(&st);
        a.opt.ws = (uint8_t)(rnd(&st) % 15);
        a.opt.tsval = rnd(&st);
        a.opt.tsecr = rnd(&st);
        a.opt.nsack = (uint8_t)(1 + rnd(&st) % 4);
        for (unsigned k = 0; k < TCP_SACK_MAX; k++)
            a.opt.sack[k] = (struct tcp_sack_block){tcp_seq(rnd(&st)), tcp_seq(rnd(&st))};
        uint32_t payload = rnd(&st) % 64;
        uint8_t buf[TCP_HDR_MAX + 64];
        uint32_t hl = tcp_repr_build(buf, TCP_HDR_MAX, &a);
        if (tcp_opts_len(&a.opt) > TCP_OPT_MAX) {
            cr_assert_eq(hl, 0);
            continue;
        }
        built++;
        cr_assert_eq(hl, TCP_HDR_LEN + tcp_opts_len(&a.opt));
        cr_assert_eq(hl % 4, 0);
        memset(buf + hl, 0x5a, payload);
        struct tcp_repr b;
        cr_assert_eq(tcp_repr_parse(buf, hl + payload, &b), TCP_OK, "case %u", i);
        cr_assert_eq(b.sport, a.sport);
        cr_assert_eq(b.dport, a.dport);
        cr_assert_eq(b.seq.v, a.seq.v);
        cr_assert_eq(b.ack.v, a.ack.v);
        cr_assert_eq(b.flags, a.flags);
        cr_assert_eq(b.reserved, a.reserved);
        cr_assert_eq(b.window, a.window);
        cr_assert_eq(b.csum, a.csum);
        cr_assert_eq(b.urg, a.urg);
        cr_assert_eq(b.hlen, hl);
        cr_assert_eq(b.payload_off, hl);
        cr_assert_eq(b.payload_len, payload);
        cr_assert_eq(b.opt.has, a.opt.has, "case %u", i);
        cr_assert_eq(b.opt.notes, 0);
        if (a.opt.has & TCP_HAS_MSS)
            cr_assert_eq(b.opt.mss, a.opt.mss);
        if (a.opt.has & TCP_HAS_WS)
            cr_assert_eq(b.opt.ws, a.opt.ws);
        if (a.opt.has & TCP_HAS_TS) {
            cr_assert_eq(b.opt.tsval, a.opt.tsval);
            cr_assert_eq(b.opt.tsecr, a.opt.tsecr);
        }
        if (a.opt.has & TCP_HAS_SACK) {
            cr_assert_eq(b.opt.nsack, a.opt.nsack);
            for (unsigned k = 0; k < a.opt.nsack; k++) {
                cr_assert_eq(b.opt.sack[k].left.v, a.opt.sack[k].left.v);
                cr_assert_eq(b.opt.sack[k].right.v, a.opt.sack[k].right.v);
            }
        }
        /* a checksum filled in verifies, whatever the payload's parity */
        tcp_csum_fill(buf, hl + payload, a.seq.v, a.ack.v);
        cr_assert(tcp_csum_verify(buf, hl + payload, a.seq.v, a.ack.v));
    }
    cr_assert_gt(built, 10000, "most option sets fit");
}

Test(tcp_wire, every_truncation_and_mutation_of_a_linux_header_is_safe)
{
    /* Each prefix of the 2-block SACK segment, and each single-byte change
     * of its header, in exactly-sized buffers: a result from the enum, and
     * when accepted, fields inside the bytes given. */
    struct seg s = frame_seg(22);
    for (uint32_t len = 0; len <= s.len; len++) {
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, s.p, len);
        struct tcp_repr r;
        enum tcp_parse_result e = tcp_repr_parse(p, len, &r);
        cr_assert_eq(e, len < 20 ? TCP_E_SHORT : len < 52 ? TCP_E_DOFF_BEYOND : TCP_OK, "len %u",
                     len);
        free(p);
    }
    for (uint32_t i = 0; i < 52; i++)
        for (unsigned v = 0; v < 256; v++) {
            uint8_t *p = malloc(s.len);
            memcpy(p, s.p, s.len);
            p[i] = (uint8_t)v;
            struct tcp_repr r;
            enum tcp_parse_result e = tcp_repr_parse(p, s.len, &r);
            cr_assert_lt((unsigned)e, TCP_PARSE_NRESULTS);
            if (e == TCP_OK) {
                cr_assert_leq(r.hlen, s.len);
                cr_assert_eq(r.payload_off + r.payload_len, s.len);
                cr_assert_leq(r.opt.nsack, TCP_SACK_MAX);
                cr_assert_leq(r.opt.ws, TCP_WS_MAX);
            }
            free(p);
        }
    free(s.p);
}
