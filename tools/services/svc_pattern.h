/* The byte patterns the services send, as functions of the stream offset,
 * so a sender resumes exactly where a partial send stopped and a client
 * can check every byte it got. */
#ifndef LYRA_SVC_PATTERN_H
#define LYRA_SVC_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* RFC 864: lines of 72 of the 95 printable ASCII characters (' '..'~'),
 * line k starting with character k % 95, each ended by CR LF. The stream
 * repeats every 95 lines. */
#define CHARGEN_LINE 74
#define CHARGEN_PERIOD (95 * CHARGEN_LINE)
void chargen_fill(unsigned char *p, size_t n, uint64_t pos);

/* http /bytes/N: 16-byte lines, each its own offset as 15 lower-case hex
 * digits and LF ("000000000000000\n000000000000010\n..."); byte i is byte
 * i % 16 of the line at i - i % 16. Every byte says where it belongs. */
void bytes_fill(unsigned char *p, size_t n, uint64_t off);

#endif
