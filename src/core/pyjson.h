/*
 * JSON text exactly as Python's json.dumps writes it, and bounded JSON parsing, over
 * jansson values. Redis entries and stored payloads must keep the original's bytes:
 * separators ", " and ": ", keys in insertion order, floats as repr() ("150.0", "1e-05"),
 * non-ASCII escaped as \uXXXX by default.
 */
#ifndef SMPLAT_CODEC_PYJSON_H
#define SMPLAT_CODEC_PYJSON_H

#include <stddef.h>

#include <jansson.h>

struct sb;

enum {
    PYJSON_SPACED = 0,            /* json.dumps default separators (", ", ": ") */
    PYJSON_COMPACT = 1 << 0,      /* separators=(",", ":") */
    PYJSON_ENSURE_ASCII = 1 << 1, /* ensure_ascii=True (Python's default) */
};

/* Deepest nesting pyjson_dumps will render; deeper (or cyclic) values fail with ERR_LIMIT. */
#define PYJSON_MAX_DUMP_DEPTH 1024

/* Renders v (borrowed). Returns new malloc'd text, or NULL when v is NULL, nested deeper than
 * PYJSON_MAX_DUMP_DEPTH, or of an unknown type. */
char *pyjson_dumps(const json_t *v, int flags);
/* Appends the rendering of v (borrowed) to out. 0, ERR_INVALID or ERR_LIMIT; on failure out
 * may hold a partial rendering. */
int pyjson_dump_sb(struct sb *out, const json_t *v, int flags);

/* Appends Python's repr() of v (borrowed) as the original held it: dict, list, str, int,
 * float, bool or None ({'a': [1, 2.0, True, None]}). 0, ERR_INVALID or ERR_LIMIT (nested deeper
 * than PYJSON_MAX_DUMP_DEPTH). */
int pyjson_repr_sb(struct sb *out, const json_t *v);

/* Parses one JSON value of any type from text[0..len). Strings containing NUL (\u0000) are
 * refused, as are documents whose arrays/objects nest deeper than max_depth (a top-level
 * array or object is depth 1). Returns a new reference, or NULL with a message in err
 * (err may be NULL when errlen is 0). Duplicate keys: the last value wins, at the first
 * key's position, as in Python. */
json_t *pyjson_loads(const char *text, size_t len, size_t max_depth, char *err, size_t errlen);

#endif
