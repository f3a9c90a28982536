/*
 * Unit tests of ISO-8601 parsing and rendering against Python 3.12's fromisoformat and
 * isoformat (expected strings were produced by CPython) and pydantic's 'Z' form: offsets,
 * 'Z', naive values, reduced and basic forms, fractions of every length, separators, week
 * dates, and the invalid inputs the original rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/iso8601.h"

/* Parses s and checks the isoformat() rendering of the result. */
static void roundtrip(const char *s, const char *want)
{
    struct iso_time t;
    char buf[ISO_BUFSZ];
    int rc = iso_parse(s, strlen(s), &t);
    if (rc != 0)
        fail_msg("iso_parse(\"%s\") failed", s);
    size_t n = iso_format(&t, buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void invalid(const char *s)
{
    struct iso_time t;
    if (iso_parse(s, strlen(s), &t) != ERR_INVALID)
        fail_msg("iso_parse(\"%s\") accepted", s);
}

static void test_aware_utc(void **state)
{
    (void)state;
    struct iso_time t;
    const char *s = "2025-01-01T00:00:00+00:00";
    assert_int_equal(iso_parse(s, strlen(s), &t), 0);
    assert_int_equal(t.utc_us, INT64_C(1735689600) * 1000000);
    assert_int_equal(t.has_offset, 1);
    assert_int_equal(t.offset_sec, 0);
    roundtrip(s, "2025-01-01T00:00:00+00:00");
    roundtrip("2025-03-01T12:00:00.123456+00:00", "2025-03-01T12:00:00.123456+00:00");
}

static void test_offsets(void **state)
{
    (void)state;
    struct iso_time t;
    const char *s = "2025-01-01T10:00:00+02:00";
    assert_int_equal(iso_parse(s, strlen(s), &t), 0);
    assert_int_equal(t.offset_sec, 7200);
    assert_int_equal(t.utc_us, (INT64_C(1735689600) + 8 * 3600) * 1000000);
    roundtrip(s, "2025-01-01T10:00:00+02:00");
    roundtrip("2025-01-01T10:00:00-05:30", "2025-01-01T10:00:00-05:30");
    roundtrip("2025-01-01T10:00+0200", "2025-01-01T10:00:00+02:00");
    roundtrip("2025-01-01T10:00+02", "2025-01-01T10:00:00+02:00");
    roundtrip("2025-01-01T10:00:00-00:00", "2025-01-01T10:00:00+00:00");
    roundtrip("2025-01-01T10:00:00+02:00:30", "2025-01-01T10:00:00+02:00:30");
    /* A fraction on a zero offset is dropped (CPython makes plain UTC); on any other offset
     * it is refused here, although Python would keep it. */
    roundtrip("2025-01-01T10:00+00:00,9", "2025-01-01T10:00:00+00:00");
    invalid("2025-01-01T10:00+01:00.9");
    roundtrip("2025-01-01T10:00:00+02:60", "2025-01-01T10:00:00+03:00");
    roundtrip("2025-01-01T10+02", "2025-01-01T10:00:00+02:00");
    roundtrip("9999-12-31T23:59:59.999999-23:59", "9999-12-31T23:59:59.999999-23:59");
    invalid("2025-01-01T10:00+24:00");
    invalid("2025-01-01T10:00:00+99:00");
    invalid("2025-01-01T10:00:00+1");
    invalid("2025-01-01T10:00:00+020");
    invalid("2025-01-01T10:00:00+02:0");
    invalid("2025-01-01T10:00:00+");
    invalid("2025-01-01T10:00:00-");
    invalid("2025-01-01T10:00:00+-02:00");
    invalid("2025-01-01T10:00:00+00:00+00:00");
}

static void test_z(void **state)
{
    (void)state;
    struct iso_time t;
    const char *s = "2025-01-01T00:00:00Z";
    assert_int_equal(iso_parse(s, strlen(s), &t), 0);
    assert_int_equal(t.has_offset, 1);
    assert_int_equal(t.offset_sec, 0);
    assert_int_equal(t.utc_us, INT64_C(1735689600) * 1000000);
    roundtrip("2025-01-01T00:00:00.5Z", "2025-01-01T00:00:00.500000+00:00");
    roundtrip("2025-01-01T10Z", "2025-01-01T10:00:00+00:00");
    invalid("2025-01-01T10:00:00ZZ");
    invalid("2025-01-01T10:00:00+00:00Z");
}

static void test_naive_and_reduced(void **state)
{
    (void)state;
    struct iso_time t;
    const char *s = "2025-01-01T10:00:00";
    assert_int_equal(iso_parse(s, strlen(s), &t), 0);
    assert_int_equal(t.has_offset, 0);
    assert_int_equal(t.offset_sec, 0);
    assert_int_equal(t.utc_us, (INT64_C(1735689600) + 10 * 3600) * 1000000);
    roundtrip(s, "2025-01-01T10:00:00");
    roundtrip("2025-01-01", "2025-01-01T00:00:00");
    roundtrip("20250101", "2025-01-01T00:00:00");
    roundtrip("2025-01-01T10", "2025-01-01T10:00:00");
    roundtrip("2025-01-01T10:30", "2025-01-01T10:30:00");
    roundtrip("20250101T100000", "2025-01-01T10:00:00");
    roundtrip("2025-01-01T1000", "2025-01-01T10:00:00");
    roundtrip("2025-01-01 10:00", "2025-01-01T10:00:00");
    roundtrip("2025-01-01X10:00", "2025-01-01T10:00:00");
    roundtrip("2025-01-01\xc3\xa9"
              "10:00",
              "2025-01-01T10:00:00");
    roundtrip("2025-01-01\xf0\x9f\x98\x80"
              "10:00",
              "2025-01-01T10:00:00");
    roundtrip("  2025-01-01T10:00:00+02:00 \n", "2025-01-01T10:00:00+02:00");
    roundtrip("2024-02-29", "2024-02-29T00:00:00");
    roundtrip("0001-01-01", "0001-01-01T00:00:00");
    roundtrip("1969-12-31T23:59:59.999999", "1969-12-31T23:59:59.999999");
}

static void test_fractions(void **state)
{
    (void)state;
    roundtrip("2025-01-01T10:00:00.1", "2025-01-01T10:00:00.100000");
    roundtrip("2025-01-01T10:00:00.12", "2025-01-01T10:00:00.120000");
    roundtrip("2025-01-01T10:00:00.123", "2025-01-01T10:00:00.123000");
    roundtrip("2025-01-01T10:00:00.1234", "2025-01-01T10:00:00.123400");
    roundtrip("2025-01-01T10:00:00.12345", "2025-01-01T10:00:00.123450");
    roundtrip("2025-01-01T10:00:00.123456", "2025-01-01T10:00:00.123456");
    roundtrip("2025-01-01T10:00:00.1234567", "2025-01-01T10:00:00.123456");
    roundtrip("2025-01-01T10:00:00.12345678", "2025-01-01T10:00:00.123456");
    roundtrip("2025-01-01T10:00:00.123456789", "2025-01-01T10:00:00.123456");
    roundtrip("2025-01-01T10:00:59.9999999", "2025-01-01T10:00:59.999999");
    roundtrip("2025-01-01T10:00:00.000000", "2025-01-01T10:00:00");
    roundtrip("2025-01-01T10:00:00,123", "2025-01-01T10:00:00.123000");
    roundtrip("2025-01-01T10:00:00.1234567891+02:00", "2025-01-01T10:00:00.123456+02:00");
    roundtrip("2025-01-01T10:00:00.5+02", "2025-01-01T10:00:00.500000+02:00");
    roundtrip("2025-01-01T10.5", "2025-01-01T10:00:00.500000");
    roundtrip("2025-01-01T10:00,5", "2025-01-01T10:00:00.500000");
    roundtrip("2025-01-01T10:00:00:5", "2025-01-01T10:00:00.500000");
    /* CPython quirk: an empty fraction is accepted when an offset follows. */
    roundtrip("2025-01-01T10:00:00.+02:00", "2025-01-01T10:00:00+02:00");
    invalid("2025-01-01T10:00:00.");
    invalid("2025-01-01T10:00:00,");
    invalid("2025-01-01T10:00:00.123abc");
    invalid("2025-01-01T10:00:00.5:");
}

static void test_week_dates(void **state)
{
    (void)state;
    roundtrip("2025-W01-1", "2024-12-30T00:00:00");
    roundtrip("2025W01", "2024-12-30T00:00:00");
    roundtrip("2025W011", "2024-12-30T00:00:00");
    roundtrip("2025-W01T10", "2024-12-30T10:00:00");
    roundtrip("2026-W53", "2026-12-28T00:00:00");
    roundtrip("2020-W53-7", "2021-01-03T00:00:00");
    invalid("2025-W53");
    invalid("2025-W00");
    invalid("2025-W01-8");
    invalid("9999-W52-6");
}

static void test_invalid(void **state)
{
    (void)state;
    struct iso_time t;
    assert_int_equal(iso_parse("", 0, &t), ERR_INVALID);
    assert_int_equal(iso_parse(NULL, 0, &t), ERR_INVALID);
    invalid("   ");
    invalid("garbage");
    invalid("2025-13-01");
    invalid("2025-00-01");
    invalid("2025-02-30");
    invalid("2025-02-29");
    invalid("2025-01-32");
    invalid("0000-01-01");
    invalid("2025-01-01T25:00");
    invalid("2025-01-01T24:00");
    invalid("2025-01-01T10:60");
    invalid("2025-01-01T10:00:60");
    invalid("2025-01-01T");
    invalid("2025-01-0");
    invalid("2025-1-01");
    invalid("2025-0101");
    invalid("202501-01");
    invalid("2025-001");
    invalid("2025-01-01T1");
    invalid("2025-01-01T100");
    invalid("2025-01-01T10:0");
    invalid("2025-01-01T10:00:0");
    invalid("2025-01-01T10:0000");
    invalid("2025-01-01T1000005");
    invalid("2025-01-01TT10");
    invalid("2025-01-01T10:00:00 x");
    invalid("2025-01-01\xc3\xa9\xc3\xa9"
            "10:00");
    invalid("2025-01-01\xc3\xa9");
    /* Length is honoured: the first 7 bytes alone are too short. */
    assert_int_equal(iso_parse("2025-01-01", 7, &t), ERR_INVALID);
    assert_int_equal(iso_parse("2025-01-01XYZ", 10, &t), 0);
}

static void test_format_utc(void **state)
{
    (void)state;
    char buf[ISO_BUFSZ];
    int64_t base = INT64_C(1735689600) * 1000000;
    assert_int_equal(iso_format_utc(base, buf), 25);
    assert_string_equal(buf, "2025-01-01T00:00:00+00:00");
    iso_format_utc(base + 123456, buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.123456+00:00");
    iso_format_utc(base + 5, buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.000005+00:00");
    iso_format_utc(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00+00:00");
    iso_format_utc(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999+00:00");
    struct iso_time t = {base, 1, -(5 * 3600 + 30 * 60)};
    iso_format(&t, buf);
    assert_string_equal(buf, "2024-12-31T18:30:00-05:30");
}

static void test_format_z(void **state)
{
    (void)state;
    char buf[ISO_BUFSZ];
    int64_t base = INT64_C(1735689600) * 1000000;
    assert_int_equal(iso_format_z(base, buf), 20);
    assert_string_equal(buf, "2025-01-01T00:00:00Z");
    iso_format_z(base + 500000, buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.5Z");
    iso_format_z(base + 123450, buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.12345Z");
    iso_format_z(base + 123456, buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.123456Z");
    iso_format_z(base + 1000, buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.001Z");
    struct iso_time t;
    const char *s = "2025-01-01T02:00:00.5+02:00";
    assert_int_equal(iso_parse(s, strlen(s), &t), 0);
    iso_format_z(t.utc_us, buf);
    assert_string_equal(buf, "2025-01-01T00:00:00.5Z");
}

static void test_now(void **state)
{
    (void)state;
    int64_t a = time_now_us();
    int64_t b = time_now_us();
    /* After 2024-01-01 and before 2200-01-01, and monotone enough across two calls. */
    assert_true(a > INT64_C(1704067200) * 1000000);
    assert_true(a < INT64_C(7258118400) * 1000000);
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aware_utc), cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_z),         cmocka_unit_test(test_naive_and_reduced),
        cmocka_unit_test(test_fractions), cmocka_unit_test(test_week_dates),
        cmocka_unit_test(test_invalid),   cmocka_unit_test(test_format_utc),
        cmocka_unit_test(test_format_z),  cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
