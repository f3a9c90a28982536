/*
 * smplat serve / smplat demo: parse --host/--port and hand over to app/serve.c.
 * Also provider-alerts: one pass of the alert worker (app/alert_task.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/alerts.h"
#include "app/api.h"
#include "base/log.h"
#include "base/num.h"
#include "cmd/args.h"
#include "cmd/commands.h"
#include "core/pyjson.h"

int cmd_serve(int argc, char **argv, int demo)
{
    const char *host = NULL, *port_s = NULL;
    struct arg_spec specs[] = {{"host", 0, 1, &host}, {"port", 0, 1, &port_s}, {NULL, 0, 0, NULL}};
    char err[256];
    int rc = args_parse(argc - 1, argv + 1, specs, err, sizeof(err));
    if (rc == 1) {
        printf("usage: smplat %s [--host H] [--port P]\n", demo ? "demo" : "serve");
        return EXIT_OK;
    }
    if (rc < 0) {
        fprintf(stderr, "usage: smplat %s [--host H] [--port P]\nsmplat: error: %s\n",
                demo ? "demo" : "serve", err);
        return EXIT_USAGE;
    }
    int port = 0;
    if (port_s && (num_parse_int(port_s, &port) != 0 || port < 1 || port > 65535)) {
        fprintf(stderr, "smplat: error: argument --port: invalid port: '%s'\n", port_s);
        return EXIT_USAGE;
    }
    return serve_run(host, port, demo);
}

/* provider-alerts: one pass of the alert worker (spec-alerts §0 path 1); no options but -h. */
int cmd_provider_alerts(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: provider-alerts [-h]\n\nRun one pass of the provider automation "
                   "alert worker.\n");
            return EXIT_OK;
        }
        fprintf(stderr,
                "usage: provider-alerts [-h]\nprovider-alerts: error: unrecognized "
                "arguments: %s\n",
                argv[i]);
        return EXIT_USAGE;
    }
    struct app app;
    int rc;
    if ((rc = app_config(&app)) != 0)
        return rc;
    if ((rc = app_open(&app)) != 0) {
        app_close(&app);
        return rc;
    }
    json_t *summary = NULL;
    char *error = NULL;
    if (task_run_alerts(&app, &summary, &error) != 0) {
        log_msgf(LOG_ERROR, "provider alert pass failed: %s", error ? error : "unknown");
        free(error);
        app_close(&app);
        return EXIT_FAILED;
    }
    char *text = pyjson_dumps(summary, PYJSON_ENSURE_ASCII);
    printf("%s\n", text);
    free(text);
    json_decref(summary);
    app_close(&app);
    return EXIT_OK;
}
