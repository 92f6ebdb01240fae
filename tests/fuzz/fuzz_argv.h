/* For the command-line fuzz targets: a fuzz input split at NUL bytes into
 * argv[1..] (argv[0] = tool), at most max - 1 pieces. *buf holds the
 * pieces (free it after); returns argc, or 0 when out of memory. */
#ifndef LYRA_FUZZ_ARGV_H
#define LYRA_FUZZ_ARGV_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int fuzz_argv(const uint8_t *data, size_t size, const char *tool, char **buf,
                            char **argv, int max)
{
    /* one copy with a NUL at the end, so every piece is a C string */
    *buf = malloc(size + 1);
    if (!*buf)
        return 0;
    memcpy(*buf, data, size);
    (*buf)[size] = 0;
    int argc = 0;
    argv[argc++] = (char *)tool;
    for (size_t i = 0; i <= size && argc < max;) {
        argv[argc++] = *buf + i;
        i += strlen(*buf + i) + 1;
    }
    argv[argc] = NULL;
    return argc;
}

#endif
