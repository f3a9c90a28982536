/*
 * Rows of the column tables of columns.h on SQLite, shared by the catalog and order queries:
 * the select list, a result row as a JSON object, a row value bound as its column's kind.
 * JSON columns hold Python json.dumps text, times ISO-8601 UTC text, uuids their canonical
 * lowercase form.
 */
#include <stdlib.h>

#include "adapters/store/sqlite_internal.h"
#include "adapters/store/store_internal.h"
#include "base/error.h"
#include "base/uuid.h"

void sq_select_list(struct sb *sql, const struct col *cols)
{
    for (size_t i = 0; cols[i].name; i++)
        sb_printf(sql, "%s%s", i ? ", " : "", cols[i].name);
}

json_t *sq_row_json(sqlite3_stmt *st, const struct col *cols)
{
    json_t *row = json_object();
    for (int i = 0; cols[i].name; i++) {
        json_t *v = NULL;
        int null = sqlite3_column_type(st, i) == SQLITE_NULL;
        switch (cols[i].kind) {
        case COL_TEXT:
        case COL_UUID: {
            char *t = sq_col_text(st, i);
            v = t ? json_string(t) : NULL;
            free(t);
            break;
        }
        case COL_JSON:
            v = sq_col_json(st, i);
            break;
        case COL_NUM:
            v = null ? NULL : json_real(sqlite3_column_double(st, i));
            break;
        case COL_INT:
            v = null ? NULL : json_integer(sqlite3_column_int64(st, i));
            break;
        case COL_TIME: {
            int64_t us = sq_col_time(st, i);
            v = us == STORE_NO_TIME ? NULL : json_integer(us);
            break;
        }
        }
        json_object_set_new(row, cols[i].name, v ? v : json_null());
    }
    return row;
}

int sq_bind_col(sqlite3_stmt *st, int i, enum col_kind k, const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        sqlite3_bind_null(st, i);
        return 0;
    }
    switch (k) {
    case COL_JSON: {
        char *text = store_json_dump(v);
        if (text == NULL)
            return ERR_INVALID;
        sqlite3_bind_text(st, i, text, -1, free);
        return 0;
    }
    case COL_TIME:
        if (!json_is_integer(v))
            return ERR_INVALID;
        sq_bind_time(st, i, json_integer_value(v));
        return 0;
    case COL_NUM:
        if (!json_is_number(v))
            return ERR_INVALID;
        sqlite3_bind_double(st, i, json_number_value(v));
        return 0;
    case COL_INT:
        if (!json_is_integer(v))
            return ERR_INVALID;
        sqlite3_bind_int64(st, i, json_integer_value(v));
        return 0;
    case COL_UUID: {
        char canon[UUID_STRLEN + 1];
        if (!json_is_string(v) || uuid_parse(json_string_value(v), canon) != 0)
            return ERR_INVALID;
        sq_bind_text(st, i, canon);
        return 0;
    }
    case COL_TEXT:
        if (!json_is_string(v))
            return ERR_INVALID;
        sq_bind_text(st, i, json_string_value(v));
        return 0;
    }
    return ERR_INVALID;
}
