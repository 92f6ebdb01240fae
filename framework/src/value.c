/* Parameter value parsing: one parser for manifests, overrides and codegen. */
#include "lyra/value.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *lyra_ptype_name(enum lyra_ptype t)
{
    switch (t) {
    case LYRA_P_INT: return "integer";
    case LYRA_P_BOOL: return "bool";
    case LYRA_P_STRING: return "string";
    case LYRA_P_SIZE: return "size";
    case LYRA_P_PERCENT: return "percent";
    case LYRA_P_MAC: return "MAC";
    case LYRA_P_IPV4: return "IPv4 address";
    case LYRA_P_PREFIX: return "IPv4/prefix";
    case LYRA_P_DURATION: return "duration";
    }
    return "?";
}

static const char *expect_text(enum lyra_ptype t)
{
    switch (t) {
    case LYRA_P_INT: return "an integer (e.g. 42 or 0x2a)";
    case LYRA_P_BOOL: return "a bool (on/off, true/false, yes/no, 1/0)";
    case LYRA_P_STRING: return "a string";
    case LYRA_P_SIZE: return "a size (e.g. 1500, 64k, 2M)";
    case LYRA_P_PERCENT: return "a percentage (e.g. 5% or 0.5%)";
    case LYRA_P_MAC: return "a MAC address (e.g. 02:00:00:00:00:01)";
    case LYRA_P_IPV4: return "an IPv4 address (e.g. 192.0.2.2)";
    case LYRA_P_PREFIX: return "an IPv4 address with prefix length (e.g. 192.0.2.2/24)";
    case LYRA_P_DURATION: return "a duration (e.g. 250ms, 30s, 10us)";
    }
    return "?";
}

/* Unsigned decimal or hex with overflow check; *end after the digits. */
static int parse_u64(const char *s, const char **end, uint64_t *out)
{
    uint64_t v = 0;
    int base = 10, any = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (;; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -ERANGE;
        v = v * (uint64_t)base + (uint64_t)d;
        any = 1;
    }
    *end = s;
    *out = v;
    return any ? 0 : -EINVAL;
}

static int parse_int(const char *s, int64_t *out)
{
    int neg = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    const char *end;
    uint64_t u;
    int r = parse_u64(s, &end, &u);
    if (r)
        return r;
    if (*end)
        return -EINVAL;
    if (u > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -ERANGE;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

static int parse_size(const char *s, int64_t *out)
{
    const char *end;
    uint64_t u;
    int r = parse_u64(s, &end, &u);
    if (r)
        return r;
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1024ull * 1024 * 1024, end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return -EINVAL;
    if (u > (uint64_t)INT64_MAX / mul)
        return -ERANGE;
    *out = (int64_t)(u * mul);
    return 0;
}

/* "12.345%" with up to 4 decimals -> ppm. */
static int parse_percent(const char *s, int64_t *out)
{
    uint64_t whole = 0, frac = 0;
    int nfrac = 0, any = 0;
    while (isdigit((unsigned char)*s)) {
        whole = whole * 10 + (uint64_t)(*s++ - '0');
        any = 1;
        if (whole > 1000000)
            return -ERANGE;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (nfrac == 4)
                return -EINVAL; /* finer than 1 ppm */
            frac = frac * 10 + (uint64_t)(*s++ - '0');
            nfrac++;
            any = 1;
        }
    }
    if (!any || *s != '%' || s[1])
        return -EINVAL;
    while (nfrac++ < 4)
        frac *= 10;
    *out = (int64_t)(whole * LYRA_PPM_PER_PERCENT + frac);
    return 0;
}

static int parse_duration(const char *s, int64_t *out)
{
    const char *end;
    uint64_t u;
    int r = parse_u64(s, &end, &u);
    if (r)
        return r;
    uint64_t mul;
    if (!strcmp(end, "") || !strcmp(end, "ms"))
        mul = 1000000;
    else if (!strcmp(end, "s"))
        mul = 1000000000;
    else if (!strcmp(end, "us"))
        mul = 1000;
    else if (!strcmp(end, "ns"))
        mul = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        mul = 60000000000ull;
    else
        return -EINVAL;
    if (u > (uint64_t)INT64_MAX / mul)
        return -ERANGE;
    *out = (int64_t)(u * mul);
    return 0;
}

static int parse_ipv4(const char *s, const char **end, uint32_t *out)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        unsigned v = 0, nd = 0;
        while (isdigit((unsigned char)*s)) {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++nd > 3 || v > 255)
                return -EINVAL;
        }
        a = (a << 8) | v;
        if (i < 3 && *s++ != '.')
            return -EINVAL;
    }
    *end = s;
    *out = a;
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = *s++;
            int d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                d = c - 'A' + 10;
            else
                return -EINVAL;
            v = v * 16 + d;
        }
        mac[i] = (uint8_t)v;
        if (i < 5 && *s != ':' && *s != '-')
            return -EINVAL;
        if (i < 5)
            s++;
    }
    return *s ? -EINVAL : 0;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    for (unsigned i = 0; i < 4; i++) {
        if (!strcmp(s, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(s, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

int lyra_value_parse(enum lyra_ptype t, const char *text, int64_t min, int64_t max,
                     struct lyra_value *out, char *err, size_t errlen)
{
    int r = 0;
    const char *end;
    memset(out, 0, sizeof(*out));
    out->type = t;
    if (!text) /* no default and not given: unset, not an error */
        return 0;
    out->set = true;
    switch (t) {
    case LYRA_P_INT: r = parse_int(text, &out->u.i); break;
    case LYRA_P_SIZE: r = parse_size(text, &out->u.i); break;
    case LYRA_P_PERCENT: r = parse_percent(text, &out->u.i); break;
    case LYRA_P_DURATION: r = parse_duration(text, &out->u.i); break;
    case LYRA_P_BOOL: r = parse_bool(text, &out->u.b); break;
    case LYRA_P_STRING: out->u.s = text; break;
    case LYRA_P_MAC: r = parse_mac(text, out->u.mac); break;
    case LYRA_P_IPV4:
        r = parse_ipv4(text, &end, &out->u.ip.addr);
        if (!r && *end)
            r = -EINVAL;
        out->u.ip.len = 32;
        break;
    case LYRA_P_PREFIX: {
        r = parse_ipv4(text, &end, &out->u.ip.addr);
        if (!r) {
            int64_t len;
            if (*end != '/' || parse_int(end + 1, &len) || !isdigit((unsigned char)end[1]))
                r = -EINVAL;
            else if (len < 0 || len > 32)
                r = -ERANGE;
            else
                out->u.ip.len = (uint8_t)len;
        }
        break;
    }
    }
    if (r == -EINVAL) {
        snprintf(err, errlen, "expected %s, got '%s'", expect_text(t), text);
        return r;
    }
    if (r == -ERANGE && t != LYRA_P_PREFIX) {
        snprintf(err, errlen, "'%s' is too large", text);
        return r;
    }
    if (r == -ERANGE) {
        snprintf(err, errlen, "prefix length of '%s' out of range 0..32", text);
        return r;
    }
    if ((t == LYRA_P_INT || t == LYRA_P_SIZE || t == LYRA_P_PERCENT || t == LYRA_P_DURATION) &&
        min <= max && (out->u.i < min || out->u.i > max)) {
        char range[96];
        lyra_range_format(t, min, max, range, sizeof(range));
        snprintf(err, errlen, "'%s' out of range %s", text, range);
        return -ERANGE;
    }
    return 0;
}

static void fmt_scalar(enum lyra_ptype t, int64_t v, char *buf, size_t len)
{
    switch (t) {
    case LYRA_P_PERCENT: {
        int64_t whole = v / LYRA_PPM_PER_PERCENT, frac = v % LYRA_PPM_PER_PERCENT;
        if (!frac) {
            snprintf(buf, len, "%lld%%", (long long)whole);
        } else {
            char f[8];
            snprintf(f, sizeof(f), "%04lld", (long long)frac);
            for (int i = 3; i > 0 && f[i] == '0'; i--)
                f[i] = 0;
            snprintf(buf, len, "%lld.%s%%", (long long)whole, f);
        }
        break;
    }
    case LYRA_P_DURATION:
        if (v % 1000000000 == 0)
            snprintf(buf, len, "%llds", (long long)(v / 1000000000));
        else if (v % 1000000 == 0)
            snprintf(buf, len, "%lldms", (long long)(v / 1000000));
        else if (v % 1000 == 0)
            snprintf(buf, len, "%lldus", (long long)(v / 1000));
        else
            snprintf(buf, len, "%lldns", (long long)(v));
        break;
    case LYRA_P_SIZE:
        if (v && v % (1024 * 1024) == 0)
            snprintf(buf, len, "%lldM", (long long)(v / (1024 * 1024)));
        else if (v && v % 1024 == 0)
            snprintf(buf, len, "%lldk", (long long)(v / 1024));
        else
            snprintf(buf, len, "%lld", (long long)v);
        break;
    default: snprintf(buf, len, "%lld", (long long)v); break;
    }
}

void lyra_value_format(const struct lyra_value *v, char *buf, size_t len)
{
    uint32_t a = v->u.ip.addr;
    switch (v->type) {
    case LYRA_P_INT:
    case LYRA_P_SIZE:
    case LYRA_P_PERCENT:
    case LYRA_P_DURATION: fmt_scalar(v->type, v->u.i, buf, len); break;
    case LYRA_P_BOOL: snprintf(buf, len, "%s", v->u.b ? "on" : "off"); break;
    case LYRA_P_STRING: snprintf(buf, len, "%s", v->u.s ? v->u.s : ""); break;
    case LYRA_P_MAC:
        snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", v->u.mac[0], v->u.mac[1],
                 v->u.mac[2], v->u.mac[3], v->u.mac[4], v->u.mac[5]);
        break;
    case LYRA_P_IPV4:
        snprintf(buf, len, "%u.%u.%u.%u", (unsigned)(a >> 24), (unsigned)(a >> 16) & 255,
                 (unsigned)(a >> 8) & 255, (unsigned)a & 255);
        break;
    case LYRA_P_PREFIX:
        snprintf(buf, len, "%u.%u.%u.%u/%u", (unsigned)(a >> 24), (unsigned)(a >> 16) & 255,
                 (unsigned)(a >> 8) & 255, (unsigned)a & 255, (unsigned)v->u.ip.len);
        break;
    }
}

void lyra_range_format(enum lyra_ptype t, int64_t min, int64_t max, char *buf, size_t len)
{
    if (min > max || !(t == LYRA_P_INT || t == LYRA_P_SIZE || t == LYRA_P_PERCENT ||
                       t == LYRA_P_DURATION)) {
        snprintf(buf, len, "-");
        return;
    }
    char a[40], b[40];
    fmt_scalar(t, min, a, sizeof(a));
    fmt_scalar(t, max, b, sizeof(b));
    snprintf(buf, len, "%s..%s", a, b);
}
