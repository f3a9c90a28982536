/*
 * A growable byte string (string builder). Always NUL-terminated after the first append.
 * Allocation failure aborts the process via base_oom(): callers need not check each append.
 */
#ifndef SMPLAT_BASE_SB_H
#define SMPLAT_BASE_SB_H

#include <stdarg.h>
#include <stddef.h>

struct sb {
    char *buf; /* NULL until the first append */
    size_t len;
    size_t cap;
};

/* clang-format off */
#define SB_INIT {NULL, 0, 0}
/* clang-format on */

void sb_init(struct sb *sb);
void sb_release(struct sb *sb); /* frees the buffer, leaves an empty builder */
void sb_reset(struct sb *sb);   /* len = 0, keeps the buffer */
void sb_append(struct sb *sb, const void *data, size_t len);
void sb_puts(struct sb *sb, const char *s);
void sb_putc(struct sb *sb, char c);
void sb_printf(struct sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct sb *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Returns the buffer (new, caller frees; "" when empty) and leaves the builder empty. */
char *sb_detach(struct sb *sb);
/* The current contents, "" when empty; borrowed. */
const char *sb_str(const struct sb *sb);

/* Called when memory runs out: logs and aborts. */
void base_oom(void) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);

#endif
