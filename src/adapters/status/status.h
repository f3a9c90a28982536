/*
 * Status store backends (core/status.h): the database table
 * provider_automation_status (embedded default) and Redis under the original
 * keys when REDIS_URL is set.
 */
#ifndef SMPLAT_ADAPTERS_STATUS_H
#define SMPLAT_ADAPTERS_STATUS_H

#include "core/status.h"
#include "core/store.h"

/* Borrows store; it must outlive the status store. */
struct status_store *status_db_new(struct store *store);
/* redis://[user:password@]host[:port][/db] or unix:///path[?db=N]. NULL with
 * *error. */
struct status_store *status_redis_new(const char *url, char **error);

/* Parsed Redis URL, shared with the Celery broker. */
struct redis_url {
    char *host; /* NULL for unix sockets */
    int port;
    char *path; /* unix socket path or NULL */
    char *username;
    char *password;
    int db;
};
int redis_url_parse(const char *url, struct redis_url *out, char **error);
void redis_url_release(struct redis_url *u);

#endif
