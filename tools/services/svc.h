/* Inside the services: one struct svc per (service, transport), each run
 * by a thread of its own. A UDP service blocks in recvfrom (svc_udp.c). A
 * TCP service multiplexes its listener and its connections with lyra_poll
 * over non-blocking descriptors (svc_tcp.c), the per-service protocol in
 * svc_stream.c (echo, discard, chargen, stall) and svc_http.c (http). All
 * memory is taken when the service starts; none per byte or connection.
 * The payload buffers (the UDP datagram, the TCP scratch, echo's and
 * chargen's) are packet memory (lyra_pkt_alloc, socket.h): on a zero-copy
 * assembly what is sent from them is referenced, not copied, and a read of
 * one segment's payload into one of their pages may be remapped; elsewhere
 * it is page-aligned heap memory. */
#ifndef LYRA_SVC_H
#define LYRA_SVC_H

#include <pthread.h>
#include <stdint.h>

#include "lyra/socket.h"
#include "lyra/stack.h"

enum svc_kind { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN, SVC_HTTP, SVC_STALL };

#define SVC_UDP_BUF 65536   /* the largest UDP datagram fits */
#define SVC_TCP_CONNS 16    /* connections per TCP service; more wait in the listen backlog */
#define SVC_TCP_BACKLOG 16  /* listen(2) backlog of each TCP service */
#define SVC_ECHO_BUF 16384  /* echo: bytes read and not yet sent back, per connection */
#define SVC_SCRATCH 16384   /* per TCP service: discarded input, generated output */
#define SVC_LINGER_MS 2000  /* http: reading what follows a last response, before close */
#define SVC_HTTP_IDLE_MS 10000 /* http: a request head comes whole within this of waiting
                               * for it, and a response makes progress within it; else
                               * the connection is closed (16 slots: no idle peer keeps one) */
#define SVC_ACCEPT_PAUSE_MS 100 /* after accept failed (no descriptor free...) */
#define SVC_ROUNDS 8        /* reads/writes per connection per wake-up (fairness) */
#define SVC_OUT_MAX 1024    /* http: response head plus a small body */
#define SVC_RX_SEG 1448     /* discard's reads: one TCP segment's payload (MSS 1460 with timestamps) */

enum { H_READ, H_WRITE, H_DRAIN };

struct svc_http {
    int state;            /* H_READ, H_WRITE, H_DRAIN */
    int close;            /* close after this response */
    int bytes;            /* the body is /bytes/N's pattern (else all in out) */
    size_t consumed;      /* request head bytes this response answers */
    unsigned out_len, out_off;
    uint64_t body_len, body_off; /* pattern bytes to send after out */
    char out[SVC_OUT_MAX];
};

struct svc_conn {
    int fd;               /* -1: a free slot */
    int eof;              /* the peer has finished sending */
    unsigned char *buf;   /* echo: bytes to send back; http: request bytes */
    size_t off, len;      /* buf[off, len) */
    uint64_t pos;         /* chargen: stream offset */
    uint64_t deadline;    /* ms (svc_now_ms) at which it is closed; 0: none */
    struct svc_http h;
};

struct svc {
    struct lyra_stack *s;
    enum svc_kind kind;
    const char *name;
    int fd;                  /* UDP socket or TCP listener */
    pthread_t t;
    int running;
    unsigned seed;           /* UDP chargen's lengths */
    unsigned char *buf;      /* UDP: a datagram; TCP: SVC_SCRATCH bytes (packet memory) */
    unsigned char *table;    /* chargen over TCP: two periods of the pattern (packet memory) */
    unsigned char *cbufs;    /* per-connection buffers (echo: packet memory; http: heap) */
    size_t page;             /* the os page size: discard reads one segment per page */
    struct svc_conn *conns;  /* SVC_TCP_CONNS */
    struct lyra_pollfd *pfd; /* the listener and the connections */
    int *idx;                /* pfd entry -> connection (-1: the listener) */
    uint64_t listen_pause;   /* ms: the listener is not polled before; 0: none */
};

/* Results of a connection's I/O step. */
#define SVC_KEEP 0
#define SVC_CLOSE 1
#define SVC_STOP 2 /* the stack stopped: the service ends */

/* Non-blocking send and recv on a connection: recv >0 bytes, 0 end of
 * stream, SVC_AGAIN; send >= 0 bytes (0: would block). Either may return
 * SVC_FAIL (the connection is done) or SVC_HALT (ECANCELED). */
#define SVC_AGAIN (-1L)
#define SVC_FAIL (-2L)
#define SVC_HALT (-3L)
long svc_recv(struct svc *v, struct svc_conn *c, void *p, size_t n);
long svc_send(struct svc *v, struct svc_conn *c, const void *p, size_t n);
/* SVC_CLOSE for SVC_FAIL, SVC_STOP for SVC_HALT */
int svc_bail(long r);
uint64_t svc_now_ms(void);

void *svc_udp_loop(void *arg);
void *svc_tcp_loop(void *arg);
/* Memory of a UDP service; 0 or -ENOMEM. Freed by svc_udp_free. */
int svc_udp_alloc(struct svc *v);
void svc_udp_free(struct svc *v);
/* Memory of a TCP service (kind set); 0 or -ENOMEM. Freed by svc_tcp_free. */
int svc_tcp_alloc(struct svc *v);
void svc_tcp_free(struct svc *v);

/* Per-service protocol: what to poll for, and the work when it is ready. */
short svc_stream_events(const struct svc *v, const struct svc_conn *c);
int svc_stream_io(struct svc *v, struct svc_conn *c, short revents);
short svc_http_events(const struct svc_conn *c);
void svc_http_open(struct svc_conn *c);
int svc_http_io(struct svc *v, struct svc_conn *c, short revents);

#endif
