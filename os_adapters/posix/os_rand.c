/* Randomness: getrandom() unless os.seed is set, then xoshiro256** seeded
 * through splitmix64, so that a seeded run draws the same bytes again. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "os_posix_int.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

void os_rand_seed(struct os_posix *os, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        os->rng[i] = splitmix64(&x);
}

/* Bytes are taken little-endian from each word: the same seed gives the
 * same bytes on any host. Called with os->mu held. */
static void prng_fill(struct os_posix *os, uint8_t *p, size_t len)
{
    while (len) {
        uint64_t w = xoshiro_next(os->rng);
        for (int i = 0; i < 8 && len; i++, len--)
            *p++ = (uint8_t)(w >> (8 * i));
    }
}

void os_random(void *self, void *buf, size_t len)
{
    struct os_posix *os = self;
    uint8_t *p = buf;
    if (!os->seeded) {
        while (len) {
            ssize_t n = getrandom(p, len, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; /* no kernel entropy call: fall back below */
            p += n;
            len -= (size_t)n;
        }
        if (!len)
            return;
    }
    pthread_mutex_lock(&os->mu);
    if (!os->seeded && !os->rng[0] && !os->rng[1] && !os->rng[2] && !os->rng[3]) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        os_rand_seed(os, (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                             ((uint64_t)getpid() << 40));
    }
    prng_fill(os, p, len);
    pthread_mutex_unlock(&os->mu);
}
