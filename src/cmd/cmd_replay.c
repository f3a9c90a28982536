/*
 * provider-replay: one pass of the scheduled-replay worker, or one provider
 * order replayed now. Prints the run summary or the replay entry as JSON on
 * stdout; exit 0 on success, 1 when the replay or the pass failed, 2 for usage
 * and configuration errors.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "base/log.h"
#include "base/num.h"
#include "base/uuid.h"
#include "cmd/args.h"
#include "cmd/commands.h"
#include "core/pyjson.h"

static const char usage[] =
    "usage: provider-replay [-h] {scheduled,replay} ...\n"
    "\n"
    "  provider-replay scheduled [--limit N]\n"
    "      run one pass of the scheduled-replay worker and print its summary\n"
    "  provider-replay replay --provider-id ID --provider-order-id UUID "
    "[--amount X]\n"
    "      replay one provider order now and print the replay entry\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    fputs(usage, stderr);
    fprintf(stderr, "provider-replay: error: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static void print_json(const json_t *v)
{
    char *text = pyjson_dumps(v, 0);
    puts(text);
    free(text);
}

static int run_scheduled(int argc, char **argv)
{
    const char *limit_s = NULL;
    struct arg_spec specs[] = {{"limit", 0, 1, &limit_s}, {NULL, 0, 0, NULL}};
    char err[256];
    int rc = args_parse(argc, argv, specs, err, sizeof(err));
    if (rc == 1) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (rc < 0)
        return usage_error("%s", err);
    int limit = 0;
    if (limit_s && num_parse_int(limit_s, &limit) != 0)
        return usage_error("argument --limit: invalid int value: '%s'", limit_s);
    struct app app;
    if ((rc = app_config(&app)) != 0)
        return rc;
    if ((rc = app_open(&app)) != 0) {
        app_close(&app);
        return rc;
    }
    json_t *summary = NULL;
    char *error = NULL;
    if (task_run_scheduled(&app, limit, &summary, &error) != 0) {
        log_msgf(LOG_ERROR, "scheduled replay pass failed: %s", error);
        free(error);
        app_close(&app);
        return EXIT_FAILED;
    }
    print_json(summary);
    json_decref(summary);
    app_close(&app);
    return EXIT_OK;
}

static int run_single(int argc, char **argv)
{
    const char *provider = NULL, *order = NULL, *amount_s = NULL;
    struct arg_spec specs[] = {{"provider-id", 0, 1, &provider},
                               {"provider-order-id", 0, 1, &order},
                               {"amount", 0, 1, &amount_s},
                               {NULL, 0, 0, NULL}};
    char err[256];
    int rc = args_parse(argc, argv, specs, err, sizeof(err));
    if (rc == 1) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (rc < 0)
        return usage_error("%s", err);
    if (!provider || !*provider)
        return usage_error("the following arguments are required: %s", "--provider-id");
    if (!order)
        return usage_error("the following arguments are required: %s", "--provider-order-id");
    char canonical[UUID_STRLEN + 1];
    if (uuid_parse(order, canonical) != 0)
        return usage_error("argument --provider-order-id: invalid UUID: '%s'", order);
    json_t *amount = NULL;
    if (amount_s) {
        double d;
        if (num_parse_double(amount_s, &d) != 0 || !isfinite(d))
            return usage_error("argument --amount: invalid float value: '%s'", amount_s);
        if (d < 0)
            return usage_error("argument --amount: must not be negative: '%s'", amount_s);
        amount = json_real(d);
    }
    struct app app;
    if ((rc = app_config(&app)) != 0 || (rc = app_open(&app)) != 0) {
        json_decref(amount);
        app_close(&app);
        return rc;
    }
    json_t *entry = NULL;
    char *error = NULL;
    if (task_replay_single(&app, provider, canonical, amount, &entry, &error) != 0) {
        log_msgf(LOG_ERROR, "replay failed: %s", error);
        free(error);
        rc = EXIT_FAILED;
    } else {
        print_json(entry);
        json_decref(entry);
        rc = EXIT_OK;
    }
    json_decref(amount);
    app_close(&app);
    return rc;
}

int cmd_provider_replay(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "the following arguments are required: command");
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(sub, "scheduled") == 0)
        return run_scheduled(argc - 2, argv + 2);
    if (strcmp(sub, "replay") == 0)
        return run_single(argc - 2, argv + 2);
    return usage_error("argument command: invalid choice: '%s' (choose from "
                       "'scheduled', 'replay')",
                       sub);
}
