#include "tool_stacks.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lyra/stack.h"
#include "services.h"

static void *run_loop(void *arg)
{
    lyra_stack_run(((struct tool_stack *)arg)->s);
    return NULL;
}

int tool_stack_up(const char *tool, struct tool_stack *t, const char *services)
{
    int r = lyra_stack_load(t->a.manifest, t->a.ov, &t->s);
    if (r)
        return r == -EINVAL ? 1 : 2;
    if ((r = lyra_stack_start(t->s))) {
        fprintf(stderr, "%s: %s: start failed: %s\n", tool, t->a.manifest, strerror(-r));
        return 2;
    }
    if (services && (r = lyra_services_start(t->s, services, stderr, &t->sv)))
        return r;
    if (pthread_create(&t->loop, NULL, run_loop, t)) {
        fprintf(stderr, "%s: cannot start a loop thread\n", tool);
        return 2;
    }
    t->running = 1;
    return 0;
}

void tool_stack_stop(struct tool_stack *t)
{
    if (!t->s)
        return;
    lyra_stack_stop(t->s);
    if (t->running)
        pthread_join(t->loop, NULL);
    t->running = 0;
    lyra_services_join(t->sv);
    t->sv = NULL;
}

void tool_stacks_name_apart(struct tool_stack *st, struct tool_stack *peer)
{
    if (peer->s && st->s && !strcmp(lyra_stack_name(peer->s), lyra_stack_name(st->s))) {
        char name[80];
        snprintf(name, sizeof(name), "%s-peer", lyra_stack_name(peer->s));
        lyra_stack_set_name(peer->s, name);
    }
}

int tool_stacks_finish(const char *tool, struct tool_stack *const *v, int n,
                       const struct tool_stack_opts *o)
{
    int status = 0;
    for (int i = 0; i < n; i++) /* counters read once nothing runs */
        tool_stack_stop(v[i]);
    if (o->stats)
        for (int i = 0; i < n; i++)
            if (v[i]->s) {
                printf("== %s ==\n", lyra_stack_name(v[i]->s));
                (o->stats == 2 ? lyra_stack_stats_print_all : lyra_stack_stats_print)(v[i]->s,
                                                                                      stdout);
            }
    if (o->json) {
        FILE *f = fopen(o->json, "w");
        if (!f) {
            fprintf(stderr, "%s: --stats-json %s: %s\n", tool, o->json, strerror(errno));
            status = 2;
        } else {
            fputc('{', f);
            for (int i = 0, k = 0; i < n; i++)
                if (v[i]->s) {
                    fprintf(f, "%s\"%s\": ", k++ ? ", " : "", lyra_stack_name(v[i]->s));
                    lyra_stack_stats_json(v[i]->s, f);
                }
            fputs("}\n", f);
            fclose(f);
        }
    }
    for (int i = 0; i < n; i++) {
        lyra_stack_destroy(v[i]->s);
        v[i]->s = NULL;
    }
    return status;
}
