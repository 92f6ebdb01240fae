#include "services.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/l4.h"
#include "lyra/socket.h"

#define SV_MAX 10
#define SV_BUF 65536 /* the largest UDP datagram fits */

enum kind { ECHO, DISCARD, CHARGEN, HTTP, STALL };

static const struct {
    const char *name;
    enum kind kind;
    unsigned short port;
    int udp, tcp_only;
} known[] = {
    {"echo", ECHO, 7, 1, 0},      {"discard", DISCARD, 9, 1, 0}, {"chargen", CHARGEN, 19, 1, 0},
    {"http", HTTP, 80, 0, 1},     {"stall", STALL, 5001, 0, 1},
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

struct svc {
    struct lyra_stack *s;
    enum kind kind;
    int fd;
    pthread_t t;
    int running;
    unsigned char *buf;
    unsigned seed;
};

struct lyra_services {
    struct svc v[SV_MAX];
    unsigned n;
};

/* Does the stack have a transport for (type, protocol)? Read from the
 * descriptors (a probing socket() would count as a failed call). */
static int has(struct lyra_stack *s, int type, int proto)
{
    for (unsigned i = 0; lyra_stack_instance_name(s, i); i++) {
        const struct lyra_component *c;
        lyra_stack_instance(s, lyra_stack_instance_name(s, i), &c);
        for (unsigned k = 0; k < c->n_provides; k++) {
            const struct lyra_l4_ops *o = c->provides[k].ops;
            if (!strcmp(c->provides[k].iface, LYRA_L4_IFACE) && o && o->type == type &&
                o->protocol == proto)
                return 1;
        }
    }
    return 0;
}

/* Calls fn for each name in list; stops at the first nonzero return. */
static int each(const char *list, int (*fn)(void *ctx, const char *name, int idx), void *ctx)
{
    char buf[256];
    if (strlen(list) >= sizeof(buf))
        return fn(ctx, list, -1);
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int idx = -1;
        for (unsigned k = 0; k < N_KNOWN; k++)
            if (!strcmp(t, known[k].name))
                idx = (int)k;
        int r = fn(ctx, t, idx);
        if (r)
            return r;
    }
    return 0;
}

struct check_ctx {
    struct lyra_stack *s;
    FILE *err;
};

static int has_socket_layer(struct lyra_stack *s)
{
    for (unsigned i = 0; lyra_stack_instance_name(s, i); i++) {
        const struct lyra_component *c;
        lyra_stack_instance(s, lyra_stack_instance_name(s, i), &c);
        for (unsigned k = 0; k < c->n_provides; k++)
            if (!strcmp(c->provides[k].iface, "socket"))
                return 1;
    }
    return 0;
}

static int check_one(void *vctx, const char *name, int idx)
{
    struct check_ctx *c = vctx;
    if (idx < 0) {
        fprintf(c->err, "--services: unknown service '%s' (known: echo, discard, chargen, http, "
                        "stall)\n", name);
        return 1;
    }
    if (!has_socket_layer(c->s)) {
        fprintf(c->err, "--services: service '%s' needs a socket layer (udp or tcp), and "
                        "assembly %s has none\n", name, lyra_stack_name(c->s));
        return 1;
    }
    return 0;
}

int lyra_services_check(struct lyra_stack *s, const char *list, FILE *err)
{
    struct check_ctx c = {s, err};
    return each(list, check_one, &c);
}

/* RFC 864: the 95 printable characters, each line starting one further. */
static size_t chargen_fill(unsigned char *p, size_t n, unsigned *line)
{
    size_t o = 0;
    while (o < n) {
        for (unsigned i = 0; i < 72 && o < n; i++)
            p[o++] = (unsigned char)(' ' + (*line + i) % 95);
        if (o < n)
            p[o++] = '\r';
        if (o < n)
            p[o++] = '\n';
        (*line)++;
    }
    return o;
}

static void *udp_loop(void *arg)
{
    struct svc *v = arg;
    unsigned line = 0;
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = lyra_recvfrom(v->s, v->fd, v->buf, SV_BUF, 0, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno == ECANCELED || errno == EBADF)
                break;
            continue; /* e.g. a pending ICMP error: keep serving */
        }
        if (v->kind == ECHO) {
            lyra_sendto(v->s, v->fd, v->buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        } else if (v->kind == CHARGEN) {
            /* RFC 864: a datagram of a random number (0..512) of characters */
            size_t len = (size_t)(rand_r(&v->seed) % 513);
            chargen_fill(v->buf, len, &line);
            lyra_sendto(v->s, v->fd, v->buf, len, 0, (struct sockaddr *)&from, fl);
        }
    }
    return NULL;
}

struct start_ctx {
    struct lyra_stack *s;
    FILE *err;
    struct lyra_services *sv;
    int tcp;
};

static int open_udp(struct start_ctx *c, int idx)
{
    if (c->sv->n == SV_MAX) {
        fprintf(c->err, "--services: too many services\n");
        return 2;
    }
    struct svc *v = &c->sv->v[c->sv->n];
    memset(v, 0, sizeof(*v));
    v->s = c->s;
    v->kind = known[idx].kind;
    v->seed = known[idx].port;
    v->fd = lyra_socket(c->s, AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (v->fd < 0) {
        fprintf(c->err, "--services: %s: socket: %s\n", known[idx].name, strerror(errno));
        return 2;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(known[idx].port);
    if (lyra_bind(c->s, v->fd, (struct sockaddr *)&a, sizeof(a))) {
        fprintf(c->err, "--services: %s: bind UDP port %u: %s\n", known[idx].name,
                known[idx].port, strerror(errno));
        lyra_close(c->s, v->fd);
        return 2;
    }
    v->buf = malloc(SV_BUF);
    if (!v->buf || pthread_create(&v->t, NULL, udp_loop, v)) {
        fprintf(c->err, "--services: %s: cannot start a thread\n", known[idx].name);
        free(v->buf);
        lyra_close(c->s, v->fd);
        return 2;
    }
    v->running = 1;
    c->sv->n++;
    return 0;
}

static int start_one(void *vctx, const char *name, int idx)
{
    struct start_ctx *c = vctx;
    int udp = has(c->s, SOCK_DGRAM, IPPROTO_UDP);
    if (known[idx].tcp_only && !c->tcp) {
        fprintf(c->err, "--services: %s needs TCP, and assembly %s has no tcp\n", name,
                lyra_stack_name(c->s));
        return 1;
    }
    if (!known[idx].tcp_only && !udp && !c->tcp) {
        fprintf(c->err, "--services: %s needs UDP or TCP, and assembly %s has neither\n", name,
                lyra_stack_name(c->s));
        return 1;
    }
    if (c->tcp) {
        /* Written with the TCP issue; say so rather than serve half. */
        fprintf(c->err, "--services: %s over TCP is not implemented yet\n", name);
        return 2;
    }
    return udp && known[idx].udp ? open_udp(c, idx) : 0;
}

int lyra_services_start(struct lyra_stack *s, const char *list, FILE *err,
                        struct lyra_services **out)
{
    struct lyra_services *sv = calloc(1, sizeof(*sv));
    if (!sv)
        return 2;
    struct start_ctx c = {s, err, sv, has(s, SOCK_STREAM, IPPROTO_TCP)};
    int r = each(list, start_one, &c);
    if (r) {
        lyra_stack_stop(s);
        lyra_services_join(sv);
        return r;
    }
    *out = sv;
    return 0;
}

void lyra_services_join(struct lyra_services *sv)
{
    if (!sv)
        return;
    for (unsigned i = 0; i < sv->n; i++) {
        if (sv->v[i].running)
            pthread_join(sv->v[i].t, NULL);
        lyra_close(sv->v[i].s, sv->v[i].fd);
        free(sv->v[i].buf);
    }
    free(sv);
}
