/*
 * The run-history exporter as the original Python tool ran it (spec-api-ui §7): one GET of
 * /automation/status/history, the rows flattened and formatted by codec/export_format.c, and
 * the output written where --output or SMPLAT_AUTOMATION_EXPORT_DIR say, else to stdout. The
 * steps happen in the original's order (fetch, flatten, warn, create directories, write) so
 * that what is printed, and which failure wins when several are possible, match. Error texts
 * follow the original's too: httpx's for bad URLs and refused connections, OSError's
 * "[Errno N] text: 'path'" for files, since scheduled jobs and operators match on them.
 */
#include "app/export.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "adapters/http_client/get.h"
#include "app/app.h"
#include "base/sb.h"
#include "codec/export_format.h"
#include "core/pyjson.h"

#define HISTORY_PATH "/api/v1/fulfillment/providers/automation/status/history"
/* The history is produced by our own server; deeper documents are not ours. */
#define HISTORY_MAX_DEPTH 512

static int fail(FILE *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(FILE *err, const char *fmt, ...)
{
    fputs(EXPORT_TAG " \xE2\x9D\x8C ", err);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputc('\n', err);
    return EXIT_FAILED;
}

/* httpx refuses URLs that are not http(s) before any connection; same words. */
static int check_scheme(const char *url, FILE *err)
{
    if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0)
        return 0;
    const char *sep = strstr(url, "://");
    const char *slash = strchr(url, '/');
    if (sep && sep != url && (!slash || sep < slash))
        return fail(err, "Unexpected error: Request URL has an unsupported protocol '%.*s://'.",
                    (int)(sep - url), url);
    return fail(err, "Unexpected error: Request URL is missing an 'http://' or 'https://' "
                     "protocol.");
}

/* str(pathlib.Path(p)): empty and "." components dropped, no trailing slash, "." when
 * nothing is left. The original printed and wrote Path objects, so the "wrote ... to" line
 * shows this form. */
static char *path_normalize(const char *p)
{
    struct sb out = SB_INIT;
    if (p[0] == '/')
        sb_putc(&out, '/');
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - s);
        if (n > 0 && !(n == 1 && s[0] == '.')) {
            if (out.len > 0 && out.buf[out.len - 1] != '/')
                sb_putc(&out, '/');
            sb_append(&out, s, n);
        }
        s = e;
    }
    if (out.len == 0)
        sb_putc(&out, '.');
    return sb_detach(&out);
}

/* Python's OSError text for a failed call on path. */
static int fail_os(FILE *err, int e, const char *path)
{
    char buf[128];
    return fail(err, "Unexpected error: [Errno %d] %s: '%s'", e, strerror_r(e, buf, sizeof(buf)),
                path);
}

/* Path.mkdir(parents=True, exist_ok=True) on a normalized path: every missing ancestor is
 * created; an existing non-directory is an error. 0 or an errno with the failing path in
 * *where (owned). */
static int mkdir_parents(const char *dir, char **where)
{
    char *p = xstrdup(dir);
    int e = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0) {
            if (errno != EEXIST) {
                e = errno;
            } else if (stat(p, &st) != 0) {
                e = errno;
            } else if (!S_ISDIR(st.st_mode)) {
                e = saved ? ENOTDIR : EEXIST;
            }
        }
        if (e) {
            *where = xstrdup(e == ENOTDIR ? dir : p);
            break;
        }
        *s = saved;
        if (!saved)
            break;
    }
    free(p);
    return e;
}

/* The directory part of a normalized path, as Path.parent. */
static char *path_parent(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == p)
        return xstrdup("/");
    return xstrndup(p, (size_t)(slash - p));
}

/* Where the output goes: the normalized --output path (its parent created), a new name in
 * the export directory (created), or NULL for stdout. Returns 0 or EXIT_FAILED (printed). */
static int resolve_output(const struct export_opts *o, char **path, FILE *err)
{
    *path = NULL;
    char *dir = NULL, *where = NULL;
    int e;
    if (o->output) {
        *path = path_normalize(o->output);
        dir = path_parent(*path);
    } else if (o->export_dir && *o->export_dir) {
        dir = path_normalize(o->export_dir);
        time_t now = time(NULL);
        struct tm tm;
        char stamp[32];
        if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
            stamp[0] = '\0';
        struct sb name = SB_INIT;
        sb_printf(&name, "%s%sprovider_automation_runs_%s.%s", strcmp(dir, "/") ? dir : "", "/",
                  stamp, o->kind == EXPORT_JSON ? "json" : "csv");
        *path = path_normalize(sb_str(&name));
        sb_release(&name);
    } else {
        return 0;
    }
    if ((e = mkdir_parents(dir, &where)) != 0) {
        fail_os(err, e, where);
        free(where);
        free(dir);
        free(*path);
        *path = NULL;
        return EXIT_FAILED;
    }
    free(dir);
    return 0;
}

static int write_file(const char *path, const struct sb *text, FILE *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return fail_os(err, errno, path);
    size_t n = text->len ? fwrite(text->buf, 1, text->len, f) : 0;
    int e = n == text->len ? 0 : errno;
    if (fclose(f) != 0 && !e)
        e = errno;
    if (e)
        return fail_os(err, e, path);
    return 0;
}

static long timeout_ms(double seconds)
{
    if (isinf(seconds) && seconds > 0)
        return 0;
    if (!(seconds > 0))
        return 1;
    double ms = ceil(seconds * 1000.0);
    return ms > 1e12 ? 0 : (long)ms;
}

/* GET the history document. Returns it (new reference) or NULL after printing the error. */
static json_t *fetch_history(const struct export_opts *o, long limit, FILE *err)
{
    struct sb url = SB_INIT;
    sb_printf(&url, "%s" HISTORY_PATH "?limit=%ld", o->base_url ? o->base_url : "", limit);
    json_t *doc = NULL;
    char *auth = NULL, *error = NULL;
    struct http_get_result res = {0, NULL, 0};
    if (check_scheme(sb_str(&url), err) != 0)
        goto out;
    const char *headers[1];
    size_t nheaders = 0;
    if (o->auth_token && *o->auth_token) {
        struct sb h = SB_INIT;
        sb_printf(&h, "Authorization: Bearer %s", o->auth_token);
        auth = sb_detach(&h);
        headers[nheaders++] = auth;
    }
    if (http_get(sb_str(&url), headers, nheaders, timeout_ms(o->timeout_seconds), &res, &error) !=
        0) {
        fail(err, "Unexpected error: %s", error);
        goto out;
    }
    if (res.status < 200 || res.status > 299) {
        fail(err, "HTTP %ld while calling %s", res.status, sb_str(&url));
        goto out;
    }
    char perr[200];
    doc = pyjson_loads(res.body, res.body_len, HISTORY_MAX_DEPTH, perr, sizeof(perr));
    if (!doc)
        fail(err, "Unexpected error: %s", perr);
out:
    http_get_result_release(&res);
    free(error);
    free(auth);
    sb_release(&url);
    return doc;
}

int export_runs(const struct export_opts *o, FILE *out, FILE *err)
{
    long limit = o->limit;
    if (limit > EXPORT_MAX_LIMIT) {
        fprintf(err,
                EXPORT_TAG " \xE2\x9A\xA0\xEF\xB8\x8F --limit %ld is above the API maximum of %d; "
                           "using %d\n",
                limit, EXPORT_MAX_LIMIT, EXPORT_MAX_LIMIT);
        limit = EXPORT_MAX_LIMIT;
    }
    json_t *history = fetch_history(o, limit, err);
    if (!history)
        return EXIT_FAILED;
    int rc = EXIT_FAILED;
    char *path = NULL;
    struct sb text = SB_INIT;
    json_t *rows = export_flatten(history);
    if (!rows) {
        fail(err, "Unexpected error: '%s' object has no attribute 'items'",
             export_py_type_name(history));
        goto out;
    }
    if (json_array_size(rows) == 0) {
        fputs(EXPORT_TAG " \xE2\x9A\xA0\xEF\xB8\x8F no runs returned from API\n", out);
        fflush(out);
    }
    if (resolve_output(o, &path, err) != 0)
        goto out;
    int frc =
        o->kind == EXPORT_JSON ? export_format_json(&text, rows) : export_format_csv(&text, rows);
    if (frc != 0) {
        fail(err, "Unexpected error: %s", "maximum recursion depth exceeded");
        goto out;
    }
    if (path) {
        if (write_file(path, &text, err) != 0)
            goto out;
        fprintf(out, EXPORT_TAG " \xE2\x9C\x85 wrote %zu rows to %s\n", json_array_size(rows),
                path);
    } else {
        fwrite(sb_str(&text), 1, text.len, out);
        if (o->kind == EXPORT_JSON)
            fputc('\n', out);
    }
    fflush(out);
    rc = EXIT_OK;
out:
    sb_release(&text);
    free(path);
    json_decref(rows);
    json_decref(history);
    return rc;
}
