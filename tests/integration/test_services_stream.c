/* The TCP services' code over fake_stream (tests/unit/socket: a stream
 * transport inside one instance whose receive buffers hold 64 bytes, so
 * every flow-control path runs), one stack, a loop thread: echo, discard,
 * chargen, http and stall as a client meets them; echo stops reading while
 * its peer does not read; the services end when the stack stops with
 * connections open; --services refuses http on a stack without a stream
 * transport. */
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
#include "services.h"
#include "svc_client.h"
#include "svc_pattern.h"

static struct lyra_stack *S;
static struct lyra_services *SV;
static pthread_t loop_t;

static void *loop_main(void *arg)
{
    lyra_stack_run(arg);
    return NULL;
}

static struct lyra_stack *load(const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/lyra-svc-stream-%d.lyra", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
    struct lyra_stack *s = NULL;
    int r = lyra_stack_load(path, NULL, &s);
    unlink(path);
    cr_assert_eq(r, 0, "load: %d", r);
    return s;
}

static void serve(const char *list)
{
    S = load("[os]\ncomponent = os_posix\n[st]\ncomponent = fake_stream\n"
             "[sock]\ncomponent = socket\nl4 = st\nos = os\nmax_fds = 16\n");
    cr_assert_eq(lyra_services_check(S, list, stderr), 0);
    cr_assert_eq(lyra_stack_start(S), 0);
    cr_assert_eq(lyra_services_start(S, list, stderr, &SV), 0);
    pthread_create(&loop_t, NULL, loop_main, S);
}

static void teardown(void)
{
    if (!S)
        return;
    lyra_stack_stop(S);
    pthread_join(loop_t, NULL);
    lyra_services_join(SV);
    lyra_stack_destroy(S);
    S = NULL;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

TestSuite(svc_stream, .fini = teardown, .timeout = 60);

struct writer {
    int fd;
    const unsigned char *p;
    size_t n;
};

static void *write_all(void *arg)
{
    struct writer *w = arg;
    lyra_send(S, w->fd, w->p, w->n, 0);
    return NULL;
}

Test(svc_stream, echo_returns_every_byte_in_order)
{
    serve("echo");
    int fd = sc_connect(S, 0x7f000001, 7);
    static unsigned char out[100000], in[100000];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (unsigned char)(i * 7 + i / 251);
    struct writer w = {fd, out, sizeof(out)};
    pthread_t t;
    pthread_create(&t, NULL, write_all, &w);
    sc_recv_exact(S, fd, in, sizeof(in));
    pthread_join(t, NULL);
    cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
    cr_assert_eq(lyra_shutdown(S, fd, SHUT_WR), 0);
    sc_expect_eof(S, fd); /* the peer done and everything echoed: echo closes */
    lyra_close(S, fd);
}

Test(svc_stream, echo_stops_reading_while_its_peer_does_not_read)
{
    serve("echo");
    int fd = sc_connect(S, 0x7f000001, 7);
    cr_assert_eq(lyra_fcntl(S, fd, F_SETFL, O_NONBLOCK), 0);
    static unsigned char out[4 * 16384], in[4 * 16384];
    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (unsigned char)(i % 253);
    size_t sent = 0;
    for (int idle = 0; idle < 50 && sent < sizeof(out);) {
        ssize_t r = lyra_send(S, fd, out + sent, sizeof(out) - sent, 0);
        if (r > 0) {
            sent += (size_t)r, idle = 0;
            continue;
        }
        cr_assert_eq(errno, EAGAIN, "%s", strerror(errno));
        idle++;
        sleep_ms(10);
    }
    /* held by echo (16 KB), its receive buffer and ours (64 bytes each) */
    cr_assert_lt(sent, sizeof(out), "echo read all %zu bytes it could not send back", sent);
    cr_assert_leq(sent, 16384 + 2 * 64, "sent %zu", sent);
    cr_assert_geq(sent, 16384, "sent %zu", sent);
    cr_assert_eq(lyra_fcntl(S, fd, F_SETFL, 0), 0);
    sc_recv_exact(S, fd, in, sent);
    cr_assert_eq(memcmp(in, out, sent), 0);
    lyra_close(S, fd);
}

Test(svc_stream, discard_reads_everything_until_the_peer_closes)
{
    serve("discard");
    int fd = sc_connect(S, 0x7f000001, 9);
    static unsigned char junk[256 * 1024];
    memset(junk, 'd', sizeof(junk));
    sc_send_all(S, fd, junk, sizeof(junk));
    cr_assert_eq(lyra_shutdown(S, fd, SHUT_WR), 0);
    sc_expect_eof(S, fd); /* all read, then closed */
    lyra_close(S, fd);
}

Test(svc_stream, chargen_sends_rfc_864_lines_without_end)
{
    serve("chargen");
    int fd = sc_connect(S, 0x7f000001, 19);
    static unsigned char got[3 * CHARGEN_PERIOD], want[3 * CHARGEN_PERIOD];
    sc_send_all(S, fd, "ignored", 7);
    sc_recv_exact(S, fd, got, sizeof(got));
    chargen_fill(want, sizeof(want), 0);
    cr_assert_eq(memcmp(got, want, sizeof(got)), 0);
    lyra_close(S, fd);
}

static int get(int fd, const char *req, struct sc_resp *r, char *body, size_t cap)
{
    return sc_http(S, fd, req, r, body, cap, 0);
}

Test(svc_stream, http_serves_the_page_and_bytes_on_one_connection)
{
    serve("http");
    int fd = sc_connect(S, 0x7f000001, 80);
    struct sc_resp r;
    static char body[4096];
    cr_assert_eq(get(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", &r, body, sizeof(body)), 200);
    cr_assert(strstr(r.head, "Content-Type: text/html"), "%s", r.head);
    cr_assert(strstr(body, "<h1>LyraNET</h1>"), "%s", body);
    cr_assert_eq(r.close, 0);
    /* HEAD: the same length, no body: the next response follows at once */
    uint64_t page = r.length;
    cr_assert_eq(sc_http(S, fd, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n", &r, body, 0, 1), 200);
    cr_assert_eq(r.length, page);
    sc_send_all(S, fd, "GET /bytes/100000 HTTP/1.1\r\nHost: t\r\n\r\n", 39);
    sc_read_head(S, fd, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.length, 100000);
    sc_read_pattern(S, fd, 100000);
    cr_assert_eq(get(fd, "GET /bytes/0 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", &r, body,
                     sizeof(body)), 200);
    cr_assert_eq(r.length, 0);
    cr_assert_eq(r.close, 1);
    sc_expect_eof(S, fd);
    lyra_close(S, fd);
}

Test(svc_stream, http_answers_pipelined_requests_in_order)
{
    serve("http");
    int fd = sc_connect(S, 0x7f000001, 80);
    const char *three = "GET /bytes/20 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /bytes/5 HTTP/1.0\r\n\r\n";
    sc_send_all(S, fd, three, strlen(three));
    struct sc_resp r;
    char body[256];
    sc_read_head(S, fd, &r);
    cr_assert_eq(r.length, 20);
    sc_read_pattern(S, fd, 20);
    sc_read_head(S, fd, &r);
    cr_assert_eq(r.status, 404);
    sc_recv_exact(S, fd, body, (size_t)r.length);
    sc_read_head(S, fd, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.close, 1, "HTTP/1.0 without keep-alive closes: %s", r.head);
    sc_read_pattern(S, fd, 5);
    sc_expect_eof(S, fd);
    lyra_close(S, fd);
}

Test(svc_stream, http_refuses_what_it_does_not_serve)
{
    serve("http");
    struct sc_resp r;
    char body[512];
    int fd = sc_connect(S, 0x7f000001, 80);
    cr_assert_eq(get(fd, "DELETE / HTTP/1.1\r\nHost: t\r\n\r\n", &r, body, sizeof(body)), 405);
    cr_assert(strstr(r.head, "Allow: GET, HEAD\r\n"), "%s", r.head);
    cr_assert_eq(r.close, 0, "a 405 without a body keeps the connection");
    /* N up to 2^40: the head says so (HEAD: no body), one more is refused */
    cr_assert_eq(sc_http(S, fd, "HEAD /bytes/1099511627776 HTTP/1.1\r\nHost: t\r\n\r\n", &r,
                         body, 0, 1), 200);
    cr_assert_eq(r.length, 1ull << 40, "%s", r.head);
    cr_assert_eq(get(fd, "GET /bytes/1099511627777 HTTP/1.1\r\nHost: t\r\n\r\n", &r, body,
                     sizeof(body)), 400);
    cr_assert(strstr(body, "2^40"), "%s", body);
    /* HEAD has no body: the 404 text is not sent */
    cr_assert_eq(sc_http(S, fd, "HEAD /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r, body,
                         0, 1), 404);
    cr_assert(strstr(r.head, "Connection: keep-alive"), "%s", r.head);
    cr_assert_eq(get(fd, "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc", &r, body,
                     sizeof(body)), 200);
    cr_assert_eq(r.close, 1, "a request with a body is answered, then the connection closes");
    sc_expect_eof(S, fd);
    lyra_close(S, fd);

    fd = sc_connect(S, 0x7f000001, 80);
    cr_assert_eq(get(fd, "GET / HTTP/1.1\r\nHost : t\r\n\r\n", &r, body, sizeof(body)), 400);
    cr_assert_eq(r.close, 1);
    cr_assert(strstr(body, "400 Bad Request: "), "%s", body);
    sc_expect_eof(S, fd);
    lyra_close(S, fd);

    fd = sc_connect(S, 0x7f000001, 80);
    static char line[1200];
    memset(line, 'a', sizeof(line));
    memcpy(line, "GET /", 5);
    /* no line end: refused at 1024 bytes; sent by a thread, as the 414
     * goes out while the rest waits to be sent (64-byte buffers) */
    struct writer w = {fd, (const unsigned char *)line, sizeof(line)};
    pthread_t t;
    pthread_create(&t, NULL, write_all, &w);
    sc_read_head(S, fd, &r);
    cr_assert_eq(r.status, 414);
    cr_assert_eq(r.close, 1);
    sc_recv_exact(S, fd, body, (size_t)r.length);
    pthread_join(t, NULL);
    sc_expect_eof(S, fd); /* what followed was read and dropped before the close */
    lyra_close(S, fd);
}

Test(svc_stream, stall_accepts_and_never_reads)
{
    serve("stall");
    int fd = sc_connect(S, 0x7f000001, 5001);
    cr_assert_eq(lyra_fcntl(S, fd, F_SETFL, O_NONBLOCK), 0);
    char b[256];
    memset(b, 's', sizeof(b));
    ssize_t r = lyra_send(S, fd, b, sizeof(b), 0);
    cr_assert_eq(r, 64, "64 bytes fit the peer's buffer: %zd", r);
    sleep_ms(200);
    cr_assert_eq(lyra_send(S, fd, b, sizeof(b), 0), -1);
    cr_assert_eq(errno, EAGAIN);
    struct lyra_pollfd p = {fd, POLLIN | POLLOUT, 0};
    cr_assert_eq(lyra_poll(S, &p, 1, 100), 0, "still open, nothing to read or send: %x",
                 p.revents);
    lyra_close(S, fd);
}

Test(svc_stream, the_services_end_when_the_stack_stops_with_connections_open)
{
    serve("echo,chargen"); /* fake_stream has room for 8 endpoints */
    int e = sc_connect(S, 0x7f000001, 7), c = sc_connect(S, 0x7f000001, 19);
    char b[64];
    sc_send_all(S, e, "x", 1);
    sc_recv_exact(S, e, b, 1);
    sc_recv_exact(S, c, b, sizeof(b));
    teardown(); /* joins the service threads: returns, or the test times out */
}

static const char *check(struct lyra_stack *s, const char *list, int want)
{
    static char msg[512];
    memset(msg, 0, sizeof(msg));
    FILE *f = fmemopen(msg, sizeof(msg) - 1, "w");
    cr_assert_eq(lyra_services_check(s, list, f), want, "%s", list);
    fclose(f);
    return msg;
}

Test(svc_stream, check_refuses_tcp_services_without_a_stream_transport)
{
    /* fake_l4 is a datagram transport, not UDP (protocol 253) */
    struct lyra_stack *s = load("[os]\ncomponent = os_posix\n[dg]\ncomponent = fake_l4\n"
                                "[sock]\ncomponent = socket\nl4 = dg\nos = os\n");
    const char *m = check(s, "http", 1);
    cr_assert(strstr(m, "http needs TCP (a SOCK_STREAM transport), and assembly "), "%s", m);
    m = check(s, "stall", 1);
    cr_assert(strstr(m, "stall needs TCP"), "%s", m);
    m = check(s, "echo", 1);
    cr_assert(strstr(m, "echo needs UDP or TCP"), "%s", m);
    lyra_stack_destroy(s);
    s = load("[os]\ncomponent = os_posix\n[st]\ncomponent = fake_stream\n"
             "[sock]\ncomponent = socket\nl4 = st\nos = os\n");
    check(s, "echo,discard,chargen,http,stall", 0);
    m = check(s, "echo,http,echo", 1);
    cr_assert(strstr(m, "'echo' is listed twice"), "%s", m);
    lyra_stack_destroy(s);
}
