/*
 * smplat export-runs (spec-api-ui §7, DECISIONS 17): fetches the run history from a running
 * API, flattens it and writes JSON or CSV to a file, a timestamped file in an export
 * directory, or stdout, with the original exporter's messages and exit codes.
 */
#ifndef SMPLAT_APP_EXPORT_H
#define SMPLAT_APP_EXPORT_H

#include <stdio.h>

/* The API's maximum for ?limit= on the history route; larger limits are clamped. */
#define EXPORT_MAX_LIMIT 100

/* The prefix of every message the exporter prints. */
#define EXPORT_TAG "[export-provider-automation-runs]"

enum export_kind { EXPORT_JSON = 0, EXPORT_CSV = 1 };

struct export_opts {
    const char *base_url;   /* used verbatim (no slash stripping); borrowed */
    const char *auth_token; /* NULL or "": no Authorization header; borrowed */
    long limit;             /* above EXPORT_MAX_LIMIT: clamped with a warning on err */
    enum export_kind kind;
    const char *output;     /* NULL: export_dir, else stdout; parent dirs are created */
    const char *export_dir; /* NULL or "": stdout */
    double timeout_seconds; /* <= 0 or NaN: 1 ms; infinite: no limit */
};

/* Runs one export. Results and the "wrote"/"no runs" notes go to out, failures and the clamp
 * warning to err. Returns EXIT_OK, or EXIT_FAILED after printing "HTTP {status} while
 * calling {url}" or "Unexpected error: {message}". */
int export_runs(const struct export_opts *opts, FILE *out, FILE *err);

#endif
