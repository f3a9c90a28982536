/*
 * A deliberately small metrics registry: a few fixed families, label sets kept in bounded
 * arrays under one mutex. Bounded because labels come from data (route names are static, but
 * provider ids are not): past the bound new label sets are counted under "other".
 */
#include "app/metrics.h"

#include <pthread.h>
#include <string.h>

#define MAX_SERIES 512
#define LABEL_MAX 64

struct counter {
    char a[LABEL_MAX];
    char b[LABEL_MAX];
    int n; /* numeric label (status) */
    double value;
    double sum; /* durations: sum of seconds */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct counter http[MAX_SERIES];
static size_t nhttp;
static struct counter outcomes[MAX_SERIES];
static size_t noutcomes;
static struct counter runs[16];
static size_t nruns;

static struct counter *find(struct counter *arr, size_t *n, size_t cap, const char *a,
                            const char *b, int num)
{
    for (size_t i = 0; i < *n; i++)
        if (arr[i].n == num && strcmp(arr[i].a, a) == 0 && strcmp(arr[i].b, b) == 0)
            return &arr[i];
    if (*n == cap) {
        a = "other";
        for (size_t i = 0; i < *n; i++)
            if (arr[i].n == num && strcmp(arr[i].a, a) == 0 && strcmp(arr[i].b, b) == 0)
                return &arr[i];
        return &arr[cap - 1]; /* saturated: fold into the last series */
    }
    struct counter *c = &arr[(*n)++];
    memset(c, 0, sizeof(*c));
    snprintf(c->a, sizeof(c->a), "%s", a);
    snprintf(c->b, sizeof(c->b), "%s", b);
    c->n = num;
    return c;
}

void metrics_http_request(const char *route, int status)
{
    pthread_mutex_lock(&mu);
    find(http, &nhttp, MAX_SERIES, route, "", status)->value += 1;
    pthread_mutex_unlock(&mu);
}

void metrics_replay_outcome(const char *provider_id, const char *outcome)
{
    pthread_mutex_lock(&mu);
    find(outcomes, &noutcomes, MAX_SERIES, provider_id ? provider_id : "", outcome, 0)->value += 1;
    pthread_mutex_unlock(&mu);
}

void metrics_run(const char *run_type, const char *status, double seconds)
{
    pthread_mutex_lock(&mu);
    struct counter *c = find(runs, &nruns, 16, run_type, status, 0);
    c->value += 1;
    c->sum += seconds;
    pthread_mutex_unlock(&mu);
}

/* Label values are escaped as the exposition format requires. */
static void label(struct sb *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            sb_putc(out, '\\');
        if (*v == '\n') {
            sb_puts(out, "\\n");
            continue;
        }
        sb_putc(out, *v);
    }
}

void metrics_render(struct sb *out, struct store *store)
{
    pthread_mutex_lock(&mu);
    sb_puts(out, "# HELP smplat_http_requests_total HTTP requests by route and status.\n"
                 "# TYPE smplat_http_requests_total counter\n");
    for (size_t i = 0; i < nhttp; i++) {
        sb_puts(out, "smplat_http_requests_total{route=\"");
        label(out, http[i].a);
        sb_printf(out, "\",status=\"%d\"} %.0f\n", http[i].n, http[i].value);
    }
    sb_puts(out, "# HELP smplat_replay_outcomes_total Scheduled replay outcomes by provider.\n"
                 "# TYPE smplat_replay_outcomes_total counter\n");
    for (size_t i = 0; i < noutcomes; i++) {
        sb_puts(out, "smplat_replay_outcomes_total{provider=\"");
        label(out, outcomes[i].a);
        sb_printf(out, "\",outcome=\"%s\"} %.0f\n", outcomes[i].b, outcomes[i].value);
    }
    sb_puts(out, "# HELP smplat_run_duration_seconds Worker passes run by this process.\n"
                 "# TYPE smplat_run_duration_seconds summary\n");
    for (size_t i = 0; i < nruns; i++) {
        sb_printf(out, "smplat_run_duration_seconds_count{run_type=\"%s\",status=\"%s\"} %.0f\n",
                  runs[i].a, runs[i].b, runs[i].value);
        sb_printf(out, "smplat_run_duration_seconds_sum{run_type=\"%s\",status=\"%s\"} %.6f\n",
                  runs[i].a, runs[i].b, runs[i].sum);
    }
    pthread_mutex_unlock(&mu);
    int64_t backlog = 0, next = STORE_NO_TIME;
    if (store && store->ops->schedule_backlog(store, &backlog, &next) == 0) {
        sb_printf(out,
                  "# HELP smplat_replay_backlog Scheduled replays waiting to run.\n"
                  "# TYPE smplat_replay_backlog gauge\n"
                  "smplat_replay_backlog %lld\n",
                  (long long)backlog);
        if (next != STORE_NO_TIME)
            sb_printf(out,
                      "# HELP smplat_replay_next_due_seconds Unix time of the next due replay.\n"
                      "# TYPE smplat_replay_next_due_seconds gauge\n"
                      "smplat_replay_next_due_seconds %.6f\n",
                      (double)next / 1e6);
    }
}
