/*
 * Request validation with the original's error shape (FastAPI/pydantic v2):
 * 422 {"detail": [{"type", "loc", "msg", "input", "ctx"?, "url"}]}. Bodies are checked against
 * a table of fields; query parameters with the helpers below.
 */
#ifndef SMPLAT_APP_VALIDATE_H
#define SMPLAT_APP_VALIDATE_H

#include <jansson.h>

#include "adapters/http_server/server.h"

#define BODY_MAX_DEPTH 32

enum field_type {
    FIELD_STRING,
    FIELD_NUMBER,   /* int or float (not bool), numeric strings accepted as pydantic does */
    FIELD_INT,      /* integer (floats with no fraction and numeric strings accepted) */
    FIELD_BOOL,     /* true/false, 0/1, "true"/"false"/"yes"/"no"/"on"/"off"/"1"/"0" */
    FIELD_OBJECT,   /* JSON object */
    FIELD_STR_LIST, /* array of strings */
    FIELD_DATETIME, /* ISO-8601 string */
    FIELD_ENUM,     /* one of enum_values (strings) */
    FIELD_ANY,
};

struct field_spec {
    const char *name;
    enum field_type type;
    int required;
    int nullable;
    long min_len; /* strings: 0 = no minimum */
    long max_len; /* strings: 0 = no maximum */
    int has_ge;   /* numbers: value >= ge */
    double ge;
    const char *const *enum_values; /* FIELD_ENUM: NULL-terminated */
};

/* Parses and checks a JSON object body. Returns the body (new reference; values coerced to
 * their types, e.g. "5" -> 5 for FIELD_INT) or NULL with *errors set to the detail array (new
 * reference). body_required: a missing body is an error (type "missing", loc ["body"]).
 * forbid_extra: unknown keys are "extra_forbidden". */
json_t *validate_body(const char *body, size_t len, const struct field_spec *specs,
                      int body_required, int forbid_extra, json_t **errors);

/* One error object, for hand-made checks. ctx may be NULL; input is borrowed. */
json_t *validate_error(const char *type, json_t *loc, const char *msg, const json_t *input,
                       json_t *ctx);

/* Integer query parameter in [lo, hi]. Returns 1 when absent (*out untouched), 0 when valid,
 * -1 when invalid with an error appended to errors. */
int validate_query_int(const struct http_req *req, const char *name, long lo, long hi, long *out,
                       json_t *errors);

/* Query parameter that must be one of values (NULL-terminated). Returns 1 when absent (*out
 * untouched), 0 when valid (*out borrowed from the request), -1 when invalid with pydantic's
 * "enum" error appended to errors. */
int validate_query_enum(const struct http_req *req, const char *name, const char *const *values,
                        const char **out, json_t *errors);

/* Fills rep with 422 {"detail": errors} (steals errors). */
void reply_validation(struct http_reply *rep, json_t *errors);
/* Fills rep with status and JSON body (steals body), compact. */
void reply_json(struct http_reply *rep, int status, json_t *body);
/* Fills rep with {"detail": detail}. */
void reply_detail(struct http_reply *rep, int status, const char *detail);
/* 204 with no body. */
void reply_empty(struct http_reply *rep, int status);

#endif
