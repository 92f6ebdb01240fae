/* tcp state machine, black box: urgent data (RFC 9293 3.8.5, RFC 6093).
 * Urgent data is accepted, acknowledged and delivered in line, in stream
 * order, as RFC 6093 recommends (no out-of-band byte). Fixture: tcp_fx.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tcp_fx.h"

/* A segment from the peer with URG and the given urgent pointer. */
static void peer_urg(struct fx *f, const char *d, uint16_t ptr)
{
    uint32_t n = (uint32_t)strlen(d);
    struct fx_tx t = {.src = f->peer, .sport = f->pport, .dport = f->lport, .seq = f->p_nxt,
                      .ack = f->p_rcv, .flags = TCP_ACK | TCP_URG | TCP_PSH, .win = 65535,
                      .urg = ptr, .data = d, .len = n};
    f->p_nxt += n;
    fx_tx(f, &t);
}

/* RFC 9293 3.8.5 (MUST-30: urgent data of any length is accepted), RFC 6093
 * 5 (delivered in line): the urgent bytes come out of recv in order and
 * are acknowledged. */
Test(tcp_urgent, urgent_data_delivered_in_line)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "abc", 3);
    char b[16];
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 3);
    cr_assert_eq(memcmp(b, "abc", 3), 0);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 4);
    fx_down(&f);
}

/* RFC 6093 5: normal data, then urgent data: one stream, in order. */
Test(tcp_urgent, urgent_after_normal_data_keeps_order)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    fx_send(&f, TCP_ACK | TCP_PSH, "hello", 5);
    peer_urg(&f, "!", 1);
    fx_send(&f, TCP_ACK | TCP_PSH, "world", 5);
    char b[32];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 11);
    cr_assert_eq(memcmp(b, "hello!world", 11), 0);
    fx_drain(&f);
    fx_down(&f);
}

/* RFC 9293 3.8.5 (MUST-31: an urgent pointer past the segment's data is
 * valid; the urgent data continues in later segments): all bytes still
 * arrive in order. */
Test(tcp_urgent, urgent_pointer_beyond_segment)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "0123456789", 500);
    fx_send(&f, TCP_ACK | TCP_PSH, "abcdefghij", 10);
    char b[32];
    long n = 0, r;
    while ((r = fx_read(&f, h, b + n, sizeof(b) - (size_t)n)) > 0)
        n += r;
    cr_assert_eq(n, 20);
    cr_assert_eq(memcmp(b, "0123456789abcdefghij", 20), 0);
    struct fx_seg s;
    fx_wait(&f, 200, &s);
    cr_assert_eq(s.ack, f.p_iss + 21);
    fx_down(&f);
}

/* RFC 6093 (no out-of-band byte): recv with MSG_OOB does not take the
 * urgent byte out of the stream. */
Test(tcp_urgent, oob_recv_does_not_remove_urgent_byte)
{
    struct fx f;
    fx_up(&f, NULL);
    int h = fx_passive(&f);
    peer_urg(&f, "xy", 2);
    char b[8];
    long r = fx_read_flags(&f, h, b, sizeof(b), LYRA_MSG_OOB);
    cr_assert_lt(r, 0, "MSG_OOB returned %ld bytes: urgent data is in line", r);
    cr_assert_eq(fx_read(&f, h, b, sizeof(b)), 2);
    cr_assert_eq(memcmp(b, "xy", 2), 0);
    fx_drain(&f);
    fx_down(&f);
}
