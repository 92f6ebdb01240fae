/* Leveled logging to stderr. Each line is formatted first and written in
 * one call, so lines from several threads do not interleave. */
#include <stdio.h>

#include "os_posix_int.h"

static const char *const level_name[] = {"error", "warn", "info", "debug"};

void os_vlog(void *self, int level, const char *who, const char *fmt, va_list ap)
{
    struct os_posix *os = self;
    if (level < LYRA_LOG_ERROR)
        level = LYRA_LOG_ERROR;
    if (level > LYRA_LOG_DEBUG)
        level = LYRA_LOG_DEBUG;
    if (level > os->log_level)
        return;
    atomic_fetch_add_explicit(&os->log_lines[level], 1, memory_order_relaxed);

    char line[1024];
    int n = snprintf(line, sizeof(line), "lyra: %s: %s: ", who ? who : "?", level_name[level]);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(line)) {
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof(line) - 1) {
        /* cut: say so rather than lose the newline */
        n = (int)sizeof(line) - 5;
        line[n++] = '.';
        line[n++] = '.';
        line[n++] = '.';
    }
    if (n > 0 && line[n - 1] != '\n')
        line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}
