/*
 * Slack incoming webhooks: one JSON POST through the provider transport (libcurl, outbound
 * policy of DECISIONS 13: http(s) only, no redirects, private addresses refused unless
 * allowed, TLS verified), retried on 429, 5xx and failures to connect, honoring Retry-After
 * (seconds), until ALERTS_SEND_DEADLINE_US. A timeout after the request was sent is not
 * retried: Slack may have posted the message, and a duplicate is worse than a miss here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/notify/notify.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/num.h"
#include "base/sb.h"
#include "core/alerts.h"

void notify_result_release(struct notify_result *r)
{
    if (r == NULL)
        return;
    free(r->error);
    r->error = NULL;
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Retry-After in seconds as microseconds, -1 when absent or not a number of seconds. */
static int64_t retry_after_us(const char *v)
{
    int64_t secs;
    if (v == NULL)
        return -1;
    while (*v == ' ')
        v++;
    if (num_parse_i64(v, &secs) != 0 || secs < 0 || secs > 3600)
        return -1;
    return secs * 1000000LL;
}

static void build_request(struct http_request *req, const char *url, const char *body)
{
    memset(req, 0, sizeof(*req));
    req->method = xstrdup("POST");
    req->url = xstrdup(url);
    req->headers = xcalloc(1, sizeof(*req->headers));
    req->headers[0].name = xstrdup("Content-Type");
    req->headers[0].value = xstrdup("application/json");
    req->nheaders = 1;
    req->body = xstrdup(body);
    req->body_len = strlen(body);
    req->timeout_ms = 10000;
    req->group = "slack";
}

int slack_post(struct http_transport *t, const char *url, const char *json_body, int max_attempts,
               struct notify_result *out)
{
    int64_t deadline = time_now_us() + ALERTS_SEND_DEADLINE_US;
    memset(out, 0, sizeof(*out));
    for (int attempt = 1;; attempt++) {
        struct http_request req;
        struct http_response resp;
        memset(&resp, 0, sizeof(resp));
        build_request(&req, url, json_body);
        t->perform(t, &req, &resp, 1, 1);
        http_request_release(&req);
        out->attempts = attempt;
        int retryable = 0;
        int64_t after = -1;
        free(out->error);
        out->error = NULL;
        if (resp.outcome == HTTP_OUTCOME_RESPONSE) {
            out->status = resp.status;
            if (resp.status >= 200 && resp.status < 300) {
                out->delivered = 1;
                http_response_release(&resp);
                return 0;
            }
            retryable = alerts_http_status_retryable(resp.status);
            if (resp.status == 429 || resp.status == 503)
                after = retry_after_us(resp.retry_after);
            struct sb sb = SB_INIT;
            sb_printf(&sb, "webhook answered HTTP %ld", resp.status);
            out->error = sb_detach(&sb);
        } else {
            retryable = resp.outcome == HTTP_OUTCOME_CONNECT_FAILED ||
                        resp.outcome == HTTP_OUTCOME_TIMEOUT_BEFORE_SEND;
            const char *kind = resp.outcome == HTTP_OUTCOME_BLOCKED ? "blocked by outbound policy"
                               : resp.outcome == HTTP_OUTCOME_CONNECT_FAILED ? "connection failed"
                               : resp.outcome == HTTP_OUTCOME_TIMEOUT_AFTER_SEND
                                   ? "timed out after sending"
                               : resp.outcome == HTTP_OUTCOME_TIMEOUT_BEFORE_SEND ? "timed out"
                                                                                  : "failed";
            out->error = xstrdup(kind);
        }
        http_response_release(&resp);
        if (!retryable || (max_attempts > 0 && attempt >= max_attempts))
            return ERR_IO;
        int64_t delay = alerts_retry_delay_us(attempt + 1, after, time_now_us(), deadline);
        if (delay < 0)
            return ERR_IO;
        sleep_us(delay);
    }
}
