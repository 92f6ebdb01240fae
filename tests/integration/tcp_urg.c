/* test_tcp_tap's urgent-data peer on our side: a stack (a manifest and
 * overrides) driven through the public socket API, in one of two modes.
 *
 *   tcp_urg recv MANIFEST PORT [INSTANCE.PARAM=VALUE ...]
 *     One TCP listener on PORT; it takes one connection, waits for POLLPRI
 *     (urgent data, RFC 9293 3.8.5 MUST-32), reads up to the urgent mark
 *     with MSG_WAITALL recvs (N of them), lyra_sockatmark telling when it
 *     is there (MUST-33), then to the
 *     end, and prints one line:
 *       urg-server: pri P before A0 to-mark 'X' reads N atmark A1 pri-at-mark
 *         Q1 after 'Y' atmark-after A2 pri-after Q2 oob E1 udp-atmark E2
 *     (E1 is recv(MSG_OOB)'s errno, E2 lyra_sockatmark's on a UDP socket).
 *
 *   tcp_urg send MANIFEST HOST PORT [INSTANCE.PARAM=VALUE ...]
 *     Connects to HOST:PORT (retrying for 10 s while refused), sends "abc",
 *     "!" with MSG_OOB (MUST-30, sending), "def", shuts down writing and
 *     reads to the peer's FIN; prints "urg-client: sent abc, ! (MSG_OOB),
 *     def; FIN seen".
 *
 * Exit status 0 when the calls worked (what they returned is for the test
 * to judge), 2 when the stack or a call failed. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

#define MAX_OV 16

static void *loop(void *s)
{
    lyra_stack_run(s);
    return NULL;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static const char *err_name(int e)
{
    switch (e) {
    case EINVAL:
        return "EINVAL";
    case ENOTTY:
        return "ENOTTY";
    case EOPNOTSUPP:
        return "EOPNOTSUPP";
    case 0:
        return "none";
    default:
        return strerror(e);
    }
}

static int pri_now(struct lyra_stack *s, int fd)
{
    struct lyra_pollfd p = {fd, POLLPRI, 0};
    return lyra_poll(s, &p, 1, 0) == 1 && (p.revents & POLLPRI);
}

static int serve(struct lyra_stack *s, int port)
{
    int l = lyra_socket(s, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    struct timeval tv = {10, 0};
    if (l < 0 || lyra_bind(s, l, (struct sockaddr *)&a, sizeof(a)) ||
        lyra_listen(s, l, 1) ||
        lyra_setsockopt(s, l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
        fprintf(stderr, "urg-server: listen: %s\n", strerror(errno));
        return 2;
    }
    printf("urg-server: ready\n");
    fflush(stdout);
    int c = lyra_accept(s, l, NULL, NULL);
    if (c < 0 || lyra_setsockopt(s, c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
        fprintf(stderr, "urg-server: accept: %s\n", strerror(errno));
        return 2;
    }
    struct lyra_pollfd p = {c, POLLPRI, 0};
    int pri = lyra_poll(s, &p, 1, 10000) == 1 && (p.revents & POLLPRI);
    int before = lyra_sockatmark(s, c);
    char mark[64], rest[64];
    size_t nm = 0, nr = 0;
    int reads = 0, at = 0;
    /* MSG_WAITALL: one recv up to the mark (it stops there, as Linux) */
    while (nm < sizeof(mark) - 1 && (at = lyra_sockatmark(s, c)) == 0) {
        ssize_t r = lyra_recv(s, c, mark + nm, sizeof(mark) - 1 - nm, MSG_WAITALL);
        if (r <= 0)
            break;
        nm += (size_t)r;
        reads++;
    }
    mark[nm] = 0;
    int pri_at = pri_now(s, c);
    ssize_t r;
    while (nr < sizeof(rest) - 1 && (r = lyra_recv(s, c, rest + nr, sizeof(rest) - 1 - nr, 0)) > 0)
        nr += (size_t)r;
    rest[nr] = 0;
    int at_after = lyra_sockatmark(s, c);
    int pri_after = pri_now(s, c);
    char b[4];
    errno = 0;
    int oob = lyra_recv(s, c, b, sizeof(b), MSG_OOB) < 0 ? errno : 0;
    int u = lyra_socket(s, AF_INET, SOCK_DGRAM, 0);
    errno = 0;
    int udp = lyra_sockatmark(s, u) < 0 ? errno : 0;
    printf("urg-server: pri %d before %d to-mark '%s' reads %d atmark %d pri-at-mark %d "
           "after '%s' atmark-after %d pri-after %d oob %s udp-atmark %s\n",
           pri, before, mark, reads, at, pri_at, rest, at_after, pri_after, err_name(oob),
           err_name(udp));
    fflush(stdout);
    lyra_close(s, u);
    lyra_close(s, c);
    lyra_close(s, l);
    pause_ms(300); /* our FIN and Linux's last ACK go before the stack stops */
    return 0;
}

static int client(struct lyra_stack *s, const char *host, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    unsigned q[4];
    if (sscanf(host, "%u.%u.%u.%u", &q[0], &q[1], &q[2], &q[3]) != 4) {
        fprintf(stderr, "urg-client: %s: not an IPv4 address\n", host);
        return 2;
    }
    a.sin_addr.s_addr = htonl(q[0] << 24 | q[1] << 16 | q[2] << 8 | q[3]);
    struct timeval tv = {10, 0};
    int c = -1;
    for (int tries = 0; tries < 100; tries++) {
        c = lyra_socket(s, AF_INET, SOCK_STREAM, 0);
        if (c < 0 || lyra_setsockopt(s, c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
            break;
        if (lyra_connect(s, c, (struct sockaddr *)&a, sizeof(a)) == 0)
            break;
        int e = errno;
        lyra_close(s, c);
        c = -1;
        if (e != ECONNREFUSED)
            break;
        pause_ms(100);
    }
    if (c < 0) {
        fprintf(stderr, "urg-client: connect: %s\n", strerror(errno));
        return 2;
    }
    if (lyra_send(s, c, "abc", 3, 0) != 3 || lyra_send(s, c, "!", 1, MSG_OOB) != 1 ||
        lyra_send(s, c, "def", 3, 0) != 3 || lyra_shutdown(s, c, SHUT_WR)) {
        fprintf(stderr, "urg-client: send: %s\n", strerror(errno));
        return 2;
    }
    char b[64];
    ssize_t r;
    while ((r = lyra_recv(s, c, b, sizeof(b), 0)) > 0)
        ;
    if (r < 0) {
        fprintf(stderr, "urg-client: recv: %s\n", strerror(errno));
        return 2;
    }
    printf("urg-client: sent abc, ! (MSG_OOB), def; FIN seen\n");
    fflush(stdout);
    lyra_close(s, c);
    pause_ms(300); /* the last ACK goes before the stack stops */
    return 0;
}

int main(int argc, char **argv)
{
    int snd = argc > 1 && !strcmp(argv[1], "send");
    int first_ov = snd ? 5 : 4;
    if (argc < first_ov || (!snd && strcmp(argv[1], "recv")) || argc - first_ov > MAX_OV) {
        fprintf(stderr, "usage: tcp_urg recv MANIFEST PORT [INSTANCE.PARAM=VALUE ...]\n"
                        "       tcp_urg send MANIFEST HOST PORT [INSTANCE.PARAM=VALUE ...]\n");
        return 2;
    }
    const char *ov[MAX_OV + 1];
    int n = 0;
    for (int i = first_ov; i < argc; i++)
        ov[n++] = argv[i];
    ov[n] = NULL;
    struct lyra_stack *s = NULL;
    if (lyra_stack_load(argv[2], ov, &s) || lyra_stack_start(s)) {
        fprintf(stderr, "tcp_urg: %s: the stack did not start\n", argv[2]);
        return 2;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, loop, s)) {
        fprintf(stderr, "tcp_urg: no loop thread\n");
        return 2;
    }
    int rc = snd ? client(s, argv[3], atoi(argv[4])) : serve(s, atoi(argv[3]));
    lyra_stack_stop(s);
    pthread_join(t, NULL);
    lyra_stack_destroy(s);
    return rc;
}
