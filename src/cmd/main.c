/*
 * One executable, several programs: smplat, provider-replay and
 * provider-alerts, chosen by the name it was started under (like busybox).
 * main() only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "cmd/commands.h"

static const char usage[] =
    "usage: smplat <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve [--host H] [--port P]   HTTP API and admin pages\n"
    "  demo                          seed demo data into the embedded "
    "database, then serve\n"
    "  migrate                       create or upgrade the database schema\n"
    "  replay ...                    same as provider-replay\n"
    "  alerts                        same as provider-alerts\n"
    "  config-example                print .env.example\n"
    "  export-runs [--format json|csv] [--output FILE] ...\n"
    "                                export the run history of a running API\n"
    "  worker [-Q q1,q2] [--concurrency N]\n"
    "                                native Celery worker on CELERY_BROKER_URL\n"
    "  beat                          publish the periodic Celery tasks\n";

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int main(int argc, char **argv)
{
    const char *prog = argc > 0 ? base_name(argv[0]) : "smplat";
    if (strcmp(prog, "provider-replay") == 0)
        return cmd_provider_replay(argc, argv);
    if (strcmp(prog, "provider-alerts") == 0)
        return cmd_provider_alerts(argc, argv);
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1, 0);
    if (strcmp(cmd, "demo") == 0)
        return cmd_serve(argc - 1, argv + 1, 1);
    if (strcmp(cmd, "replay") == 0)
        return cmd_provider_replay(argc - 1, argv + 1);
    if (strcmp(cmd, "alerts") == 0)
        return cmd_provider_alerts(argc - 1, argv + 1);
    if (strcmp(cmd, "config-example") == 0)
        return cmd_config_example(argc - 1, argv + 1);
    if (strcmp(cmd, "export-runs") == 0)
        return cmd_export_runs(argc - 1, argv + 1);
    if (strcmp(cmd, "worker") == 0)
        return cmd_worker(argc - 1, argv + 1);
    if (strcmp(cmd, "beat") == 0)
        return cmd_beat(argc - 1, argv + 1);
    fputs(usage, stderr);
    fprintf(stderr, "smplat: error: unknown command '%s'\n", cmd);
    return EXIT_USAGE;
}
