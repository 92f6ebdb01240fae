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

#include <stdint.h>

#include "lyra/component.h"
#include "lyra/os.h"

extern const struct lyra_component lyra_component_fake_os;

/* `self` is the fake_os instance. */
uint64_t fake_os_now(void *self);
/* Moves the clock forward by ns, running every timer that falls due on the
 * way at its own deadline (the clock reads the deadline while it runs). */
void fake_os_advance(void *self, uint64_t ns);
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

#endif
