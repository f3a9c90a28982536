/*
 * Unit tests of the string builder and the x-allocation wrappers: appends of every kind,
 * growth across many appends, printf formatting larger than the initial capacity, detach
 * and reset semantics, and the NULL conventions of xstrdup/xstrndup. Also error_name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/sb.h"

static void test_empty(void **state)
{
    (void)state;
    struct sb sb = SB_INIT;
    assert_string_equal(sb_str(&sb), "");
    assert_int_equal(sb.len, 0);
    char *s = sb_detach(&sb);
    assert_string_equal(s, "");
    free(s);
    sb_release(&sb);
    sb_release(NULL);
}

static void test_appends(void **state)
{
    (void)state;
    struct sb sb;
    sb_init(&sb);
    sb_puts(&sb, "abc");
    sb_putc(&sb, '-');
    sb_append(&sb, "xyz123", 3);
    sb_printf(&sb, "[%d:%s]", 42, "q");
    assert_string_equal(sb_str(&sb), "abc-xyz[42:q]");
    assert_int_equal(sb.len, 13);
    sb_reset(&sb);
    assert_string_equal(sb_str(&sb), "");
    assert_int_equal(sb.len, 0);
    sb_puts(&sb, "again");
    assert_string_equal(sb_str(&sb), "again");
    sb_release(&sb);
    assert_null(sb.buf);
}

static void test_growth(void **state)
{
    (void)state;
    struct sb sb = SB_INIT;
    for (int i = 0; i < 10000; i++)
        sb_putc(&sb, (char)('a' + i % 26));
    assert_int_equal(sb.len, 10000);
    assert_true(sb.cap > sb.len);
    assert_int_equal(sb.buf[10000], '\0');
    assert_int_equal(sb.buf[26], 'a');
    assert_int_equal(sb.buf[9999], 'a' + 9999 % 26);
    sb_release(&sb);
}

static void test_printf_large(void **state)
{
    (void)state;
    struct sb sb = SB_INIT;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sb_puts(&sb, "<");
    sb_printf(&sb, "%s|%s", big, big);
    sb_puts(&sb, ">");
    assert_int_equal(sb.len, 1 + 999 + 1 + 999 + 1);
    assert_int_equal(sb_str(&sb)[0], '<');
    assert_int_equal(sb_str(&sb)[1000], '|');
    assert_int_equal(sb_str(&sb)[2000], '>');
    char *s = sb_detach(&sb);
    assert_int_equal(strlen(s), 2001);
    assert_null(sb.buf);
    assert_int_equal(sb.len, 0);
    free(s);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    struct sb sb = SB_INIT;
    sb_append(&sb, "a\0b", 3);
    assert_int_equal(sb.len, 3);
    assert_memory_equal(sb.buf, "a\0b\0", 4);
    sb_release(&sb);
}

static void test_xalloc(void **state)
{
    (void)state;
    assert_null(xstrdup(NULL));
    assert_null(xstrndup(NULL, 3));
    char *a = xstrdup("hello");
    assert_string_equal(a, "hello");
    char *b = xstrndup("hello", 3);
    assert_string_equal(b, "hel");
    char *c = xstrndup("hi", 10);
    assert_string_equal(c, "hi");
    int *z = xcalloc(4, sizeof *z);
    assert_int_equal(z[0] | z[1] | z[2] | z[3], 0);
    z = xrealloc(z, 100 * sizeof *z);
    assert_int_equal(z[3], 0);
    void *m = xmalloc(0);
    assert_non_null(m);
    free(a);
    free(b);
    free(c);
    free(z);
    free(m);
}

static void test_error_name(void **state)
{
    (void)state;
    assert_string_equal(error_name(ERR_NOT_FOUND), "not found");
    assert_string_equal(error_name(ERR_NOMEM), "out of memory");
    assert_string_equal(error_name(ERR_LIMIT), "limit exceeded");
    assert_string_equal(error_name(0), "ok");
    assert_string_equal(error_name(-1000), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),        cmocka_unit_test(test_appends),
        cmocka_unit_test(test_growth),       cmocka_unit_test(test_printf_large),
        cmocka_unit_test(test_embedded_nul), cmocka_unit_test(test_xalloc),
        cmocka_unit_test(test_error_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
