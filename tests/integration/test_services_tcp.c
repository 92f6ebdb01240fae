/* The services over tcp as a client meets them: the DMA stack (192.0.2.3)
 * runs echo, discard, chargen, http and stall; the PIO stack (192.0.2.2)
 * connects to them over the in-process wire (each stack's loop on a thread
 * of its own), copy-pio to copy-dma, and for the cases that move payload
 * every pair of stacks (tests/support/lt_asm.h).
 * Byte-exact echo of 100 KB, 1 MB into discard, RFC 864 lines, http's page
 * and 1,000,000 bytes with keep-alive, its refusals, stall filling the
 * client's send buffer, the per-service connection bound, and the services
 * ending when the stack stops with connections open. No root needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lyra/socket.h"
#include "lyra/stack.h"
#include "lt_asm.h"
#include "services.h"
#include "svc.h"
#include "svc_client.h"
#include "svc_pattern.h"

#define SERVER 0xc0000203u /* the DMA stack (b) */

struct node {
    struct lyra_stack *s;
    pthread_t loop;
};

static struct node A, B; /* A the client (the PIO stack), B the services */
static struct lyra_services *SV;

static const char *env(const char *n)
{
    const char *s = getenv(n);
    cr_assert(s, "%s is not set (run through ctest)", n);
    return s;
}

static void *run_loop(void *arg)
{
    lyra_stack_run(((struct node *)arg)->s);
    return NULL;
}

/* what both stacks' devices do to what they send (a lossy suite sets it) */
static const char *impair = "dev.loss=0%";

static void up(struct node *n, const char *as, const char *name, const char *wire)
{
    char mf[512], link[128];
    snprintf(mf, sizeof(mf), "%s/assemblies/%s.lyra", env("LYRA_SOURCE_DIR"), name);
    snprintf(link, sizeof(link), "dev.link=wire:%s", wire);
    const char *ov[] = {link, "os.seed=7", impair, as, NULL};
    cr_assert_eq(lyra_stack_load(mf, ov, &n->s), 0, "load %s", name);
    cr_assert_eq(lyra_stack_start(n->s), 0);
}

/* Each test starts its pair: a the client, b the services. */
static void setup(const char *a, const char *b)
{
    char wire[64];
    snprintf(wire, sizeof(wire), "svct%d", getpid());
    up(&B, LT_AS_B, b, wire);
    up(&A, LT_AS_A, a, wire);
    const char *list = "echo,discard,chargen,http,stall";
    cr_assert_eq(lyra_services_check(B.s, list, stderr), 0);
    cr_assert_eq(lyra_services_start(B.s, list, stderr, &SV), 0);
    cr_assert_eq(pthread_create(&B.loop, NULL, run_loop, &B), 0);
    cr_assert_eq(pthread_create(&A.loop, NULL, run_loop, &A), 0);
}

static void teardown(void)
{
    if (!A.s)
        return;
    lyra_stack_stop(A.s);
    lyra_stack_stop(B.s);
    pthread_join(A.loop, NULL);
    pthread_join(B.loop, NULL);
    lyra_services_join(SV); /* returns: the services ended with the stack */
    lyra_stack_destroy(A.s);
    lyra_stack_destroy(B.s);
    A.s = B.s = NULL;
}

TestSuite(svc_tcp, .fini = teardown, .timeout = 120);

/* The cases that move payload run on each pair of stacks (copy, zero copy,
 * mixed: tests/support/lt_asm.h); the others, whose subject zero copy does
 * not change, on the copy pair. */
#define PAIRS(name) LT_EACH_PAIR(svc_tcp, name, .timeout = 120)
#define COPY_PAIR(name)                                                                         \
    static void name(void);                                                                      \
    Test(svc_tcp, name)                                                                          \
    {                                                                                            \
        setup("copy-pio", "copy-dma");                                                           \
        name();                                                                                  \
    }                                                                                            \
    static void name(void)

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

struct writer {
    int fd;
    const unsigned char *p;
    size_t n;
    ssize_t r;
};

static void *write_all(void *arg)
{
    struct writer *w = arg;
    w->r = lyra_send(A.s, w->fd, w->p, w->n, 0);
    return NULL;
}

static void echo_100_kb(void)
{
    int fd = sc_connect(A.s, SERVER, 7);
    static unsigned char out[100 * 1024], in[100 * 1024];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (unsigned char)(i * 13 + i / 977);
    struct writer w = {fd, out, sizeof(out), 0};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, write_all, &w), 0);
    sc_recv_exact(A.s, fd, in, sizeof(in));
    pthread_join(t, NULL);
    cr_assert_eq(w.r, (ssize_t)sizeof(out), "send: %zd", w.r);
    cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
    cr_assert_eq(lyra_shutdown(A.s, fd, SHUT_WR), 0);
    sc_expect_eof(A.s, fd); /* all echoed and our side done: echo closes */
    lyra_close(A.s, fd);
}

PAIRS(discard_takes_a_megabyte_and_closes_after_our_fin)
static void discard_takes_a_megabyte_and_closes_after_our_fin(const char *a, const char *b)
{
    setup(a, b);
    int fd = sc_connect(A.s, SERVER, 9);
    static unsigned char junk[1024 * 1024];
    memset(junk, 'd', sizeof(junk));
    sc_send_all(A.s, fd, junk, sizeof(junk));
    cr_assert_eq(lyra_shutdown(A.s, fd, SHUT_WR), 0);
    sc_expect_eof(A.s, fd); /* discard closes on end of stream: it read it all */
    lyra_close(A.s, fd);
}

static void chargen_lines(void)
{
    int fd = sc_connect(A.s, SERVER, 19);
    static unsigned char got[4 * CHARGEN_PERIOD], want[4 * CHARGEN_PERIOD];
    sc_recv_exact(A.s, fd, got, sizeof(got));
    chargen_fill(want, sizeof(want), 0);
    for (size_t line = 0; line < sizeof(got) / CHARGEN_LINE; line++)
        cr_assert_eq(memcmp(got + line * CHARGEN_LINE, want + line * CHARGEN_LINE, CHARGEN_LINE),
                     0, "line %zu: %.74s", line, got + line * CHARGEN_LINE);
    lyra_close(A.s, fd);
}

static void http_page_then_a_million(void)
{
    int fd = sc_connect(A.s, SERVER, 80);
    struct sc_resp r;
    static char body[4096];
    cr_assert_eq(sc_http(A.s, fd, "GET / HTTP/1.1\r\nHost: 192.0.2.3\r\n\r\n", &r, body,
                         sizeof(body), 0), 200, "%s", r.head);
    cr_assert_eq(r.length, strlen(body));
    cr_assert(strstr(body, "<h1>LyraNET</h1>"), "%s", body);
    cr_assert_eq(r.close, 0);
    const char *get = "GET /bytes/1000000 HTTP/1.1\r\nHost: 192.0.2.3\r\n\r\n";
    sc_send_all(A.s, fd, get, strlen(get));
    sc_read_head(A.s, fd, &r);
    cr_assert_eq(r.status, 200, "%s", r.head);
    cr_assert(r.has_length && r.length == 1000000, "%s", r.head);
    sc_read_pattern(A.s, fd, 1000000);
    /* nothing follows the body but the next response, then the close */
    cr_assert_eq(sc_http(A.s, fd, "GET /bytes/3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                         &r, body, sizeof(body), 0), 200);
    cr_assert_str_eq(body, "000");
    cr_assert_eq(r.close, 1);
    sc_expect_eof(A.s, fd);
    lyra_close(A.s, fd);
}

PAIRS(echo_returns_100_kb_byte_for_byte)
static void echo_returns_100_kb_byte_for_byte(const char *a, const char *b)
{
    setup(a, b);
    echo_100_kb();
}

PAIRS(chargen_lines_are_rfc_864s)
static void chargen_lines_are_rfc_864s(const char *a, const char *b)
{
    setup(a, b);
    chargen_lines();
}

PAIRS(http_page_then_a_million_bytes_on_one_connection)
static void http_page_then_a_million_bytes_on_one_connection(const char *a, const char *b)
{
    setup(a, b);
    http_page_then_a_million();
}

COPY_PAIR(http_refusals_404_405_400)
{
    int fd = sc_connect(A.s, SERVER, 80);
    struct sc_resp r;
    char body[512];
    cr_assert_eq(sc_http(A.s, fd, "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n", &r, body, sizeof(body),
                         0), 404);
    cr_assert_eq(r.close, 0);
    cr_assert_eq(sc_http(A.s, fd, "PUT / HTTP/1.1\r\nHost: h\r\n\r\n", &r, body, sizeof(body), 0),
                 405);
    cr_assert(strstr(r.head, "Allow: GET, HEAD\r\n"), "%s", r.head);
    cr_assert_eq(sc_http(A.s, fd, "GET / HTTP/1.1\r\nHost: h\r\nBad Field: x\r\n\r\n", &r, body,
                         sizeof(body), 0), 400);
    cr_assert_eq(r.close, 1);
    sc_expect_eof(A.s, fd);
    lyra_close(A.s, fd);
}

COPY_PAIR(stall_accepts_and_the_senders_buffer_fills)
{
    int fd = sc_connect(A.s, SERVER, 5001);
    cr_assert_eq(lyra_fcntl(A.s, fd, F_SETFL, O_NONBLOCK), 0);
    static unsigned char b[16384];
    memset(b, 's', sizeof(b));
    size_t sent = 0;
    int blocked = 0;
    for (int tries = 0; tries < 400 && !blocked; tries++) {
        ssize_t r;
        while ((r = lyra_send(A.s, fd, b, sizeof(b), 0)) > 0)
            sent += (size_t)r;
        cr_assert_eq(errno, EAGAIN, "%s", strerror(errno));
        /* EAGAIN for good when the window is closed and our buffer full:
         * still so after the peer had time to take more */
        struct lyra_pollfd p = {fd, POLLOUT, 0};
        blocked = lyra_poll(A.s, &p, 1, 300) == 0;
    }
    cr_assert(blocked, "sends never blocked (%zu bytes taken)", sent);
    cr_assert_lt(sent, 4u << 20, "%zu bytes taken by a peer that never reads", sent);
    struct lyra_pollfd p = {fd, POLLIN | POLLRDHUP, 0};
    cr_assert_eq(lyra_poll(A.s, &p, 1, 100), 0, "the connection stays: %x", p.revents);
    lyra_close(A.s, fd);
}

COPY_PAIR(connections_beyond_the_bound_wait_in_the_backlog)
{
    int fd[SVC_TCP_CONNS + 1];
    char c;
    for (int i = 0; i < SVC_TCP_CONNS; i++) {
        fd[i] = sc_connect(A.s, SERVER, 7);
        sc_send_all(A.s, fd[i], "e", 1);
        sc_recv_exact(A.s, fd[i], &c, 1);
    }
    /* the handshake completes (the listener's backlog), the service waits */
    int extra = sc_connect(A.s, SERVER, 7);
    sc_send_all(A.s, extra, "x", 1);
    struct lyra_pollfd p = {extra, POLLIN, 0};
    cr_assert_eq(lyra_poll(A.s, &p, 1, 300), 0, "served beyond the bound");
    lyra_close(A.s, fd[0]); /* a slot frees: the waiting one is served */
    sc_recv_exact(A.s, extra, &c, 1);
    cr_assert_eq(c, 'x');
    for (int i = 1; i < SVC_TCP_CONNS; i++)
        lyra_close(A.s, fd[i]);
    lyra_close(A.s, extra);
}

COPY_PAIR(the_services_end_when_the_stack_stops_with_connections_open)
{
    int e = sc_connect(A.s, SERVER, 7), c = sc_connect(A.s, SERVER, 19);
    int h = sc_connect(A.s, SERVER, 80), st = sc_connect(A.s, SERVER, 5001);
    char b[64];
    sc_send_all(A.s, e, "x", 1);
    sc_recv_exact(A.s, e, b, 1);
    sc_recv_exact(A.s, c, b, sizeof(b));
    const char *big = "GET /bytes/100000000 HTTP/1.1\r\nHost: h\r\n\r\n";
    sc_send_all(A.s, h, big, strlen(big));
    sc_recv_exact(A.s, h, b, sizeof(b));
    sleep_ms(50);
    teardown(); /* joins the service threads mid-transfer */
    (void)st;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* http closes a connection whose request head is not whole
 * SVC_HTTP_IDLE_MS after the wait for it began: one that sends nothing,
 * one that trickles a byte of a head every second (its slot would be held
 * forever by an idle timer that each byte restarts), and a keep-alive one
 * idle after its answer. Each sees the end of the stream about 10 s on. */
COPY_PAIR(http_closes_idle_and_trickling_connections)
{
    int quiet = sc_connect(A.s, SERVER, 80);
    int slow = sc_connect(A.s, SERVER, 80);
    int kept = sc_connect(A.s, SERVER, 80);
    double t0 = mono_s();
    struct sc_resp r;
    static char body[4096];
    cr_assert_eq(sc_http(A.s, kept, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", &r, body,
                         sizeof(body), 0), 200, "%s", r.head);
    double t_kept = mono_s();
    const char *head = "GET / HTTP/1.1\r\nHost: h\r\n"; /* never the blank line */
    size_t sent = 0;
    double t_slow_end = 0;
    while (mono_s() - t0 < 13.0 && !t_slow_end) {
        if (sent < strlen(head) && lyra_send(A.s, slow, head + sent, 1, MSG_DONTWAIT) == 1)
            sent++;
        char b;
        ssize_t n = lyra_recv(A.s, slow, &b, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN))
            t_slow_end = mono_s();
        else
            sleep_ms(n < 0 ? 1000 : 0);
    }
    cr_assert(t_slow_end, "a trickling head keeps its connection past 13 s");
    cr_expect(t_slow_end - t0 > SVC_HTTP_IDLE_MS / 1000.0 - 0.5 &&
                  t_slow_end - t0 < SVC_HTTP_IDLE_MS / 1000.0 + 2.0,
              "the trickling one closed %.1f s after it connected", t_slow_end - t0);
    struct timeval tv = {5, 0};
    lyra_setsockopt(A.s, quiet, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    lyra_setsockopt(A.s, kept, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sc_expect_eof(A.s, quiet);
    double t_quiet = mono_s() - t0;
    cr_expect(t_quiet < SVC_HTTP_IDLE_MS / 1000.0 + 2.0, "the quiet one: %.1f s", t_quiet);
    sc_expect_eof(A.s, kept);
    double t_idle = mono_s() - t_kept;
    cr_expect(t_idle > SVC_HTTP_IDLE_MS / 1000.0 - 0.5 && t_idle < SVC_HTTP_IDLE_MS / 1000.0 + 2.0,
              "the kept-alive one closed %.1f s after its answer", t_idle);
    lyra_close(A.s, quiet);
    lyra_close(A.s, slow);
    lyra_close(A.s, kept);
}
