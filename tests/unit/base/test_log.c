/*
 * Unit tests of the log line formats. stderr is pointed at a temporary file for the test so
 * the exact bytes can be checked: text lines with a millisecond 'Z' timestamp, JSON lines
 * with the fields spliced in, escaping, and the level filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

static char captured[4096];

/* Runs fn with stderr redirected to a temporary file and leaves the output in captured. */
static void capture(void (*fn)(void))
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(captured, 1, sizeof captured - 1, tmp);
    captured[n] = '\0';
    fclose(tmp);
}

/* "2026-01-01T00:00:00.123Z": 24 characters of a fixed shape. */
static void assert_stamp(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd')
            assert_true(s[i] >= '0' && s[i] <= '9');
        else
            assert_int_equal(s[i], shape[i]);
    }
}

static void emit_text(void)
{
    log_setup(LOG_FORMAT_TEXT, LOG_INFO);
    log_event(LOG_INFO, "replay started", "{\"providerId\": \"p1\"}");
    log_event(LOG_DEBUG, "hidden", NULL);
    log_msgf(LOG_WARNING, "retry %d of %s", 2, "x");
}

static void test_text(void **state)
{
    (void)state;
    capture(emit_text);
    char *nl = strchr(captured, '\n');
    assert_non_null(nl);
    assert_stamp(captured);
    *nl = '\0';
    assert_string_equal(captured + 24, " INFO replay started {\"providerId\": \"p1\"}");
    assert_stamp(nl + 1);
    assert_string_equal(nl + 1 + 24, " WARNING retry 2 of x\n");
}

static void emit_json(void)
{
    log_setup(LOG_FORMAT_JSON, LOG_DEBUG);
    log_event(LOG_ERROR, "bad \"thing\"\n", "{\"k\": 1, \"s\": \"v\"}");
    log_event(LOG_DEBUG, "plain", NULL);
    log_event(LOG_INFO, "empty", " {} ");
}

static void test_json(void **state)
{
    (void)state;
    capture(emit_json);
    const char *l1 = captured;
    assert_memory_equal(l1, "{\"time\": \"", 10);
    assert_stamp(l1 + 10);
    const char *rest = l1 + 34;
    const char *want1 = "\", \"level\": \"ERROR\", \"message\": \"bad \\\"thing\\\"\\n\", "
                        "\"k\": 1, \"s\": \"v\"}\n";
    assert_memory_equal(rest, want1, strlen(want1));
    const char *l2 = rest + strlen(want1);
    const char *want2 = "\", \"level\": \"DEBUG\", \"message\": \"plain\"}\n";
    assert_memory_equal(l2 + 34, want2, strlen(want2));
    const char *l3 = l2 + 34 + strlen(want2);
    assert_string_equal(l3 + 34, "\", \"level\": \"INFO\", \"message\": \"empty\"}\n");
    log_setup(LOG_FORMAT_TEXT, LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
