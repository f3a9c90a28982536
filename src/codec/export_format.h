/*
 * The run-history exporter's pure part (spec-api-ui §7.2, §7.4, §7.5): the history document
 * flattened into rows, and the rows written as the original Python exporter wrote them,
 * json.dumps(indent=2) or csv.writer (excel dialect, CRLF), byte for byte.
 */
#ifndef SMPLAT_CODEC_EXPORT_FORMAT_H
#define SMPLAT_CODEC_EXPORT_FORMAT_H

#include <jansson.h>

struct sb;

/* The CSV header line, without its CRLF. */
#define EXPORT_CSV_HEADER                                                                          \
    "category,ran_at,scheduled_backlog,next_scheduled_at,processed,succeeded,failed,alerts_"       \
    "sent,alerts_digest,load_alerts_digest,summary_json"

/* Flattens a history document ({"replay": [...], "alerts": [...]}, borrowed) into an array of
 * row objects (new reference) with the keys of §7.2 in order. Returns NULL when history is
 * not an object (the original fails there: see export_py_type_name). */
json_t *export_flatten(const json_t *history);

/* The name Python gives the type of a decoded JSON value ("list", "str", "int", "float",
 * "bool", "NoneType", "dict"), for the original's "'list' object has no attribute 'items'". */
const char *export_py_type_name(const json_t *v);

/* Appends {"runs": rows} as Python's json.dumps(indent=2) (ensure_ascii, no trailing
 * newline). rows is borrowed. 0, or ERR_LIMIT when nested deeper than PYJSON_MAX_DUMP_DEPTH. */
int export_format_json(struct sb *out, const json_t *rows);

/* Appends the CSV (header and one line per row, each ending in CRLF). rows is borrowed.
 * 0, or ERR_LIMIT as above. */
int export_format_csv(struct sb *out, const json_t *rows);

#endif
