/*
 * smplat serve / smplat demo, and provider-alerts until the alert worker lands.
 */
#include <stdio.h>

#include "app/app.h"
#include "cmd/commands.h"

int cmd_serve(int argc, char **argv, int demo)
{
    (void)argc;
    (void)argv;
    (void)demo;
    fprintf(stderr, "smplat serve: not built yet\n");
    return EXIT_FAILED;
}

int cmd_provider_alerts(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "provider-alerts: not built yet\n");
    return EXIT_FAILED;
}
