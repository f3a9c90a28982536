/*
 * Crontab parsing and next/previous fire times (core/crontab.h). Times are
 * broken down with our own proleptic Gregorian arithmetic (days from the
 * civil date, Howard Hinnant's algorithm) so that the module is pure and gives
 * the same answer whatever the process time zone.
 *
 * The search moves field by field: a month that does not match jumps to the
 * next month, a day to the next day, and so on, so even a yearly schedule is
 * found in a few dozen steps.
 */
#include "core/crontab.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return ERR_INVALID;
}

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* Reads a number or (for months and weekdays) a three-letter name. Returns the
 * characters consumed, 0 when none. */
static size_t read_value(const char *p, const char *const *names, int names_base, int *out)
{
    if (*p >= '0' && *p <= '9') {
        int v = 0;
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9' && n < 4)
            v = v * 10 + (p[n++] - '0');
        if (p[n] >= '0' && p[n] <= '9')
            return 0;
        *out = v;
        return n;
    }
    if (!names)
        return 0;
    for (int i = 0; i < (names_base == 1 ? 12 : 7); i++) {
        if (strncasecmp(p, names[i], 3) == 0) {
            *out = i + names_base;
            return 3;
        }
    }
    return 0;
}

/* Parses one field (between blanks) into a bit set of the values lo..hi. */
static int parse_field(const char *f, size_t len, int lo, int hi, const char *const *names,
                       int names_base, uint64_t *bits, int *star, char *err, size_t errlen)
{
    char buf[CRONTAB_MAX_LEN + 1];
    memcpy(buf, f, len);
    buf[len] = '\0';
    *bits = 0;
    *star = strcmp(buf, "*") == 0;
    const char *p = buf;
    for (;;) {
        int a, b, step = 1, single = 0;
        size_t n;
        if (*p == '*') {
            a = lo;
            b = hi;
            p++;
        } else if ((n = read_value(p, names, names_base, &a)) > 0) {
            p += n;
            b = a;
            single = *p != '-';
            if (*p == '-') {
                p++;
                if ((n = read_value(p, names, names_base, &b)) == 0)
                    return fail(err, errlen, "bad range in field '%s'", buf);
                p += n;
            }
        } else {
            return fail(err, errlen, "bad value in field '%s'", buf);
        }
        if (*p == '/') {
            p++;
            if ((n = read_value(p, NULL, 0, &step)) == 0 || step < 1)
                return fail(err, errlen, "bad step in field '%s'", buf);
            p += n;
            if (single)
                b = hi; /* "5/15" means from 5 to the end, every 15 */
        }
        if (a < lo || b > hi || a > b)
            return fail(err, errlen, "value out of range in field '%s'", buf);
        for (int v = a; v <= b; v += step)
            *bits |= (uint64_t)1 << v;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '\0')
            return fail(err, errlen, "unexpected character in field '%s'", buf);
        return 0;
    }
}

int crontab_parse(const char *text, struct crontab *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return fail(err, errlen, "%s", "empty crontab expression");
    static const struct {
        const char *alias, *expr;
    } aliases[] = {{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
                   {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
                   {"@hourly", "0 * * * *"}};
    while (*text == ' ' || *text == '\t')
        text++;
    if (*text == '@') {
        for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
            if (strcasecmp(text, aliases[i].alias) == 0)
                return crontab_parse(aliases[i].expr, out, err, errlen);
        return fail(err, errlen, "unknown alias '%s'", text);
    }
    if (strlen(text) > CRONTAB_MAX_LEN)
        return fail(err, errlen, "%s", "crontab expression too long");
    const char *fields[6];
    size_t lens[6];
    size_t nf = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (nf == 6)
            return fail(err, errlen, "too many fields in '%s' (5 or 6 expected)", text);
        fields[nf] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        lens[nf] = (size_t)(p - fields[nf]);
        nf++;
    }
    if (nf != 5 && nf != 6)
        return fail(err, errlen, "'%s' needs 5 or 6 fields", text);
    size_t base = nf == 6 ? 1 : 0;
    uint64_t bits;
    int star;
    int rc;
    if (nf == 6) {
        if ((rc = parse_field(fields[0], lens[0], 0, 59, NULL, 0, &bits, &star, err, errlen)) != 0)
            return rc;
        out->seconds = bits;
    } else {
        out->seconds = 1; /* second 0 */
    }
    if ((rc = parse_field(fields[base], lens[base], 0, 59, NULL, 0, &bits, &star, err, errlen)) !=
        0)
        return rc;
    out->minutes = bits;
    if ((rc = parse_field(fields[base + 1], lens[base + 1], 0, 23, NULL, 0, &bits, &star, err,
                          errlen)) != 0)
        return rc;
    out->hours = (uint32_t)bits;
    if ((rc = parse_field(fields[base + 2], lens[base + 2], 1, 31, NULL, 0, &bits, &star, err,
                          errlen)) != 0)
        return rc;
    out->mdays = (uint32_t)bits;
    out->mday_star = star;
    if ((rc = parse_field(fields[base + 3], lens[base + 3], 1, 12, month_names, 1, &bits, &star,
                          err, errlen)) != 0)
        return rc;
    out->months = (uint16_t)bits;
    /* Sunday may be written 0 or 7. */
    if ((rc = parse_field(fields[base + 4], lens[base + 4], 0, 7, wday_names, 0, &bits, &star, err,
                          errlen)) != 0)
        return rc;
    if (bits & 0x80)
        bits = (bits & 0x7f) | 1;
    out->wdays = (uint8_t)bits;
    out->wday_star = star;
    return 0;
}

/* Days since 1970-01-01 of a civil date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct civil {
    int64_t year;
    int month, mday, hour, minute, second, wday;
    int64_t day; /* days since the epoch */
};

static void civil_from_time(int64_t t, struct civil *c)
{
    int64_t z = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - z * 86400;
    c->day = z;
    c->hour = (int)(secs / 3600);
    c->minute = (int)(secs / 60 % 60);
    c->second = (int)(secs % 60);
    c->wday = (int)((z % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c->year = yoe + era * 400 + (c->month <= 2);
}

static int day_matches(const struct crontab *cr, const struct civil *c)
{
    int md = (cr->mdays >> c->mday) & 1;
    int wd = (cr->wdays >> c->wday) & 1;
    if (cr->mday_star || cr->wday_star)
        return md && wd;
    return md || wd;
}

#define FIVE_YEARS (5 * 366 * 86400LL)

int64_t crontab_next(const struct crontab *cr, int64_t after)
{
    int64_t t = after + 1;
    struct civil c;
    while (t - after <= FIVE_YEARS) {
        civil_from_time(t, &c);
        if (!((cr->months >> c.month) & 1)) {
            int y = (int)c.year, m = c.month + 1;
            if (m == 13) {
                m = 1;
                y++;
            }
            t = days_from_civil(y, m, 1) * 86400;
        } else if (!day_matches(cr, &c)) {
            t = (c.day + 1) * 86400;
        } else if (!((cr->hours >> c.hour) & 1)) {
            t = c.day * 86400 + (int64_t)(c.hour + 1) * 3600;
        } else if (!((cr->minutes >> c.minute) & 1)) {
            t = c.day * 86400 + (int64_t)c.hour * 3600 + (int64_t)(c.minute + 1) * 60;
        } else if (!((cr->seconds >> c.second) & 1)) {
            t++;
        } else {
            return t;
        }
    }
    return -1;
}

int64_t crontab_prev(const struct crontab *cr, int64_t at)
{
    int64_t t = at;
    struct civil c;
    while (at - t <= FIVE_YEARS) {
        civil_from_time(t, &c);
        if (!((cr->months >> c.month) & 1)) {
            t = days_from_civil(c.year, c.month, 1) * 86400 - 1;
        } else if (!day_matches(cr, &c)) {
            t = c.day * 86400 - 1;
        } else if (!((cr->hours >> c.hour) & 1)) {
            t = c.day * 86400 + (int64_t)c.hour * 3600 - 1;
        } else if (!((cr->minutes >> c.minute) & 1)) {
            t = c.day * 86400 + (int64_t)c.hour * 3600 + (int64_t)c.minute * 60 - 1;
        } else if (!((cr->seconds >> c.second) & 1)) {
            t--;
        } else {
            return t;
        }
    }
    return -1;
}
