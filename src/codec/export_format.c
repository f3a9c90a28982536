/*
 * The run-history exporter's formats. The original (tooling/scripts/
 * export_provider_automation_runs.py) flattened the history into rows and wrote them with
 * json.dumps(payload, indent=2) or csv.DictWriter, and the files it produced are read by BI
 * pipelines that compare bytes, so this file reproduces both writers: the indented JSON
 * layout (", " becomes ",\n" plus indentation, ": " between key and value, "[]" and "{}" for
 * empty containers, ensure_ascii), and the csv module's excel dialect (CRLF, quotes only
 * around cells holding a comma, quote, CR or LF, inner quotes doubled, str() of each value,
 * which for a list or dict is Python's repr()). Scalars are rendered by core/pyjson.c so
 * that escaping and float digits are exactly those of every other JSON we write.
 */
#include "codec/export_format.h"

#include <stdint.h>
#include <string.h>

#include "base/error.h"
#include "base/pynum.h"
#include "base/sb.h"
#include "core/pyjson.h"

/* The row keys of §7.2, in order, and the summary key each one copies (NULL: not a copy). */
static const struct {
    const char *row_key;
    const char *summary_key;
} row_fields[] = {
    {"scheduled_backlog", "scheduledBacklog"},
    {"next_scheduled_at", "nextScheduledAt"},
    {"processed", "processed"},
    {"succeeded", "succeeded"},
    {"failed", "failed"},
    {"alerts_sent", "alertsSent"},
    {"alerts_digest", "alertsDigest"},
    {"load_alerts_digest", "loadAlertsDigest"},
};

#define NROW_FIELDS (sizeof(row_fields) / sizeof(row_fields[0]))

static json_t *get_or_null(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return v ? json_incref(v) : json_null();
}

/* Python truthiness of a decoded JSON value, for the original's `entry.get("summary") or {}`. */
static int py_truthy(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0.0;
    case JSON_TRUE:
        return 1;
    default:
        return 0;
    }
}

json_t *export_flatten(const json_t *history)
{
    if (!json_is_object(history))
        return NULL;
    json_t *rows = json_array();
    const char *category;
    json_t *entries;
    json_object_foreach ((json_t *)history, category, entries) {
        if (!json_is_array(entries))
            continue;
        size_t i;
        json_t *entry;
        json_array_foreach (entries, i, entry) {
            if (!json_is_object(entry))
                continue;
            json_t *summary = json_object_get(entry, "summary");
            summary = summary && py_truthy(summary) && json_is_object(summary)
                          ? json_incref(summary)
                          : json_object();
            json_t *row = json_object();
            json_object_set_new(row, "category", json_string(category));
            json_object_set_new(row, "ran_at", get_or_null(entry, "ranAt"));
            for (size_t f = 0; f < NROW_FIELDS; f++)
                json_object_set_new(row, row_fields[f].row_key,
                                    get_or_null(summary, row_fields[f].summary_key));
            json_object_set_new(row, "summary", summary);
            json_array_append_new(rows, row);
        }
    }
    return rows;
}

const char *export_py_type_name(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT:
        return "dict";
    case JSON_ARRAY:
        return "list";
    case JSON_STRING:
        return "str";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "NoneType";
    }
}

static void put_indent(struct sb *out, int level)
{
    sb_putc(out, '\n');
    for (int i = 0; i < level; i++)
        sb_puts(out, "  ");
}

static int dump_key(struct sb *out, const char *key)
{
    json_t *k = json_string(key);
    int rc = pyjson_dump_sb(out, k, PYJSON_ENSURE_ASCII);
    json_decref(k);
    return rc;
}

/* json.dumps(indent=2): every element of a non-empty container on its own line, indented
 * two spaces per level, "," at the end of all but the last, the closing bracket back at the
 * container's own level. Scalars go through pyjson so escapes and digits match. */
static int dump_indented(struct sb *out, const json_t *v, int level)
{
    if (level > PYJSON_MAX_DUMP_DEPTH)
        return ERR_LIMIT;
    int rc;
    if (json_is_object(v)) {
        if (json_object_size(v) == 0) {
            sb_puts(out, "{}");
            return 0;
        }
        sb_putc(out, '{');
        const char *key;
        json_t *x;
        int first = 1;
        json_object_foreach ((json_t *)v, key, x) {
            if (!first)
                sb_putc(out, ',');
            first = 0;
            put_indent(out, level + 1);
            if ((rc = dump_key(out, key)) != 0)
                return rc;
            sb_puts(out, ": ");
            if ((rc = dump_indented(out, x, level + 1)) != 0)
                return rc;
        }
        put_indent(out, level);
        sb_putc(out, '}');
        return 0;
    }
    if (json_is_array(v)) {
        if (json_array_size(v) == 0) {
            sb_puts(out, "[]");
            return 0;
        }
        sb_putc(out, '[');
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x) {
            if (i > 0)
                sb_putc(out, ',');
            put_indent(out, level + 1);
            if ((rc = dump_indented(out, x, level + 1)) != 0)
                return rc;
        }
        put_indent(out, level);
        sb_putc(out, ']');
        return 0;
    }
    return pyjson_dump_sb(out, v, PYJSON_ENSURE_ASCII);
}

int export_format_json(struct sb *out, const json_t *rows)
{
    json_t *doc = json_pack("{s:O}", "runs", (json_t *)rows);
    if (!doc)
        return ERR_INVALID;
    int rc = dump_indented(out, doc, 0);
    json_decref(doc);
    return rc;
}

/* One cell as csv.writer writes it: quoted (with inner quotes doubled) only when it holds
 * the delimiter, the quote character or a line-terminator character. */
static void put_cell(struct sb *out, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        sb_append(out, s, n);
        return;
    }
    sb_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            sb_putc(out, '"');
        sb_putc(out, s[i]);
    }
    sb_putc(out, '"');
}

/* str() of a value in a scalar column: None is the empty cell, bools True/False, floats
 * repr(), strings as they are, containers repr(). */
static int scalar_text(struct sb *cell, const json_t *v)
{
    char num[PYNUM_BUFSZ];
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_NULL:
        return 0;
    case JSON_STRING:
        sb_append(cell, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_REAL:
        sb_append(cell, num, pynum_float(json_real_value(v), num));
        return 0;
    default:
        return pyjson_repr_sb(cell, v);
    }
}

int export_format_csv(struct sb *out, const json_t *rows)
{
    static const char *const scalar_keys[] = {
        "category",  "ran_at", "scheduled_backlog", "next_scheduled_at", "processed",
        "succeeded", "failed", "alerts_sent",
    };
    static const char *const json_keys[] = {"alerts_digest", "load_alerts_digest", "summary"};
    sb_puts(out, EXPORT_CSV_HEADER "\r\n");
    struct sb cell = SB_INIT;
    int rc = 0;
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        for (size_t k = 0; k < sizeof(scalar_keys) / sizeof(scalar_keys[0]); k++) {
            sb_reset(&cell);
            if ((rc = scalar_text(&cell, json_object_get(row, scalar_keys[k]))) != 0)
                goto out;
            put_cell(out, sb_str(&cell), cell.len);
            sb_putc(out, ',');
        }
        for (size_t k = 0; k < sizeof(json_keys) / sizeof(json_keys[0]); k++) {
            sb_reset(&cell);
            json_t *v = json_object_get(row, json_keys[k]);
            json_t *null = json_null();
            rc = pyjson_dump_sb(&cell, v ? v : null, PYJSON_ENSURE_ASCII);
            json_decref(null);
            if (rc != 0)
                goto out;
            put_cell(out, sb_str(&cell), cell.len);
            if (k + 1 < sizeof(json_keys) / sizeof(json_keys[0]))
                sb_putc(out, ',');
        }
        sb_puts(out, "\r\n");
    }
out:
    sb_release(&cell);
    return rc;
}
