/*
 * The run-history exporter's formats. The original (tooling/scripts/
 * export_provider_automation_runs.py) flattened the history into rows and wrote them with
 * json.dumps(payload, indent=2) or csv.DictWriter, and the files it produced are read by BI
 * pipelines that compare bytes, so this file reproduces both writers: the indented JSON
 * layout (", " becomes ",\n" plus indentation, ": " between key and value, "[]" and "{}" for
 * empty containers, ensure_ascii), and the csv module's excel dialect (CRLF, quotes only
 * around cells holding a comma, quote, CR or LF, inner quotes doubled, str() of each value,
 * which for a list or dict is Python's repr()). Scalars are rendered by codec/pyjson.c so
 * that escaping and float digits are exactly those of every other JSON we write.
 */
#include "codec/export_format.h"

#include <stdint.h>
#include <string.h>

#include "base/error.h"
#include "base/pynum.h"
#include "base/sb.h"
#include "codec/pyjson.h"

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

/* One UTF-8 sequence (jansson guarantees well-formed text); its length, code point in *cp. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    if (len > n) {
        *cp = c;
        return 1;
    }
    if (len > 1)
        c &= 0x3Fu >> (len - 1);
    for (size_t i = 1; i < len; i++)
        c = (c << 6) | (s[i] & 0x3Fu);
    *cp = c;
    return len;
}

/* Python's str.isprintable() for a non-ASCII code point, for the categories that occur in
 * practice: C1 controls, the separators other than space, the common format characters and
 * private use are not printable; everything else is taken as printable. */
static int py_printable(uint32_t cp)
{
    if (cp <= 0xA0 || cp == 0xAD || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200F) ||
        (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 ||
        cp == 0xFEFF || (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0xE000 && cp <= 0xF8FF) ||
        (cp >= 0x600 && cp <= 0x605) || cp == 0x61C || cp == 0x6DD || cp == 0x70F || cp == 0x180E ||
        cp >= 0xF0000)
        return 0;
    return 1;
}

/* repr(str): single quotes unless the text holds a single quote and no double quote;
 * backslash, the chosen quote, \t \n \r escaped; other controls and non-printable code
 * points as \xNN, \uNNNN or \UNNNNNNNN; printable non-ASCII kept as UTF-8. */
static void repr_string(struct sb *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    char quote = memchr(str, '\'', n) && !memchr(str, '"', n) ? '"' : '\'';
    sb_putc(out, quote);
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_next(s + i, n - i, &cp);
        if (cp == (uint32_t)quote || cp == '\\') {
            sb_putc(out, '\\');
            sb_putc(out, (char)cp);
        } else if (cp == '\t') {
            sb_puts(out, "\\t");
        } else if (cp == '\n') {
            sb_puts(out, "\\n");
        } else if (cp == '\r') {
            sb_puts(out, "\\r");
        } else if (cp < 0x20 || cp == 0x7F) {
            sb_printf(out, "\\x%02x", (unsigned)cp);
        } else if (cp < 0x7F || py_printable(cp)) {
            sb_append(out, s + i, len);
        } else if (cp <= 0xFF) {
            sb_printf(out, "\\x%02x", (unsigned)cp);
        } else if (cp <= 0xFFFF) {
            sb_printf(out, "\\u%04x", (unsigned)cp);
        } else {
            sb_printf(out, "\\U%08x", (unsigned)cp);
        }
        i += len;
    }
    sb_putc(out, quote);
}

static int repr_value(struct sb *out, const json_t *v, int depth)
{
    if (depth > PYJSON_MAX_DUMP_DEPTH)
        return ERR_LIMIT;
    char num[PYNUM_BUFSZ];
    int rc;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        sb_putc(out, '{');
        const char *key;
        json_t *x;
        int first = 1;
        json_object_foreach ((json_t *)v, key, x) {
            if (!first)
                sb_puts(out, ", ");
            first = 0;
            repr_string(out, key, strlen(key));
            sb_puts(out, ": ");
            if ((rc = repr_value(out, x, depth + 1)) != 0)
                return rc;
        }
        sb_putc(out, '}');
        return 0;
    }
    case JSON_ARRAY: {
        sb_putc(out, '[');
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x) {
            if (i > 0)
                sb_puts(out, ", ");
            if ((rc = repr_value(out, x, depth + 1)) != 0)
                return rc;
        }
        sb_putc(out, ']');
        return 0;
    }
    case JSON_STRING:
        repr_string(out, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        sb_printf(out, "%lld", (long long)json_integer_value(v));
        return 0;
    case JSON_REAL:
        sb_append(out, num, pynum_float(json_real_value(v), num));
        return 0;
    case JSON_TRUE:
        sb_puts(out, "True");
        return 0;
    case JSON_FALSE:
        sb_puts(out, "False");
        return 0;
    default:
        sb_puts(out, "None");
        return 0;
    }
}

int export_py_repr(struct sb *out, const json_t *v)
{
    return repr_value(out, v, 0);
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
        return export_py_repr(cell, v);
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
