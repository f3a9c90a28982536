/*
 * smplat export-runs: parses the original exporter's flags (argparse semantics, a leading
 * standalone "--" ignored so that `pnpm automation:export-runs -- --limit 200` works), reads
 * SMPLAT_API_BASE_URL, SMPLAT_AUTOMATION_EXPORT_DIR and SMPLAT_AUTOMATION_AUTH_TOKEN straight
 * from the environment (an empty SMPLAT_API_BASE_URL means "", not the default, as in the
 * original), and hands over to app/export.c. Exit 2 for usage errors, else what the export
 * returns.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/export.h"
#include "base/num.h"
#include "cmd/args.h"
#include "cmd/commands.h"

#define DEFAULT_BASE_URL "http://localhost:8000"

static const char usage[] =
    "usage: smplat export-runs [-h] [--base-url BASE_URL] [--auth-token AUTH_TOKEN]\n"
    "                          [--limit LIMIT] [--format {json,csv}] [--output OUTPUT]\n"
    "                          [--timeout TIMEOUT]\n";

static const char help[] =
    "\n"
    "Export provider automation run history snapshots.\n"
    "\n"
    "options:\n"
    "  -h, --help            show this help message and exit\n"
    "  --base-url BASE_URL   Base URL of the SMPLAT API service (defaults to\n"
    "                        SMPLAT_API_BASE_URL or http://localhost:8000).\n"
    "  --auth-token AUTH_TOKEN\n"
    "                        Optional bearer token used for Authorization header (or\n"
    "                        SMPLAT_AUTOMATION_AUTH_TOKEN).\n"
    "  --limit LIMIT         Number of runs per category (replay/alerts) to fetch\n"
    "                        (default: 50; above 100 it is clamped to 100).\n"
    "  --format {json,csv}   Export format (json or csv).\n"
    "  --output OUTPUT       Optional file path to write the export (else a timestamped\n"
    "                        file in SMPLAT_AUTOMATION_EXPORT_DIR, else stdout).\n"
    "  --timeout TIMEOUT     HTTP request timeout in seconds (default: 15).\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    fputs(usage, stderr);
    fputs("smplat export-runs: error: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

int cmd_export_runs(int argc, char **argv)
{
    /* argv[0] is "export-runs"; a standalone "--" right after it is dropped. */
    argc--;
    argv++;
    if (argc > 0 && strcmp(argv[0], "--") == 0) {
        argc--;
        argv++;
    }
    const char *base_url = NULL, *auth = NULL, *limit_s = NULL, *format = NULL, *output = NULL,
               *timeout_s = NULL;
    struct arg_spec specs[] = {
        {"base-url", 0, 1, &base_url},
        {"auth-token", 0, 1, &auth},
        {"limit", 0, 1, &limit_s},
        {"format", 0, 1, &format},
        {"output", 0, 1, &output},
        {"timeout", 0, 1, &timeout_s},
        {NULL, 0, 0, NULL},
    };
    char err[256];
    int rc = args_parse(argc, argv, specs, err, sizeof(err));
    if (rc == 1) {
        fputs(usage, stdout);
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (rc < 0)
        return usage_error("%s", err);

    struct export_opts o = {NULL, NULL, 50, EXPORT_JSON, output, NULL, 15.0};
    if (limit_s) {
        int v;
        if (num_parse_int(limit_s, &v) != 0)
            return usage_error("argument --limit: invalid int value: '%s'", limit_s);
        o.limit = v;
    }
    if (format) {
        if (strcmp(format, "csv") == 0)
            o.kind = EXPORT_CSV;
        else if (strcmp(format, "json") != 0)
            return usage_error("argument --format: invalid choice: '%s' (choose from 'json', "
                               "'csv')",
                               format);
    }
    if (timeout_s && num_parse_double(timeout_s, &o.timeout_seconds) != 0)
        return usage_error("argument --timeout: invalid float value: '%s'", timeout_s);

    /* getenv directly: unset and empty differ for the base URL (spec-api-ui §7.1). */
    const char *env_base = getenv("SMPLAT_API_BASE_URL");
    o.base_url = base_url ? base_url : env_base ? env_base : DEFAULT_BASE_URL;
    o.auth_token = auth && *auth ? auth : getenv("SMPLAT_AUTOMATION_AUTH_TOKEN");
    o.export_dir = getenv("SMPLAT_AUTOMATION_EXPORT_DIR");
    return export_runs(&o, stdout, stderr);
}
