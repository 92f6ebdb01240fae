/* Condition variables (os 1.2) on CLOCK_MONOTONIC, the clock of now_ns, so
 * a deadline from now_ns means the same instant here. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "os_posix_int.h"

int os_cond_create(void *self, void **cond)
{
    pthread_cond_t *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int r = pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    if (r) {
        free(c);
        return -r;
    }
    *cond = c;
    return 0;
}

void os_cond_destroy(void *self, void *cond)
{
    if (!cond)
        return;
    pthread_cond_destroy(cond);
    free(cond);
}

int os_cond_wait(void *self, void *cond, void *lock, uint64_t deadline_ns)
{
    if (deadline_ns == LYRA_TIME_NEVER)
        return -pthread_cond_wait(cond, lock);
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                          .tv_nsec = (long)(deadline_ns % 1000000000u)};
    int r = pthread_cond_timedwait(cond, lock, &ts);
    return r == ETIMEDOUT ? -ETIMEDOUT : -r;
}

void os_cond_broadcast(void *self, void *cond)
{
    pthread_cond_broadcast(cond);
}
