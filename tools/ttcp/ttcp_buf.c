#include "ttcp_buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ttcp_src_init(struct ttcp_src *s, size_t rotate, size_t len, const struct ttcp_alloc *a)
{
    memset(s, 0, sizeof(*s));
    s->span = rotate > TTCP_PERIOD ? rotate - rotate % TTCP_PERIOD : TTCP_PERIOD;
    s->size = s->span + len;
    s->mem = a->alloc(a->ctx, s->size);
    if (!s->mem)
        return -1;
    /* written once here: with rotation most of it has left the cache
     * again before the transfer reads it */
    for (size_t i = 0; i < s->size; i++)
        s->mem[i] = (unsigned char)(i % TTCP_PERIOD);
    return 0;
}

int ttcp_sink_init(struct ttcp_sink *k, size_t rotate, size_t len, int paged,
                   const struct ttcp_alloc *a)
{
    memset(k, 0, sizeof(*k));
    paged |= rotate > 0;
    k->step = paged ? (len + TTCP_PAGE - 1) / TTCP_PAGE * TTCP_PAGE : len;
    /* the reads write `rotate` bytes before a slot comes round again
     * (the page-stride padding they skip does not count) */
    k->slots = rotate > len ? rotate / len : 1;
    k->size = k->slots * k->step;
    k->mem = a->alloc(a->ctx, k->size);
    if (!k->mem)
        return -1;
    /* every page touched now, so that no first-touch fault lands in a
     * receive the benchmark times */
    memset(k->mem, 0, k->size);
    return 0;
}

long long ttcp_check(const struct ttcp_src *pat, const unsigned char *buf, size_t n,
                     unsigned long long off)
{
    const unsigned char *p = ttcp_src_at(pat, off);
    if (n <= pat->size - pat->span && !memcmp(buf, p, n))
        return 0;
    long long w = 0;
    unsigned v = (unsigned)(off % TTCP_PERIOD);
    for (size_t i = 0; i < n; i++) {
        w += buf[i] != v;
        v = v + 1 == TTCP_PERIOD ? 0 : v + 1;
    }
    return w;
}

void ttcp_src_fini(struct ttcp_src *s, const struct ttcp_alloc *a)
{
    if (s->mem)
        a->free(a->ctx, s->mem);
    s->mem = NULL;
}

void ttcp_sink_fini(struct ttcp_sink *k, const struct ttcp_alloc *a)
{
    if (k->mem)
        a->free(a->ctx, k->mem);
    k->mem = NULL;
}

int ttcp_parse_size(const char *v, size_t lo, size_t hi, size_t *out)
{
    if (!v || *v < '0' || *v > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (errno || *end || n > (~0ull >> shift))
        return -1;
    n <<= shift;
    if (n < lo || n > hi)
        return -1;
    *out = (size_t)n;
    return 0;
}
