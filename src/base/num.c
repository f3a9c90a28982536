/*
 * Checked parsing of numbers and booleans from configuration, CLI flags and query strings.
 * strtol and friends accept trailing junk, skip only leading space and report overflow
 * through errno; these wrappers insist that the whole string is one number, so that
 * "10x", "" or "99999999999999999999" are errors rather than silently 10, 0 or LONG_MAX.
 */
#include "base/num.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims s into [*b, *e); returns the trimmed length. */
static size_t trim(const char *s, const char **b, const char **e)
{
    const char *p = s;
    const char *q = s + strlen(s);
    while (p < q && is_space(*p))
        p++;
    while (q > p && is_space(q[-1]))
        q--;
    *b = p;
    *e = q;
    return (size_t)(q - p);
}

/* Accumulates digits as a negative number: the negative range of int64_t is one larger, so
 * INT64_MIN parses without a special case. */
int num_parse_i64(const char *s, int64_t *out)
{
    const char *p, *e;
    if (!s || trim(s, &p, &e) == 0)
        return ERR_INVALID;
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (p == e)
        return ERR_INVALID;
    int64_t acc = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return ERR_INVALID;
        int digit = *p - '0';
        if (acc < (INT64_MIN + digit) / 10)
            return ERR_INVALID;
        acc = acc * 10 - digit;
    }
    if (!neg) {
        if (acc == INT64_MIN)
            return ERR_INVALID;
        acc = -acc;
    }
    *out = acc;
    return 0;
}

int num_parse_int(const char *s, int *out)
{
    int64_t v;
    if (num_parse_i64(s, &v) < 0 || v < INT_MIN || v > INT_MAX)
        return ERR_INVALID;
    *out = (int)v;
    return 0;
}

/* Matches the digit run grammar of Python's float(): digits with single underscores between
 * them. Copies the digits (without underscores) to *w and returns how many were seen. */
static size_t digit_run(const char **pp, const char *e, char **w)
{
    const char *p = *pp;
    size_t n = 0;
    while (p < e) {
        if (*p >= '0' && *p <= '9') {
            *(*w)++ = *p++;
            n++;
        } else if (*p == '_' && n > 0 && p + 1 < e && p[1] >= '0' && p[1] <= '9') {
            p++;
        } else {
            break;
        }
    }
    *pp = p;
    return n;
}

/* Python's float() grammar is narrower than strtod's (no hex, no "nan(...)"), so the text
 * is validated here and only a clean copy is handed to strtod. Overflow gives an infinity,
 * as in Python. */
int num_parse_double(const char *s, double *out)
{
    const char *p, *e;
    if (!s)
        return ERR_INVALID;
    size_t len = trim(s, &p, &e);
    if (len == 0 || len > 512)
        return ERR_INVALID;

    char buf[520];
    char *w = buf;
    if (*p == '+' || *p == '-')
        *w++ = *p++;
    size_t rest = (size_t)(e - p);
    if ((rest == 3 && strncasecmp(p, "inf", 3) == 0) ||
        (rest == 8 && strncasecmp(p, "infinity", 8) == 0)) {
        *out = buf[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (rest == 3 && strncasecmp(p, "nan", 3) == 0) {
        *out = buf[0] == '-' ? -NAN : NAN;
        return 0;
    }
    size_t ndig = digit_run(&p, e, &w);
    if (p < e && *p == '.') {
        *w++ = *p++;
        ndig += digit_run(&p, e, &w);
    }
    if (ndig == 0)
        return ERR_INVALID;
    if (p < e && (*p == 'e' || *p == 'E')) {
        *w++ = *p++;
        if (p < e && (*p == '+' || *p == '-'))
            *w++ = *p++;
        if (digit_run(&p, e, &w) == 0)
            return ERR_INVALID;
    }
    if (p != e)
        return ERR_INVALID;
    *w = '\0';
    errno = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0')
        return ERR_INVALID;
    *out = v;
    return 0;
}

int num_parse_bool(const char *s, int *out)
{
    static const char *const truthy[] = {"true", "1", "yes", "on"};
    static const char *const falsy[] = {"false", "0", "no", "off"};
    const char *p, *e;
    if (!s)
        return ERR_INVALID;
    size_t len = trim(s, &p, &e);
    for (size_t i = 0; i < 4; i++) {
        if (len == strlen(truthy[i]) && strncasecmp(p, truthy[i], len) == 0) {
            *out = 1;
            return 0;
        }
        if (len == strlen(falsy[i]) && strncasecmp(p, falsy[i], len) == 0) {
            *out = 0;
            return 0;
        }
    }
    return ERR_INVALID;
}
