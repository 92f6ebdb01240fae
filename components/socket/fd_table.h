/* The descriptor table: fixed size (max_fds), allocated at start. A
 * descriptor names a transport (index of the l4 slot) and its endpoint
 * handle, and carries what BSD keeps per descriptor rather than per
 * endpoint: O_NONBLOCK and the send/receive timeouts. */
#ifndef LYRA_SOCKET_FD_TABLE_H
#define LYRA_SOCKET_FD_TABLE_H

#include <stdbool.h>
#include <stdint.h>

struct fd_entry {
    bool used;
    bool pktinfo;   /* IP_PKTINFO: recvmsg reports the destination */
    bool linger_on; /* SO_LINGER */
    int32_t linger; /* its seconds */
    uint8_t l4;     /* index into the l4 slot */
    int handle;     /* the transport's endpoint */
    int64_t rcvtimeo, sndtimeo; /* ns; 0: forever */
    uint32_t gen;   /* incremented each time the number is handed out */
};

struct fd_table {
    struct fd_entry *e;
    unsigned n;
    unsigned open; /* descriptors in use */
};

/* The lowest free descriptor (as POSIX hands them out), or -EMFILE. */
int fd_alloc(struct fd_table *t, uint8_t l4, int handle);
/* The entry of an open descriptor, or NULL. */
struct fd_entry *fd_get(struct fd_table *t, int fd);
void fd_release(struct fd_table *t, int fd);

#endif
