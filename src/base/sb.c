/*
 * The string builder and the checked allocation wrappers. Most of the tree assembles text
 * (JSON, SQL, log lines, HTTP bodies) piece by piece; doing that through one growable buffer
 * that aborts on allocation failure keeps callers free of per-append error checks. Running out
 * of memory is not something this service can recover from meaningfully, so it stops loudly.
 */
#include "base/sb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void base_oom(void)
{
    static const char msg[] = "fatal: out of memory\n";
    /* write(2) rather than stdio: stdio may itself need memory. */
    ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)r;
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        base_oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        base_oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        base_oom();
    return q;
}

char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void sb_init(struct sb *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void sb_release(struct sb *sb)
{
    if (!sb)
        return;
    free(sb->buf);
    sb_init(sb);
}

void sb_reset(struct sb *sb)
{
    sb->len = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

/* Makes room for extra more bytes plus the terminating NUL. Growth doubles so that a long
 * sequence of small appends stays linear overall. */
static void sb_grow(struct sb *sb, size_t extra)
{
    if (extra > SIZE_MAX - sb->len - 1)
        base_oom();
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    sb->buf = xrealloc(sb->buf, cap);
    sb->cap = cap;
}

void sb_append(struct sb *sb, const void *data, size_t len)
{
    sb_grow(sb, len);
    if (len)
        memcpy(sb->buf + sb->len, data, len);
    sb->len += len;
    sb->buf[sb->len] = '\0';
}

void sb_puts(struct sb *sb, const char *s)
{
    sb_append(sb, s, strlen(s));
}

void sb_putc(struct sb *sb, char c)
{
    sb_append(sb, &c, 1);
}

void sb_printf(struct sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

/* Formats straight into the spare capacity; if it does not fit, grows to the exact size that
 * vsnprintf reported and formats once more from a copy of the argument list. */
void sb_vprintf(struct sb *sb, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    sb_grow(sb, 0);
    size_t room = sb->cap - sb->len;
    int n = vsnprintf(sb->buf + sb->len, room, fmt, cp);
    va_end(cp);
    if (n < 0) {
        sb->buf[sb->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        sb_grow(sb, (size_t)n);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    }
    sb->len += (size_t)n;
}

char *sb_detach(struct sb *sb)
{
    char *p = sb->buf;
    if (!p)
        p = xstrdup("");
    sb_init(sb);
    return p;
}

const char *sb_str(const struct sb *sb)
{
    return sb->buf ? sb->buf : "";
}
