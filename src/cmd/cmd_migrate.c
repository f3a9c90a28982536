/*
 * smplat migrate: creates or upgrades the schema of DATABASE_URL, and smplat
 * config-example: prints .env.example from the configuration table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "app/app.h"
#include "base/log.h"
#include "cmd/commands.h"

int cmd_migrate(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: smplat migrate\nsmplat migrate: error: "
                        "unrecognized arguments\n");
        return EXIT_USAGE;
    }
    struct app app;
    int rc = app_config(&app);
    if (rc == 0)
        rc = app_open(&app);
    if (rc == 0)
        log_msgf(LOG_INFO, "database schema is up to date (%s)", app.store->ops->name);
    app_close(&app);
    return rc;
}

int cmd_config_example(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char *text = config_example();
    fputs(text, stdout);
    free(text);
    return EXIT_OK;
}
