/*
 * Unit tests of crontab parsing and next/previous fire times (core/crontab.c): the default
 * beat schedules, steps, ranges, lists, names, Sunday as 7, the day-of-month/day-of-week OR
 * rule, six-field (seconds) schedules, month and year boundaries, leap days, impossible
 * dates, and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/iso8601.h"
#include "core/crontab.h"

static int64_t at(const char *iso)
{
    struct iso_time t;
    assert_int_equal(iso_parse(iso, strlen(iso), &t), 0);
    return t.utc_us / 1000000;
}

static void expect_next(const char *expr, const char *after, const char *want)
{
    struct crontab c;
    char err[128];
    if (crontab_parse(expr, &c, err, sizeof(err)) != 0)
        fail_msg("%s: %s", expr, err);
    int64_t got = crontab_next(&c, at(after));
    char buf[ISO_BUFSZ];
    iso_format_utc(got * 1000000LL, buf);
    if (got != at(want))
        fail_msg("next(%s, %s) = %s, want %s", expr, after, buf, want);
    /* prev of the answer is the answer; prev of one second before it is earlier. */
    assert_true(crontab_prev(&c, got) == got);
    assert_true(crontab_prev(&c, got - 1) < got);
    assert_true(crontab_next(&c, crontab_prev(&c, got - 1)) == got);
}

static void test_defaults(void **state)
{
    (void)state;
    expect_next("*/5 * * * *", "2026-11-29T00:00:00+00:00", "2026-11-29T00:05:00+00:00");
    expect_next("*/5 * * * *", "2026-11-29T00:04:59+00:00", "2026-11-29T00:05:00+00:00");
    expect_next("*/5 * * * *", "2026-11-29T23:58:00+00:00", "2026-11-30T00:00:00+00:00");
    expect_next("*/15 * * * *", "2026-12-31T23:50:00+00:00", "2027-01-01T00:00:00+00:00");
}

static void test_fields(void **state)
{
    (void)state;
    expect_next("30 2 * * *", "2026-01-01T02:30:00+00:00", "2026-01-02T02:30:00+00:00");
    expect_next("0 9-17/4 * * *", "2026-01-01T09:00:00+00:00", "2026-01-01T13:00:00+00:00");
    expect_next("0 9-17/4 * * *", "2026-01-01T17:00:00+00:00", "2026-01-02T09:00:00+00:00");
    expect_next("5,10,50 * * * *", "2026-01-01T00:10:00+00:00", "2026-01-01T00:50:00+00:00");
    expect_next("0 0 * feb mon", "2026-01-01T00:00:00+00:00", "2026-02-02T00:00:00+00:00");
    expect_next("0 0 * * 7", "2026-01-01T00:00:00+00:00", "2026-01-04T00:00:00+00:00");
    expect_next("0 0 * * sun", "2026-01-01T00:00:00+00:00", "2026-01-04T00:00:00+00:00");
    expect_next("0 0 * * 5-7", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00");
    /* Both day fields restricted: either matches (the 13th, or a Friday). */
    expect_next("0 0 13 * 5", "2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00");
    expect_next("0 0 13 * 5", "2026-01-10T00:00:00+00:00", "2026-01-13T00:00:00+00:00");
    /* Leap day. */
    expect_next("0 12 29 2 *", "2026-03-01T00:00:00+00:00", "2028-02-29T12:00:00+00:00");
    expect_next("@daily", "2026-06-30T12:00:00+00:00", "2026-07-01T00:00:00+00:00");
    expect_next("@hourly", "2026-06-30T12:00:00+00:00", "2026-06-30T13:00:00+00:00");
    expect_next("@yearly", "2026-06-30T12:00:00+00:00", "2027-01-01T00:00:00+00:00");
    expect_next("5/20 * * * *", "2026-01-01T00:06:00+00:00", "2026-01-01T00:25:00+00:00");
}

static void test_seconds(void **state)
{
    (void)state;
    expect_next("*/2 * * * * *", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:02+00:00");
    expect_next("*/2 * * * * *", "2026-01-01T00:00:59+00:00", "2026-01-01T00:01:00+00:00");
    expect_next("30 * * * * *", "2026-01-01T00:00:30+00:00", "2026-01-01T00:01:30+00:00");
}

static void test_impossible_and_errors(void **state)
{
    (void)state;
    struct crontab c;
    char err[128];
    assert_int_equal(crontab_parse("0 0 30 2 *", &c, err, sizeof(err)), 0);
    assert_true(crontab_next(&c, at("2026-01-01T00:00:00+00:00")) == -1);
    assert_true(crontab_prev(&c, at("2026-01-01T00:00:00+00:00")) == -1);
    const char *bad[] = {
        "",          "* * * *",     "* * * * * * *", "60 * * * *",   "* 24 * * *",
        "* * 0 * *", "* * * 13 *",  "* * * * 8",     "*/0 * * * *",  "1-  * * * *",
        "a * * * *", "5-1 * * * *", "@never",        "1,,2 * * * *", "* * * * * 60"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (crontab_parse(bad[i], &c, err, sizeof(err)) != ERR_INVALID)
            fail_msg("'%s' accepted", bad[i]);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(crontab_parse(NULL, &c, NULL, 0), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_impossible_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
