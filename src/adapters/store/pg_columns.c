/*
 * Rows of the column tables of columns.h on PostgreSQL, shared by the catalog and order
 * queries: the select list (everything as text, timestamps as exact microseconds, as pg.c reads
 * times), a result row as a JSON object, a row value as a text parameter and the cast its
 * placeholder takes (none for text, so enum columns of an existing smplat database accept
 * their values).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "adapters/store/pg_internal.h"
#include "base/iso8601.h"
#include "base/num.h"
#include "base/uuid.h"

void pg_select_list(struct sb *sql, const struct col *cols)
{
    for (size_t i = 0; cols[i].name; i++) {
        const char *c = cols[i].name;
        if (i)
            sb_puts(sql, ", ");
        if (cols[i].kind == COL_TIME)
            sb_printf(sql,
                      "(EXTRACT(EPOCH FROM date_trunc('second', %s))::bigint * 1000000 + "
                      "EXTRACT(MICROSECONDS FROM %s)::bigint %% 1000000)",
                      c, c);
        else
            sb_printf(sql, "%s::text", c);
    }
}

json_t *pg_row_json(const PGresult *res, int r, const struct col *cols)
{
    json_t *row = json_object();
    for (int i = 0; cols[i].name; i++) {
        json_t *v = NULL;
        if (!PQgetisnull(res, r, i)) {
            const char *t = PQgetvalue(res, r, i);
            double d;
            int64_t n;
            switch (cols[i].kind) {
            case COL_TEXT:
            case COL_UUID:
                v = json_stringn(t, (size_t)PQgetlength(res, r, i));
                break;
            case COL_JSON:
                v = pg_json(res, r, i);
                break;
            case COL_NUM:
                v = num_parse_double(t, &d) == 0 ? json_real(d) : NULL;
                break;
            case COL_INT:
            case COL_TIME:
                v = num_parse_i64(t, &n) == 0 ? json_integer(n) : NULL;
                break;
            }
        }
        json_object_set_new(row, cols[i].name, v ? v : json_null());
    }
    return row;
}

char *pg_col_param_text(enum col_kind k, const json_t *v, int *bad)
{
    char buf[64];
    if (v == NULL || json_is_null(v))
        return NULL;
    switch (k) {
    case COL_JSON: {
        char *t = store_json_dump(v);
        if (!t)
            *bad = 1;
        return t;
    }
    case COL_TIME:
        if (!json_is_integer(v))
            break;
        iso_format_utc(json_integer_value(v), buf);
        return xstrdup(buf);
    case COL_NUM:
        if (!json_is_number(v))
            break;
        snprintf(buf, sizeof(buf), "%.17g", json_number_value(v));
        return xstrdup(buf);
    case COL_INT:
        if (!json_is_integer(v))
            break;
        snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)json_integer_value(v));
        return xstrdup(buf);
    case COL_UUID: {
        char canon[UUID_STRLEN + 1];
        if (!json_is_string(v) || uuid_parse(json_string_value(v), canon) != 0)
            break;
        return xstrdup(canon);
    }
    case COL_TEXT:
        if (!json_is_string(v))
            break;
        return xstrdup(json_string_value(v));
    }
    *bad = 1;
    return NULL;
}

const char *pg_col_cast(enum col_kind k)
{
    switch (k) {
    case COL_UUID:
        return "::uuid";
    case COL_JSON:
        return "::json";
    case COL_NUM:
        return "::numeric";
    case COL_INT:
        return "::int";
    case COL_TIME:
        return "::timestamptz";
    case COL_TEXT:
        break;
    }
    return ""; /* text and enums: the column's type decides */
}
