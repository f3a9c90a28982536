/*
 * Unit tests of checked number and boolean parsing: limits and overflow, trailing junk,
 * whitespace, signs, Python float() spellings, and every accepted boolean spelling.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/num.h"

static void test_i64(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(num_parse_i64("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(num_parse_i64("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(num_parse_i64("-42", &v), 0);
    assert_int_equal(v, -42);
    assert_int_equal(num_parse_i64("+17", &v), 0);
    assert_int_equal(v, 17);
    assert_int_equal(num_parse_i64("  \t99\n ", &v), 0);
    assert_int_equal(v, 99);
    assert_int_equal(num_parse_i64("007", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(num_parse_i64("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(num_parse_i64("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);

    v = 5;
    assert_int_equal(num_parse_i64("9223372036854775808", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("-9223372036854775809", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("99999999999999999999", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("   ", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("-", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("+", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("10x", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("x10", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("1 0", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("1.0", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("0x10", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64("--1", &v), ERR_INVALID);
    assert_int_equal(num_parse_i64(NULL, &v), ERR_INVALID);
    assert_int_equal(v, 5);
}

static void test_int(void **state)
{
    (void)state;
    int v = 3;
    assert_int_equal(num_parse_int("2147483647", &v), 0);
    assert_int_equal(v, INT_MAX);
    assert_int_equal(num_parse_int("-2147483648", &v), 0);
    assert_int_equal(v, INT_MIN);
    assert_int_equal(num_parse_int(" 25 ", &v), 0);
    assert_int_equal(v, 25);
    assert_int_equal(num_parse_int("2147483648", &v), ERR_INVALID);
    assert_int_equal(num_parse_int("-2147483649", &v), ERR_INVALID);
    assert_int_equal(num_parse_int("12abc", &v), ERR_INVALID);
    assert_int_equal(v, 25);
}

static void test_double(void **state)
{
    (void)state;
    double d = 0;
    assert_int_equal(num_parse_double("1", &d), 0);
    assert_true(d == 1.0);
    assert_int_equal(num_parse_double("1.5", &d), 0);
    assert_true(d == 1.5);
    assert_int_equal(num_parse_double(" -2.25 ", &d), 0);
    assert_true(d == -2.25);
    assert_int_equal(num_parse_double("1e3", &d), 0);
    assert_true(d == 1000.0);
    assert_int_equal(num_parse_double("1E-2", &d), 0);
    assert_true(d == 0.01);
    assert_int_equal(num_parse_double(".5", &d), 0);
    assert_true(d == 0.5);
    assert_int_equal(num_parse_double("5.", &d), 0);
    assert_true(d == 5.0);
    assert_int_equal(num_parse_double("1_000.5", &d), 0);
    assert_true(d == 1000.5);
    assert_int_equal(num_parse_double("inf", &d), 0);
    assert_true(isinf(d) && d > 0);
    assert_int_equal(num_parse_double("-Infinity", &d), 0);
    assert_true(isinf(d) && d < 0);
    assert_int_equal(num_parse_double("+INF", &d), 0);
    assert_true(isinf(d) && d > 0);
    assert_int_equal(num_parse_double("nan", &d), 0);
    assert_true(isnan(d));
    assert_int_equal(num_parse_double("NaN", &d), 0);
    assert_true(isnan(d));
    assert_int_equal(num_parse_double("1e400", &d), 0);
    assert_true(isinf(d));

    d = 9.0;
    assert_int_equal(num_parse_double("", &d), ERR_INVALID);
    assert_int_equal(num_parse_double(" ", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("1.5x", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("0x10", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("nan(1)", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("infin", &d), ERR_INVALID);
    assert_int_equal(num_parse_double(".", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("e5", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("1e", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("1e+", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("1__0", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("_1", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("1_", &d), ERR_INVALID);
    assert_int_equal(num_parse_double("1 2", &d), ERR_INVALID);
    assert_int_equal(num_parse_double(NULL, &d), ERR_INVALID);
    assert_true(d == 9.0);
}

static void test_bool(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "True", "1",  "yes",     "YES",
                                      "Yes",  "on",   "ON",   "On", " true\n", "tRuE"};
    static const char *const no[] = {"false", "FALSE", "False", "0",   "no",      "NO",
                                     "No",    "off",   "OFF",   "Off", "\tfalse "};
    static const char *const bad[] = {"", " ", "2", "y", "n", "t", "f", "truee", "of", "-1", "01"};
    int v;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        v = -1;
        assert_int_equal(num_parse_bool(yes[i], &v), 0);
        assert_int_equal(v, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
        v = -1;
        assert_int_equal(num_parse_bool(no[i], &v), 0);
        assert_int_equal(v, 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = -1;
        assert_int_equal(num_parse_bool(bad[i], &v), ERR_INVALID);
        assert_int_equal(v, -1);
    }
    assert_int_equal(num_parse_bool(NULL, &v), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i64),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
