/*
 * The libcurl implementation of the provider transport port (core/transport.h): a batch of
 * requests on one multi handle, concurrent across groups and capped within a group, with the
 * outbound policy of DECISIONS 13 enforced before any byte leaves the process.
 */
#ifndef SMPLAT_ADAPTERS_HTTP_CLIENT_CURL_H
#define SMPLAT_ADAPTERS_HTTP_CLIENT_CURL_H

#include <stddef.h>

#include "core/transport.h"

struct outbound_policy {
    int allow_private;    /* PROVIDER_ALLOW_PRIVATE_NETWORKS: permit loopback/private targets */
    char **allowed_hosts; /* PROVIDER_ALLOWED_HOSTS; borrowed for the call, copied */
    size_t nallowed;      /* 0: any public host */
};

/* A new transport with its own connection cache, kept across perform() calls so that
 * keep-alive connections are reused. One transport is used by one thread at a time (give each
 * worker thread its own). Returns NULL and *error (owned) when libcurl cannot be set up.
 * Release with t->free(t). */
struct http_transport *curl_transport_new(const struct outbound_policy *policy, char **error);

#endif
