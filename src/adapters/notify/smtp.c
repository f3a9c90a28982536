/*
 * Alert email over SMTP with libcurl's smtp:// support: MAIL FROM, RCPT TO and the upload of
 * an RFC 5322 message (text/plain, UTF-8); STARTTLS required when SMTP_USE_TLS
 * (CURLOPT_USE_SSL = CURLUSESSL_ALL, certificates verified); AUTH only when both username and
 * password are set. Failures to connect and transient 4xx replies are retried with the
 * backoff of core/alerts.h until ALERTS_SEND_DEADLINE_US; 5xx replies are final. The password
 * is handed to libcurl only, never logged or copied into errors.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/notify/notify.h"
#include "base/error.h"
#include "base/iso8601.h"
#include "base/sb.h"
#include "base/uuid.h"
#include "core/alerts.h"

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t room = size * nitems, left = u->len - u->pos;
    size_t n = left < room ? left : room;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* A header value without CR or LF: configuration must not be able to inject headers. */
static void put_header(struct sb *sb, const char *name, const char *value)
{
    sb_printf(sb, "%s: ", name);
    for (const char *p = value; p && *p; p++)
        if (*p != '\r' && *p != '\n')
            sb_putc(sb, *p);
    sb_puts(sb, "\r\n");
}

/* The RFC 5322 message: headers, then the body with CRLF line ends. */
static char *build_message(const char *from, const char *to, const char *subject, const char *body)
{
    struct sb sb = SB_INIT;
    char date[64], id[UUID_STRLEN + 1];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    uuid4(id);
    put_header(&sb, "Date", date);
    put_header(&sb, "From", from);
    put_header(&sb, "To", to);
    put_header(&sb, "Subject", subject);
    sb_printf(&sb, "Message-ID: <%s@smplat-automation>\r\n", id);
    sb_puts(&sb, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
                 "Content-Transfer-Encoding: 8bit\r\n\r\n");
    for (const char *p = body; *p; p++) {
        if (*p == '\n' && (p == body || p[-1] != '\r'))
            sb_putc(&sb, '\r');
        sb_putc(&sb, *p);
    }
    sb_puts(&sb, "\r\n");
    return sb_detach(&sb);
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* One attempt. Returns the curl code; *reply is the last SMTP reply code (0: none). */
static CURLcode attempt_send(const struct smtp_config *c, const char *to, const char *message,
                             long *reply)
{
    CURL *h = curl_easy_init();
    if (!h)
        return CURLE_FAILED_INIT;
    struct sb url = SB_INIT, rcpt = SB_INIT, from = SB_INIT;
    sb_printf(&url, "smtp://%s:%d", c->host, c->port);
    sb_printf(&from, "<%s>", c->from);
    sb_printf(&rcpt, "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, sb_str(&rcpt));
    struct upload up = {message, strlen(message), 0};
    curl_easy_setopt(h, CURLOPT_URL, sb_str(&url));
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, sb_str(&from));
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms > 0 ? c->timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (c->timeout_ms > 0 ? c->timeout_ms : 10000L) * 3);
    curl_easy_setopt(h, CURLOPT_USE_SSL, c->use_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->username && *c->username && c->password && *c->password) {
        curl_easy_setopt(h, CURLOPT_USERNAME, c->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
    }
    CURLcode rc = curl_easy_perform(h);
    *reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, reply);
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(h);
    sb_release(&url);
    sb_release(&rcpt);
    sb_release(&from);
    return rc;
}

int smtp_send(const struct smtp_config *c, const char *to, const char *subject, const char *body,
              struct notify_result *out)
{
    memset(out, 0, sizeof(*out));
    char *message = build_message(c->from, to, subject, body);
    int64_t deadline = time_now_us() + ALERTS_SEND_DEADLINE_US;
    int rc = ERR_IO;
    for (int attempt = 1;; attempt++) {
        long reply = 0;
        CURLcode cr = attempt_send(c, to, message, &reply);
        out->attempts = attempt;
        out->status = reply;
        free(out->error);
        out->error = NULL;
        if (cr == CURLE_OK) {
            out->delivered = 1;
            rc = 0;
            break;
        }
        struct sb sb = SB_INIT;
        if (reply > 0)
            sb_printf(&sb, "SMTP server replied %ld (%s)", reply, curl_easy_strerror(cr));
        else
            sb_printf(&sb, "SMTP %s", curl_easy_strerror(cr));
        out->error = sb_detach(&sb);
        int retryable = (reply >= 400 && reply < 500) ||
                        (reply == 0 && (cr == CURLE_COULDNT_CONNECT || cr == CURLE_GOT_NOTHING ||
                                        cr == CURLE_RECV_ERROR || cr == CURLE_SEND_ERROR ||
                                        cr == CURLE_OPERATION_TIMEDOUT));
        if (!retryable)
            break;
        int64_t delay = alerts_retry_delay_us(attempt + 1, -1, time_now_us(), deadline);
        if (delay < 0)
            break;
        sleep_us(delay);
    }
    free(message);
    return rc;
}
