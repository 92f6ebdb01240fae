/* A connection's timer kinds on one os timer: the earliest deadline, what
 * is due when it fires, re-arming and clearing, across the 32-bit wrap. */
#include <criterion/criterion.h>

#include "tcp_timers.h"

Test(tcp_timers, the_earliest_armed_deadline_is_next)
{
    struct tcp_timers t;
    uint32_t at;
    tcp_timers_init(&t);
    cr_assert_eq(tcp_timers_next(&t, 0, &at), 0, "none armed");
    tcp_timers_set(&t, TCP_T_KEEP, 7200000);
    tcp_timers_set(&t, TCP_T_RTX, 1000);
    tcp_timers_set(&t, TCP_T_DELACK, 200);
    cr_assert_eq(tcp_timers_next(&t, 0, &at), 1);
    cr_assert_eq(at, 200);
    tcp_timers_clear(&t, TCP_T_DELACK);
    cr_assert(!tcp_timers_armed(&t, TCP_T_DELACK));
    cr_assert_eq(tcp_timers_next(&t, 0, &at), 1);
    cr_assert_eq(at, 1000);
    tcp_timers_set(&t, TCP_T_RTX, 3000); /* re-arm moves it */
    cr_assert_eq(tcp_timers_next(&t, 0, &at), 1);
    cr_assert_eq(at, 3000);
}

Test(tcp_timers, only_what_is_due_fires_and_is_disarmed)
{
    struct tcp_timers t;
    tcp_timers_init(&t);
    tcp_timers_set(&t, TCP_T_RTX, 1000);
    tcp_timers_set(&t, TCP_T_DELACK, 1000);
    tcp_timers_set(&t, TCP_T_USER, 5000);
    cr_assert_eq(tcp_timers_due(&t, 999), 0);
    cr_assert_eq(tcp_timers_due(&t, 1000), (1u << TCP_T_RTX) | (1u << TCP_T_DELACK));
    cr_assert(!tcp_timers_armed(&t, TCP_T_RTX));
    cr_assert(tcp_timers_armed(&t, TCP_T_USER));
    cr_assert_eq(tcp_timers_due(&t, 1000), 0, "fired once");
    cr_assert_eq(tcp_timers_due(&t, 6000), 1u << TCP_T_USER, "late is due too");
}

Test(tcp_timers, deadlines_across_the_wrap_of_the_millisecond_clock)
{
    struct tcp_timers t;
    uint32_t at, now = 0xfffffc00u; /* 1,024 ms before the wrap */
    tcp_timers_init(&t);
    tcp_timers_set(&t, TCP_T_RTX, now + 2000);   /* after the wrap: small */
    tcp_timers_set(&t, TCP_T_DELACK, now + 200); /* before it: large */
    cr_assert_eq(tcp_timers_next(&t, now, &at), 1);
    cr_assert_eq(at, now + 200, "the delayed ACK first, though numerically larger");
    cr_assert_eq(tcp_timers_due(&t, now + 1000), 1u << TCP_T_DELACK);
    cr_assert_eq(tcp_timers_due(&t, now + 1999), 0);
    cr_assert_eq(tcp_timers_due(&t, now + 2000), 1u << TCP_T_RTX);
}
