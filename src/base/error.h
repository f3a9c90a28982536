/*
 * One error convention for the whole tree: functions return 0 (or a count) on success and one
 * of these negative codes on failure. A layer that can say more keeps a message next to the
 * code (for example store_ops.last_error); commands log it once.
 */
#ifndef SMPLAT_BASE_ERROR_H
#define SMPLAT_BASE_ERROR_H

enum {
    ERR_NOMEM = -1,     /* allocation failed */
    ERR_INVALID = -2,   /* bad input: the caller's fault */
    ERR_NOT_FOUND = -3, /* the thing asked for does not exist */
    ERR_CONFLICT = -4,  /* a uniqueness or state conflict */
    ERR_IO = -5,        /* a system call or a peer failed */
    ERR_DB = -6,        /* the database refused or failed */
    ERR_BUSY = -7,      /* try again later */
    ERR_LIMIT = -8,     /* a size or depth limit was exceeded */
    ERR_CONFIG = -9,    /* configuration is wrong */
};

/* A short English name of a code ("not found"), for messages. */
const char *error_name(int code);

#endif
