/* The stack runtime: creates, binds, starts, polls and stops the instances
 * of a plan. Static and dynamic assemblies both come through here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acct.h"
#include "stack_internal.h"
#include "lyra/component.h"
#include "lyra/os.h"
#include "lyra/socket_if.h"
#include "lyra/stack.h"

static void report(struct lyra_diag *d, enum lyra_diag_class cls, const char *fmt, const char *a,
                   const char *b, const char *c)
{
    if (d)
        lyra_diag_add(d, cls, 0, fmt, a, b, c);
    else {
        fprintf(stderr, "error: ");
        fprintf(stderr, fmt, a, b, c);
        fputc('\n', stderr);
    }
}

/* Applies "INST.PARAM=VALUE" overrides; errors name the override. */
static int apply_overrides(struct lyra_stack *s, const char *const *ov, struct lyra_diag *d)
{
    int bad = 0;
    for (unsigned o = 0; ov && ov[o]; o++) {
        const char *t = ov[o], *dot = strchr(t, '.'), *eq = strchr(t, '=');
        if (!dot || !eq || dot > eq || dot == t || eq == dot + 1) {
            report(d, LYRA_E_USAGE, "override '%s': expected INSTANCE.PARAM=VALUE%s%s", t, "", "");
            bad = 1;
            continue;
        }
        struct inst_rt *in = NULL;
        for (unsigned i = 0; i < s->n; i++)
            if (strlen(s->inst[i].name) == (size_t)(dot - t) &&
                !memcmp(s->inst[i].name, t, (size_t)(dot - t)))
                in = &s->inst[i];
        char pname[128], iname[128];
        snprintf(iname, sizeof(iname), "%.*s", (int)(dot - t), t);
        snprintf(pname, sizeof(pname), "%.*s", (int)(eq - dot - 1), dot + 1);
        if (!in) {
            report(d, LYRA_E_UNKNOWN_INSTANCE, "override '%s': no instance named '%s'%s", t,
                   iname, "");
            bad = 1;
            continue;
        }
        int k = lyra_component_param(in->c, pname);
        if (k < 0) {
            report(d, LYRA_E_UNKNOWN_PARAM, "override '%s': component %s has no parameter '%s'",
                   t, in->c->name, pname);
            bad = 1;
            continue;
        }
        const struct lyra_param *p = &in->c->params[k];
        char err[256];
        struct lyra_value v;
        int r = lyra_value_parse(p->type, eq + 1, p->min, p->max, &v, err, sizeof(err));
        if (r) {
            report(d, r == -ERANGE ? LYRA_E_RANGE : LYRA_E_TYPE, "override '%s': %s%s", t, err,
                   "");
            bad = 1;
            continue;
        }
        in->v[k] = v; /* strings point into ov[o]: copied below */
        in->texts[k] = eq + 1;
    }
    return bad ? -EINVAL : 0;
}

static int topo_order(struct lyra_stack *s)
{
    const struct lyra_plan *p = s->plan;
    unsigned char *done = calloc(s->n + 1, 1);
    unsigned k = 0;
    if (!done)
        return -ENOMEM;
    while (k < s->n) {
        unsigned progress = 0;
        for (unsigned i = 0; i < s->n; i++) {
            if (done[i])
                continue;
            int ready = 1;
            for (unsigned b = 0; b < p->n_bind; b++)
                if (p->bind[b].user == i && p->bind[b].prov != i && !done[p->bind[b].prov])
                    ready = 0;
            if (ready) {
                done[i] = 1;
                s->order[k++] = i;
                progress = 1;
            }
        }
        if (!progress) {
            free(done);
            return -ELOOP;
        }
    }
    free(done);
    return 0;
}

static int bind_all(struct lyra_stack *s, struct lyra_diag *d)
{
    const struct lyra_plan *p = s->plan;
    for (unsigned b = 0; b < p->n_bind; b++) {
        const struct lyra_plan_bind *pb = &p->bind[b];
        struct inst_rt *u = &s->inst[pb->user], *v = &s->inst[pb->prov];
        const struct lyra_slot *sl = &u->c->slots[pb->slot];
        const struct lyra_provide *pr = &v->c->provides[pb->provide];
        const char *why;
        if (lyra_ops_check(pr->ops, sl->iface, sl->major, sl->minor, 0, &why)) {
            report(d, LYRA_E_IFACE, "binding %s.%s: %s", u->name, sl->name, why);
            return -ENOEXEC;
        }
        const void *ops = pr->ops, *events = sl->events;
        void *prov = v->self, *user = u->self;
        if (pb->account) {
            const struct lyra_proxy_class *pc = lyra_proxy_class_find(sl->iface);
            if (!pc) {
                report(d, LYRA_E_IFACE, "binding %s.%s: interface %s cannot be accounted", u->name,
                       sl->name, sl->iface);
                return -EINVAL;
            }
            struct lyra_proxy *px = calloc(1, sizeof(*px));
            if (!px)
                return -ENOMEM;
            *px = (struct lyra_proxy){.cls = pc, .ops = ops, .prov = prov, .events = events,
                                      .user = user, .os = s->os, .os_self = s->os_self};
            s->px[b] = px;
            s->acct_loop = 1;
            lyra_proxy_table(px->ops_copy, pc->ops, ops, pc->ops_data);
            ops = px->ops_copy;
            prov = px;
            if (events && pc->events) {
                lyra_proxy_table(px->events_copy, pc->events, events, 0);
                events = px->events_copy;
            }
            user = px;
        }
        int r = lyra_slot_bind(sl, u->self, pb->index, ops, prov);
        if (r == -ENODEV) {
            /* a driver refusing its device at bind: a manifest error */
            char what[160];
            snprintf(what, sizeof(what), "%s (%s) does not drive the device %s (%s) provides",
                     u->name, u->c->name, v->name, v->c->name);
            report(d, LYRA_E_IFACE, "%s.%s: %s; bind it to a model of its card (lyranet list)",
                   u->name, sl->name, what);
            return -EINVAL;
        }
        if (!r && pr->attach)
            r = pr->attach(v->self, events, user);
        if (r) {
            char e[64];
            snprintf(e, sizeof(e), "%s", strerror(-r));
            report(d, LYRA_E_RUNTIME, "binding %s.%s failed: %s", u->name, sl->name, e);
            return -ENOEXEC;
        }
    }
    return 0;
}

int lyra_stack_create(const struct lyra_plan *plan, const char *const *overrides,
                      struct lyra_diag *d, struct lyra_stack **out)
{
    struct lyra_stack *s = calloc(1, sizeof(*s));
    int r = -ENOMEM;
    *out = NULL;
    if (!s)
        return -ENOMEM;
    snprintf(s->name, sizeof(s->name), "%s", plan->name ? plan->name : "stack");
    s->plan = plan;
    s->n = plan->n_inst;
    s->inst = calloc(s->n + 1, sizeof(*s->inst));
    s->order = calloc(s->n + 1, sizeof(unsigned));
    s->pollers = calloc(s->n + 1, sizeof(*s->pollers));
    s->px = calloc(plan->n_bind + 1, sizeof(*s->px));
    s->loop_cnt = calloc(s->n + 1, sizeof(*s->loop_cnt));
    if (!s->inst || !s->order || !s->pollers || !s->px || !s->loop_cnt)
        goto fail;
    for (unsigned i = 0; i < s->n; i++) {
        const struct lyra_plan_inst *pi = &plan->inst[i];
        const struct lyra_component *c = pi->c;
        struct inst_rt *in = &s->inst[i];
        in->c = c;
        in->name = pi->name;
        if (c->abi_major != LYRA_ABI_MAJOR || c->desc_size < LYRA_DESC_SIZE_0_0) {
            report(d, LYRA_E_LOAD, "component %s: descriptor ABI %s%s", c->name,
                   c->abi_major != LYRA_ABI_MAJOR ? "major differs" : "too small", "");
            r = -EPROTO;
            goto fail;
        }
        in->v = calloc(c->n_params + 1, sizeof(*in->v));
        in->texts = calloc(c->n_params + 1, sizeof(char *));
        in->owned = calloc(c->n_params + 1, sizeof(char *));
        if (!in->v || !in->texts || !in->owned)
            goto fail;
        for (unsigned k = 0; k < c->n_params; k++) {
            const struct lyra_param *p = &c->params[k];
            char err[256];
            in->texts[k] = pi->params ? pi->params[k] : p->def;
            if (lyra_value_parse(p->type, in->texts[k], p->min, p->max, &in->v[k], err,
                                 sizeof(err))) {
                report(d, LYRA_E_RANGE, "%s.%s: %s", in->name, p->name, err);
                r = -EINVAL;
                goto fail;
            }
        }
    }
    if ((r = apply_overrides(s, overrides, d)))
        goto fail;
    /* the check hooks again: overrides may break a rule between parameters */
    unsigned bad = 0;
    struct lyra_diag own;
    lyra_diag_init(&own, NULL);
    for (unsigned i = 0; i < s->n; i++)
        bad += lyra_component_run_check(s->inst[i].c, s->inst[i].name, s->inst[i].v, NULL, 0,
                                        d ? d : &own);
    if (!d)
        lyra_diag_print(&own, stderr);
    lyra_diag_free(&own);
    if (bad) {
        r = -EINVAL;
        goto fail;
    }
    /* String values must outlive the plan and the caller's overrides. */
    for (unsigned i = 0; i < s->n; i++)
        for (unsigned k = 0; k < s->inst[i].c->n_params; k++) {
            struct lyra_value *v = &s->inst[i].v[k];
            if (v->type == LYRA_P_STRING && v->set) {
                char *c = strdup(v->u.s);
                if (!c)
                    goto fail;
                v->u.s = s->inst[i].owned[k] = c;
            }
        }
    for (unsigned i = 0; i < s->n; i++) {
        struct inst_rt *in = &s->inst[i];
        in->self = aligned_alloc(64, (in->c->instance_size + 63) / 64 * 64 + 64);
        if (!in->self)
            goto fail;
        memset(in->self, 0, (in->c->instance_size + 63) / 64 * 64 + 64);
        struct lyra_diag cd;
        lyra_diag_init(&cd, NULL);
        r = in->c->create ? in->c->create(in->self, in->v, &cd) : 0;
        for (unsigned e = 0; e < cd.n; e++)
            report(d, LYRA_E_RUNTIME, "%s (%s): %s", in->name, in->c->name, cd.v[e].msg);
        if (r && !cd.n) {
            char e[64];
            snprintf(e, sizeof(e), "%s", strerror(-r));
            report(d, LYRA_E_RUNTIME, "%s (%s): create failed: %s", in->name, in->c->name, e);
        }
        lyra_diag_free(&cd);
        if (r) {
            r = -ENOEXEC; /* a run-time failure, whatever the component said */
            goto fail;
        }
        in->created = 1;
        for (unsigned k = 0; k < in->c->n_provides && !s->sock; k++)
            if (!strcmp(in->c->provides[k].iface, LYRA_SOCKET_IFACE) &&
                in->c->provides[k].major == LYRA_SOCKET_MAJOR) {
                s->sock = in->c->provides[k].ops;
                s->sock_self = in->self;
                /* socket 1.2: ready events per descriptor come to the stack */
                if (in->c->provides[k].minor >= 2 && in->c->provides[k].attach &&
                    in->c->provides[k].attach(in->self, &lyra_stack_sock_events, s)) {
                    r = -ENOEXEC;
                    goto fail;
                }
            }
        for (unsigned k = 0; k < in->c->n_provides && !s->os; k++)
            if (!strcmp(in->c->provides[k].iface, LYRA_OS_IFACE) &&
                in->c->provides[k].major == LYRA_OS_MAJOR) {
                s->os = in->c->provides[k].ops;
                s->os_self = in->self;
            }
    }
    if ((r = topo_order(s))) {
        report(d, LYRA_E_CYCLE, "binding cycle in assembly %s%s%s", s->name, "", "");
        goto fail;
    }
    if ((r = bind_all(s, d)))
        goto fail;
    *out = s;
    return 0;
fail:
    lyra_stack_destroy(s);
    return r;
}

/* The lock and condition of the socket API, from the os when it has them
 * (the os has them from 2.0; bare metal leaves them NULL). */
static void sync_create(struct lyra_stack *s)
{
    const struct lyra_os_ops *o = s->os;
    if (!o || s->mu || !o->lock_create || o->lock_create(s->os_self, &s->mu))
        return;
    if (o->hdr.size >= offsetof(struct lyra_os_ops, cond_broadcast) +
                                                   sizeof(o->cond_broadcast) &&
        o->cond_create && o->cond_wait && o->cond_broadcast && o->cond_destroy &&
        o->cond_create(s->os_self, &s->cv))
        s->cv = NULL;
}

static void sync_destroy(struct lyra_stack *s)
{
    lyra_stack_wait_destroy(s);
    if (s->cv)
        s->os->cond_destroy(s->os_self, s->cv);
    if (s->mu)
        s->os->lock_destroy(s->os_self, s->mu);
    s->cv = s->mu = NULL;
}

void lyra_stack_lock(struct lyra_stack *s)
{
    if (s->mu)
        s->os->lock(s->os_self, s->mu);
}

/* Wake-ups decided under the lock are delivered after it is released, so
 * that the woken thread does not block at once on the lock its waker holds
 * (a futex round trip per wake-up). Safe: conditions live until the stack
 * is destroyed, and a late wake-up is a spurious one to whoever uses it. */
static __attribute__((noinline)) void unlock_and_wake(struct lyra_stack *s)
{
    void *cv[LYRA_WAKE_DEFER];
    unsigned n = s->n_defer;
    for (unsigned i = 0; i < n; i++)
        cv[i] = s->defer[i];
    s->n_defer = 0;
    if (s->mu)
        s->os->unlock(s->os_self, s->mu);
    for (unsigned i = 0; i < n; i++)
        s->os->cond_broadcast(s->os_self, cv[i]);
}

void lyra_stack_unlock(struct lyra_stack *s)
{
    if (s->n_defer)
        unlock_and_wake(s);
    else if (s->mu) /* the usual case: nobody to wake */
        s->os->unlock(s->os_self, s->mu);
}

int lyra_stack_start(struct lyra_stack *s)
{
    sync_create(s);
    s->n_pollers = 0; /* built afresh below, in start order */
    /* the RAM report: what the os holds more after each start than before
     * (nothing else allocates meanwhile: the loop is not running yet) */
    int mem = s->os && LYRA_OS_HAS(s->os, 5, mem_usage);
    for (unsigned k = 0; k < s->n; k++) {
        struct inst_rt *in = &s->inst[s->order[k]];
        uint64_t h0 = 0, p0 = 0, h1 = 0, p1 = 0;
        if (mem)
            s->os->mem_usage(s->os_self, &h0, &p0);
        int r = in->c->start ? in->c->start(in->self) : 0;
        if (mem)
            s->os->mem_usage(s->os_self, &h1, &p1);
        /* a start that gives back more than it takes (a restart after a
         * stop that kept memory) holds nothing new: 0, not a wrapped count */
        in->ram_heap = h1 > h0 ? h1 - h0 : 0;
        in->ram_pages = p1 > p0 ? p1 - p0 : 0;
        in->ram_known = mem;
        if (r) {
            /* what the rolled-back instances took is given back: unknown */
            for (unsigned j = 0; j < s->n; j++)
                s->inst[j].ram_known = 0;
            fprintf(stderr, "error: stack %s not started: %s (%s) could not start (%s)\n", s->name,
                    in->name, in->c->name, strerror(-r));
            for (unsigned j = k; j-- > 0;) {
                struct inst_rt *o = &s->inst[s->order[j]];
                if (o->started && o->c->stop)
                    o->c->stop(o->self);
                o->started = 0;
            }
            s->n_pollers = 0;
            return r;
        }
        in->started = 1;
        if (in->c->poll)
            s->pollers[s->n_pollers++] = (struct lyra_poller){in->c->poll, in->self, s->order[k]};
    }
    return 0;
}

/* One step: every instance's poll hook, then the due timers; 0 when some
 * hook did work (step again at once), else when timers are next due. */
static uint64_t step_accounted(struct lyra_stack *s, int *work)
{
    for (unsigned k = 0; k < s->n_pollers; k++) {
        struct lyra_loop_cnt *c = &s->loop_cnt[s->pollers[k].inst];
        uint64_t t0 = s->os->now_ns(s->os_self);
        *work += s->pollers[k].poll(s->pollers[k].self, POLL_BUDGET) > 0;
        c->ns += s->os->now_ns(s->os_self) - t0;
        c->calls++;
    }
    uint64_t t0 = s->os->now_ns(s->os_self);
    uint64_t next = s->os->run_timers(s->os_self);
    s->timers_cnt.ns += s->os->now_ns(s->os_self) - t0;
    s->timers_cnt.calls++;
    return next;
}

static inline uint64_t step(struct lyra_stack *s)
{
    int work = 0;
    if (s->acct_loop && s->os) {
        uint64_t next = step_accounted(s, &work);
        if (s->waiters || s->wl)
            lyra_stack_progress(s);
        return work ? 0 : next;
    }
    for (unsigned k = 0; k < s->n_pollers; k++)
        work += s->pollers[k].poll(s->pollers[k].self, POLL_BUDGET) > 0;
    uint64_t next = s->os ? s->os->run_timers(s->os_self) : LYRA_TIME_NEVER;
    if (s->waiters || s->wl) /* nobody blocked: nothing to tell */
        lyra_stack_progress(s);
    return work ? 0 : next;
}

uint64_t lyra_stack_poll(struct lyra_stack *s)
{
    lyra_stack_lock(s);
    uint64_t next = step(s);
    /* Another thread may be in os wait (the loop thread, or a blocked
     * caller driving the loop): this step may have taken the frames that
     * were to end its wait, or armed a timer due before its deadline. */
    if (s->sleep_until && (next == 0 || next < s->sleep_until) && s->os && s->os->wake)
        s->os->wake(s->os_self);
    lyra_stack_unlock(s);
    return next;
}

uint64_t lyra_stack_step_locked(struct lyra_stack *s)
{
    return step(s);
}

int lyra_stack_run_for(struct lyra_stack *s, uint64_t ns)
{
    if (!s->os)
        return -ENOSYS;
    uint64_t end = ns == LYRA_TIME_NEVER ? LYRA_TIME_NEVER : s->os->now_ns(s->os_self) + ns;
    lyra_stack_lock(s);
    atomic_fetch_add(&s->loop_running, 1);
    /* A caller may be driving the loop (it blocked before this thread
     * came), or another thread may be running it: end the caller's os wait
     * and let it hand over, wait for the other loop to return, so that one
     * thread at a time waits in the os (os wait's rule; one wake() from
     * lyra_stack_stop ends one wait). */
    while ((s->driving || s->looping) && s->cv && !atomic_load(&s->stop) &&
           (end == LYRA_TIME_NEVER || s->os->now_ns(s->os_self) < end)) {
        if (s->driving && s->os->wake)
            s->os->wake(s->os_self);
        s->waiters++;
        lyra_stack_signal_now(s);
        s->os->cond_wait(s->os_self, s->cv, s->mu,
                         s->driving ? s->os->now_ns(s->os_self) + 1000000 : end);
        s->waiters--;
    }
    int mine = !s->looping && (!s->driving || !s->cv);
    s->looping |= mine;
    while (mine && !atomic_load(&s->stop)) {
        uint64_t next = lyra_stack_step_locked(s);
        if (atomic_load(&s->stop))
            break;
        if (end != LYRA_TIME_NEVER && s->os->now_ns(s->os_self) >= end)
            break;
        if (next > end)
            next = end;
        s->sleep_until = next; /* 0: work pending, step again at once */
        lyra_stack_unlock(s);
        if (next != 0)
            s->os->wait(s->os_self, next);
        lyra_stack_lock(s);
        s->sleep_until = 0;
    }
    /* callers waiting for this loop must now drive it themselves (or see
     * the stop) */
    if (mine)
        s->looping = 0;
    atomic_fetch_sub(&s->loop_running, 1);
    lyra_stack_wake_all(s);
    lyra_stack_unlock(s);
    return 0;
}

int lyra_stack_run(struct lyra_stack *s)
{
    return lyra_stack_run_for(s, LYRA_TIME_NEVER);
}

void lyra_stack_stop(struct lyra_stack *s)
{
    atomic_store(&s->stop, 1);
    if (s->os && s->os->wake)
        s->os->wake(s->os_self);
}

int lyra_stack_stopping(const struct lyra_stack *s)
{
    return atomic_load(&((struct lyra_stack *)s)->stop);
}

void lyra_stack_destroy(struct lyra_stack *s)
{
    if (!s)
        return;
    sync_destroy(s);
    s->n_pollers = 0;
    for (unsigned k = s->n; k-- > 0;) {
        struct inst_rt *in = &s->inst[s->order ? s->order[k] : k];
        if (s->inst && in->started && in->c->stop)
            in->c->stop(in->self);
        if (s->inst)
            in->started = 0;
    }
    /* destroy users before providers too */
    for (unsigned k = s->n; s->inst && k-- > 0;) {
        struct inst_rt *in = &s->inst[s->order ? s->order[k] : k];
        if (in->created && in->c->destroy)
            in->c->destroy(in->self);
    }
    for (unsigned i = 0; s->inst && i < s->n; i++) {
        struct inst_rt *in = &s->inst[i];
        for (unsigned k = 0; in->owned && k < in->c->n_params; k++)
            free(in->owned[k]);
        free(in->owned);
        free(in->v);
        free((void *)in->texts);
        free(in->self);
    }
    for (unsigned b = 0; s->px && b < s->plan->n_bind; b++)
        free(s->px[b]);
    free(s->px);
    free(s->loop_cnt);
    free(s->inst);
    free(s->order);
    free(s->pollers);
    if (s->cleanup)
        s->cleanup(s->cleanup_ctx);
    free(s);
}

void lyra_stack_set_cleanup(struct lyra_stack *s, void (*fn)(void *ctx), void *ctx)
{
    s->cleanup = fn;
    s->cleanup_ctx = ctx;
}

const char *lyra_stack_name(const struct lyra_stack *s)
{
    return s->name;
}

void lyra_stack_set_name(struct lyra_stack *s, const char *name)
{
    snprintf(s->name, sizeof(s->name), "%s", name);
}

void *lyra_stack_instance(struct lyra_stack *s, const char *name, const struct lyra_component **c)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->inst[i].name, name)) {
            if (c)
                *c = s->inst[i].c;
            return s->inst[i].self;
        }
    return NULL;
}

const char *lyra_stack_instance_name(const struct lyra_stack *s, unsigned i)
{
    return i < s->n ? s->inst[i].name : NULL;
}

int lyra_stack_ram(const struct lyra_stack *s, unsigned i, struct lyra_ram *r)
{
    if (i >= s->n)
        return -1;
    const struct inst_rt *in = &s->inst[i];
    r->instance = in->c->instance_size;
    r->host = (LYRA_COMPONENT_FLAGS(in->c) & LYRA_COMP_F_HOST) != 0;
    r->heap = in->ram_known ? in->ram_heap : UINT64_MAX;
    r->pages = in->ram_known ? in->ram_pages : UINT64_MAX;
    return 0;
}

const struct lyra_value *lyra_stack_param(struct lyra_stack *s, const char *inst,
                                          const char *param)
{
    for (unsigned i = 0; i < s->n; i++)
        if (!strcmp(s->inst[i].name, inst)) {
            int k = lyra_component_param(s->inst[i].c, param);
            return k < 0 ? NULL : &s->inst[i].v[k];
        }
    return NULL;
}

/* ---- stats ---- */

struct sink_ctx {
    const struct lyra_stats_visitor *v;
    const char *inst;
    unsigned n; /* counters reported so far by this instance */
};

static void sink_counter(struct lyra_stats_sink *sk, const char *name, uint64_t val)
{
    struct sink_ctx *c = sk->ctx;
    char num[16];
    if (!name) { /* built with LYRA_NO_DOCS: counters by number */
        snprintf(num, sizeof(num), "#%u", c->n);
        name = num;
    }
    c->n++;
    if (c->v->counter)
        c->v->counter(c->v->ctx, c->inst, name, val);
}

void lyra_stack_stats(struct lyra_stack *s, const struct lyra_stats_visitor *v)
{
    /* under the stack's lock: an application reads counters while the
     * loop thread moves them (lyra-ttcp's wait for ARP), and a read beside
     * a write is a data race, not merely a stale value */
    lyra_stack_lock(s);
    for (unsigned i = 0; i < s->n; i++) {
        struct inst_rt *in = &s->inst[i];
        struct sink_ctx c = {v, in->name, 0};
        struct lyra_stats_sink sk = {sink_counter, &c};
        if (in->created && in->c->stats)
            in->c->stats(in->self, &sk);
        if (!v->binding)
            continue;
        for (unsigned b = 0; b < s->plan->n_bind; b++) {
            const struct lyra_plan_bind *pb = &s->plan->bind[b];
            struct lyra_proxy *px = s->px[b];
            if (!px || pb->user != i)
                continue;
            const char *slot = in->c->slots[pb->slot].name;
            const char *prov = s->inst[pb->prov].name;
            const struct lyra_proxy_class *pc = px->cls;
            for (unsigned o = 0; o < pc->n_ops + pc->n_events; o++)
                v->binding(v->ctx, in->name, slot, prov, pc->iface, pc->names[o], o >= pc->n_ops,
                           px->cnt[o].calls, px->cnt[o].bytes, px->cnt[o].ns);
        }
        /* the loop's entries, as a binding "(loop)" of the instance entered */
        if (s->acct_loop && s->loop_cnt[i].calls)
            v->binding(v->ctx, in->name, "(loop)", s->name, "loop", "poll", 1,
                       s->loop_cnt[i].calls, 0, s->loop_cnt[i].ns);
        if (s->acct_loop && in->self == s->os_self && s->timers_cnt.calls)
            v->binding(v->ctx, in->name, "(loop)", s->name, "loop", "run_timers", 1,
                       s->timers_cnt.calls, 0, s->timers_cnt.ns);
    }
    lyra_stack_unlock(s);
}

struct find_ctx {
    const char *inst, *name;
    uint64_t v;
};

static void find_counter(void *ctx, const char *inst, const char *name, uint64_t v)
{
    struct find_ctx *f = ctx;
    if (!strcmp(inst, f->inst) && !strcmp(name, f->name))
        f->v = v;
}

uint64_t lyra_stack_counter(struct lyra_stack *s, const char *inst, const char *name)
{
    struct find_ctx f = {inst, name, UINT64_MAX};
    struct lyra_stats_visitor v = {.counter = find_counter, .ctx = &f};
    lyra_stack_stats(s, &v);
    return f.v;
}

int lyra_stack_loop_running(const struct lyra_stack *s)
{
    return atomic_load(&((struct lyra_stack *)s)->loop_running) > 0;
}

const struct lyra_socket_ops *lyra_stack_socket(struct lyra_stack *s, void **self)
{
    *self = s->sock_self;
    return s->sock;
}

uint64_t lyra_stack_now(struct lyra_stack *s)
{
    return s->os ? s->os->now_ns(s->os_self) : 0;
}
