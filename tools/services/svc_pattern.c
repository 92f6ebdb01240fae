#include "svc_pattern.h"

void chargen_fill(unsigned char *p, size_t n, uint64_t pos)
{
    unsigned line = (unsigned)(pos / CHARGEN_LINE % 95), col = (unsigned)(pos % CHARGEN_LINE);
    for (size_t o = 0; o < n; o++) {
        if (col < 72)
            p[o] = (unsigned char)(' ' + (line + col) % 95);
        else
            p[o] = col == 72 ? '\r' : '\n';
        if (++col == CHARGEN_LINE) {
            col = 0;
            line = (line + 1) % 95;
        }
    }
}

void bytes_fill(unsigned char *p, size_t n, uint64_t off)
{
    static const char hex[] = "0123456789abcdef";
    char line[16];
    uint64_t base = off - off % 16;
    unsigned k = (unsigned)(off % 16);
    for (size_t o = 0; o < n; base += 16, k = 0) {
        for (int d = 14; d >= 0; d--)
            line[14 - d] = hex[(base >> (4 * d)) & 15];
        line[15] = '\n';
        for (; k < 16 && o < n; k++)
            p[o++] = (unsigned char)line[k];
    }
}
