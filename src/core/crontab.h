/*
 * Crontab schedules for `smplat beat`: parsing and next-fire computation, pure
 * (no clock, no I/O), in UTC.
 *
 * Accepted: the five classic fields "minute hour day-of-month month
 * day-of-week", or six fields with a leading seconds field (used by tests for
 * fast schedules). Each field is a comma list of "*", "N", "A-B", any of them
 * followed by "/STEP"; months and weekdays also take names (jan..dec,
 * sun..sat; 7 is Sunday too). Aliases: @yearly, @annually, @monthly, @weekly,
 * @daily, @midnight, @hourly. When both day-of-month and day-of-week are
 * restricted a day matches when either does (Vixie cron).
 */
#ifndef SMPLAT_CORE_CRONTAB_H
#define SMPLAT_CORE_CRONTAB_H

#include <stddef.h>
#include <stdint.h>

struct crontab {
    uint64_t seconds; /* bit s set: second s matches (0..59) */
    uint64_t minutes; /* 0..59 */
    uint32_t hours;   /* 0..23 */
    uint32_t mdays;   /* 1..31 */
    uint16_t months;  /* 1..12 */
    uint8_t wdays;    /* 0..6, Sunday 0 */
    int mday_star;    /* the day-of-month field was "*" */
    int wday_star;    /* the day-of-week field was "*" */
};

/* Longest expression crontab_parse accepts. */
#define CRONTAB_MAX_LEN 256

/* Parses text into *out. 0, or ERR_INVALID with a message in err (errlen may
 * be 0). */
int crontab_parse(const char *text, struct crontab *out, char *err, size_t errlen);

/* The first fire time strictly after `after` (Unix seconds, UTC), or -1 when
 * none exists within five years (e.g. "0 0 30 2 *"). */
int64_t crontab_next(const struct crontab *c, int64_t after);

/* The last fire time at or before `at`, or -1 when none within five years. */
int64_t crontab_prev(const struct crontab *c, int64_t at);

#endif
