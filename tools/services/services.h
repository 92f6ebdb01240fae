/* The standard services (`--services`), ordinary applications of the
 * socket API, each on a thread of its own with blocking sockets:
 *   echo 7, discard 9, chargen 19 (RFC 862, 863, 864) over UDP, and over
 *   TCP when the assembly has it; http 80 and stall 5001 need TCP.
 * They end when the stack is stopped (their blocking calls fail with
 * ECANCELED). */
#ifndef LYRA_SERVICES_H
#define LYRA_SERVICES_H

#include <stdio.h>

#include "lyra/stack.h"

struct lyra_services;

/* Checks a comma-separated LIST against what the stack's transports can
 * serve. Returns 0, or 1 with a message on err (a usage error). Call
 * before lyra_stack_start (nothing is opened). */
int lyra_services_check(struct lyra_stack *s, const char *list, FILE *err);
/* Opens and binds the services' sockets and starts their threads; the
 * stack must be started. Returns 0 or 2 with a message (run-time failure). */
int lyra_services_start(struct lyra_stack *s, const char *list, FILE *err,
                        struct lyra_services **out);
/* After lyra_stack_stop: joins the threads, closes the sockets, frees. */
void lyra_services_join(struct lyra_services *sv);

#endif
