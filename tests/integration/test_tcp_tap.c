/* TCP against the Linux kernel (issue 10.7, interop): the stack (the static
 * binaries build/bin/lyra-copy-pio and lyra-copy-dma, i.e. the NE2000 and
 * the e1000, with their services) on a TAP in a network namespace of the
 * test's own (lyratcp<PID>, deleted on every path), Linux at 192.0.2.1/24,
 * the stack at 192.0.2.2/24. Linux's tools are the clients of our services
 * (curl to http, nc and Python to echo, Python into discard and out of
 * chargen, a connect() to a closed port), lyra-ttcp is our client of a
 * Python server and our server of a Python client, and tcp_urg (tcp_urg.c)
 * reads a Python client's urgent data and sends a Python server some; a
 * Python client gets in by a SYN cookie behind a spoofed SYN flood, and a
 * connect to an address nobody holds fails as Linux's does. Every byte is checked
 * (the services' patterns: tools/services/svc_pattern.h, tools/ttcp), the
 * states at the end are read from both sides (ss -tan in the namespace,
 * the tcp instance's counters), and curl and nc run again with our link
 * impairing what it sends and receives (the kernel here has no netem).
 * Each test prints one line of what it measured. Every test runs on the
 * four assemblies but those marked COPY (copy stacks only, see BOTH). The Python side: tests/integration/tcp_peer.py.
 *
 * Needs root (CAP_NET_ADMIN for the namespace and the TAP): without it each
 * test is skipped loudly, naming what was not tested. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt.h"
#include "lt_asm.h"
#include "lt_netns.h"

#define OUT lt_ns_out
#define PEER "python3 tests/integration/tcp_peer.py"
/* the stack's services, as the assemblies ship them */
#define ALL_SERVICES "echo,discard,chargen,http"

/* Runs BODY in namespace lyratcp<PID> with the stack (unless NULL) running
 * SERVICES with overrides ARGS (may be NULL). */
static int tap(const char *stack, const char *services, const char *args, const char *body_fmt,
               ...) __attribute__((format(printf, 4, 5)));
static int tap(const char *stack, const char *services, const char *args, const char *body_fmt,
               ...)
{
    va_list ap;
    va_start(ap, body_fmt);
    int r = lt_ns_vrun(&(struct lt_ns_opts){.prefix = "lyratcp",
                                            .stack = stack,
                                            .services = services,
                                            .args = args,
                                            .for_s = 300},
                       body_fmt, ap);
    va_end(ap);
    return r;
}

/* Skips loudly when a tool is missing (tools/dev.sh installs curl and
 * netcat-openbsd). */
static void need_tool(const char *tool, const char *what)
{
    if (!lt_have(tool))
        cr_skip_test("SKIPPED LOUDLY: %s is not installed: %s was NOT tested", tool, what);
}

/* The line of OUT that starts with `tag` (asserted), copied to line. */
static void line_of(const char *tag, char *line, size_t n)
{
    const char *p = OUT;
    size_t tl = strlen(tag);
    while (p && strncmp(p, tag, tl)) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    cr_assert(p, "no line '%s...' in:\n%s", tag, OUT);
    size_t l = strcspn(p, "\n");
    if (l >= n)
        l = n - 1;
    memcpy(line, p, l);
    line[l] = 0;
}

/* Prints what a test measured: its line starting with `tag`. */
static void measured(const char *test, const char *stack, const char *tag)
{
    char l[512];
    line_of(tag, l, sizeof(l));
    printf("[tcp_tap] %s %s: %s\n", test, stack, l);
    fflush(stdout);
}

/* Linux's TCP sockets at the end of BODY, between "== ss" and "== ss end"
 * in OUT: once every one is LISTEN or TIME-WAIT, or after 5 s (time for
 * the last segments, a lost FIN retransmitted included). */
#define SS                                                                                      \
    "for i in $(seq 50); do\n"                                                                  \
    "  ns ss -tanH | grep -qvE '^(LISTEN|TIME-WAIT)' || break; sleep 0.1\n"                     \
    "done\n"                                                                                    \
    "echo '== ss'; ns ss -tanH; echo '== ss end'\n"

/* Counts Linux's sockets in state `st` (ss's name) between the SS marks;
 * asserts every socket there is LISTEN or TIME-WAIT: nothing stuck. */
static int ss_count(const char *st)
{
    const char *p = strstr(OUT, "== ss\n"), *e = strstr(OUT, "== ss end");
    cr_assert(p && e, "no ss output:\n%s", OUT);
    int n = 0;
    for (p += 6; p < e; p = strchr(p, '\n') + 1) {
        cr_assert(!strncmp(p, "LISTEN", 6) || !strncmp(p, "TIME-WAIT", 9),
                  "a connection is left in a state other than TIME-WAIT:\n%.*s", (int)(e - p), p);
        n += !strncmp(p, st, strlen(st));
    }
    return n;
}

/* The stack's counters when it stopped: nothing leaked, no bad checksum. */
static void stack_clean(void)
{
    cr_expect_eq(lt_ns_counter("tcp", "rx_bad_csum"), 0);
    cr_expect_eq(lt_ns_counter("tcp", "established"), 0,
                 "a connection still ESTABLISHED on our side at the end");
    cr_expect_eq(lt_ns_skb_leaked(), 0, "skb leak after the stack stopped");
}

/* After each test, pass or fail: the stack's counters file goes. */
static void drop_json(void)
{
    if (lt_ns_json[0])
        unlink(lt_ns_json);
}

/* BOTH: a case on the four stacks (tests/support/lt_asm.h), those that
 * move payload through the stack (curl's 10 MB and nc's echo byte-exact,
 * lyra-ttcp both ways, 50 MB into discard, urgent data sent, the loss
 * case); COPY: on the copy stacks only, the cases whose subject (closes,
 * keep-alive, a refusal, reordering) zero copy does not change, or that
 * another case covers on zero copy (chargen: test_services_tcp's zc pairs
 * and curl here), to keep CI's time budget. */
#define BOTH(name, timeout_s) LT_EACH_ASSEMBLY(tcp_tap, name, .timeout = timeout_s, .fini = drop_json)
#define COPY(name, timeout_s)                                                                   \
    LT_COPY_ASSEMBLIES(tcp_tap, name, .timeout = timeout_s, .fini = drop_json)

/* ----- http: curl --------------------------------------------------------- */

#define CURL_W "-w 'curl: %%{size_download} bytes in %%{time_total} s, %%{speed_download} B/s, " \
               "http %%{http_code}, %%{num_connects} connects\\n'"

BOTH(curl_10mb_byte_exact, 120)
static void curl_10mb_byte_exact(const char *stack)
{
    lt_need_netns("curl http://192.0.2.2/bytes/10000000 against the stack on a TAP");
    need_tool("curl", "curl http://192.0.2.2/bytes/10000000");
    int st = tap(stack, "http", NULL,
                 "ns curl -sS --max-time 60 -o $T.dl " CURL_W
                 " http://192.0.2.2/bytes/10000000 || return 1\n"
                 PEER " bytes $T.dl 10000000 || return 2\n" SS);
    cr_assert_eq(st, 0, "curl or the check failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "curl: 10000000 bytes in"), "%s", OUT);
    cr_assert(strstr(OUT, "bytes: 10000000 of 10000000 bytes"), "%s", OUT);
    ss_count("TIME-WAIT");
    stack_clean();
    /* every stack sent by TSO, the e1000 or the NE2000's driver cutting
     * the segments whose checksums Linux checked */
    cr_expect_gt(lt_ns_counter("tcp", "tx_tso"), 0, "%s sent no TSO frame", stack);
    cr_expect_gt(lt_ns_counter("nic", "tx_tso_segments"), lt_ns_counter("tcp", "tx_tso"),
                 "%s: the NIC cut the frames", stack);
    measured("curl_10mb", stack, "curl:");
}

COPY(curl_get_root_and_keepalive, 60)
static void curl_get_root_and_keepalive(const char *stack)
{
    lt_need_netns("curl GET / and two URLs on one connection against the stack on a TAP");
    need_tool("curl", "curl GET / and keep-alive");
    /* -v: curl says when it re-uses the connection for the second URL */
    int st = tap(stack, "http", NULL,
                 "ns curl -sS -v --max-time 20 -o $T.root " CURL_W
                 " http://192.0.2.2/ 2>$T.v1 || return 1\n"
                 "echo \"root: $(wc -c < $T.root) bytes\"; grep -ci '<html' $T.root\n"
                 "ns curl -sS -v --max-time 20 -o /dev/null -o /dev/null " CURL_W
                 " http://192.0.2.2/bytes/100000 http://192.0.2.2/bytes/200000 2>$T.v2 "
                 "|| return 2\n"
                 "grep -i 're-using' $T.v2\n" SS);
    cr_assert_eq(st, 0, "curl failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, ", http 200, 1 connects\n"), "GET / was not 200:\n%s", OUT);
    char l[256];
    line_of("root: ", l, sizeof(l));
    cr_assert_gt(atol(l + 6), 0, "GET / gave an empty page:\n%s", OUT);
    cr_assert(strstr(OUT, "curl: 100000 bytes in"), "%s", OUT);
    /* the second URL on the first URL's connection: no new connect */
    cr_assert(strstr(OUT, "curl: 200000 bytes in") &&
                  strstr(strstr(OUT, "curl: 200000 bytes in"), "http 200, 0 connects"),
              "the second request did not re-use the connection:\n%s", OUT);
    cr_assert(strstr(OUT, "Re-using existing connection") ||
                  strstr(OUT, "Re-using"), "%s", OUT);
    ss_count("TIME-WAIT");
    stack_clean();
    cr_expect_eq(lt_ns_counter("tcp", "conns_accepted"), 2, "GET / and one keep-alive connection");
    measured("curl_keepalive", stack, "curl: 200000");
}

/* ----- echo: nc ----------------------------------------------------------- */

/* nc -N: shut down writing at the end of stdin, then read until the
 * service closes; the bytes back must be those sent. */
#define NC_ECHO(bytes_)                                                                         \
    "head -c " #bytes_ " /dev/urandom > $T.in\n"                                                \
    "t0=$(date +%%s%%N)\n"                                                                      \
    "ns timeout 60 nc -N 192.0.2.2 7 < $T.in > $T.out; rc=$?\n"                                 \
    "t1=$(date +%%s%%N)\n"                                                                      \
    "n=$(stat -c %%s $T.out); ms=$(( (t1 - t0) / 1000000 ))\n"                                  \
    "if cmp -s $T.in $T.out; then same=byte-exact; else same=WRONG; fi\n"                       \
    "mbit=$(awk -v n=$n -v ms=$ms "                                                             \
    "'BEGIN { printf \"%%.2f\", n * 8 / (ms > 0 ? ms : 1) / 1000 }')\n"                         \
    "echo \"nc: $n of " #bytes_ " bytes back, $same, $ms ms, $mbit Mbit/s, nc status $rc\"\n"    \
    "[ $rc = 0 ] && [ $same = byte-exact ] || return 1\n"

BOTH(nc_echo_1mb_byte_exact, 90)
static void nc_echo_1mb_byte_exact(const char *stack)
{
    lt_need_netns("nc to the stack's echo service (1 MB) on a TAP");
    need_tool("nc", "nc to the echo service");
    int st = tap(stack, "echo", NULL, NC_ECHO(1000000) SS);
    cr_assert_eq(st, 0, "nc echo failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "nc: 1000000 of 1000000 bytes back, byte-exact"), "%s", OUT);
    ss_count("TIME-WAIT");
    stack_clean();
    measured("nc_echo_1mb", stack, "nc:");
}

/* ----- echo: Python, Linux closes first ---------------------------------- */

COPY(python_echo_linux_closes_first, 90)
static void python_echo_linux_closes_first(const char *stack)
{
    lt_need_netns("a Python client of the stack's echo service on a TAP (Linux closes first)");
    int st = tap(stack, "echo", NULL, "ns " PEER " echo 192.0.2.2 7 1000000 || return 1\n" SS);
    cr_assert_eq(st, 0, "Python echo failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "echo: 1000000 of 1000000 bytes back, byte-exact"), "%s", OUT);
    /* Linux sent the first FIN: its socket waits in TIME-WAIT, ours is gone */
    cr_assert_eq(ss_count("TIME-WAIT"), 1, "Linux closed first: one TIME-WAIT expected:\n%s",
                 OUT);
    stack_clean();
    cr_expect_eq(lt_ns_counter("tcp", "time_wait"), 0, "the passive closer has no TIME_WAIT");
    measured("python_echo_1mb", stack, "echo:");
}

/* ----- a SYN flood: Linux gets in by a SYN cookie --------------------------- */

/* 200 SYNs from spoofed sources (a raw socket in the namespace) fill the
 * echo service's SYN queue (tcp.backlog_max=1: a queue of one) and leave
 * it full (their SYN-ACKs find no one); Linux's own connection is then
 * answered with a SYN cookie, completes, echoes byte-exact, and Linux
 * reports timestamps, SACK and window scaling negotiated from it. One
 * assembly: the cookie path is the tcp component's alone. */
Test(tcp_tap, syn_flood_linux_gets_in_by_cookie, .timeout = 90, .fini = drop_json)
{
    lt_need_netns("a SYN cookie answering Linux behind a spoofed SYN flood on a TAP");
    const char *stack = "copy-pio";
    int st = tap(stack, "echo", "tcp.backlog_max=1",
                 "ns " PEER " syn_flood 192.0.2.2 7 200 || return 1\n" SS);
    cr_assert_eq(st, 0, "the connection through a cookie failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "100000 of 100000 bytes echoed byte-exact"), "%s", OUT);
    ss_count("TIME-WAIT");
    stack_clean();
    cr_expect_geq(lt_ns_counter("tcp", "syncookies_sent"), 200, "the flood's and Linux's");
    cr_expect_eq(lt_ns_counter("tcp", "syncookies_ok"), 1);
    cr_expect_eq(lt_ns_counter("tcp", "syncookies_failed"), 0);
    measured("syn_flood", stack, "syn_flood:");
}

/* ----- http: our side closes first ---------------------------------------- */

COPY(http_server_closes_first, 60)
static void http_server_closes_first(const char *stack)
{
    lt_need_netns("the stack closing first (http, Connection: close) with Linux on a TAP");
    /* Python, not curl: curl closes as soon as it has Content-Length bytes,
     * racing our FIN; this client closes only after the server's FIN */
    int st = tap(stack, "http", NULL,
                 "ns " PEER " http_close 192.0.2.2 80 100000 || return 1\n" SS);
    cr_assert_eq(st, 0, "the request failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "http_close: 100000 of 100000 body bytes, the pattern"), "%s", OUT);
    /* we sent the first FIN: Linux went CLOSE-WAIT, LAST-ACK, closed; the
     * TIME_WAIT is ours */
    cr_assert_eq(ss_count("TIME-WAIT"), 0, "Linux did not close second:\n%s", OUT);
    stack_clean();
    cr_expect_eq(lt_ns_counter("tcp", "time_wait"), 1, "the active closer holds TIME_WAIT");
    measured("http_close_first", stack, "http_close:");
}

/* ----- lyra-ttcp: our client and server, Python on Linux's side ---------- */

#define TTCP_N 1280 /* x 8192 bytes: 10,485,760 */
#define TTCP_BYTES "10485760"

BOTH(ttcp_to_linux_python_sink, 90)
static void ttcp_to_linux_python_sink(const char *stack)
{
    lt_need_netns("lyra-ttcp -t (our client) to a Python server on Linux over a TAP");
    int st = tap(NULL, NULL, NULL,
                 "ip netns exec $NS " PEER " sink 192.0.2.1 5001 " TTCP_BYTES " > $T.srv &\n"
                 "pids=$!\n"
                 "for i in $(seq 100); do grep -q ready $T.srv && break; sleep 0.05; done\n"
                 "ns $B/bin/lyra-ttcp -t -l 8192 -n %d --stack assemblies/%s.lyra "
                 "dev.link=tap:lyra0 ip.addr=192.0.2.2/24 192.0.2.1; rc=$?\n"
                 "wait $pids; src=$?; pids=''; cat $T.srv\n"
                 "[ $rc = 0 ] || return 1; [ $src = 0 ] || return 2\n" SS,
                 TTCP_N, stack);
    cr_assert_eq(st, 0, "lyra-ttcp -t or the sink failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "sink: " TTCP_BYTES " of " TTCP_BYTES " bytes, 0 wrong"), "%s", OUT);
    cr_assert(strstr(OUT, "ttcp-t: " TTCP_BYTES " bytes in"), "%s", OUT);
    ss_count("TIME-WAIT");
    measured("ttcp_to_linux", stack, "ttcp-t: " TTCP_BYTES);
}

BOTH(ttcp_from_linux_python_source, 90)
static void ttcp_from_linux_python_source(const char *stack)
{
    lt_need_netns("lyra-ttcp -r (our server) fed by a Python client on Linux over a TAP");
    int st = tap(NULL, NULL, NULL,
                 "ip netns exec $NS $B/bin/lyra-ttcp -r -l 8192 --stack assemblies/%s.lyra "
                 "dev.link=tap:lyra0 ip.addr=192.0.2.2/24 > $T.srv 2>&1 &\n"
                 "pids=$!\n"
                 "ns " PEER " source 192.0.2.2 5001 " TTCP_BYTES "; src=$?\n"
                 "wait $pids; rc=$?; pids=''; cat $T.srv\n"
                 "[ $src = 0 ] || return 1; [ $rc = 0 ] || return 2\n" SS,
                 stack);
    cr_assert_eq(st, 0, "lyra-ttcp -r or the source failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "ttcp-r: " TTCP_BYTES " bytes in"), "%s", OUT);
    cr_assert(strstr(OUT, "ttcp-r: stream checked in order: 0 bytes wrong"), "%s", OUT);
    ss_count("TIME-WAIT");
    measured("ttcp_from_linux", stack, "ttcp-r: " TTCP_BYTES);
}

/* ----- urgent data --------------------------------------------------------- */

/* RFC 9293 3.8.5 (MUST-32, MUST-33) against Linux's urgent pointer: a
 * Python client sends "abc", "!" with MSG_OOB, "def"; our server
 * (tcp_urg recv, the socket API on a stack of its own) sees POLLPRI,
 * reads "abc!" up to the mark (Linux's pointer is just after the urgent
 * byte, RFC 6093), sockatmark 1 there, then "def", POLLPRI gone. */
COPY(urgent_from_linux_marks_and_signals, 60)
static void urgent_from_linux_marks_and_signals(const char *stack)
{
    lt_need_netns("urgent data from a Linux client (MSG_OOB) into our server on a TAP");
    int st = tap(NULL, NULL, NULL,
                 "ip netns exec $NS $B/tests/tcp_urg recv assemblies/%s.lyra 5002 "
                 "dev.link=tap:lyra0 ip.addr=192.0.2.2/24 > $T.srv 2>&1 &\n"
                 "pids=$!\n"
                 "ns " PEER " urgent 192.0.2.2 5002; cl=$?\n"
                 "wait $pids; rc=$?; pids=''; cat $T.srv\n"
                 "[ $cl = 0 ] || return 1; [ $rc = 0 ] || return 2\n" SS,
                 stack);
    cr_assert_eq(st, 0, "the urgent client or server failed (%d):\n%s", st, OUT);
    /* one MSG_WAITALL recv up to the mark: it stops there, as Linux */
    cr_assert(strstr(OUT, "urg-server: pri 1 before 0 to-mark 'abc!' reads 1 "), "%s", OUT);
    cr_assert(strstr(OUT, " atmark 1 pri-at-mark 1 after 'def' atmark-after 0 pri-after 0 "
                          "oob EINVAL udp-atmark ENOTTY"),
              "%s", OUT);
    ss_count("TIME-WAIT");
    measured("urgent", stack, "urg-server: pri");
}

/* RFC 9293 3.8.5 (MUST-30 sending, MUST-62) against Linux: our client
 * (tcp_urg send) sends "abc", "!" with MSG_OOB, "def"; a Python server
 * sees POLLPRI, reads "abc" up to Linux's mark, "!" as its out-of-band
 * byte (our pointer is just after it, as Linux's own), then "def". */
BOTH(urgent_to_linux_oob_byte, 60)
static void urgent_to_linux_oob_byte(const char *stack)
{
    lt_need_netns("urgent data (MSG_OOB) from our client into a Linux server on a TAP");
    int st = tap(NULL, NULL, NULL,
                 "ns " PEER " urgent_sink 192.0.2.1 5003 > $T.srv 2>&1 &\n"
                 "pids=$!\n"
                 "ip netns exec $NS $B/tests/tcp_urg send assemblies/%s.lyra 192.0.2.1 5003 "
                 "dev.link=tap:lyra0 ip.addr=192.0.2.2/24; cl=$?\n"
                 "wait $pids; rc=$?; pids=''; cat $T.srv\n"
                 "[ $cl = 0 ] || return 1; [ $rc = 0 ] || return 2\n" SS,
                 stack);
    cr_assert_eq(st, 0, "our urgent client or the Linux server failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "urg-client: sent abc, ! (MSG_OOB), def; FIN seen"), "%s", OUT);
    cr_assert(strstr(OUT, "urgent-sink: pri 1 to-mark b'abc' oob b'!' rest b'def'"), "%s", OUT);
    ss_count("TIME-WAIT");
    measured("urgent_to_linux", stack, "urgent-sink:");
}

/* ----- discard and chargen ------------------------------------------------ */

BOTH(discard_50mb_from_linux, 120)
static void discard_50mb_from_linux(const char *stack)
{
    lt_need_netns("50 MB from Linux into the stack's discard service on a TAP");
    int st = tap(stack, "discard", NULL,
                 "ns " PEER " discard 192.0.2.2 9 50000000 || return 1\n" SS);
    cr_assert_eq(st, 0, "discard failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "discard: 50000000 bytes in"), "%s", OUT);
    ss_count("TIME-WAIT");
    stack_clean();
    cr_expect_geq(lt_ns_counter("tcp", "rx_bytes"), 50000000);
    measured("discard_50mb", stack, "discard:");
}

COPY(chargen_1mb_into_linux, 60)
static void chargen_1mb_into_linux(const char *stack)
{
    lt_need_netns("the stack's chargen service read by Linux (1 MB) on a TAP");
    int st = tap(stack, "chargen", NULL,
                 "ns " PEER " chargen 192.0.2.2 19 1000000 || return 1\n" SS);
    cr_assert_eq(st, 0, "chargen failed (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "chargen: 1000000 of 1000000 bytes, RFC 864 lines right"), "%s", OUT);
    /* Linux closed with unread data: it sent a RST (RFC 9293 3.6, RFC 2525
     * 2.17), so neither side waits in TIME_WAIT or anything else */
    cr_expect_eq(ss_count("TIME-WAIT"), 0, "Linux holds a TIME-WAIT: it did not reset");
    cr_expect_geq(lt_ns_counter("tcp", "rst_rcvd"), 1, "Linux's RST did not reach us");
    cr_expect_eq(lt_ns_counter("tcp", "time_wait"), 0, "our side holds a TIME_WAIT");
    stack_clean();
    measured("chargen_1mb", stack, "chargen:");
}

/* ----- RST from a closed port --------------------------------------------- */

COPY(closed_port_refuses_at_once, 60)
static void closed_port_refuses_at_once(const char *stack)
{
    lt_need_netns("a Linux connect() to a closed port of the stack on a TAP");
    int st = tap(stack, ALL_SERVICES, NULL, "ns " PEER " refused 192.0.2.2 1 || return 1\n" SS);
    cr_assert_eq(st, 0, "no ECONNREFUSED at once (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "refused: ECONNREFUSED after"), "%s", OUT);
    ss_count("TIME-WAIT");
    stack_clean();
    cr_expect_geq(lt_ns_counter("tcp", "rst_sent"), 1);
    cr_expect_geq(lt_ns_counter("tcp", "rx_to_closed"), 1);
    measured("closed_port", stack, "refused:");
}

/* ----- a neighbour that never answers ARP ---------------------------------- */

/* The ms a side's connect took, as its program printed it ("connect
 * (after S s): ...") in its block of OUT (from "== NAME" to the next
 * "== "); asserts the block holds `want`. */
static long side_ms(const char *name, const char *want)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "== %s\n", name);
    const char *p = strstr(OUT, tag), *end;
    cr_assert(p, "no %s block in:\n%s", name, OUT);
    p += strlen(tag);
    end = strstr(p, "== ");
    if (!end)
        end = p + strlen(p);
    const char *w = strstr(p, want), *m = strstr(p, "connect (after ");
    cr_assert(w && w < end, "%s: no '%s' in:\n%s", name, want, OUT);
    cr_assert(m && m < end, "%s: no connect time in:\n%s", name, OUT);
    /* the program's own time of the connect call, not its start too */
    return (long)(strtod(m + strlen("connect (after "), NULL) * 1000.0);
}

/* The same connect from Linux (lyra-ttcp-linux) and from our stack
 * (lyra-ttcp on the TAP), one after the other, to 192.0.2.99, which nobody
 * holds. Linux says "No route to host" once ARP gives up (3 requests 1 s
 * apart), not after its SYN retries (some 130 s, then ETIMEDOUT), and so
 * must we (eth.arp_retries x eth.arp_retry; ip's local host unreachable,
 * l3 2.4, ends tcp's connect): the same error at about the same time.
 * Before l3 2.4 ours took 183 s (this test's 60 s timeout). */
Test(tcp_tap, connect_to_a_silent_neighbour_fails_as_on_linux, .timeout = 60, .fini = drop_json)
{
    lt_need_netns("a connect to an address nobody holds, from Linux and from our stack");
    int st = tap(NULL, NULL, NULL,
                 /* Linux's connect while a stack of ours (at .3) holds the
                  * TAP: with no program on it, the TAP has no carrier, and
                  * Linux flushes the neighbour, and the SYN waiting for it,
                  * without a word when the carrier goes */
                 "ip netns exec $NS $B/bin/lyra-copy-dma dev.link=tap:lyra0 ip.addr=192.0.2.3/24 "
                 "--services echo --for 60 > /dev/null 2>&1 &\n"
                 "pids=$!\n"
                 "for i in $(seq 100); do\n"
                 "  ip -n $NS link show lyra0 | grep -q NO-CARRIER || break; sleep 0.05\n"
                 "done\n"
                 "ns $B/bin/lyra-ttcp-linux -t -n 1 192.0.2.99 > $T.lin 2>&1\n"
                 "echo \"rc=$?\" >> $T.lin\n"
                 "kill -TERM $pids; wait $pids; pids=''\n"
                 /* then ours, lyra-ttcp on the TAP itself */
                 "ns $B/bin/lyra-ttcp -t -n 1 --stack assemblies/copy-dma.lyra "
                 "dev.link=tap:lyra0 ip.addr=192.0.2.2/24 192.0.2.99 > $T.our 2>&1\n"
                 "echo \"rc=$?\" >> $T.our\n"
                 "echo '== linux'; cat $T.lin; echo '== ours'; cat $T.our; echo '== end'\n");
    cr_assert_eq(st, 0, "the namespace script failed (%d):\n%s", st, OUT);
    long lin = side_ms("linux", " s): No route to host");
    long our = side_ms("ours", " s): No route to host");
    cr_expect(lin >= 2000 && lin < 10000, "Linux took %ld ms: not ARP's give-up", lin);
    cr_expect(our >= 2000 && our < 10000, "we took %ld ms:\n%s", our, OUT);
    /* both wait for ARP's third request to go unanswered, a second apart */
    cr_expect(labs(our - lin) < 700, "we took %ld ms, Linux %ld ms", our, lin);
    printf("[tcp_tap] silent_neighbour copy-dma: No route to host after %.2f s, Linux after "
           "%.2f s\n", (double)our / 1000, (double)lin / 1000);
    fflush(stdout);
}

/* ----- impaired both ways ------------------------------------------------- */

/* curl 10 MB (curl's --max-time curl_s) and nc echo 1 MB against the
 * stack with overrides args, both byte-exact, every connection ended on
 * both sides; c and n: curl's and nc's lines (256 bytes each). */
static void curl_and_echo(const char *stack, const char *what, const char *args, int curl_s,
                          char *c, char *n)
{
    int st = tap(stack, "echo,http", args,
                 "ns curl -sS --max-time %d -o $T.dl " CURL_W
                 " http://192.0.2.2/bytes/10000000 || return 1\n"
                 PEER " bytes $T.dl 10000000 || return 2\n" NC_ECHO(1000000) SS,
                 curl_s);
    cr_assert_eq(st, 0, "%s: curl, nc or a check failed (%d):\n%s", what, st, OUT);
    cr_assert(strstr(OUT, "bytes: 10000000 of 10000000 bytes"), "%s", OUT);
    cr_assert(strstr(OUT, "nc: 1000000 of 1000000 bytes back, byte-exact"), "%s", OUT);
    ss_count("TIME-WAIT");
    stack_clean();
    line_of("curl:", c, 256);
    line_of("nc:", n, 256);
}

/* curl 10 MB and nc echo 1 MB with our link impairing both directions
 * (seeded: os.seed), the minimum RTO lowered so that losses cost less
 * time (Linux's own stays 200 ms: its losses cost most of the time). */
static void impaired(const char *stack, const char *what, const char *args)
{
    char c[256], n[256];
    curl_and_echo(stack, what, args, 120, c, n);
    cr_expect_gt(lt_ns_counter("tcp", "tx_retrans_segs"), 0, "%s: no retransmission?", what);
    printf("[tcp_tap] %s %s: %s; %s; %llu of our segments retransmitted\n", what, stack, c, n,
           lt_ns_counter("tcp", "tx_retrans_segs"));
    fflush(stdout);
}

BOTH(impaired_loss_curl_and_echo, 180)
static void impaired_loss_curl_and_echo(const char *stack)
{
    lt_need_netns("curl and nc echo with 5% loss both ways on a TAP");
    need_tool("curl", "curl and nc echo with 5% loss both ways");
    need_tool("nc", "curl and nc echo with 5% loss both ways");
    impaired(stack, "impaired_loss_5pct",
             "os.seed=7 dev.loss=5% dev.rx_loss=5% tcp.rto_min_ms=50");
}

COPY(impaired_reorder_dup_curl_and_echo, 180)
static void impaired_reorder_dup_curl_and_echo(const char *stack)
{
    lt_need_netns("curl and nc echo with reordering and duplication both ways on a TAP");
    need_tool("curl", "curl and nc echo with reordering and duplication");
    need_tool("nc", "curl and nc echo with reordering and duplication");
    impaired(stack, "impaired_reorder_dup",
             "os.seed=7 dev.reorder=1% dev.rx_reorder=1% dev.dup=1% dev.rx_dup=1% "
             "tcp.rto_min_ms=50");
}

/* ----- the NE2000 as its datasheet describes it --------------------------- */

/* The NE2000 model as the DP8390 datasheet has it (dev.quirks=datasheet),
 * not as QEMU's: a transmission ends at the card's next step, so the
 * driver holds each TSO frame across poll steps and writes its segments
 * as transmit buffers free up, and the receive ring's byte count includes
 * the CRC the card stores. curl 10 MB and nc echo 1 MB against Linux,
 * byte-exact, Linux checking every segment's checksum. Such a card takes
 * every frame the link has at its poll step, so Linux's bursts overflow
 * its ring (some 40 overflows and 300 frames missed a run here; QEMU's
 * card leaves them on the link instead): the driver's overflow recovery
 * and TCP's loss recovery run too, and the line printed counts them.
 * About one run in eight the lost frames are the burst's whole tail and
 * nc takes ~300 ms instead of ~100: Linux's tail-loss probe is answered
 * by a SACK faster than Linux's least RTT, which its RACK takes for an
 * answer to the original (ambiguous), so it waits for its RTO (200 ms).
 * Then the echo again with an 8 KB window: no overflow at all. */
LT_PIO_ASSEMBLIES(tcp_tap, ne2000_datasheet_curl_and_echo, .timeout = 120, .fini = drop_json)
static void ne2000_datasheet_curl_and_echo(const char *stack)
{
    lt_need_netns("curl and nc echo against the NE2000 stack with the datasheet's card on a TAP");
    need_tool("curl", "curl against the NE2000 as its datasheet describes it");
    need_tool("nc", "nc echo against the NE2000 as its datasheet describes it");
    char c[256], n[256];
    curl_and_echo(stack, "ne2000_datasheet", "dev.quirks=datasheet", 60, c, n);
    /* the card stored each frame's CRC, and the driver found and removed
     * it (frame by frame: the mode latches only on a frame whose count
     * ends 253-256 bytes past a page boundary, nic_pio.c) */
    cr_expect_gt(lt_ns_counter("dev", "rx_fcs"), 0, "the model did not run as the datasheet");
    cr_expect_gt(lt_ns_counter("nic", "rx_fcs_stripped"), 0, "no CRC removed");
    cr_expect_neq(lt_ns_counter("nic", "rx_fcs_mode"), 1, "the driver took the card for QEMU's");
    /* TSO frames cut by the driver with the card's transmit deferred, and
     * never a transmit command while one was still on the wire */
    cr_expect_gt(lt_ns_counter("nic", "tx_tso_frames"), 0, "no TSO frame");
    cr_expect_gt(lt_ns_counter("nic", "tx_tso_segments"), lt_ns_counter("nic", "tx_tso_frames"));
    cr_expect_eq(lt_ns_counter("dev", "tx_overlap"), 0, "TXP while the card was sending");
    cr_expect_eq(lt_ns_counter("nic", "tx_errors"), 0);
    unsigned long long ovf = lt_ns_counter("dev", "rx_overflow");
    printf("[tcp_tap] ne2000_datasheet %s: %s; %s; %llu TSO frames in %llu segments; card: %llu "
           "ring overflows, %llu frames missed; %llu of our segments retransmitted (%llu by "
           "timeout)\n", stack, c, n, lt_ns_counter("nic", "tx_tso_frames"),
           lt_ns_counter("nic", "tx_tso_segments"), ovf, lt_ns_counter("dev", "rx_missed"), lt_ns_counter("tcp", "tx_retrans_segs"),
           lt_ns_counter("tcp", "rto_expiries"));
    fflush(stdout);
    cr_expect_gt(ovf, 0, "no overflow: the case above did not test recovery");
    /* The remedy docs/tcp.md gives: a window the ring holds (52 pages of
     * 256 bytes: 8 full frames; 8 KB in flight is 6 frames, 34 pages, with
     * room for Linux's ACKs) and Linux's bursts never overflow it. */
    drop_json();
    int st = tap(stack, "echo", "dev.quirks=datasheet tcp.rcv_buf=8k", NC_ECHO(1000000));
    cr_assert_eq(st, 0, "nc failed with rcv_buf=8k (%d):\n%s", st, OUT);
    cr_assert(strstr(OUT, "nc: 1000000 of 1000000 bytes back, byte-exact"), "%s", OUT);
    cr_expect_eq(lt_ns_counter("dev", "rx_overflow"), 0, "the ring overflowed with an 8 KB window");
    cr_expect_eq(lt_ns_counter("dev", "rx_missed"), 0);
    line_of("nc:", n, sizeof(n));
    printf("[tcp_tap] ne2000_datasheet %s, tcp.rcv_buf=8k: %s; card: %llu ring overflows\n", stack,
           n, lt_ns_counter("dev", "rx_overflow"));
    fflush(stdout);
}
