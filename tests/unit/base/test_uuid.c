/*
 * Unit tests of UUID generation and parsing: v4 shape (version and variant nibbles,
 * lowercase, hyphens, uniqueness) and the forms Python's uuid.UUID() accepts or rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/uuid.h"

#define CANON "ccc535b8-dda7-4c0e-a26e-db1f954969db"

static void test_uuid4_shape(void **state)
{
    (void)state;
    char a[UUID_STRLEN + 1], b[UUID_STRLEN + 1], back[UUID_STRLEN + 1];
    for (int i = 0; i < 100; i++) {
        uuid4(a);
        assert_int_equal(strlen(a), UUID_STRLEN);
        assert_int_equal(a[8], '-');
        assert_int_equal(a[13], '-');
        assert_int_equal(a[18], '-');
        assert_int_equal(a[23], '-');
        assert_int_equal(a[14], '4');
        assert_non_null(strchr("89ab", a[19]));
        for (size_t j = 0; j < UUID_STRLEN; j++)
            assert_non_null(strchr("0123456789abcdef-", a[j]));
        assert_int_equal(uuid_parse(a, back), 0);
        assert_string_equal(back, a);
    }
    uuid4(b);
    assert_string_not_equal(a, b);
}

static void accept(const char *in)
{
    char out[UUID_STRLEN + 1];
    if (uuid_parse(in, out) != 0)
        fail_msg("uuid_parse(\"%s\") refused", in);
    assert_string_equal(out, CANON);
}

static void reject(const char *in)
{
    char out[UUID_STRLEN + 1];
    if (uuid_parse(in, out) != ERR_INVALID)
        fail_msg("uuid_parse(\"%s\") accepted", in);
}

static void test_parse_forms(void **state)
{
    (void)state;
    accept(CANON);
    accept("CCC535B8-DDA7-4C0E-A26E-DB1F954969DB");
    accept("ccc535b8dda74c0ea26edb1f954969db");
    accept("CCC535B8DDA74C0EA26EDB1F954969DB");
    accept("{" CANON "}");
    accept("{ccc535b8dda74c0ea26edb1f954969db}");
    accept("urn:uuid:" CANON);
    accept("urn:uuid:{" CANON "}");
    /* Python's replace/strip steps are this lenient too. */
    accept("{{" CANON "}");
    accept("ccc535b8-dda7-4c0e-a26e-db1f-9549-69db");
    accept("uuid:" CANON);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    reject("");
    char out[UUID_STRLEN + 1];
    assert_int_equal(uuid_parse(NULL, out), ERR_INVALID);
    reject("not-a-uuid");
    reject("ccc535b8-dda7-4c0e-a26e-db1f954969d");
    reject("ccc535b8-dda7-4c0e-a26e-db1f954969dbb");
    reject("ccc535b8-dda7-4c0e-a26e-db1f954969dg");
    reject("URN:UUID:" CANON);
    reject(" " CANON);
    reject("(" CANON ")");
    reject("+cc535b8dda74c0ea26edb1f954969db");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid4_shape),
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
