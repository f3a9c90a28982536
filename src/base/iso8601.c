/*
 * ISO-8601 timestamps with the original service's Python semantics. Parsing follows CPython
 * 3.12's datetime.fromisoformat (Modules/_datetimemodule.c) step by step, including its
 * tolerances (any single character as the date/time separator, a fraction after the hour,
 * ISO week dates, commas for the decimal mark), after the original's own preprocessing of
 * trimming and replacing every 'Z' with "+00:00". Rendering follows datetime.isoformat()
 * for stored values and pydantic v2's 'Z' form for API responses. Calendar arithmetic uses
 * the proleptic Gregorian days-from-civil algorithm, so no libc time zone state is involved.
 */
#include "base/iso8601.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/error.h"

#define US_PER_SEC INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SEC)
/* Longest input considered; fromisoformat accepts arbitrarily long fractions, but nothing
 * legitimate comes near this. */
#define ISO_MAX_INPUT 256

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Monday = 0 ... Sunday = 6; 1970-01-01 was a Thursday. */
static int weekday_of(int64_t days)
{
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* CPython's parse_digits: exactly n ASCII digits accumulated into *var, NULL otherwise. The
 * input is NUL-terminated, so reading stops at the end of the string. */
static const char *parse_digits(const char *p, int *var, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(*p))
            return NULL;
        *var = *var * 10 + (*p++ - '0');
    }
    return p;
}

/* CPython's _find_isoformat_datetime_separator: the date formats are told apart by the
 * characters at offsets 4 and 5, which fixes where the separator must sit. */
static long find_separator(const char *s, size_t len)
{
    if (len == 7)
        return 7;
    if (s[4] == '-') {
        if (s[5] != 'W')
            return 10;
        if (len < 8)
            return -1;
        if (len > 8 && s[8] == '-') {
            if (len == 9)
                return -1;
            if (len > 10 && is_digit(s[10]))
                return 8;
            return 10;
        }
        return 8;
    }
    if (s[4] == 'W') {
        size_t idx = 7;
        while (idx < len && is_digit(s[idx]))
            idx++;
        if (idx < 9)
            return (long)idx;
        return idx % 2 == 0 ? 7 : 8;
    }
    return 8;
}

/* ISO year/week/day to a day count, as CPython's iso_to_ymd; -1 when the week or day is out
 * of range (week 53 exists only in years starting on a Thursday, or leap years starting on a
 * Wednesday). */
static int iso_week_days(int year, int week, int wday, int64_t *days)
{
    int64_t jan1 = days_from_civil(year, 1, 1);
    int first = weekday_of(jan1);
    if (week <= 0 || week >= 53) {
        if (!(week == 53 && (first == 3 || (first == 2 && is_leap(year)))))
            return -1;
    }
    if (wday <= 0 || wday >= 8)
        return -1;
    int64_t monday = jan1 - first;
    if (first > 3)
        monday += 7;
    *days = monday + (week - 1) * 7 + wday - 1;
    return 0;
}

/* CPython's parse_isoformat_date. Yields the day count; the caller validates the calendar
 * fields of ordinary dates, week dates are validated here. */
static int parse_date(const char *s, size_t len, int *y, int *m, int *d)
{
    const char *p = parse_digits(s, y, 4);
    if (!p)
        return -1;
    int sep = *p == '-';
    if (sep)
        p++;
    if (*p == 'W') {
        int week = 0, wday = 0;
        p = parse_digits(p + 1, &week, 2);
        if (!p)
            return -1;
        if ((size_t)(p - s) < len) {
            if (sep && *p++ != '-')
                return -1;
            p = parse_digits(p, &wday, 1);
            if (!p)
                return -1;
        } else {
            wday = 1;
        }
        int64_t days;
        if (iso_week_days(*y, week, wday, &days) < 0)
            return -1;
        int64_t yy;
        civil_from_days(days, &yy, m, d);
        if (yy < 1 || yy > 9999)
            return -1;
        *y = (int)yy;
        return 0;
    }
    p = parse_digits(p, m, 2);
    if (!p)
        return -1;
    if (sep && *p++ != '-')
        return -1;
    return parse_digits(p, d, 2) ? 0 : -1;
}

/* CPython's parse_hh_mm_ss_ff: [HH[:?MM[:?SS]]][(.|,)f+] between s and end. Returns -1 on
 * error, 1 when the character at end is not the end of the string (a time zone follows, or
 * junk), 0 otherwise. Reading past end is deliberate: the buffer is NUL-terminated. */
static int parse_hms(const char *s, const char *end, int vals[4])
{
    const char *p = s;
    int has_sep = 1;
    vals[0] = vals[1] = vals[2] = vals[3] = 0;
    for (int i = 0; i < 3; i++) {
        p = parse_digits(p, &vals[i], 2);
        if (!p)
            return -1;
        char c = *p++;
        if (i == 0)
            has_sep = c == ':';
        if (p >= end)
            return c != '\0';
        if (has_sep && c == ':')
            continue;
        if (c == '.' || c == ',')
            break;
        if (has_sep)
            return -1;
        p--;
    }
    size_t remains = (size_t)(end - p);
    size_t take = remains >= 6 ? 6 : remains;
    p = parse_digits(p, &vals[3], take);
    if (!p)
        return -1;
    for (size_t i = take; i < 6; i++)
        vals[3] *= 10;
    while (is_digit(*p))
        p++;
    return *p != '\0';
}

/* CPython's parse_isoformat_time. *has_tz and *tz_sec receive the offset. Offsets with a
 * sub-second part ("+01:00:00.5"), which Python accepts, are refused: struct iso_time keeps
 * whole seconds and nothing the original writes carries them. */
static int parse_time(const char *s, size_t len, int vals[4], int *has_tz, int *tz_sec)
{
    const char *end = s + len;
    const char *tz = s;
    *has_tz = 0;
    *tz_sec = 0;
    if (len == 0)
        return -1;
    do {
        if (*tz == 'Z' || *tz == '+' || *tz == '-')
            break;
    } while (++tz < end);

    int rv = parse_hms(s, tz, vals);
    if (rv < 0)
        return -1;
    if (tz == end)
        return rv == 1 ? -1 : 0;
    if (*tz == 'Z')
        return tz[1] != '\0' ? -1 : (*has_tz = 1, 0);

    int sign = *tz == '-' ? -1 : 1;
    int tzv[4];
    if (parse_hms(tz + 1, end, tzv) != 0)
        return -1;
    int off = tzv[0] * 3600 + tzv[1] * 60 + tzv[2];
    /* CPython builds plain UTC, dropping the fraction, when the whole seconds are zero. */
    if (tzv[3] != 0 && off != 0)
        return -1;
    if (off >= 86400)
        return -1;
    *has_tz = 1;
    *tz_sec = sign * off;
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Copies s (trimmed) into buf with every 'Z' replaced by "+00:00", as the original does
 * before calling fromisoformat. */
static int preprocess(const char *s, size_t len, char *buf, size_t cap, size_t *outlen)
{
    while (len > 0 && is_space(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1]))
        len--;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0')
            return -1;
        if (s[i] == 'Z') {
            if (n + 6 >= cap)
                return -1;
            memcpy(buf + n, "+00:00", 6);
            n += 6;
        } else {
            if (n + 1 >= cap)
                return -1;
            buf[n++] = s[i];
        }
    }
    buf[n] = '\0';
    *outlen = n;
    return 0;
}

/* Python's len() counts code points; the short-input check must too. */
static size_t codepoints(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

int iso_parse(const char *s, size_t len, struct iso_time *out)
{
    char buf[ISO_MAX_INPUT];
    size_t n;
    int y = 0, m = 0, d = 0;
    int t[4] = {0, 0, 0, 0};
    int has_tz = 0, tz_sec = 0;

    if (!s || preprocess(s, len, buf, sizeof buf, &n) < 0)
        return ERR_INVALID;
    if (codepoints(buf, n) < 7)
        return ERR_INVALID;
    long sep = find_separator(buf, n);
    if (sep < 0 || parse_date(buf, (size_t)sep, &y, &m, &d) < 0)
        return ERR_INVALID;
    if ((size_t)sep < n) {
        /* The separator is one character, which in UTF-8 may take several bytes. */
        const unsigned char lead = (unsigned char)buf[sep];
        size_t step = (lead & 0x80) == 0      ? 1
                      : (lead & 0xF0) == 0xE0 ? 3
                      : (lead & 0xF0) == 0xF0 ? 4
                                              : 2;
        size_t start = (size_t)sep + step;
        if (start > n)
            return ERR_INVALID;
        if (parse_time(buf + start, n - start, t, &has_tz, &tz_sec) < 0)
            return ERR_INVALID;
    }
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return ERR_INVALID;
    if (t[0] > 23 || t[1] > 59 || t[2] > 59)
        return ERR_INVALID;

    int64_t local = days_from_civil(y, m, d) * US_PER_DAY +
                    (int64_t)(t[0] * 3600 + t[1] * 60 + t[2]) * US_PER_SEC + t[3];
    out->utc_us = local - (int64_t)tz_sec * US_PER_SEC;
    out->has_offset = has_tz;
    out->offset_sec = has_tz ? tz_sec : 0;
    return 0;
}

/* Splits microseconds since the epoch into calendar fields; floor division keeps instants
 * before 1970 right. */
static void split(int64_t us, int64_t *y, int *mo, int *d, int *h, int *mi, int *s, int *frac)
{
    int64_t days = us / US_PER_DAY;
    int64_t rem = us % US_PER_DAY;
    if (rem < 0) {
        rem += US_PER_DAY;
        days--;
    }
    civil_from_days(days, y, mo, d);
    int64_t secs = rem / US_PER_SEC;
    *frac = (int)(rem % US_PER_SEC);
    *h = (int)(secs / 3600);
    *mi = (int)(secs / 60 % 60);
    *s = (int)(secs % 60);
}

/* Date and time without an offset, with ".ffffff" only when non-zero (isoformat()). */
static size_t format_local(int64_t us, char out[ISO_BUFSZ])
{
    int64_t y;
    int mo, d, h, mi, s, frac;
    split(us, &y, &mo, &d, &h, &mi, &s, &frac);
    int n =
        snprintf(out, ISO_BUFSZ, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, mo, d, h, mi, s);
    if (frac)
        n += snprintf(out + n, ISO_BUFSZ - (size_t)n, ".%06d", frac);
    return (size_t)n;
}

size_t iso_format(const struct iso_time *t, char out[ISO_BUFSZ])
{
    if (!t->has_offset)
        return format_local(t->utc_us, out);
    size_t n = format_local(t->utc_us + (int64_t)t->offset_sec * US_PER_SEC, out);
    int off = t->offset_sec;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    int w;
    if (off % 60)
        w = snprintf(out + n, ISO_BUFSZ - n, "%c%02d:%02d:%02d", sign, off / 3600, off / 60 % 60,
                     off % 60);
    else
        w = snprintf(out + n, ISO_BUFSZ - n, "%c%02d:%02d", sign, off / 3600, off / 60 % 60);
    return n + (size_t)w;
}

size_t iso_format_utc(int64_t utc_us, char out[ISO_BUFSZ])
{
    struct iso_time t = {utc_us, 1, 0};
    return iso_format(&t, out);
}

size_t iso_format_z(int64_t utc_us, char out[ISO_BUFSZ])
{
    int64_t y;
    int mo, d, h, mi, s, frac;
    split(utc_us, &y, &mo, &d, &h, &mi, &s, &frac);
    int n =
        snprintf(out, ISO_BUFSZ, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, mo, d, h, mi, s);
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%06d", frac);
        size_t flen = 6;
        while (f[flen - 1] == '0')
            flen--;
        f[flen] = '\0';
        n += snprintf(out + n, ISO_BUFSZ - (size_t)n, ".%s", f);
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

int64_t time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}
