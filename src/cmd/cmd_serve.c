/*
 * smplat serve / smplat demo: parse --host/--port and hand over to app/serve.c.
 * Also provider-alerts, whose worker is not part of this build yet.
 */
#include <stdio.h>

#include "app/api.h"
#include "base/num.h"
#include "cmd/args.h"
#include "cmd/commands.h"

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

int cmd_provider_alerts(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "provider-alerts: the alert worker is not part of this build yet\n");
    return EXIT_FAILED;
}
