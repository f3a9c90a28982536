/*
 * Python's repr() of numbers. Provider requests and stored payloads must carry the original
 * service's bytes, and the original turns floats into text with repr(): the shortest digit
 * string that reads back to the same double, laid out positionally unless the decimal
 * exponent is below -4 or at least 16 (float_repr_style 'short'). C's printf has no such
 * mode, so the shortest digits are found by trying each precision in turn and checking the
 * round trip, and the layout is then done by hand.
 */
#include "base/pynum.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest significant digits of a finite, positive v: writes them (without a decimal point)
 * to digits and returns their count; *exp10 receives the decimal exponent of the first digit
 * (v = d.ddd * 10^exp10). Precision 17 always round-trips, so the loop ends. */
static size_t shortest_digits(double v, char digits[20], int *exp10)
{
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v || prec == 17)
            break;
    }
    /* buf is "d.ddde[+-]xx" or "de[+-]xx". */
    size_t n = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    }
    *exp10 = (int)strtol(p + 1, NULL, 10);
    /* "%.*e" may leave trailing zeros only when prec was forced; repr never shows them. */
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    return n;
}

/* Lays out a finite value as repr() does; nonfinite ones are the callers' concern. */
static size_t format_finite(double v, char out[PYNUM_BUFSZ])
{
    char digits[20];
    int e = 0;
    size_t pos = 0;

    if (signbit(v)) {
        out[pos++] = '-';
        v = -v;
    }
    if (v == 0.0) {
        memcpy(out + pos, "0.0", 4);
        return pos + 3;
    }
    size_t n = shortest_digits(v, digits, &e);

    if (e < -4 || e >= 16) {
        out[pos++] = digits[0];
        if (n > 1) {
            out[pos++] = '.';
            memcpy(out + pos, digits + 1, n - 1);
            pos += n - 1;
        }
        int w = snprintf(out + pos, PYNUM_BUFSZ - pos, "e%c%02d", e < 0 ? '-' : '+', abs(e));
        return pos + (size_t)w;
    }
    if (e < 0) {
        out[pos++] = '0';
        out[pos++] = '.';
        for (int i = -1; i > e; i--)
            out[pos++] = '0';
        memcpy(out + pos, digits, n);
        pos += n;
    } else {
        size_t intlen = (size_t)e + 1;
        for (size_t i = 0; i < intlen; i++)
            out[pos++] = i < n ? digits[i] : '0';
        out[pos++] = '.';
        if (n > intlen) {
            memcpy(out + pos, digits + intlen, n - intlen);
            pos += n - intlen;
        } else {
            out[pos++] = '0';
        }
    }
    out[pos] = '\0';
    return pos;
}

static size_t put(char out[PYNUM_BUFSZ], const char *s)
{
    size_t n = strlen(s);
    memcpy(out, s, n + 1);
    return n;
}

size_t pynum_float(double v, char out[PYNUM_BUFSZ])
{
    if (isnan(v))
        return put(out, "nan");
    if (isinf(v))
        return put(out, v < 0 ? "-inf" : "inf");
    return format_finite(v, out);
}

size_t pynum_float_json(double v, char out[PYNUM_BUFSZ])
{
    if (isnan(v))
        return put(out, "NaN");
    if (isinf(v))
        return put(out, v < 0 ? "-Infinity" : "Infinity");
    return format_finite(v, out);
}

size_t pynum_int(int64_t v, char out[PYNUM_BUFSZ])
{
    int n = snprintf(out, PYNUM_BUFSZ, "%" PRId64, v);
    return n > 0 ? (size_t)n : 0;
}
