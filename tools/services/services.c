/* The service list (--services): checked against the stack's transports,
 * then each service opened over UDP and over TCP where the stack has them,
 * a thread per (service, transport). */
#include "services.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/l4.h"
#include "svc.h"

#define SV_MAX 10

static const struct {
    const char *name;
    enum svc_kind kind;
    unsigned short port;
    int udp; /* also over UDP (all are over TCP) */
} known[] = {
    {"echo", SVC_ECHO, 7, 1},   {"discard", SVC_DISCARD, 9, 1}, {"chargen", SVC_CHARGEN, 19, 1},
    {"http", SVC_HTTP, 80, 0},  {"stall", SVC_STALL, 5001, 0},
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

struct lyra_services {
    struct svc v[SV_MAX];
    unsigned n;
};

/* Does the stack have an l4 provider of this type (and protocol, unless
 * 0)? Read from the descriptors (a probing socket() would count as a
 * failed call). A stream transport is what lyra_socket(SOCK_STREAM, 0)
 * opens: tcp, or a test's stand-in. */
static int has(struct lyra_stack *s, int type, int proto)
{
    for (unsigned i = 0; lyra_stack_instance_name(s, i); i++) {
        const struct lyra_component *c;
        lyra_stack_instance(s, lyra_stack_instance_name(s, i), &c);
        for (unsigned k = 0; k < c->n_provides; k++) {
            const struct lyra_l4_ops *o = c->provides[k].ops;
            if (!strcmp(c->provides[k].iface, LYRA_L4_IFACE) && o && o->type == type &&
                (!proto || o->protocol == proto))
                return 1;
        }
    }
    return 0;
}

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

struct ctx {
    struct lyra_stack *s;
    FILE *err;
    struct lyra_services *sv;
    int udp, tcp;
    unsigned seen; /* services listed so far, by index in known[] */
};

static int check_one(void *vctx, const char *name, int idx)
{
    struct ctx *c = vctx;
    const char *asm_name = lyra_stack_name(c->s);
    if (idx < 0) {
        fprintf(c->err, "--services: unknown service '%s' (known: echo, discard, chargen, http, "
                        "stall)\n", name);
        return 1;
    }
    if (c->seen & (1u << idx)) {
        fprintf(c->err, "--services: '%s' is listed twice\n", name);
        return 1;
    }
    c->seen |= 1u << idx;
    if (!has_socket_layer(c->s)) {
        fprintf(c->err, "--services: service '%s' needs a socket layer (udp or tcp), and "
                        "assembly %s has none\n", name, asm_name);
        return 1;
    }
    if (!known[idx].udp && !c->tcp) {
        fprintf(c->err, "--services: %s needs TCP (a SOCK_STREAM transport), and assembly %s "
                        "has none: without it only echo, discard and chargen over UDP are "
                        "served\n", name, asm_name);
        return 1;
    }
    if (!c->udp && !c->tcp) {
        fprintf(c->err, "--services: %s needs UDP or TCP, and assembly %s has neither\n", name,
                asm_name);
        return 1;
    }
    return 0;
}

int lyra_services_check(struct lyra_stack *s, const char *list, FILE *err)
{
    struct ctx c = {s, err, NULL, has(s, SOCK_DGRAM, IPPROTO_UDP), has(s, SOCK_STREAM, 0), 0};
    return each(list, check_one, &c);
}

static int set_nonblock(struct lyra_stack *s, int fd)
{
    int fl = lyra_fcntl(s, fd, F_GETFL, 0);
    return fl < 0 ? -1 : lyra_fcntl(s, fd, F_SETFL, fl | O_NONBLOCK);
}

/* Opens one service over one transport and starts its thread: 0 or 2. */
static int open_one(struct ctx *c, int idx, int tcp)
{
    const char *proto = tcp ? "TCP" : "UDP", *name = known[idx].name;
    if (c->sv->n == SV_MAX) {
        fprintf(c->err, "--services: too many services\n");
        return 2;
    }
    struct svc *v = &c->sv->v[c->sv->n];
    memset(v, 0, sizeof(*v));
    v->s = c->s;
    v->kind = known[idx].kind;
    v->name = name;
    v->seed = known[idx].port;
    v->fd = lyra_socket(c->s, AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (v->fd < 0) {
        fprintf(c->err, "--services: %s: %s socket: %s\n", name, proto, strerror(errno));
        return 2;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(known[idx].port);
    int one = 1;
    if (tcp)
        lyra_setsockopt(c->s, v->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const char *step = "bind";
    int bad = lyra_bind(c->s, v->fd, (struct sockaddr *)&a, sizeof(a));
    if (!bad && tcp)
        bad = (step = "listen", lyra_listen(c->s, v->fd, SVC_TCP_BACKLOG)) ||
              (step = "fcntl O_NONBLOCK", set_nonblock(c->s, v->fd));
    if (bad) {
        fprintf(c->err, "--services: %s: %s %s port %u: %s\n", name, step, proto,
                known[idx].port, strerror(errno));
        lyra_close(c->s, v->fd);
        return 2;
    }
    if (tcp ? svc_tcp_alloc(v) : svc_udp_alloc(v)) {
        fprintf(c->err, "--services: %s over %s: no memory for its buffers (packet memory: "
                "lyra_pkt_alloc)\n", name, proto);
        lyra_close(c->s, v->fd);
        return 2;
    }
    if (pthread_create(&v->t, NULL, tcp ? svc_tcp_loop : svc_udp_loop, v)) {
        fprintf(c->err, "--services: %s over %s: cannot start a thread\n", name, proto);
        tcp ? svc_tcp_free(v) : svc_udp_free(v);
        lyra_close(c->s, v->fd);
        return 2;
    }
    v->running = 1;
    c->sv->n++;
    return 0;
}

static int start_one(void *vctx, const char *name, int idx)
{
    struct ctx *c = vctx;
    int r = check_one(c, name, idx);
    if (!r && c->udp && known[idx].udp)
        r = open_one(c, idx, 0);
    if (!r && c->tcp)
        r = open_one(c, idx, 1);
    return r;
}

int lyra_services_start(struct lyra_stack *s, const char *list, FILE *err,
                        struct lyra_services **out)
{
    struct lyra_services *sv = calloc(1, sizeof(*sv));
    if (!sv)
        return 2;
    struct ctx c = {s, err, sv, has(s, SOCK_DGRAM, IPPROTO_UDP), has(s, SOCK_STREAM, 0), 0};
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
        struct svc *v = &sv->v[i];
        if (v->running)
            pthread_join(v->t, NULL);
        lyra_close(v->s, v->fd);
        if (v->conns)
            svc_tcp_free(v);
        else
            svc_udp_free(v);
    }
    free(sv);
}
