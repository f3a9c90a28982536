/*
 * ISO-8601 timestamps with Python's semantics (datetime.fromisoformat of Python 3.12 after
 * the original's "Z" -> "+00:00" replacement, and datetime.isoformat for output), so that
 * stored payloads keep the original's formats.
 */
#ifndef SMPLAT_BASE_ISO8601_H
#define SMPLAT_BASE_ISO8601_H

#include <stddef.h>
#include <stdint.h>

struct iso_time {
    int64_t utc_us; /* instant in microseconds since the epoch, UTC (naive values: as if UTC) */
    int has_offset; /* 0 for a naive value */
    int offset_sec; /* the value's own UTC offset in seconds (0 when naive) */
};

#define ISO_BUFSZ 40

/* Parses s[0..len) (trimmed of ASCII whitespace first; every 'Z' replaced by "+00:00").
 * Accepts YYYY-MM-DD, YYYY-MM-DDTHH, THH:MM, THH:MM:SS, fractions of any length (truncated to
 * microseconds), a space for 'T', basic forms (20250101T100000), offsets +HH:MM, +HHMM,
 * +HH:MM:SS(.ffffff). 0 on success, ERR_INVALID otherwise. */
int iso_parse(const char *s, size_t len, struct iso_time *out);

/* Python isoformat() of the value in its own offset: "2025-01-01T10:00:00+02:00",
 * ".ffffff" only when microseconds are non-zero, no offset when naive. Returns length. */
size_t iso_format(const struct iso_time *t, char out[ISO_BUFSZ]);
/* isoformat() of an aware UTC instant: "2025-01-01T00:00:00.123456+00:00". */
size_t iso_format_utc(int64_t utc_us, char out[ISO_BUFSZ]);
/* pydantic v2 rendering of a UTC instant: trailing "Z", fraction without trailing zeros
 * ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00.5Z"). */
size_t iso_format_z(int64_t utc_us, char out[ISO_BUFSZ]);

/* Wall-clock now, microseconds since the epoch, UTC. */
int64_t time_now_us(void);

#endif
