/*
 * Names of the tree-wide error codes. Commands log failures once, and a short English name
 * next to the numeric code makes those lines readable without a lookup table in every caller.
 */
#include "base/error.h"

const char *error_name(int code)
{
    switch (code) {
    case 0:
        return "ok";
    case ERR_NOMEM:
        return "out of memory";
    case ERR_INVALID:
        return "invalid input";
    case ERR_NOT_FOUND:
        return "not found";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_IO:
        return "i/o error";
    case ERR_DB:
        return "database error";
    case ERR_BUSY:
        return "busy";
    case ERR_LIMIT:
        return "limit exceeded";
    case ERR_CONFIG:
        return "configuration error";
    default:
        return code > 0 ? "ok" : "unknown error";
    }
}
