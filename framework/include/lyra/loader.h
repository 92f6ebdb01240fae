/* Finding components: dynamically (shared objects found through
 * LYRA_COMPONENT_PATH, then the build directory, then the install
 * directory) or from a static table (fuzzers, tests, static tools). */
#ifndef LYRA_LOADER_H
#define LYRA_LOADER_H

#include <stddef.h>

#include "lyra/component.h"
#include "lyra/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lyra_loader;

struct lyra_loader *lyra_loader_new(void);
/* Keeps every shared object it opened until freed. */
void lyra_loader_free(struct lyra_loader *l);
/* A lyra_resolve_fn; ctx is the loader. */
int lyra_loader_resolve(void *ctx, const char *name, const struct lyra_component **out, char *msg,
                        size_t msglen);
/* The directories searched, in order (NULL past the end). */
const char *lyra_loader_dir(struct lyra_loader *l, unsigned i);
/* Loads every lyra_*.so found (first of a name wins) and calls fn for each
 * descriptor, sorted by name; load failures are reported through err. */
void lyra_loader_each(struct lyra_loader *l,
                      void (*fn)(void *ctx, const struct lyra_component *c, const char *path),
                      void (*err)(void *ctx, const char *path, const char *why), void *ctx);

/* A static table of descriptors as a resolver (ctx: NULL-terminated array). */
int lyra_static_resolve(void *ctx, const char *name, const struct lyra_component **out, char *msg,
                        size_t msglen);

#ifdef __cplusplus
}
#endif
#endif
