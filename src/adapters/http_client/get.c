/*
 * A single blocking GET over a libcurl easy handle. The exporter needs nothing of the
 * provider transport's machinery (multi handle, groups, outbound policy), only a status and a
 * bounded body, and its error text should read like the original Python tool's (httpx), which
 * operators grep for: "[Errno 111] Connection refused", "timed out".
 */
#include "adapters/http_client/get.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sb.h"

static pthread_once_t get_once = PTHREAD_ONCE_INIT;
static CURLcode get_init_code = CURLE_OK;

static void get_global_once(void)
{
    get_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct body_sink {
    struct sb body;
    int too_large;
};

/* Appends what arrives, refusing (which makes libcurl abort the transfer) past the limit:
 * the network controls the size. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct body_sink *sink = userdata;
    size_t n = size * nmemb;
    if (sink->body.len + n > HTTP_GET_MAX_BODY) {
        sink->too_large = 1;
        return 0;
    }
    sb_append(&sink->body, data, n);
    return n;
}

/* The error text of a failed transfer: Python's OSError form when the OS gave an errno
 * (refused, unreachable), "timed out" for timeouts, else libcurl's own words. */
static char *describe_error(CURL *h, CURLcode code, const char *errbuf,
                            const struct body_sink *sink)
{
    struct sb msg = SB_INIT;
    long os_errno = 0;
    if (sink->too_large) {
        sb_printf(&msg, "response body exceeds %u bytes", HTTP_GET_MAX_BODY);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        sb_puts(&msg, "timed out");
    } else if (code == CURLE_COULDNT_CONNECT &&
               curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno > 0) {
        char buf[128];
        const char *text = strerror_r((int)os_errno, buf, sizeof(buf));
        sb_printf(&msg, "[Errno %ld] %s", os_errno, text);
    } else {
        sb_puts(&msg, errbuf[0] ? errbuf : curl_easy_strerror(code));
    }
    return sb_detach(&msg);
}

int http_get(const char *url, const char *const *headers, size_t n, long timeout_ms,
             struct http_get_result *res, char **error)
{
    memset(res, 0, sizeof(*res));
    *error = NULL;
    pthread_once(&get_once, get_global_once);
    if (get_init_code != CURLE_OK) {
        *error = xstrdup(curl_easy_strerror(get_init_code));
        return ERR_IO;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        *error = xstrdup("cannot create a libcurl handle");
        return ERR_NOMEM;
    }
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < n; i++) {
        struct curl_slist *next = curl_slist_append(list, headers[i]);
        if (!next) {
            curl_slist_free_all(list);
            curl_easy_cleanup(h);
            *error = xstrdup("out of memory");
            return ERR_NOMEM;
        }
        list = next;
    }
    struct body_sink sink = {SB_INIT, 0};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "smplat-export-runs");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    if (timeout_ms > 0) {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    }
    CURLcode code = curl_easy_perform(h);
    int rc = 0;
    if (code != CURLE_OK) {
        *error = describe_error(h, code, errbuf, &sink);
        rc = code == CURLE_OPERATION_TIMEDOUT ? ERR_BUSY : ERR_IO;
        sb_release(&sink.body);
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
        res->body_len = sink.body.len;
        res->body = sb_detach(&sink.body);
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return rc;
}

void http_get_result_release(struct http_get_result *res)
{
    if (!res)
        return;
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
    res->status = 0;
}
