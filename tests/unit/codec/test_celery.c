/*
 * Unit tests of the Celery codec: every message and result meta captured from Python Celery 5
 * and kombu (copied into fixtures/celery/ by fixtures/extract.py from shared/fixtures/celery/)
 * decodes as what it is; the §2.1 message field by field; the captured variants (priority
 * buckets, eta with and without microseconds, expires, minimal headers, plain body); a
 * pickle message refused; our own envelopes and metas decode back; restore keeps the bucket
 * and sets redelivered; limits.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "codec/celery.h"
#include "core/pyjson.h"

static const char *fixture_dir = "tests/unit/codec/fixtures/celery";

static const char msg21[] =
    "{\"body\": "
    "\"W1tdLCB7ImxpbWl0IjogNX0sIHsiY2FsbGJhY2tzIjogbnVsbCwgImVycmJhY2tzIjogbnVsbCwgImNoYWluIjogbn"
    "VsbCwgImNob3JkIjogbnVsbH1d\", \"content-encoding\": \"utf-8\", \"content-type\": "
    "\"application/json\", \"headers\": {\"lang\": \"py\", \"task\": "
    "\"provider_automation.run_replay_batch\", \"id\": \"10e6d343-e5f8-4a7c-91b9-21c0a4472b2a\", "
    "\"shadow\": null, \"eta\": null, \"expires\": null, \"group\": null, \"group_index\": null, "
    "\"retries\": 0, \"timelimit\": [null, null], \"root_id\": "
    "\"10e6d343-e5f8-4a7c-91b9-21c0a4472b2a\", \"parent_id\": null, \"argsrepr\": \"()\", "
    "\"kwargsrepr\": \"{'limit': 5}\", \"origin\": \"gen10566@vm\", \"ignore_result\": false}, "
    "\"properties\": {\"correlation_id\": \"10e6d343-e5f8-4a7c-91b9-21c0a4472b2a\", \"reply_to\": "
    "\"81c1e76b-1879-3cea-85bb-52579f10e282\", \"delivery_mode\": 2, \"delivery_info\": "
    "{\"exchange\": \"\", \"routing_key\": \"provider-replay\"}, \"priority\": 0, "
    "\"body_encoding\": \"base64\", \"delivery_tag\": \"cdc7f726-5a4c-466c-8060-e5717d5f450e\"}}";

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct sb sb;
    sb_init(&sb);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        sb_append(&sb, buf, n);
    fclose(f);
    *len = sb.len;
    return sb_detach(&sb);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A task envelope decodes fully, and survives the unacked/restore round trip with its
 * bucket kept and redelivered set. */
static void check_task(const char *name, const char *raw, size_t len)
{
    struct celery_msg m;
    char err[160] = "";
    int rc = celery_msg_decode(raw, len, &m, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: decode %d (%s)", name, rc, err);
    assert_non_null(m.task);
    assert_int_equal(strlen(m.id), 36);
    assert_non_null(m.delivery_tag);
    assert_non_null(m.routing_key);
    assert_true(json_is_array(m.args));
    assert_true(json_is_object(m.kwargs));
    char *value = celery_unacked_value(raw, len, m.exchange, m.routing_key);
    char *env, *dest, *ex;
    assert_int_equal(celery_restore_envelope(value, strlen(value), &env, &dest, &ex), 0);
    char *want = celery_queue_key(m.routing_key, m.priority);
    assert_string_equal(dest, want);
    struct celery_msg r;
    assert_int_equal(celery_msg_decode(env, strlen(env), &r, err, sizeof(err)), 0);
    assert_true(r.redelivered);
    assert_string_equal(r.id, m.id);
    assert_string_equal(r.delivery_tag, m.delivery_tag);
    assert_true(json_equal(r.kwargs, m.kwargs));
    celery_msg_release(&r);
    free(want);
    free(value);
    free(env);
    free(dest);
    free(ex);
    celery_msg_release(&m);
}

static void test_every_captured_message(void **state)
{
    (void)state;
    DIR *d = opendir(fixture_dir);
    if (!d)
        fail_msg("cannot open %s", fixture_dir);
    int tasks = 0, others = 0, unacked = 0, metas = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".json"))
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", fixture_dir, e->d_name);
        size_t len;
        char *raw = read_all(path, &len);
        assert_non_null(raw);
        char err[160];
        if (ends_with(e->d_name, ".task.json")) {
            check_task(e->d_name, raw, len);
            tasks++;
        } else if (ends_with(e->d_name, ".other.json")) {
            /* Events and remote-control messages: envelopes without a task. */
            struct celery_msg m;
            int rc = celery_msg_decode(raw, len, &m, err, sizeof(err));
            if (rc != CELERY_E_NOT_TASK)
                fail_msg("%s: decode %d, want CELERY_E_NOT_TASK", e->d_name, rc);
            assert_non_null(m.delivery_tag);
            celery_msg_release(&m);
            others++;
        } else if (ends_with(e->d_name, ".unacked.json")) {
            char *env, *dest, *ex;
            if (celery_restore_envelope(raw, len, &env, &dest, &ex) != 0)
                fail_msg("%s: restore failed", e->d_name);
            assert_string_equal(ex, "");
            struct celery_msg m;
            assert_int_equal(celery_msg_decode(env, strlen(env), &m, err, sizeof(err)), 0);
            assert_true(m.redelivered);
            assert_true(strncmp(dest, m.routing_key, strlen(m.routing_key)) == 0);
            celery_msg_release(&m);
            free(env);
            free(dest);
            free(ex);
            unacked++;
        } else if (ends_with(e->d_name, ".meta.json")) {
            json_t *doc;
            const char *status;
            if (celery_meta_decode(raw, len, &doc, &status) != 0)
                fail_msg("%s: meta decode failed", e->d_name);
            assert_non_null(strstr("STARTED SUCCESS FAILURE RETRY REVOKED", status));
            json_decref(doc);
            metas++;
        } else {
            fail_msg("unknown fixture kind %s", e->d_name);
        }
        free(raw);
    }
    closedir(d);
    printf("decoded %d tasks, %d events/control, %d unacked values, %d metas\n", tasks, others,
           unacked, metas);
    assert_true(tasks >= 15);
    assert_true(others >= 30);
    assert_true(unacked >= 10);
    assert_true(metas >= 20);
}

static void test_message_21(void **state)
{
    (void)state;
    struct celery_msg m;
    char err[160];
    assert_int_equal(celery_msg_decode(msg21, strlen(msg21), &m, err, sizeof(err)), 0);
    assert_string_equal(m.task, "provider_automation.run_replay_batch");
    assert_string_equal(m.id, "10e6d343-e5f8-4a7c-91b9-21c0a4472b2a");
    assert_string_equal(m.root_id, "10e6d343-e5f8-4a7c-91b9-21c0a4472b2a");
    assert_null(m.parent_id);
    assert_null(m.group);
    assert_string_equal(m.delivery_tag, "cdc7f726-5a4c-466c-8060-e5717d5f450e");
    assert_string_equal(m.exchange, "");
    assert_string_equal(m.routing_key, "provider-replay");
    assert_int_equal(m.priority, 0);
    assert_int_equal(m.retries, 0);
    assert_false(m.ignore_result);
    assert_false(m.redelivered);
    assert_true(m.eta_us == CELERY_NO_TIME);
    assert_true(m.expires_us == CELERY_NO_TIME);
    assert_int_equal(json_array_size(m.args), 0);
    assert_int_equal(json_integer_value(json_object_get(m.kwargs, "limit")), 5);
    celery_msg_release(&m);
}

/* Replaces the first occurrence of a by b in s (new text). */
static char *replace(const char *s, const char *a, const char *b)
{
    const char *p = strstr(s, a);
    assert_non_null(p);
    struct sb sb;
    sb_init(&sb);
    sb_append(&sb, s, (size_t)(p - s));
    sb_puts(&sb, b);
    sb_puts(&sb, p + strlen(a));
    return sb_detach(&sb);
}

static void test_variants(void **state)
{
    (void)state;
    char err[160];
    struct celery_msg m;
    /* eta without and with microseconds, expires. */
    char *v = replace(msg21, "\"eta\": null", "\"eta\": \"2030-01-02T03:04:05+00:00\"");
    char *v2 = replace(v, "\"expires\": null", "\"expires\": \"2026-11-28T22:36:22.330397+00:00\"");
    assert_int_equal(celery_msg_decode(v2, strlen(v2), &m, err, sizeof(err)), 0);
    assert_true(m.eta_us == 1893553445000000LL);
    assert_true(m.expires_us % 1000000 == 330397);
    celery_msg_release(&m);
    free(v);
    free(v2);
    /* A bad eta is refused, not run at once. */
    v = replace(msg21, "\"eta\": null", "\"eta\": \"tomorrow\"");
    assert_int_equal(celery_msg_decode(v, strlen(v), &m, err, sizeof(err)), CELERY_E_BODY);
    celery_msg_release(&m);
    free(v);
    /* Priority 5 goes to bucket 3, 9 to 9. */
    char *k = celery_queue_key("provider-replay", 5);
    assert_memory_equal(k,
                        "provider-replay\x06\x16"
                        "3",
                        18);
    char *q = celery_key_queue(k);
    assert_string_equal(q, "provider-replay");
    free(k);
    free(q);
    k = celery_queue_key("q", 9);
    assert_string_equal(k, "q\x06\x16"
                           "9");
    free(k);
    k = celery_queue_key("q", 2);
    assert_string_equal(k, "q");
    free(k);
    /* Minimal headers {task, id} and a plain (not base64) body, as in interop A. */
    const char *minimal =
        "{\"body\": \"[[3], {}, {}]\", \"content-type\": \"application/json\", "
        "\"headers\": {\"task\": \"smplat.ping\", \"id\": "
        "\"3758dc18-10b5-43a5-ac0f-2daf6537afad\"}, "
        "\"properties\": {\"delivery_tag\": \"t1\", \"delivery_info\": {\"exchange\": \"\", "
        "\"routing_key\": \"provider-alerts\"}, \"priority\": 6}}";
    assert_int_equal(celery_msg_decode(minimal, strlen(minimal), &m, err, sizeof(err)), 0);
    assert_int_equal(json_integer_value(json_array_get(m.args, 0)), 3);
    assert_int_equal(m.priority, 6);
    celery_msg_release(&m);
}

static void test_refused(void **state)
{
    (void)state;
    char err[160];
    struct celery_msg m;
    /* Pickle (09-disallowed-content-type): refused, but its id and tag are readable. */
    char *p = replace(msg21, "application/json", "application/x-python-serialize");
    assert_int_equal(celery_msg_decode(p, strlen(p), &m, err, sizeof(err)), CELERY_E_CONTENT_TYPE);
    assert_string_equal(m.id, "10e6d343-e5f8-4a7c-91b9-21c0a4472b2a");
    assert_string_equal(m.delivery_tag, "cdc7f726-5a4c-466c-8060-e5717d5f450e");
    celery_msg_release(&m);
    free(p);
    p = replace(msg21, "W1td", "!!!!");
    assert_int_equal(celery_msg_decode(p, strlen(p), &m, err, sizeof(err)), CELERY_E_BODY);
    celery_msg_release(&m);
    free(p);
    const char *bad[] = {"", "null", "[]", "{\"body\": 1}", "{\"body\": \"x\"}", "{{{{"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(celery_msg_decode(bad[i], strlen(bad[i]), &m, err, sizeof(err)),
                         CELERY_E_MALFORMED);
        celery_msg_release(&m);
    }
    /* Body that is not [args, kwargs, embed]. */
    const char *notlist = "{\"body\": \"{}\", \"content-type\": \"application/json\", \"headers\": "
                          "{\"task\": \"t\", \"id\": \"i\"}, \"properties\": {}}";
    assert_int_equal(celery_msg_decode(notlist, strlen(notlist), &m, err, sizeof(err)),
                     CELERY_E_BODY);
    celery_msg_release(&m);
    /* Size limit. */
    size_t big = CELERY_MAX_MESSAGE + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    assert_int_equal(celery_msg_decode(huge, big, &m, err, sizeof(err)), CELERY_E_MALFORMED);
    celery_msg_release(&m);
    free(huge);
}

static void test_encode_roundtrip(void **state)
{
    (void)state;
    json_t *kwargs = json_pack("{s:i}", "limit", 50);
    struct celery_publish p = {.task = "provider_automation.run_replay_batch",
                               .queue = "provider-replay",
                               .kwargs = kwargs,
                               .eta_us = CELERY_NO_TIME,
                               .expires_us = 1893553445000000LL,
                               .priority = 0,
                               .origin = "beat1@host"};
    char id[37];
    char *text = celery_msg_encode(&p, id);
    assert_true(strncmp(text, "{\"body\": \"", 10) == 0);
    assert_non_null(strstr(text, "\"lang\": \"c\""));
    assert_non_null(strstr(text, "\"expires\": \"2030-01-02T03:04:05+00:00\""));
    struct celery_msg m;
    char err[160];
    assert_int_equal(celery_msg_decode(text, strlen(text), &m, err, sizeof(err)), 0);
    assert_string_equal(m.id, id);
    assert_string_equal(m.root_id, id);
    assert_string_equal(m.routing_key, "provider-replay");
    assert_int_equal(strlen(m.delivery_tag), 36);
    assert_true(json_equal(m.kwargs, kwargs));
    assert_int_equal(json_array_size(m.args), 0);
    /* The embed is Celery's. */
    assert_true(json_is_null(json_object_get(json_array_get(m.body, 2), "callbacks")));
    celery_msg_release(&m);
    free(text);
    json_decref(kwargs);
}

static void test_meta(void **state)
{
    (void)state;
    /* The captured NotRegistered meta (celery-wire §5.2.6), byte for byte. */
    json_t *exc =
        celery_exc("NotRegistered", "celery.exceptions", "provider_automation.does_not_exist");
    struct iso_time t;
    const char *done = "2026-11-28T22:27:04.850447+00:00";
    assert_int_equal(iso_parse(done, strlen(done), &t), 0);
    struct celery_meta meta = {.state = CELERY_FAILURE,
                               .result = exc,
                               .task_id = "d621d78e-c6b3-4128-9056-a9a40cce323c",
                               .date_done_us = t.utc_us};
    char *text = celery_meta_encode(&meta);
    assert_string_equal(
        text, "{\"status\": \"FAILURE\", \"result\": {\"exc_type\": \"NotRegistered\", "
              "\"exc_message\": [\"provider_automation.does_not_exist\"], \"exc_module\": "
              "\"celery.exceptions\"}, \"traceback\": null, \"children\": [], \"date_done\": "
              "\"2026-11-28T22:27:04.850447+00:00\", \"task_id\": "
              "\"d621d78e-c6b3-4128-9056-a9a40cce323c\"}");
    free(text);
    json_decref(exc);
    /* parent_id and group_id before task_id, only when set. */
    json_t *r = json_pack("{s:i}", "processed", 0);
    struct celery_meta m2 = {.state = CELERY_SUCCESS,
                             .result = r,
                             .task_id = "a",
                             .date_done_us = CELERY_NO_TIME,
                             .group_id = "g",
                             .parent_id = "p"};
    text = celery_meta_encode(&m2);
    assert_string_equal(text, "{\"status\": \"SUCCESS\", \"result\": {\"processed\": 0}, "
                              "\"traceback\": null, \"children\": [], \"date_done\": null, "
                              "\"group_id\": \"g\", \"parent_id\": \"p\", \"task_id\": \"a\"}");
    json_t *doc;
    const char *status;
    assert_int_equal(celery_meta_decode(text, strlen(text), &doc, &status), 0);
    assert_string_equal(status, "SUCCESS");
    json_decref(doc);
    free(text);
    json_decref(r);
}

static void test_base64(void **state)
{
    (void)state;
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char *e = celery_b64_encode((const unsigned char *)in[i], strlen(in[i]));
        assert_string_equal(e, out[i]);
        size_t n;
        unsigned char *d = celery_b64_decode(e, strlen(e), &n);
        assert_non_null(d);
        assert_int_equal(n, strlen(in[i]));
        assert_memory_equal(d, in[i], n);
        free(d);
        free(e);
    }
    size_t n;
    assert_null(celery_b64_decode("Zm9v!", 5, &n));
    assert_null(celery_b64_decode("Z", 1, &n));
}

int main(int argc, char **argv)
{
    if (argc > 1)
        fixture_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_captured_message),
        cmocka_unit_test(test_message_21),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_encode_roundtrip),
        cmocka_unit_test(test_meta),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
