/*
 * Unit tests of Python float/int rendering: every example the spec names, both sides of the
 * positional/exponent boundaries (1e16 vs 9999999999999998.0, 0.0001 vs 1e-05), negatives,
 * extremes, non-finite values in both the repr and the JSON spelling, and a round-trip sweep.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/pynum.h"

static void check(double v, const char *want)
{
    char buf[PYNUM_BUFSZ];
    size_t n = pynum_float(v, buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_spec_examples(void **state)
{
    (void)state;
    check(150.0, "150.0");
    check(12.5, "12.5");
    check(1e16, "1e+16");
    check(1e-5, "1e-05");
    check(0.1 + 0.2, "0.30000000000000004");
    check(150.00, "150.0");
}

static void test_boundaries(void **state)
{
    (void)state;
    check(9999999999999998.0, "9999999999999998.0");
    check(1e15, "1000000000000000.0");
    check(1234567890123456.7, "1234567890123456.8");
    check(123456789012345.0, "123456789012345.0");
    check(0.0001, "0.0001");
    check(0.00012345, "0.00012345");
    check(0.000099, "9.9e-05");
    check(1.5e-7, "1.5e-07");
    check(1e22, "1e+22");
    check(1.5e300, "1.5e+300");
    check(5e-324, "5e-324");
    check(1.7976931348623157e308, "1.7976931348623157e+308");
    check(2.2250738585072014e-308, "2.2250738585072014e-308");
}

static void test_small_values(void **state)
{
    (void)state;
    check(0.0, "0.0");
    check(-0.0, "-0.0");
    check(1.0, "1.0");
    check(0.1, "0.1");
    check(0.5, "0.5");
    check(100.0, "100.0");
    check(3.14159, "3.14159");
    check(2.0 / 3.0, "0.6666666666666666");
}

static void test_negative(void **state)
{
    (void)state;
    check(-150.0, "-150.0");
    check(-12.5, "-12.5");
    check(-1e16, "-1e+16");
    check(-1e-5, "-1e-05");
    check(-1.5e-7, "-1.5e-07");
    check(-0.0001, "-0.0001");
    check(-1.7976931348623157e308, "-1.7976931348623157e+308");
}

static void test_nonfinite(void **state)
{
    (void)state;
    char buf[PYNUM_BUFSZ];
    check(INFINITY, "inf");
    check(-INFINITY, "-inf");
    check(NAN, "nan");
    pynum_float_json(INFINITY, buf);
    assert_string_equal(buf, "Infinity");
    pynum_float_json(-INFINITY, buf);
    assert_string_equal(buf, "-Infinity");
    pynum_float_json(NAN, buf);
    assert_string_equal(buf, "NaN");
    pynum_float_json(150.0, buf);
    assert_string_equal(buf, "150.0");
    pynum_float_json(1e-5, buf);
    assert_string_equal(buf, "1e-05");
}

static void test_ints(void **state)
{
    (void)state;
    char buf[PYNUM_BUFSZ];
    assert_int_equal(pynum_int(150, buf), 3);
    assert_string_equal(buf, "150");
    pynum_int(0, buf);
    assert_string_equal(buf, "0");
    pynum_int(-42, buf);
    assert_string_equal(buf, "-42");
    pynum_int(INT64_MAX, buf);
    assert_string_equal(buf, "9223372036854775807");
    pynum_int(INT64_MIN, buf);
    assert_string_equal(buf, "-9223372036854775808");
}

/* Every rendering must read back as the same double; pseudo-random bit patterns cover the
 * whole exponent range. */
static void test_round_trip_sweep(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15u;
    char buf[PYNUM_BUFSZ];
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        size_t n = pynum_float(v, buf);
        assert_true(n < PYNUM_BUFSZ);
        assert_true(strtod(buf, NULL) == v);
        assert_true(strchr(buf, '.') || strchr(buf, 'e'));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),    cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_small_values),     cmocka_unit_test(test_negative),
        cmocka_unit_test(test_nonfinite),        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_round_trip_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
