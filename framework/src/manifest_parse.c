/* Manifest syntax: lines of [section], key = value, comments. Pure text
 * handling; what the keys mean is resolve.c's job. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lyra/manifest.h"

#define MAX_LINE 4096

static bool name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || (!first && (isdigit((unsigned char)c) || c == '-'));
}

static bool key_char(char c)
{
    return name_char(c, false) || c == '.';
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static struct lyra_mf_section *add_section(struct lyra_manifest *m, const char *name, size_t n,
                                           unsigned line)
{
    if (m->n == m->cap) {
        unsigned cap = m->cap ? m->cap * 2 : 8;
        struct lyra_mf_section *s = realloc(m->sec, cap * sizeof(*s));
        if (!s)
            return NULL;
        m->sec = s;
        m->cap = cap;
    }
    struct lyra_mf_section *s = &m->sec[m->n];
    memset(s, 0, sizeof(*s));
    s->name = dupn(name, n);
    if (!s->name)
        return NULL;
    s->line = line;
    m->n++;
    return s;
}

static int add_kv(struct lyra_mf_section *s, char *key, char *value, unsigned line)
{
    if (s->n == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 8;
        struct lyra_mf_kv *kv = realloc(s->kv, cap * sizeof(*kv));
        if (!kv)
            return -ENOMEM;
        s->kv = kv;
        s->cap = cap;
    }
    s->kv[s->n++] = (struct lyra_mf_kv){.key = key, .value = value, .line = line};
    return 0;
}

/* Printable rendering of a bad character for messages. */
static void show_char(char c, char *buf, size_t n)
{
    if (isprint((unsigned char)c))
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02x", (unsigned char)c);
}

/* Parses a value: quoted or bare up to a comment. Returns a new string or
 * NULL with an error message in err. */
static char *parse_value(const char *p, const char *end, char *err, size_t errlen)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && *p == '"') {
        char *out = malloc((size_t)(end - p) + 1);
        size_t n = 0;
        if (!out)
            return NULL;
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\') {
                if (p + 1 >= end || (p[1] != '"' && p[1] != '\\')) {
                    snprintf(err, errlen, "expected \\\" or \\\\ after a backslash in a quoted value");
                    free(out);
                    return NULL;
                }
                p++;
            }
            out[n++] = *p;
        }
        if (p >= end) {
            snprintf(err, errlen, "expected a closing '\"'");
            free(out);
            return NULL;
        }
        out[n] = 0;
        for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
            ;
        if (p < end && *p != '#' && *p != ';') {
            snprintf(err, errlen, "expected end of line or a comment after the closing quote");
            free(out);
            return NULL;
        }
        return out;
    }
    const char *v = p;
    while (p < end && *p != '#')
        p++;
    while (p > v && (p[-1] == ' ' || p[-1] == '\t'))
        p--;
    if (p == v) {
        snprintf(err, errlen, "expected a value after '='");
        return NULL;
    }
    for (const char *q = v; q < p; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t') {
            char c[16];
            show_char(*q, c, sizeof(c));
            snprintf(err, errlen, "unexpected %s in value", c);
            return NULL;
        }
    return dupn(v, (size_t)(p - v));
}

static void parse_line(const char *p, const char *end, unsigned line, struct lyra_manifest *m,
                       struct lyra_mf_section **cur, struct lyra_diag *d)
{
    char err[256], c[16];
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    if (p == end || *p == '#' || *p == ';')
        return;
    if (end - p > MAX_LINE) {
        lyra_diag_add(d, LYRA_E_SYNTAX, line, "line longer than %d characters", MAX_LINE);
        return;
    }
    if (*p == '[') {
        const char *n = ++p;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        n = p;
        if (p < end && name_char(*p, true))
            for (p++; p < end && name_char(*p, false); p++)
                ;
        const char *ne = p;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (ne == n) {
            if (p < end && *p != ']') {
                show_char(*p, c, sizeof(c));
                lyra_diag_add(d, LYRA_E_SYNTAX, line,
                              "expected an instance name (a letter or '_' first) in '[...]', got %s", c);
            } else {
                lyra_diag_add(d, LYRA_E_SYNTAX, line, "expected an instance name in '[...]'");
            }
            *cur = NULL;
            return;
        }
        if (p >= end || *p != ']') {
            if (p < end) {
                show_char(*p, c, sizeof(c));
                lyra_diag_add(d, LYRA_E_SYNTAX, line, "expected ']' after the section name, got %s", c);
            } else {
                lyra_diag_add(d, LYRA_E_SYNTAX, line, "expected ']' to close the section header");
            }
            *cur = NULL;
            return;
        }
        for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
            ;
        if (p < end && *p != '#' && *p != ';') {
            lyra_diag_add(d, LYRA_E_SYNTAX, line, "expected end of line after ']'");
            *cur = NULL;
            return;
        }
        for (unsigned i = 0; i < m->n; i++)
            if (strlen(m->sec[i].name) == (size_t)(ne - n) && !memcmp(m->sec[i].name, n, (size_t)(ne - n))) {
                lyra_diag_add(d, LYRA_E_DUPLICATE, line,
                              "duplicate instance name '%.*s' (first defined at line %u)",
                              (int)(ne - n), n, m->sec[i].line);
                *cur = NULL;
                return;
            }
        *cur = add_section(m, n, (size_t)(ne - n), line);
        return;
    }
    /* key = value */
    const char *k = p;
    if (!name_char(*p, true)) {
        show_char(*p, c, sizeof(c));
        lyra_diag_add(d, LYRA_E_SYNTAX, line, "expected '[name]', 'key = value' or a comment, got %s", c);
        return;
    }
    while (p < end && key_char(*p))
        p++;
    const char *ke = p;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '=') {
        if (p < end) {
            show_char(*p, c, sizeof(c));
            lyra_diag_add(d, LYRA_E_SYNTAX, line, "expected '=' after '%.*s', got %s", (int)(ke - k), k, c);
        } else {
            lyra_diag_add(d, LYRA_E_SYNTAX, line, "expected '=' after '%.*s'", (int)(ke - k), k);
        }
        return;
    }
    char *value = parse_value(p + 1, end, err, sizeof(err));
    if (!value) {
        lyra_diag_add(d, LYRA_E_SYNTAX, line, "%s", err);
        return;
    }
    if (!*cur) {
        if (m->n == 0)
            lyra_diag_add(d, LYRA_E_SYNTAX, line,
                          "expected a section header '[name]' before '%.*s = ...'", (int)(ke - k), k);
        free(value);
        return;
    }
    for (unsigned i = 0; i < (*cur)->n; i++)
        if (strlen((*cur)->kv[i].key) == (size_t)(ke - k) && !memcmp((*cur)->kv[i].key, k, (size_t)(ke - k))) {
            lyra_diag_add(d, LYRA_E_DUPLICATE, line, "'%.*s' set twice in [%s] (first at line %u)",
                          (int)(ke - k), k, (*cur)->name, (*cur)->kv[i].line);
            free(value);
            return;
        }
    char *key = dupn(k, (size_t)(ke - k));
    if (!key || add_kv(*cur, key, value, line)) {
        free(key);
        free(value);
        lyra_diag_add(d, LYRA_E_SYNTAX, line, "out of memory");
    }
}

unsigned lyra_manifest_parse(const char *text, size_t len, const char *file,
                             struct lyra_manifest *m, struct lyra_diag *d)
{
    unsigned before = d->n + d->dropped;
    memset(m, 0, sizeof(*m));
    m->file = strdup(file ? file : "<manifest>");
    struct lyra_mf_section *cur = NULL;
    unsigned line = 1;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *nul = memchr(p, 0, (size_t)(le - p));
        if (nul)
            lyra_diag_add(d, LYRA_E_SYNTAX, line, "unexpected NUL byte");
        else
            parse_line(p, le, line, m, &cur, d);
        /* A section whose header failed keeps its keys from landing in the
         * previous section: cur stays NULL until the next good header. */
        line++;
        p = nl ? nl + 1 : end;
    }
    return d->n + d->dropped - before;
}

int lyra_manifest_read(const char *path, struct lyra_manifest *m, struct lyra_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(m, 0, sizeof(*m));
        m->file = strdup(path);
        lyra_diag_add(d, LYRA_E_USAGE, 0, "cannot open: %s", strerror(errno));
        return -errno;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            if (cap >= (16u << 20)) {
                lyra_diag_add(d, LYRA_E_SYNTAX, 0, "manifest larger than 16 MiB");
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        lyra_diag_add(d, LYRA_E_USAGE, 0, "out of memory");
        return -ENOMEM;
    }
    lyra_manifest_parse(buf, n, path, m, d);
    free(buf);
    return 0;
}

void lyra_manifest_free(struct lyra_manifest *m)
{
    for (unsigned i = 0; i < m->n; i++) {
        for (unsigned k = 0; k < m->sec[i].n; k++) {
            free(m->sec[i].kv[k].key);
            free(m->sec[i].kv[k].value);
        }
        free(m->sec[i].kv);
        free(m->sec[i].name);
    }
    free(m->sec);
    free(m->file);
    memset(m, 0, sizeof(*m));
}

void lyra_manifest_name(const char *path, char *buf, size_t len)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    snprintf(buf, len, "%.*s", (int)n, b);
}
