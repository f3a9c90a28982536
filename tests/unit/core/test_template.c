/*
 * Unit tests of core/template.c: every rendering example of spec-replay §2.2, Python str()
 * and repr() of the values a context can hold, and the json.dumps body serialiser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <string.h>

#include "base/sb.h"
#include "core/template.h"

static json_t *load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
    assert_non_null(v);
    return v;
}

static json_t *ctx_fixture(void)
{
    return load("{\"serviceRules\": [{\"id\": \"r1\"}], \"amount\": 150.0, \"quantity\": 150,"
                " \"flag\": true, \"off\": false, \"nothing\": null, \"apiKey\": \"k-1\","
                " \"obj\": {\"a\": 1, \"b\": [true, null], \"c\": 1.5}}");
}

/* Renders the JSON template text against the fixture context and compares the compact JSON
 * of the result. */
static void check_render(const char *tmpl_text, const char *expected_json)
{
    json_t *ctx = ctx_fixture();
    json_t *tmpl = load(tmpl_text);
    json_t *out = template_render(tmpl, ctx);
    char *got = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(got, expected_json);
    free(got);
    json_decref(out);
    json_decref(tmpl);
    json_decref(ctx);
}

static void check_str(const char *tmpl_string, const char *expected)
{
    json_t *ctx = ctx_fixture();
    json_t *tmpl = json_string(tmpl_string);
    json_t *out = template_render(tmpl, ctx);
    assert_true(json_is_string(out));
    assert_string_equal(json_string_value(out), expected);
    json_decref(out);
    json_decref(tmpl);
    json_decref(ctx);
}

static void test_whole_placeholder_array(void **state)
{
    (void)state;
    check_render("{\"rules\": \"{{serviceRules}}\"}", "{\"rules\":[{\"id\":\"r1\"}]}");
    check_render("\"{{obj}}\"", "{\"a\":1,\"b\":[true,null],\"c\":1.5}");
}

static void test_whole_placeholder_scalars(void **state)
{
    (void)state;
    check_str("{{amount}}", "150.0");
    check_str("{{quantity}}", "150");
    check_str("{{flag}}", "True");
    check_str("{{off}}", "False");
    check_str("{{nothing}}", "");
    check_str("{{apiKey}}", "k-1");
}

static void test_whole_placeholder_spaces(void **state)
{
    (void)state;
    check_str("  {{ amount }}  ", "150.0");
    check_str("\t{{\tflag }}\n", "True");
    /* embedded mode allows no spaces inside the braces */
    check_str("x {{ amount }}", "x {{ amount }}");
    check_str("x {{amount}}", "x 150.0");
}

static void test_unknown_placeholders(void **state)
{
    (void)state;
    check_str("{{missing}}", "{{missing}}");
    check_str("a {{missing}} b {{quantity}}", "a {{missing}} b 150");
    check_str("{{ missing }}", "{{ missing }}");
}

static void test_embedded_repr(void **state)
{
    (void)state;
    check_str("rules={{serviceRules}}", "rules=[{'id': 'r1'}]");
    check_str("o={{obj}}", "o={'a': 1, 'b': [True, None], 'c': 1.5}");
    check_str("n={{nothing}}|{{flag}}|{{off}}", "n=|True|False");
    check_str("{{amount}}{{amount}}", "150.0150.0");
    check_str("https://api/{{apiKey}}/x?q={{quantity}}", "https://api/k-1/x?q=150");
}

static void test_nested(void **state)
{
    (void)state;
    check_render("{\"a\": [\"{{quantity}}\", {\"b\": \"{{flag}}\", \"{{apiKey}}\": 1}],"
                 " \"n\": 5, \"t\": true, \"z\": null, \"r\": \"{{serviceRules}}\"}",
                 "{\"a\":[\"150\",{\"b\":\"True\",\"{{apiKey}}\":1}],\"n\":5,\"t\":true,"
                 "\"z\":null,\"r\":[{\"id\":\"r1\"}]}");
    check_render("[[\"{{amount}}\"], 1.5, false]", "[[\"150.0\"],1.5,false]");
}

static void test_sequential_replacement(void **state)
{
    (void)state;
    json_t *ctx = load("{\"a\": \"{{b}}\", \"b\": \"B\"}");
    json_t *tmpl = json_string("x{{a}}");
    json_t *out = template_render(tmpl, ctx);
    assert_string_equal(json_string_value(out), "xB");
    json_decref(out);
    json_decref(tmpl);
    /* the whole placeholder takes str(value) without further replacement */
    tmpl = json_string("{{a}}");
    out = template_render(tmpl, ctx);
    assert_string_equal(json_string_value(out), "{{b}}");
    json_decref(out);
    json_decref(tmpl);
    json_decref(ctx);
}

static void check_pystr(const char *json_text, const char *expected)
{
    json_t *v = load(json_text);
    struct sb sb = SB_INIT;
    template_pystr(&sb, v);
    assert_string_equal(sb_str(&sb), expected);
    sb_release(&sb);
    json_decref(v);
}

static void test_pystr_numbers(void **state)
{
    (void)state;
    check_pystr("150.0", "150.0");
    check_pystr("12.5", "12.5");
    check_pystr("1e16", "1e+16");
    check_pystr("0.00001", "1e-05");
    check_pystr("0.30000000000000004", "0.30000000000000004");
    check_pystr("-7", "-7");
    check_pystr("true", "True");
    check_pystr("null", "");
    check_pystr("\"plain\"", "plain");
}

static void test_pystr_repr_strings(void **state)
{
    (void)state;
    check_pystr("[\"it's\", \"a\\\"b\", \"it's \\\"x\\\"\"]", "[\"it's\", 'a\"b', 'it\\'s \"x\"']");
    check_pystr("[\"a\\nb\\u000b\\u007f\\t\\r\"]", "['a\\nb\\x0b\\x7f\\t\\r']");
    check_pystr("[\"\\u00e9\\u00a0\\u200b\\\\\"]", "['\xc3\xa9\\xa0\\u200b\\\\']");
    check_pystr("[\"\\ud83d\\ude00\", \"\\ue000\"]", "['\xf0\x9f\x98\x80', '\\ue000']");
    check_pystr("{\"k'\": [1, 2.0, {}], \"e\": []}", "{\"k'\": [1, 2.0, {}], 'e': []}");
}

static void test_non_string_scalars_unchanged(void **state)
{
    (void)state;
    check_render("{\"q\": 150, \"p\": 1.25, \"b\": false, \"n\": null}",
                 "{\"q\":150,\"p\":1.25,\"b\":false,\"n\":null}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_placeholder_array),
        cmocka_unit_test(test_whole_placeholder_scalars),
        cmocka_unit_test(test_whole_placeholder_spaces),
        cmocka_unit_test(test_unknown_placeholders),
        cmocka_unit_test(test_embedded_repr),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_sequential_replacement),
        cmocka_unit_test(test_pystr_numbers),
        cmocka_unit_test(test_pystr_repr_strings),
        cmocka_unit_test(test_non_string_scalars_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
