/*
 * Python-compatible JSON text. The original service writes Redis entries and payloads with
 * json.dumps, and consumers (and conformance tests) compare bytes, so jansson's own dumper
 * (different separators, different float formatting, no ensure_ascii in Python's sense)
 * cannot be used. This file walks jansson values and writes what Python would: ", " and ": "
 * separators (or the compact pair), keys in insertion order, floats via repr(), and strings
 * escaped with Python's rules; and Python's repr() of the same values (dict, list, str, int,
 * float, bool, None), which templates and the CSV exporter need. Parsing is jansson's, with a
 * nesting limit on top because the network controls the input.
 */
#include "core/pyjson.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/pynum.h"
#include "base/sb.h"

/* Decodes one UTF-8 sequence at s[0..n); returns its length and the code point in *cp, or 0
 * when the bytes are not well-formed UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2;
        c &= 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        c &= 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* A string literal with the escapes of Python's encoder: the short forms for quote,
 * backslash and \b \f \n \r \t, \u00XX (lowercase) for the other control characters, and,
 * with ensure_ascii, \uXXXX for everything outside printable ASCII including DEL, as a
 * surrogate pair above the BMP. Without ensure_ascii, other bytes pass through unchanged.
 * Bytes that are not valid UTF-8 (jansson normally refuses them) become \ufffd. */
static void dump_string(struct sb *out, const char *str, size_t n, int ascii)
{
    const unsigned char *s = (const unsigned char *)str;
    sb_putc(out, '"');
    size_t i = 0;
    while (i < n) {
        /* The common case: a run of printable ASCII other than quote and backslash, copied
         * at once. */
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x7F && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            sb_append(out, s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = s[i];
        switch (c) {
        case '"':
            sb_puts(out, "\\\"");
            i++;
            continue;
        case '\\':
            sb_puts(out, "\\\\");
            i++;
            continue;
        case '\b':
            sb_puts(out, "\\b");
            i++;
            continue;
        case '\f':
            sb_puts(out, "\\f");
            i++;
            continue;
        case '\n':
            sb_puts(out, "\\n");
            i++;
            continue;
        case '\r':
            sb_puts(out, "\\r");
            i++;
            continue;
        case '\t':
            sb_puts(out, "\\t");
            i++;
            continue;
        default:
            break;
        }
        if (c < 0x20) {
            sb_printf(out, "\\u%04x", c);
            i++;
            continue;
        }
        if (c < 0x7F || (!ascii && c == 0x7F)) {
            sb_putc(out, (char)c);
            i++;
            continue;
        }
        if (!ascii) {
            /* Copy the whole run of non-special bytes at once. */
            size_t j = i;
            while (j < n && s[j] >= 0x20 && s[j] != '"' && s[j] != '\\')
                j++;
            sb_append(out, s + i, j - i);
            i = j;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0) {
            cp = 0xFFFD;
            len = 1;
        }
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            sb_printf(out, "\\u%04x\\u%04x", 0xD800 | (v >> 10), 0xDC00 | (v & 0x3FF));
        } else {
            sb_printf(out, "\\u%04x", cp);
        }
        i += len;
    }
    sb_putc(out, '"');
}

/* Recursive walk. depth guards against stack exhaustion on absurd nesting and against the
 * reference cycles jansson does not forbid (Python reports "Circular reference detected"). */
static int dump_value(struct sb *out, const json_t *v, int flags, int depth)
{
    const char *item_sep = (flags & PYJSON_COMPACT) ? "," : ", ";
    const char *key_sep = (flags & PYJSON_COMPACT) ? ":" : ": ";
    int ascii = (flags & PYJSON_ENSURE_ASCII) != 0;
    char num[PYNUM_BUFSZ];
    int rc;

    if (!v)
        return ERR_INVALID;
    if (depth > PYJSON_MAX_DUMP_DEPTH)
        return ERR_LIMIT;

    switch (json_typeof(v)) {
    case JSON_NULL:
        sb_puts(out, "null");
        return 0;
    case JSON_TRUE:
        sb_puts(out, "true");
        return 0;
    case JSON_FALSE:
        sb_puts(out, "false");
        return 0;
    case JSON_INTEGER: {
        /* What "%lld" prints, without the cost of printf. */
        long long iv = (long long)json_integer_value(v);
        unsigned long long u = iv < 0 ? 0ULL - (unsigned long long)iv : (unsigned long long)iv;
        char *p = num + sizeof(num);
        do {
            *--p = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u);
        if (iv < 0)
            *--p = '-';
        sb_append(out, p, (size_t)(num + sizeof(num) - p));
        return 0;
    }
    case JSON_REAL:
        sb_append(out, num, pynum_float_json(json_real_value(v), num));
        return 0;
    case JSON_STRING:
        dump_string(out, json_string_value(v), json_string_length(v), ascii);
        return 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        sb_putc(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                sb_puts(out, item_sep);
            rc = dump_value(out, json_array_get(v, i), flags, depth + 1);
            if (rc < 0)
                return rc;
        }
        sb_putc(out, ']');
        return 0;
    }
    case JSON_OBJECT: {
        /* jansson iterates objects in insertion order (its hashtable keeps an ordered
         * list), which is what Python's dict does. */
        int first = 1;
        sb_putc(out, '{');
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                sb_puts(out, item_sep);
            first = 0;
            dump_string(out, json_object_iter_key(it), json_object_iter_key_len(it), ascii);
            sb_puts(out, key_sep);
            rc = dump_value(out, json_object_iter_value(it), flags, depth + 1);
            if (rc < 0)
                return rc;
        }
        sb_putc(out, '}');
        return 0;
    }
    }
    return ERR_INVALID;
}

/* Py_UNICODE_ISPRINTABLE for non-ASCII code points: false for the categories Cc, Cf, Cs,
 * Co, Zl, Zp and Zs, and for noncharacters and the unassigned planes. Unassigned code points
 * inside assigned blocks are treated as printable (the full Unicode database is not worth
 * carrying for a repr() quirk). */
static int py_printable(uint32_t c)
{
    static const uint32_t ranges[][2] = {
        {0x80, 0xA0},       {0xAD, 0xAD},       {0x600, 0x605},      {0x61C, 0x61C},
        {0x6DD, 0x6DD},     {0x70F, 0x70F},     {0x890, 0x891},      {0x8E2, 0x8E2},
        {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},    {0x2028, 0x202F},
        {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},    {0xD800, 0xF8FF},
        {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},    {0x110BD, 0x110BD},
        {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},  {0x1D173, 0x1D17A},
        {0x40000, 0xDFFFF}, {0xE0000, 0xE00FF}, {0xE01F0, 0x10FFFF},
    };
    if ((c & 0xFFFE) == 0xFFFE)
        return 0;
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return 0;
    }
    return 1;
}

/* repr(str): single quotes unless the text holds a single quote and no double quote;
 * backslash, the chosen quote, \t \n \r escaped; other controls and non-printable code
 * points as \xNN, \uNNNN or \UNNNNNNNN; printable non-ASCII kept as UTF-8. */
static void repr_string(struct sb *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    char quote = memchr(str, '\'', n) && !memchr(str, '"', n) ? '"' : '\'';
    sb_putc(out, quote);
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0) { /* not UTF-8 (jansson never hands such text out): the byte itself */
            cp = s[i];
            len = 1;
        }
        if (cp == (uint32_t)quote || cp == '\\') {
            sb_putc(out, '\\');
            sb_putc(out, (char)cp);
        } else if (cp == '\t') {
            sb_puts(out, "\\t");
        } else if (cp == '\n') {
            sb_puts(out, "\\n");
        } else if (cp == '\r') {
            sb_puts(out, "\\r");
        } else if (cp < 0x20 || cp == 0x7F) {
            sb_printf(out, "\\x%02x", (unsigned)cp);
        } else if (cp < 0x7F || (len > 1 && py_printable(cp))) {
            sb_append(out, s + i, len);
        } else if (cp <= 0xFF) {
            sb_printf(out, "\\x%02x", (unsigned)cp);
        } else if (cp <= 0xFFFF) {
            sb_printf(out, "\\u%04x", (unsigned)cp);
        } else {
            sb_printf(out, "\\U%08x", (unsigned)cp);
        }
        i += len;
    }
    sb_putc(out, quote);
}

static int repr_value(struct sb *out, const json_t *v, int depth)
{
    char num[PYNUM_BUFSZ];
    int rc;

    if (!v)
        return ERR_INVALID;
    if (depth > PYJSON_MAX_DUMP_DEPTH)
        return ERR_LIMIT;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *x;
        int first = 1;
        sb_putc(out, '{');
        json_object_foreach ((json_t *)v, key, x) {
            if (!first)
                sb_puts(out, ", ");
            first = 0;
            repr_string(out, key, strlen(key));
            sb_puts(out, ": ");
            if ((rc = repr_value(out, x, depth + 1)) != 0)
                return rc;
        }
        sb_putc(out, '}');
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        sb_putc(out, '[');
        json_array_foreach (v, i, x) {
            if (i > 0)
                sb_puts(out, ", ");
            if ((rc = repr_value(out, x, depth + 1)) != 0)
                return rc;
        }
        sb_putc(out, ']');
        return 0;
    }
    case JSON_STRING:
        repr_string(out, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        sb_append(out, num, pynum_int((int64_t)json_integer_value(v), num));
        return 0;
    case JSON_REAL:
        sb_append(out, num, pynum_float(json_real_value(v), num));
        return 0;
    case JSON_TRUE:
        sb_puts(out, "True");
        return 0;
    case JSON_FALSE:
        sb_puts(out, "False");
        return 0;
    case JSON_NULL:
        sb_puts(out, "None");
        return 0;
    }
    return ERR_INVALID;
}

int pyjson_repr_sb(struct sb *out, const json_t *v)
{
    return repr_value(out, v, 0);
}

int pyjson_dump_sb(struct sb *out, const json_t *v, int flags)
{
    return dump_value(out, v, flags, 0);
}

char *pyjson_dumps(const json_t *v, int flags)
{
    struct sb out = SB_INIT;
    if (pyjson_dump_sb(&out, v, flags) < 0) {
        sb_release(&out);
        return NULL;
    }
    return sb_detach(&out);
}

/* Nesting depth of v: 0 for scalars, 1 + the deepest child for arrays and objects. Stops
 * descending once limit is exceeded, so the walk is bounded by the limit, not the input. */
static size_t depth_of(const json_t *v, size_t limit)
{
    size_t best = 0, d;
    if (json_is_array(v)) {
        if (limit == 0)
            return 1;
        for (size_t i = 0; i < json_array_size(v); i++) {
            d = depth_of(json_array_get(v, i), limit - 1);
            if (d > best)
                best = d;
            if (best > limit - 1)
                break;
        }
        return best + 1;
    }
    if (json_is_object(v)) {
        if (limit == 0)
            return 1;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            d = depth_of(json_object_iter_value(it), limit - 1);
            if (d > best)
                best = d;
            if (best > limit - 1)
                break;
        }
        return best + 1;
    }
    return 0;
}

json_t *pyjson_loads(const char *text, size_t len, size_t max_depth, char *err, size_t errlen)
{
    json_error_t jerr;
    if (!text) {
        if (errlen)
            snprintf(err, errlen, "no JSON text");
        return NULL;
    }
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!v) {
        if (errlen)
            snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                     jerr.text);
        return NULL;
    }
    if (depth_of(v, max_depth) > max_depth) {
        if (errlen)
            snprintf(err, errlen, "JSON nested deeper than %zu levels", max_depth);
        json_decref(v);
        return NULL;
    }
    return v;
}
