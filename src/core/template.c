/*
 * Template rendering of provider endpoint configurations (spec-replay §2.2), byte for byte
 * as the original Python engine rendered them. Provider configurations written for the
 * original must keep producing the same requests, so this file reimplements the few pieces
 * of Python it relied on: str.strip() with Python's idea of whitespace, str() of numbers and
 * booleans, repr() of lists, dicts and strings (the quirk of embedded placeholders), and
 * json.dumps with its default separators and ASCII escaping for request bodies.
 */
#include "core/template.h"

#include <stdint.h>
#include <string.h>

#include "base/pynum.h"
#include "core/pyjson.h"

/* Decodes one UTF-8 sequence at s[i..len). jansson only hands out valid UTF-8, but a lone
 * byte is still returned as itself so that a malformed string cannot loop or overrun. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    uint32_t c = s[*i];
    size_t n = 0;
    if (c < 0x80) {
        *i += 1;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 1;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3;
        c &= 0x07;
    } else {
        *i += 1;
        return c;
    }
    if (*i + n >= len) {
        *i += 1;
        return s[*i - 1];
    }
    for (size_t k = 1; k <= n; k++) {
        if ((s[*i + k] & 0xC0) != 0x80) {
            *i += 1;
            return s[*i - 1];
        }
        c = (c << 6) | (s[*i + k] & 0x3Fu);
    }
    *i += n + 1;
    return c;
}

/* Python's str.isspace(): the characters str.strip() removes. */
static int py_isspace(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Python's str.strip() on a UTF-8 byte range: narrows [*b, *e) to exclude leading and
 * trailing Unicode whitespace. */
static void py_strip(const char *s, size_t len, size_t *b, size_t *e)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        uint32_t c = utf8_next(u, len, &j);
        if (!py_isspace(c))
            break;
        i = j;
    }
    *b = i;
    /* Scan forward remembering the end of the last non-space character. */
    size_t end = i;
    while (i < len) {
        size_t j = i;
        uint32_t c = utf8_next(u, len, &j);
        if (!py_isspace(c))
            end = j;
        i = j;
    }
    *e = end;
}

void template_pystr(struct sb *out, const json_t *value)
{
    if (!value || json_is_null(value)) {
        /* The original substitutes "" for None rather than str(None). */
        sb_append(out, "", 0);
        return;
    }
    if (json_is_string(value)) {
        sb_append(out, json_string_value(value), json_string_length(value));
        return;
    }
    pyjson_repr_sb(out, value);
}

/* Python str.replace(needle, repl) on the text held in cur: non-overlapping occurrences,
 * left to right. Writes into out (reset first); returns 1 when something was replaced. */
static int str_replace_all(struct sb *out, const char *cur, size_t cur_len, const char *needle,
                           size_t nlen, const char *repl, size_t rlen)
{
    int replaced = 0;
    size_t i = 0;
    sb_reset(out);
    while (i < cur_len) {
        if (cur_len - i >= nlen && memcmp(cur + i, needle, nlen) == 0) {
            sb_append(out, repl, rlen);
            i += nlen;
            replaced = 1;
        } else {
            sb_putc(out, cur[i]);
            i++;
        }
    }
    sb_append(out, "", 0);
    return replaced;
}

/* Rule 1 and rule 2 of §2.2 for one string. The embedded mode replaces sequentially, one
 * context key after the other, exactly like the original's loop over context.items(): a
 * substituted value that itself contains {{other}} is replaced again by a later key. */
static json_t *render_string(const json_t *tmpl, const json_t *ctx)
{
    const char *s = json_string_value(tmpl);
    size_t len = json_string_length(tmpl);
    size_t b, e;
    py_strip(s, len, &b, &e);
    if (e - b >= 4 && memcmp(s + b, "{{", 2) == 0 && memcmp(s + e - 2, "}}", 2) == 0) {
        size_t kb, ke;
        py_strip(s + b + 2, e - b - 4, &kb, &ke);
        char *key = xstrndup(s + b + 2 + kb, ke - kb);
        const json_t *v = strlen(key) == ke - kb ? json_object_get(ctx, key) : NULL;
        free(key);
        if (v) {
            if (json_is_object(v) || json_is_array(v))
                return json_deep_copy(v);
            struct sb tmp = SB_INIT;
            template_pystr(&tmp, v);
            json_t *r = json_stringn(sb_str(&tmp), tmp.len);
            sb_release(&tmp);
            return r;
        }
    }

    struct sb a = SB_INIT, bsb = SB_INIT, needle = SB_INIT, repl = SB_INIT;
    sb_append(&a, s, len);
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)ctx, key, v) {
        sb_reset(&needle);
        sb_puts(&needle, "{{");
        sb_puts(&needle, key);
        sb_puts(&needle, "}}");
        if (a.len < needle.len || !memmem(a.buf, a.len, needle.buf, needle.len))
            continue;
        sb_reset(&repl);
        template_pystr(&repl, v);
        if (str_replace_all(&bsb, a.buf, a.len, needle.buf, needle.len, sb_str(&repl), repl.len)) {
            struct sb t = a;
            a = bsb;
            bsb = t;
        }
    }
    json_t *r = json_stringn(sb_str(&a), a.len);
    sb_release(&a);
    sb_release(&bsb);
    sb_release(&needle);
    sb_release(&repl);
    return r;
}

json_t *template_render(const json_t *tmpl, const json_t *ctx)
{
    if (!tmpl)
        return json_null();
    switch (json_typeof(tmpl)) {
    case JSON_STRING:
        return render_string(tmpl, ctx);
    case JSON_ARRAY: {
        json_t *arr = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (tmpl, i, v)
            json_array_append_new(arr, template_render(v, ctx));
        return arr;
    }
    case JSON_OBJECT: {
        json_t *obj = json_object();
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)tmpl, key, v) {
            json_object_set_new(obj, key, template_render(v, ctx));
        }
        return obj;
    }
    default:
        return json_deep_copy(tmpl);
    }
}
