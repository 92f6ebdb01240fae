/* fake_os: the `os` interface with a manual clock and a seeded RNG.
 *
 * Component "fake_os" (lyra_component_fake_os). Parameters: seed (integer,
 * default 1), start (duration, default 0: the clock's first reading),
 * log (bool, default off: print log lines to stderr).
 * Time never moves by itself: tests move it, and due timers run then, in
 * deadline order (ties in arming order). mem_alloc is malloc; page ops work
 * on plain aligned memory (remap copies, protect/cow return -ENOTSUP). */
#ifndef LYRA_FAKE_OS_H
#define LYRA_FAKE_OS_H

#include <stddef.h>
#include <stdint.h>

#include "lyra/component.h"
#include "lyra/os.h"

extern const struct lyra_component lyra_component_fake_os;

/* `self` is the fake_os instance. */
uint64_t fake_os_now(void *self);
/* Moves the clock forward by ns, running every timer that falls due on the
 * way at its own deadline (the clock reads the deadline while it runs). */
void fake_os_advance(void *self, uint64_t ns);
/* Seeds `random` again as create does with `seed`: a harness that reuses
 * one instance across inputs draws the same numbers for each input. */
void fake_os_reseed(void *self, uint64_t seed);
/* Number of timers armed now. */
unsigned fake_os_timers_armed(void *self);
/* Log lines seen at a level (LYRA_LOG_*), and the last line's text. */
unsigned fake_os_log_count(void *self, int level);
const char *fake_os_last_log(void *self);
/* Bytes obtained with mem_alloc and not yet freed (leak checks). */
uint64_t fake_os_mem_in_use(void *self);
/* Pages obtained with page_alloc and not yet freed. */
uint64_t fake_os_pages_in_use(void *self);
/* Descriptors registered with watch_fd (recorded only: wait never polls). */
unsigned fake_os_watched_fds(void *self);

/* Links (os 1.1). There is no process-wide registry (fakes hold no global
 * state): the test pairs two instances for a wire name first, then
 * "wire:NAME" opened on each of them are the two ends of one wire (bounded
 * queues of 256 frames each way, full: -EAGAIN). Returns 0, -EEXIST when
 * either instance already has a pairing for NAME, -ENOSPC beyond 8 names.
 * A second open of the same spec on one instance is -EBUSY.
 * An end with no other end ("wire:NAME" not paired or the other end not
 * open, and every "tap:IFNAME") keeps what it sends for fake_os_link_take
 * and receives what fake_os_link_inject puts in, so a device model can be
 * tested alone. Impairment parameters and pcap are ignored; wait() is not
 * woken by frames (it never blocks anyway). */
int fake_os_link_pair(void *os_a, void *os_b, const char *name);
/* Queues a frame for the open end `spec` to receive: 0, -ENOENT (no such
 * end open), -EAGAIN (its queue is full). */
int fake_os_link_inject(void *self, const char *spec, const void *frame, size_t len);
/* Takes the oldest frame the unpaired end `spec` sent: its length, 0 when
 * none, -ENOENT, -EMSGSIZE (cap too short: the frame is dropped). */
int fake_os_link_take(void *self, const char *spec, void *buf, size_t cap);
/* Ends open now (leak checks: device models close theirs at stop). */
unsigned fake_os_links_open(void *self);

#endif
