/*
 * Unit tests of Python-compatible JSON text: separators, key order, escapes, ensure_ascii
 * (with a surrogate pair for a non-BMP character), float reprs, and the depth limit and
 * error reporting of pyjson_loads. Expected strings were produced by CPython's json.dumps.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/sb.h"
#include "core/pyjson.h"

/* The document below, built by hand in this key order. */
static json_t *sample(void)
{
    json_t *root = json_object();
    json_object_set_new(root, "b", json_integer(1));
    json_t *inner = json_object();
    json_object_set_new(inner, "x", json_null());
    json_object_set_new(inner, "y", json_true());
    json_object_set_new(inner, "z", json_false());
    json_object_set_new(root, "a", json_pack("[i f o]", 1, 2.0, inner));
    json_object_set_new(root, "s", json_string("q\"\\\n\r\t\b\f\x01\x1f\x7f"));
    json_object_set_new(root, "u", json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    json_object_set_new(root, "e", json_object());
    json_object_set_new(root, "l", json_array());
    json_object_set_new(root, "f",
                        json_pack("[fffffff]", 150.0, 12.5, 1e16, 1e-05, 0.1 + 0.2, -0.0, 1e300));
    return root;
}

static void check_dump(const json_t *v, int flags, const char *want)
{
    char *got = pyjson_dumps(v, flags);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_nested_ascii(void **state)
{
    (void)state;
    json_t *v = sample();
    check_dump(v, PYJSON_ENSURE_ASCII,
               "{\"b\": 1, \"a\": [1, 2.0, {\"x\": null, \"y\": true, \"z\": false}], "
               "\"s\": \"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\", "
               "\"u\": \"caf\\u00e9 \\u20ac \\ud83d\\ude00\", \"e\": {}, \"l\": [], "
               "\"f\": [150.0, 12.5, 1e+16, 1e-05, 0.30000000000000004, -0.0, 1e+300]}");
    json_decref(v);
}

static void test_nested_utf8(void **state)
{
    (void)state;
    json_t *v = sample();
    check_dump(v, PYJSON_SPACED,
               "{\"b\": 1, \"a\": [1, 2.0, {\"x\": null, \"y\": true, \"z\": false}], "
               "\"s\": \"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\", "
               "\"u\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"e\": {}, \"l\": [], "
               "\"f\": [150.0, 12.5, 1e+16, 1e-05, 0.30000000000000004, -0.0, 1e+300]}");
    json_decref(v);
}

static void test_compact(void **state)
{
    (void)state;
    json_t *v = sample();
    check_dump(v, PYJSON_COMPACT | PYJSON_ENSURE_ASCII,
               "{\"b\":1,\"a\":[1,2.0,{\"x\":null,\"y\":true,\"z\":false}],"
               "\"s\":\"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\","
               "\"u\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\",\"e\":{},\"l\":[],"
               "\"f\":[150.0,12.5,1e+16,1e-05,0.30000000000000004,-0.0,1e+300]}");
    json_decref(v);
}

static void test_scalars(void **state)
{
    (void)state;
    json_t *v;
    v = json_integer(INT64_MAX);
    check_dump(v, 0, "9223372036854775807");
    json_decref(v);
    v = json_integer(INT64_MIN);
    check_dump(v, 0, "-9223372036854775808");
    json_decref(v);
    v = json_integer(150);
    check_dump(v, 0, "150");
    json_decref(v);
    v = json_real(-12.5);
    check_dump(v, 0, "-12.5");
    json_decref(v);
    v = json_real(9999999999999998.0);
    check_dump(v, 0, "9999999999999998.0");
    json_decref(v);
    v = json_real(0.0001);
    check_dump(v, 0, "0.0001");
    json_decref(v);
    v = json_string("");
    check_dump(v, 0, "\"\"");
    json_decref(v);
    v = json_null();
    check_dump(v, 0, "null");
    assert_null(pyjson_dumps(NULL, 0));
    /* jansson refuses to construct non-finite reals, so Infinity/NaN are not reachable. */
    assert_null(json_real(INFINITY));
}

static void test_key_order(void **state)
{
    (void)state;
    json_t *o = json_object();
    struct sb want = SB_INIT;
    sb_putc(&want, '{');
    for (int i = 99; i >= 0; i--) {
        char key[16];
        snprintf(key, sizeof key, "k%02d", i);
        json_object_set_new(o, key, json_integer(i));
        sb_printf(&want, "%s\"%s\": %d", i == 99 ? "" : ", ", key, i);
    }
    sb_putc(&want, '}');
    /* Replacing a value keeps the key where it was, like a Python dict. */
    json_object_set_new(o, "k50", json_integer(50));
    check_dump(o, 0, sb_str(&want));
    sb_release(&want);
    json_decref(o);
}

static void test_dump_sb(void **state)
{
    (void)state;
    struct sb out = SB_INIT;
    json_t *v = json_pack("{s:[i,s]}", "k", 1, "\xc3\xa9");
    sb_puts(&out, "x=");
    assert_int_equal(pyjson_dump_sb(&out, v, PYJSON_ENSURE_ASCII), 0);
    assert_string_equal(sb_str(&out), "x={\"k\": [1, \"\\u00e9\"]}");
    assert_int_equal(pyjson_dump_sb(&out, NULL, 0), ERR_INVALID);
    json_decref(v);
    sb_release(&out);
}

static void test_dump_depth_limit(void **state)
{
    (void)state;
    json_t *root = json_array();
    json_t *cur = root;
    for (int i = 0; i < PYJSON_MAX_DUMP_DEPTH + 5; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    struct sb out = SB_INIT;
    assert_int_equal(pyjson_dump_sb(&out, root, 0), ERR_LIMIT);
    assert_null(pyjson_dumps(root, 0));
    sb_release(&out);
    json_decref(root);
}

/* What a provider request body is: json.dumps with the default settings (the templates of
 * spec-replay §2.2), and repr() of the same values for placeholders inside strings. */
static void test_request_body_and_repr(void **state)
{
    (void)state;
    char err[128];
    const char *text = "{\"a\": \"\\u00e9\\u007f\", \"b\": 1.0, \"c\": [1, null, true],"
                       " \"d\": \"\\ud83d\\ude00\\\"\\\\/\\u0001\", \"e\": {}, \"f\": []}";
    json_t *v = pyjson_loads(text, strlen(text), 32, err, sizeof(err));
    assert_non_null(v);
    check_dump(v, PYJSON_ENSURE_ASCII,
               "{\"a\": \"\\u00e9\\u007f\", \"b\": 1.0, \"c\": [1, null, true], "
               "\"d\": \"\\ud83d\\ude00\\\"\\\\/\\u0001\", \"e\": {}, \"f\": []}");
    struct sb sb = SB_INIT;
    assert_int_equal(pyjson_repr_sb(&sb, v), 0);
    assert_string_equal(sb_str(&sb), "{'a': '\u00e9\\x7f', 'b': 1.0, 'c': [1, None, True], "
                                     "'d': '\U0001F600\"\\\\/\\x01', 'e': {}, 'f': []}");
    sb_release(&sb);
    json_decref(v);
}

static void test_loads(void **state)
{
    (void)state;
    char err[160];
    const char *text = "{\"b\": 1, \"a\": 1.0, \"c\": [\"x\", null], \"b\": 2}";
    json_t *v = pyjson_loads(text, strlen(text), 8, err, sizeof err);
    assert_non_null(v);
    assert_true(json_is_integer(json_object_get(v, "b")));
    assert_int_equal(json_integer_value(json_object_get(v, "b")), 2);
    assert_true(json_is_real(json_object_get(v, "a")));
    char *back = pyjson_dumps(v, 0);
    assert_string_equal(back, "{\"b\": 2, \"a\": 1.0, \"c\": [\"x\", null]}");
    free(back);
    json_decref(v);

    v = pyjson_loads("42", 2, 0, err, sizeof err);
    assert_non_null(v);
    assert_int_equal(json_integer_value(v), 42);
    json_decref(v);
    v = pyjson_loads(" \"\\ud83d\\ude00\" ", 16, 0, err, sizeof err);
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "\xf0\x9f\x98\x80");
    json_decref(v);
    /* Length is honoured: only "[1]" is parsed. */
    v = pyjson_loads("[1]garbage", 3, 1, err, sizeof err);
    assert_non_null(v);
    json_decref(v);
}

static void test_loads_errors(void **state)
{
    (void)state;
    char err[160];
    err[0] = '\0';
    assert_null(pyjson_loads("{\"a\": }", 7, 8, err, sizeof err));
    assert_non_null(strstr(err, "invalid JSON"));
    assert_null(pyjson_loads("", 0, 8, err, sizeof err));
    assert_null(pyjson_loads("\"a\\u0000b\"", 10, 8, err, sizeof err));
    assert_null(pyjson_loads("[1] [2]", 7, 8, err, sizeof err));
    assert_null(pyjson_loads(NULL, 0, 8, err, sizeof err));
    assert_null(pyjson_loads("nope", 4, 8, NULL, 0));
}

static void test_loads_depth(void **state)
{
    (void)state;
    char err[160];
    const char *d3 = "{\"a\": [[1]], \"b\": {}}";
    json_t *v = pyjson_loads(d3, strlen(d3), 3, err, sizeof err);
    assert_non_null(v);
    json_decref(v);
    err[0] = '\0';
    assert_null(pyjson_loads(d3, strlen(d3), 2, err, sizeof err));
    assert_string_equal(err, "JSON nested deeper than 2 levels");
    /* The deep branch is not the first one. */
    const char *late = "[1, {}, [[[[2]]]]]";
    assert_null(pyjson_loads(late, strlen(late), 4, err, sizeof err));
    v = pyjson_loads(late, strlen(late), 5, err, sizeof err);
    assert_non_null(v);
    json_decref(v);
    assert_null(pyjson_loads("[]", 2, 0, err, sizeof err));
    v = pyjson_loads("\"s\"", 3, 0, err, sizeof err);
    assert_non_null(v);
    json_decref(v);

    struct sb deep = SB_INIT;
    for (int i = 0; i < 100; i++)
        sb_putc(&deep, '[');
    for (int i = 0; i < 100; i++)
        sb_putc(&deep, ']');
    assert_null(pyjson_loads(deep.buf, deep.len, 64, err, sizeof err));
    assert_string_equal(err, "JSON nested deeper than 64 levels");
    v = pyjson_loads(deep.buf, deep.len, 100, err, sizeof err);
    assert_non_null(v);
    json_decref(v);
    sb_release(&deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_ascii),
        cmocka_unit_test(test_nested_utf8),
        cmocka_unit_test(test_compact),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_dump_sb),
        cmocka_unit_test(test_dump_depth_limit),
        cmocka_unit_test(test_loads),
        cmocka_unit_test(test_loads_errors),
        cmocka_unit_test(test_loads_depth),
        cmocka_unit_test(test_request_body_and_repr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
