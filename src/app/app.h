/*
 * Wiring shared by the commands: configuration -> logging, store, status store,
 * provider transport, and the replay environment built from them.
 */
#ifndef SMPLAT_APP_APP_H
#define SMPLAT_APP_APP_H

#include <jansson.h>

#include "codec/config.h"
#include "core/replay.h"
#include "core/status.h"
#include "core/store.h"
#include "core/transport.h"

/* Exit codes of every command (INTERFACE.md §2). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

struct app {
    struct config cfg;
    struct store *store;
    struct status_store *status;
    struct http_transport *transport;
    char owner[160];
    struct replay_env replay;
};

/* Loads configuration (./.env and the environment) and sets up logging. Returns
 * 0 or EXIT_USAGE with the message already logged. */
int app_config(struct app *app);
/* Opens the store (migrating it), the status store and the transport. Returns 0
 * or EXIT_FAILED / EXIT_USAGE with the message already logged. */
int app_open(struct app *app);
/* A transport under the configured outbound policy (DECISIONS 13); NULL with *error (owned). */
struct http_transport *app_transport_new(const struct config *cfg, char **error);
void app_close(struct app *app);

/* The task layer (spec-replay §9), shared by the CLI, loops, Celery and "Run
 * now". */

/* One scheduled pass, then status and run history recorded (DECISIONS 7, 8).
 * limit 0 means the configured default. Returns 0 with *summary (new reference)
 * or a negative code with *error owned. */
int task_run_scheduled(struct app *app, int limit, json_t **summary, char **error);
/* Replays one provider order now (CLI): records the status blob and the
 * timeline. */
int task_replay_single(struct app *app, const char *provider_id, const char *po_id,
                       const json_t *amount, json_t **entry, char **error);

#endif
