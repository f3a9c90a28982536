/*
 * Celery message protocol v2 in the kombu Redis envelope, and Celery result
 * metas (docs/CELERY.md, shared/spec/reference/celery-wire.md §2, §5): pure
 * translation between bytes and values, no I/O.
 *
 * An envelope is the JSON object kombu LPUSHes: body, content-type,
 * content-encoding, headers, properties. The body is base64 (or plain) JSON
 * [args, kwargs, embed]. Unknown headers and properties are ignored.
 */
#ifndef SMPLAT_CODEC_CELERY_H
#define SMPLAT_CODEC_CELERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Everything the network controls has a limit. */
#define CELERY_MAX_MESSAGE (1024 * 1024) /* envelope bytes */
#define CELERY_MAX_DEPTH 32              /* JSON nesting of envelope and body */
#define CELERY_NO_TIME INT64_MIN

/* Decoding outcomes besides 0. */
enum {
    CELERY_E_MALFORMED = -100,    /* not a kombu envelope; nothing usable */
    CELERY_E_CONTENT_TYPE = -101, /* envelope fine, content type not JSON: never run */
    CELERY_E_NOT_TASK = -102,     /* no task header (protocol v1, event, pidbox) */
    CELERY_E_BODY = -103,         /* task message whose body does not decode */
};

struct celery_msg {
    json_t *envelope; /* the parsed envelope (owned) */
    const char *content_type;
    const char *task;      /* headers.task; NULL for CELERY_E_NOT_TASK */
    const char *id;        /* headers.id (or properties.correlation_id) */
    const char *root_id;   /* may be NULL */
    const char *parent_id; /* may be NULL */
    const char *group;     /* may be NULL */
    const char *delivery_tag;
    const char *exchange;    /* properties.delivery_info.exchange ("" when absent) */
    const char *routing_key; /* properties.delivery_info.routing_key, may be NULL */
    int64_t eta_us;          /* CELERY_NO_TIME when none */
    int64_t expires_us;      /* CELERY_NO_TIME when none */
    int retries;
    int priority;
    int ignore_result;
    int redelivered;
    json_t *args;   /* borrowed from body (array); NULL until the body decodes */
    json_t *kwargs; /* borrowed from body (object) */
    json_t *body;   /* owned */
};

/* Decodes raw[0..len). On 0 every field is set. On CELERY_E_CONTENT_TYPE,
 * CELERY_E_NOT_TASK and CELERY_E_BODY the envelope fields that were readable
 * are set (id, task, delivery_tag when present) so the caller can log and
 * answer. On CELERY_E_MALFORMED only envelope may be NULL. err gets a reason.
 * Always release with celery_msg_release. */
int celery_msg_decode(const char *raw, size_t len, struct celery_msg *out, char *err,
                      size_t errlen);
void celery_msg_release(struct celery_msg *m);

/* What a producer sets; everything else gets the §2.1 defaults. */
struct celery_publish {
    const char *task;
    const char *id;              /* NULL: a fresh uuid4 */
    const char *queue;           /* routing key */
    const json_t *args;          /* borrowed; NULL: [] */
    const json_t *kwargs;        /* borrowed; NULL: {} */
    int64_t eta_us;              /* CELERY_NO_TIME: none */
    int64_t expires_us;          /* CELERY_NO_TIME: none */
    int priority;                /* 0..9 */
    const char *origin;          /* "<name>@<host>" */
    const json_t *extra_headers; /* borrowed object merged into headers, or NULL */
};

/* Renders the envelope (Python key order, lang "c", base64 body). New text;
 * *task_id_out (37 bytes, may be NULL) gets the id used. */
char *celery_msg_encode(const struct celery_publish *p, char task_id_out[37]);

/* The priority bucket key of queue for priority p with kombu's default steps
 * [0, 3, 6, 9] and separator "\x06\x16": "q", "q\x06\x163", ... New text. */
char *celery_queue_key(const char *queue, int priority);
/* The queue name of a list key (the bucket suffix removed). New text. */
char *celery_key_queue(const char *key);

/* The value kombu stores in the unacked hash: "[<raw>, \"ex\", \"rk\"]", the
 * raw bytes spliced in. New text. */
char *celery_unacked_value(const char *raw, size_t len, const char *exchange,
                           const char *routing_key);
/* From an unacked value: the envelope to push back (headers.redelivered and
 * properties.delivery_info.redelivered set to true), its destination list key
 * (priority bucket kept, as current kombu does) and its exchange. 0 or
 * ERR_INVALID. */
int celery_restore_envelope(const char *value, size_t len, char **envelope, char **dest_key,
                            char **exchange);

/* Result metas. */
enum celery_state { CELERY_STARTED, CELERY_SUCCESS, CELERY_FAILURE, CELERY_REVOKED, CELERY_RETRY };

struct celery_meta {
    enum celery_state state;
    const json_t *result;  /* borrowed; NULL renders null */
    const char *traceback; /* NULL renders null */
    const char *task_id;
    int64_t date_done_us;  /* CELERY_NO_TIME renders null */
    const char *group_id;  /* NULL: key omitted */
    const char *parent_id; /* NULL: key omitted */
};

/* Renders a meta as Celery 5 writes it (key order status, result, traceback,
 * children, date_done, [group_id], [parent_id], task_id). New text. */
char *celery_meta_encode(const struct celery_meta *m);
/* An exception dict {"exc_type", "exc_message": [message], "exc_module"}. New
 * reference. */
json_t *celery_exc(const char *type, const char *module, const char *message);
const char *celery_state_name(enum celery_state s);

/* Parses a stored meta: its status (borrowed from *doc) and the document (new
 * reference). 0 or ERR_INVALID. */
int celery_meta_decode(const char *text, size_t len, json_t **doc, const char **status);

/* Base64 (standard alphabet, padded). */
char *celery_b64_encode(const unsigned char *data, size_t len);
/* Decodes; ignores nothing: any bad character fails. NULL on error. */
unsigned char *celery_b64_decode(const char *text, size_t len, size_t *out_len);

#endif
