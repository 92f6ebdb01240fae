/* The standard services (`--services`), ordinary applications of the
 * socket API: echo 7, discard 9, chargen 19 (RFC 862, 863, 864) over UDP
 * and over TCP, whichever the assembly has; http 80 and stall 5001 over TCP
 * only (a SOCK_STREAM transport).
 *
 * UDP: a thread per service, blocking recvfrom. TCP: a thread per service
 * multiplexing its listener and at most SVC_TCP_CONNS (16) connections with
 * lyra_poll over non-blocking descriptors; connections beyond that wait in
 * the listen backlog (16) until one closes. Memory is taken at start only.
 *   echo     sends back what it reads; stops reading while it cannot send
 *   discard  reads and drops until the peer closes
 *   chargen  sends RFC 864's 72-character lines until sending fails
 *   http     GET and HEAD of / (a small page) and /bytes/N (exactly N bytes,
 *            N <= 2^40, tools/services/svc_pattern.h), HTTP/1.1 keep-alive
 *            and pipelining, HTTP/1.0 closes unless keep-alive; 400 malformed,
 *            404 unknown path, 405 other methods, 414 request line over 1024
 *            bytes, 431 head over 8192 bytes, 505 not HTTP/1.x (http_req.h); a
 *            connection is closed when a request head is not whole 10 s
 *            after the wait for it began, or a response stalls 10 s
 *   stall    accepts and never reads (the peer's sends end up blocked);
 *            closes when the peer shuts down or resets
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
