/*
 * Fuzz target for what a Redis broker hands our worker: a Celery envelope
 * (codec/celery.c). The input goes to the message decoder, to the unacked-value
 * restore path (as a whole value, and spliced into "[raw, ex, rk]" as the
 * worker stores it), and to the result-meta decoder. Besides crashes, leaks and
 * sanitizer reports, it checks properties that must hold for any input: a
 * decoded task has a task name, an id, an args array and a kwargs object; a
 * task that decodes survives the unacked/restore round trip with the same id
 * and redelivered set; a content type other than JSON is never a task.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/celery.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_celery: property failed: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *)data;
    struct celery_msg m;
    char err[160];
    int rc = celery_msg_decode(raw, size, &m, err, sizeof(err));
    if (rc == 0) {
        check(m.task && m.id && json_is_array(m.args) && json_is_object(m.kwargs),
              "decoded task is complete");
        check(strcmp(m.content_type, "application/json") == 0, "only JSON is a task");
        if (m.delivery_tag && m.routing_key) {
            char *value = celery_unacked_value(raw, size, m.exchange, m.routing_key);
            char *env, *dest, *ex;
            check(celery_restore_envelope(value, strlen(value), &env, &dest, &ex) == 0,
                  "unacked value of a task restores");
            struct celery_msg r;
            check(celery_msg_decode(env, strlen(env), &r, err, sizeof(err)) == 0,
                  "restored envelope decodes");
            check(r.redelivered && strcmp(r.id, m.id) == 0, "restored keeps id, redelivered");
            celery_msg_release(&r);
            free(value);
            free(env);
            free(dest);
            free(ex);
        }
    }
    celery_msg_release(&m);
    char *env, *dest, *ex;
    if (celery_restore_envelope(raw, size, &env, &dest, &ex) == 0) {
        free(env);
        free(dest);
        free(ex);
    }
    json_t *doc;
    const char *status;
    if (celery_meta_decode(raw, size, &doc, &status) == 0) {
        check(status != NULL, "meta has a status");
        json_decref(doc);
    }
    return 0;
}
