/* ttcp's source and sink buffers (issue 12.6): warm (one pattern buffer to
 * send from, one buffer to read into: classic ttcp) or rotating through a
 * region larger than the last-level cache, so that each send reads, and
 * each receive writes, memory the cache no longer holds. Shared by
 * lyra-ttcp, lyra-ttcp-linux and bench/ipb.c, which the allocator tells
 * apart: heap memory, or packet memory from lyra_pkt_alloc.
 *
 * Source: the pattern byte at stream offset s is s mod TTCP_PERIOD; the
 * region holds span + len bytes of it, span a multiple of the period (the
 * period itself when warm), and a send of len at stream offset s reads
 * region + s mod span, so the stream is the pattern whatever the rotation.
 * Sink: slots of `step` bytes, read i goes to slot i mod slots; rotating,
 * there are rotate / len of them, so the reads write `rotate` bytes before
 * they come back to one (the region is larger when slots are pages). With
 * rotation or packet memory the step is len rounded up to whole pages
 * (p + k * page size: where a zero-copy stack can remap a received page);
 * warm heap memory is one slot of len bytes. */
#ifndef LYRA_TTCP_BUF_H
#define LYRA_TTCP_BUF_H

#include <stddef.h>

#define TTCP_PERIOD 251 /* prime: a segment out of place breaks the pattern */
#define TTCP_PAGE 4096  /* the sink's slot alignment (the stacks' page size) */

struct ttcp_alloc {
    void *(*alloc)(void *ctx, size_t size); /* NULL when none is left */
    void (*free)(void *ctx, void *p);
    void *ctx;
};

struct ttcp_src {
    unsigned char *mem;
    size_t span; /* offsets wrap here (a multiple of the period) */
    size_t size; /* span + len */
};

struct ttcp_sink {
    unsigned char *mem;
    size_t step, slots, size;
};

/* rotate: 0 (warm) or the bytes to rotate through. -1 when the memory
 * cannot be had. */
int ttcp_src_init(struct ttcp_src *s, size_t rotate, size_t len, const struct ttcp_alloc *a);
int ttcp_sink_init(struct ttcp_sink *k, size_t rotate, size_t len, int paged,
                   const struct ttcp_alloc *a);
/* Where to send len bytes that continue the stream at offset `off`. */
static inline const unsigned char *ttcp_src_at(const struct ttcp_src *s, unsigned long long off)
{
    return s->mem + off % s->span;
}
/* Where read number i goes. */
static inline unsigned char *ttcp_sink_at(const struct ttcp_sink *k, unsigned long long i)
{
    return k->mem + (i % k->slots) * k->step;
}
/* Bytes of buf[0..n) that differ from the pattern at stream offset off
 * (pat: any source; a memcmp against it when n fits, else byte by byte). */
long long ttcp_check(const struct ttcp_src *pat, const unsigned char *buf, size_t n,
                     unsigned long long off);
void ttcp_src_fini(struct ttcp_src *s, const struct ttcp_alloc *a);
void ttcp_sink_fini(struct ttcp_sink *k, const struct ttcp_alloc *a);
/* "64M", "512k", "1G", "65536" -> bytes in [lo, hi]; 0 or -1. */
int ttcp_parse_size(const char *v, size_t lo, size_t hi, size_t *out);

#endif
