/* Typed parameter values: the one parser that both the manifest loader and
 * command-line overrides (static binaries too) go through. */
#ifndef LYRA_VALUE_H
#define LYRA_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lyra_ptype {
    LYRA_P_INT,      /* decimal or 0x hex, optional sign */
    LYRA_P_BOOL,     /* on/off, true/false, yes/no, 1/0 */
    LYRA_P_STRING,   /* any text */
    LYRA_P_SIZE,     /* bytes: 1500, 64k, 2M (k = 1024) */
    LYRA_P_PERCENT,  /* "5%", "0.5%": stored as parts per million */
    LYRA_P_MAC,      /* 02:00:00:00:00:01 */
    LYRA_P_IPV4,     /* 192.0.2.1 */
    LYRA_P_PREFIX,   /* 192.0.2.2/24 */
    LYRA_P_DURATION, /* 250ms, 30s, 10us, 5ns, 2m: stored as ns; bare number = ms */
};

#define LYRA_PPM_PER_PERCENT 10000

struct lyra_value {
    enum lyra_ptype type;
    bool set; /* false: the parameter has no default and was not given */
    union {
        int64_t i;     /* INT, SIZE, PERCENT (ppm), DURATION (ns) */
        bool b;
        const char *s; /* STRING */
        uint8_t mac[6];
        struct {
            uint32_t addr; /* host byte order */
            uint8_t len;   /* PREFIX only; 32 for IPV4 */
        } ip;
    } u;
};

const char *lyra_ptype_name(enum lyra_ptype t);

/* Parses `text` as type t. Range checks apply when min <= max. Returns 0, or
 * -EINVAL (wrong type) / -ERANGE (out of range) with a message in err.
 * STRING values point into `text`: the caller keeps it alive. */
int lyra_value_parse(enum lyra_ptype t, const char *text, int64_t min, int64_t max,
                     struct lyra_value *out, char *err, size_t errlen);

/* Writes a value back in manifest syntax. */
void lyra_value_format(const struct lyra_value *v, char *buf, size_t len);

/* Range as text for messages and `lyranet list` ("0..1500", "0%..100%"). */
void lyra_range_format(enum lyra_ptype t, int64_t min, int64_t max, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
