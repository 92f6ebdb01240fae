/* The dynamic loader: lyra_NAME.so exporting lyra_component_NAME. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lyra/loader.h"

#ifndef LYRA_BUILD_COMPONENT_DIR
#define LYRA_BUILD_COMPONENT_DIR ""
#endif
#ifndef LYRA_INSTALL_COMPONENT_DIR
#define LYRA_INSTALL_COMPONENT_DIR "/usr/local/lib/lyra"
#endif

#define MAX_DIRS 32
#define MAX_LOADED 256

struct loaded {
    char *name;
    void *handle;
    const struct lyra_component *c;
    char *path;
};

struct lyra_loader {
    char *dirs[MAX_DIRS];
    unsigned n_dirs;
    struct loaded lib[MAX_LOADED];
    unsigned n_lib;
};

static void add_dir(struct lyra_loader *l, const char *d, size_t n)
{
    if (!n || l->n_dirs == MAX_DIRS)
        return;
    char *s = malloc(n + 1);
    if (!s)
        return;
    memcpy(s, d, n);
    s[n] = 0;
    l->dirs[l->n_dirs++] = s;
}

struct lyra_loader *lyra_loader_new(void)
{
    struct lyra_loader *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    const char *env = getenv("LYRA_COMPONENT_PATH");
    while (env && *env) {
        const char *c = strchr(env, ':');
        size_t n = c ? (size_t)(c - env) : strlen(env);
        add_dir(l, env, n);
        env = c ? c + 1 : NULL;
    }
    add_dir(l, LYRA_BUILD_COMPONENT_DIR, strlen(LYRA_BUILD_COMPONENT_DIR));
    add_dir(l, LYRA_INSTALL_COMPONENT_DIR, strlen(LYRA_INSTALL_COMPONENT_DIR));
    return l;
}

void lyra_loader_free(struct lyra_loader *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->n_lib; i++) {
        if (l->lib[i].handle)
            dlclose(l->lib[i].handle);
        free(l->lib[i].name);
        free(l->lib[i].path);
    }
    for (unsigned i = 0; i < l->n_dirs; i++)
        free(l->dirs[i]);
    free(l);
}

const char *lyra_loader_dir(struct lyra_loader *l, unsigned i)
{
    return i < l->n_dirs ? l->dirs[i] : NULL;
}

static bool valid_name(const char *n)
{
    if (!*n || strlen(n) > 64)
        return false;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
              *n == '_'))
            return false;
    return true;
}

/* Opens one file; 0 with *out, or -errno with msg. */
static int open_so(struct lyra_loader *l, const char *name, const char *path,
                   const struct lyra_component **out, char *msg, size_t msglen)
{
    if (l->n_lib == MAX_LOADED) {
        snprintf(msg, msglen, "more than %d components loaded", MAX_LOADED);
        return -ENOSPC;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(msg, msglen, "%s: %s", path, dlerror());
        return -ENOEXEC;
    }
    char sym[128];
    snprintf(sym, sizeof(sym), "lyra_component_%s", name);
    const struct lyra_component *c = dlsym(h, sym);
    if (!c) {
        snprintf(msg, msglen, "%s does not export %s", path, sym);
        dlclose(h);
        return -ENOEXEC;
    }
    if (c->abi_major != LYRA_ABI_MAJOR || c->desc_size < LYRA_DESC_SIZE_0_0 || !c->name ||
        strcmp(c->name, name)) {
        snprintf(msg, msglen, "%s: descriptor ABI %u.%u (size %u) or name does not match %u.%u",
                 path, c->abi_major, c->abi_minor, c->desc_size, LYRA_ABI_MAJOR, LYRA_ABI_MINOR);
        dlclose(h);
        return -EPROTO;
    }
    struct loaded *ld = &l->lib[l->n_lib++];
    ld->name = strdup(name);
    ld->path = strdup(path);
    ld->handle = h;
    ld->c = c;
    *out = c;
    return 0;
}

int lyra_loader_resolve(void *ctx, const char *name, const struct lyra_component **out, char *msg,
                        size_t msglen)
{
    struct lyra_loader *l = ctx;
    for (unsigned i = 0; i < l->n_lib; i++)
        if (!strcmp(l->lib[i].name, name)) {
            *out = l->lib[i].c;
            return 0;
        }
    if (!valid_name(name)) {
        snprintf(msg, msglen, "component names are letters, digits and '_'");
        return -ENOENT;
    }
    for (unsigned i = 0; i < l->n_dirs; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/lyra_%s.so", l->dirs[i], name);
        if (stat(path, &st) == 0)
            return open_so(l, name, path, out, msg, msglen);
    }
    size_t o = (size_t)snprintf(msg, msglen, "no lyra_%s.so in", name);
    for (unsigned i = 0; i < l->n_dirs && o < msglen; i++)
        o += (size_t)snprintf(msg + o, msglen - o, "%s %s", i ? "," : "", l->dirs[i]);
    return -ENOENT;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void lyra_loader_each(struct lyra_loader *l,
                      void (*fn)(void *ctx, const struct lyra_component *c, const char *path),
                      void (*err)(void *ctx, const char *path, const char *why), void *ctx)
{
    char *names[MAX_LOADED];
    unsigned n = 0;
    for (unsigned i = 0; i < l->n_dirs; i++) {
        DIR *d = opendir(l->dirs[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len < 9 || strncmp(e->d_name, "lyra_", 5) || strcmp(e->d_name + len - 3, ".so"))
                continue;
            char nm[128];
            snprintf(nm, sizeof(nm), "%.*s", (int)(len - 8), e->d_name + 5);
            int dup = 0;
            for (unsigned k = 0; k < n; k++)
                dup |= !strcmp(names[k], nm);
            if (!dup && n < MAX_LOADED)
                names[n++] = strdup(nm);
        }
        if (d)
            closedir(d);
    }
    qsort(names, n, sizeof(char *), by_name);
    for (unsigned k = 0; k < n; k++) {
        const struct lyra_component *c;
        char msg[1024];
        if (lyra_loader_resolve(l, names[k], &c, msg, sizeof(msg)) == 0) {
            const char *path = "";
            for (unsigned i = 0; i < l->n_lib; i++)
                if (l->lib[i].c == c)
                    path = l->lib[i].path;
            fn(ctx, c, path);
        } else if (err) {
            err(ctx, names[k], msg);
        }
        free(names[k]);
    }
}

int lyra_static_resolve(void *ctx, const char *name, const struct lyra_component **out, char *msg,
                        size_t msglen)
{
    const struct lyra_component *const *t = ctx;
    for (; *t; t++)
        if (!strcmp((*t)->name, name)) {
            *out = *t;
            return 0;
        }
    snprintf(msg, msglen, "not among the components built into this tool");
    return -ENOENT;
}
