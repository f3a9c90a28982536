/*
 * Delivering alert notifications (spec-alerts §8, DECISIONS 13 and 16): Slack incoming
 * webhooks through the provider transport (so the outbound policy applies to webhook URLs
 * too) and email through SMTP (libcurl's smtp://). Each send is retried with backoff on 429,
 * 5xx (transient 4xx replies for SMTP) and connection errors, honoring Retry-After, until a
 * deadline (the policy is core/alerts.h's). Nothing here logs a webhook URL or a password.
 */
#ifndef SMPLAT_ADAPTERS_NOTIFY_NOTIFY_H
#define SMPLAT_ADAPTERS_NOTIFY_NOTIFY_H

#include <stdint.h>

#include "core/transport.h"

struct notify_result {
    int delivered; /* 1 when the receiver accepted the message */
    int attempts;
    long status; /* last HTTP status or SMTP reply code, 0 when none */
    char *error; /* owned description of the last failure, NULL when delivered; never
                  * contains the webhook URL or credentials */
};

void notify_result_release(struct notify_result *r);

/* POSTs json_body (application/json) to the webhook url through t, at most max_attempts
 * times (0: ALERTS_SEND_ATTEMPTS). Returns 0 when delivered, a negative code otherwise; *out
 * filled either way. */
int slack_post(struct http_transport *t, const char *url, const char *json_body, int max_attempts,
               struct notify_result *out);

struct smtp_config {
    const char *host;
    int port;
    const char *username; /* with password: AUTH */
    const char *password;
    int use_tls; /* STARTTLS required (CURLUSESSL_ALL) */
    const char *from;
    long timeout_ms;
};

/* Sends one text/plain UTF-8 message to one recipient. Returns 0 when delivered, a negative
 * code otherwise; *out filled either way. */
int smtp_send(const struct smtp_config *c, const char *to, const char *subject, const char *body,
              struct notify_result *out);

#endif
