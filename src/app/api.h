/* The HTTP API of smplat serve (routes in api.c) and its per-request store
 * pool. */
#ifndef SMPLAT_APP_API_H
#define SMPLAT_APP_API_H

#include <pthread.h>

#include "adapters/http_server/server.h"
#include "app/app.h"

#define API_POOL_MAX 16
#define API_HISTORY_CACHE 8

struct api {
    const struct config *cfg; /* borrowed */
    pthread_mutex_t mu;
    struct store *free_stores[API_POOL_MAX];
    size_t nfree;
    struct status_store *redis; /* shared, under redis_mu; NULL without REDIS_URL */
    pthread_mutex_t redis_mu;
    unsigned long demo_orders;
    char open_error[512]; /* why the last store_open failed (under mu); never holds a password */
    /* Rendered history responses by limit, valid while the run history's version token is
     * unchanged (api_automation.c). Under history_mu. */
    pthread_mutex_t history_mu;
    struct {
        long limit;
        char *token;
        char *body;
        size_t len;
    } history_cache[API_HISTORY_CACHE];
};

int api_init(struct api *api, const struct config *cfg, char **error);
void api_release(struct api *api);
void api_handler(struct api *api, struct http_handler *h);
struct store *api_store_acquire(struct api *api);
void api_store_release(struct api *api, struct store *s);
/* 503 {"detail": "Database unavailable: <why the connection failed>"}. */
void api_reply_unavailable(struct api *api, struct http_reply *rep);
/* {"replay": RunStatus|null, "alerts": RunStatus|null} with the history
 * backfill. */
json_t *api_status(struct api *api, struct store *s);
json_t *api_run_status_payload(const struct run_row *run);
/* Reads a status blob from the configured status store (Redis or the database). */
int api_status_get(struct api *api, struct store *s, const char *key, char **value);

/* smplat serve / demo: runs until SIGTERM or SIGINT. Returns an exit code. */
int serve_run(const char *host, int port, int demo);
/* Seeds the demo providers, orders and schedules when absent. 0 or a negative
 * code. */
int demo_seed(struct store *s, int port, char **error);

#endif
