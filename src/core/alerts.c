/*
 * The alert worker's computations (spec-alerts §4-§8, DECISIONS 16). Everything here is pure:
 * jansson values and numbers in, jansson values and strings out, so each worked example of the
 * spec is a unit test (tests/unit/core/test_alerts.c).
 *
 * Numbers follow the original: shares and deltas are IEEE-754 doubles computed exactly as
 * Python does (engagements / total, shortShare - longShare), compared with >= against the
 * thresholds, so 0.6 - 0.4 = 0.19999999999999996 does not reach 0.2. Percentages are printed
 * with printf's "%.1f"/"%.0f", which round half-even on the exact binary value like Python's
 * format().
 */
#include "core/alerts.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/iso8601.h"
#include "base/sb.h"

/* ---- small helpers ---- */

static json_int_t int_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (json_int_t)json_real_value(v);
    return 0;
}

static double num_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* The string value of key, NULL when absent, not a string, or empty. Borrowed. */
static const char *str_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return NULL;
    return json_string_value(v);
}

/* Python's str() of a JSON scalar for ids: strings as they are, integers and reals in their
 * shortest form. New string, NULL for null, false, 0 and "" (the falsy values). */
static char *id_text(const json_t *v)
{
    char buf[64];
    if (json_is_string(v))
        return json_string_length(v) ? xstrdup(json_string_value(v)) : NULL;
    if (json_is_integer(v) && json_integer_value(v) != 0) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return xstrdup(buf);
    }
    if (json_is_real(v) && json_real_value(v) != 0.0) {
        snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        return xstrdup(buf);
    }
    if (json_is_true(v))
        return xstrdup("True");
    return NULL;
}

static char *trim_dup(const char *s)
{
    if (!s)
        return NULL;
    const char *a = s, *b = s + strlen(s);
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    return xstrndup(a, (size_t)(b - a));
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- Guardrail alerts ---- */

json_t *alerts_reasons(json_int_t fails, json_int_t warns, json_int_t replay_failed,
                       json_int_t replay_total)
{
    json_t *r = json_array();
    char buf[96];
    if (fails > 0) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT " guardrail fail(s)", fails);
        json_array_append_new(r, json_string(buf));
    }
    if (warns > 0) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT " guardrail warn(s)", warns);
        json_array_append_new(r, json_string(buf));
    }
    if (replay_failed > 0) {
        if (replay_total > 0)
            snprintf(buf, sizeof(buf),
                     "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " replay failures",
                     replay_failed, replay_total);
        else
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT " replay failure(s)", replay_failed);
        json_array_append_new(r, json_string(buf));
    }
    return r;
}

struct rule_ref {
    json_t *rule;
    size_t index;
    json_int_t count;
};

static int rule_cmp(const void *a, const void *b)
{
    const struct rule_ref *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* Top three rules of a service by count, stable (§4.2). */
static json_t *top_rules(const json_t *rules)
{
    size_t n = json_object_size(rules), i = 0;
    struct rule_ref *refs = xcalloc(n ? n : 1, sizeof(*refs));
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)rules, k, v) {
        refs[i].rule = v;
        refs[i].index = i;
        refs[i].count = int_at(v, "count");
        i++;
    }
    qsort(refs, n, sizeof(*refs), rule_cmp);
    json_t *out = json_array();
    for (i = 0; i < n && i < 3; i++) {
        json_t *r = json_object();
        json_object_set(r, "id", json_object_get(refs[i].rule, "id"));
        const json_t *label = json_object_get(refs[i].rule, "label");
        json_object_set_new(r, "label", label ? json_incref((json_t *)label) : json_null());
        json_object_set_new(r, "count", json_integer(refs[i].count));
        json_array_append_new(out, r);
    }
    free(refs);
    return out;
}

json_t *alerts_evaluate(const json_t *providers, const struct alert_thresholds *t)
{
    int fail_t = t->fail > 1 ? t->fail : 1, warn_t = t->warn > 1 ? t->warn : 1;
    int replay_t = t->replay > 1 ? t->replay : 1;
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach (providers, i, p) {
        const json_t *tel = json_object_get(p, "telemetry");
        const json_t *g = json_object_get(tel, "guardrails"), *r = json_object_get(tel, "replays");
        json_int_t fails = int_at(g, "fail"), warns = int_at(g, "warn");
        json_int_t rfailed = int_at(r, "failed"), rtotal = int_at(r, "total");
        if (!(fails >= fail_t || warns >= warn_t || rfailed >= replay_t))
            continue;
        json_t *item = json_object();
        const json_t *id = json_object_get(p, "id"), *name = json_object_get(p, "name");
        json_object_set_new(item, "providerId", id ? json_incref((json_t *)id) : json_null());
        json_object_set_new(item, "providerName", name ? json_incref((json_t *)name) : json_null());
        json_object_set_new(item, "reasons", alerts_reasons(fails, warns, rfailed, rtotal));
        json_object_set_new(item, "guardrailFailures", json_integer(fails));
        json_object_set_new(item, "guardrailWarnings", json_integer(warns));
        json_object_set_new(item, "replayFailures", json_integer(rfailed));
        json_object_set_new(item, "replayTotal", json_integer(rtotal));
        json_t *hot = json_object();
        const char *svc;
        json_t *v;
        json_object_foreach (json_object_get(tel, "guardrailHitsByService"), svc, v) {
            json_object_set_new(hot, svc,
                                json_pack("{s:I,s:I,s:I,s:I}", "fail", int_at(v, "fail"), "warn",
                                          int_at(v, "warn"), "pass", int_at(v, "pass"), "evaluated",
                                          int_at(v, "evaluated")));
        }
        json_object_set_new(item, "guardrailHotspots", hot);
        json_t *ov = json_object();
        json_object_foreach (json_object_get(tel, "ruleOverridesByService"), svc, v)
            json_object_set_new(ov, svc, top_rules(json_object_get(v, "rules")));
        json_object_set_new(item, "ruleOverrides", ov);
        json_array_append_new(out, item);
    }
    return out;
}

/* ---- Engagement windows ---- */

void preset_engagement_rows_free(struct preset_engagement_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].preset_id);
        free(rows[i].preset_label);
        free(rows[i].provider_id);
        free(rows[i].provider_name);
        free(rows[i].service_id);
        free(rows[i].service_action);
        free(rows[i].currency);
    }
    free(rows);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

size_t alerts_window_set(const int *extra, size_t nextra, int out[8])
{
    int all[8] = {7, 30, 90};
    size_t n = 3, k = 0;
    for (size_t i = 0; i < nextra && n < 8; i++)
        all[n++] = extra[i];
    qsort(all, n, sizeof(int), int_cmp);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || out[k - 1] != all[i])
            out[k++] = all[i];
    return k;
}

struct agg_entry {
    const struct preset_engagement_row *first;
    const char *label;
    const char *currency;
    int64_t engagements;
    double amount;
    size_t order; /* first appearance: the stable sort's tie-breaker */
};

static int agg_cmp(const void *a, const void *b)
{
    const struct agg_entry *x = a, *y = b;
    if (x->engagements != y->engagements)
        return x->engagements > y->engagements ? -1 : 1;
    if (x->amount != y->amount)
        return x->amount > y->amount ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

static char *group_key(const struct preset_engagement_row *r)
{
    struct sb sb = SB_INIT;
    sb_puts(&sb, r->preset_id);
    sb_putc(&sb, '\x1f');
    sb_puts(&sb, r->provider_id ? r->provider_id : "");
    sb_putc(&sb, '\x1f');
    sb_puts(&sb, r->service_id ? r->service_id : "");
    return sb_detach(&sb);
}

/* The entries of one window: rows of buckets <= w, grouped by (preset, provider, service),
 * with their shares of the preset's total, sorted. New array. */
static json_t *window_entries(const struct preset_engagement_row *rows, size_t nrows, int w)
{
    struct agg_entry *e = xcalloc(nrows ? nrows : 1, sizeof(*e));
    size_t ne = 0;
    json_t *index = json_object(), *totals = json_object();
    for (size_t i = 0; i < nrows; i++) {
        const struct preset_engagement_row *r = &rows[i];
        if (r->bucket > w || !r->preset_id)
            continue;
        char *key = group_key(r);
        json_t *slot = json_object_get(index, key);
        struct agg_entry *a;
        if (!slot) {
            a = &e[ne];
            a->first = r;
            a->order = ne;
            json_object_set_new(index, key, json_integer((json_int_t)ne));
            ne++;
        } else {
            a = &e[json_integer_value(slot)];
        }
        free(key);
        if (!a->label && r->preset_label && *r->preset_label)
            a->label = r->preset_label;
        if (!a->currency && r->currency && *r->currency)
            a->currency = r->currency;
        a->engagements += r->engagements;
        a->amount += r->amount_total;
        json_t *tot = json_object_get(totals, r->preset_id);
        json_object_set_new(totals, r->preset_id,
                            json_integer((tot ? json_integer_value(tot) : 0) + r->engagements));
    }
    qsort(e, ne, sizeof(*e), agg_cmp);
    json_t *out = json_array();
    for (size_t i = 0; i < ne; i++) {
        const struct preset_engagement_row *f = e[i].first;
        json_int_t total = json_integer_value(json_object_get(totals, f->preset_id));
        json_t *o = json_object();
        json_object_set_new(o, "presetId", json_string(f->preset_id));
        json_object_set_new(o, "presetLabel", str_or_null(e[i].label));
        json_object_set_new(o, "providerId", str_or_null(f->provider_id));
        json_object_set_new(o, "providerName", str_or_null(f->provider_name));
        json_object_set_new(o, "serviceId", str_or_null(f->service_id));
        json_object_set_new(o, "serviceAction", str_or_null(f->service_action));
        json_object_set_new(o, "currency", str_or_null(e[i].currency));
        json_object_set_new(o, "engagements", json_integer(e[i].engagements));
        json_object_set_new(o, "amountTotal", json_real(e[i].amount));
        json_object_set_new(o, "engagementShare",
                            json_real(total ? (double)e[i].engagements / (double)total : 0.0));
        json_array_append_new(out, o);
    }
    json_decref(index);
    json_decref(totals);
    free(e);
    return out;
}

json_t *preset_windows_build(const struct preset_engagement_row *rows, size_t nrows,
                             const int *days, size_t ndays, int64_t now_us)
{
    json_t *windows = json_object();
    for (size_t w = 0; w < ndays; w++) {
        char key[16], start[ISO_BUFSZ];
        snprintf(key, sizeof(key), "%d", days[w]);
        iso_format_utc(now_us - (int64_t)days[w] * 86400LL * 1000000LL, start);
        json_t *win = json_object();
        json_object_set_new(win, "days", json_integer(days[w]));
        json_object_set_new(win, "start", json_string(start));
        json_object_set_new(win, "entries", window_entries(rows, nrows, (int)w));
        json_object_set_new(windows, key, win);
    }
    return windows;
}

json_t *preset_windows_truncate(const json_t *windows, size_t limit)
{
    json_t *out = json_deep_copy(windows);
    const char *k;
    json_t *win;
    json_object_foreach (out, k, win) {
        json_t *entries = json_object_get(win, "entries");
        while (json_array_size(entries) > limit)
            json_array_remove(entries, json_array_size(entries) - 1);
    }
    return out;
}

/* ---- Links ---- */

char *alerts_quote_plus(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    struct sb sb = SB_INIT;
    sb_puts(&sb, "");
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (isalnum(*p) || *p == '_' || *p == '.' || *p == '-' || *p == '~') {
            sb_putc(&sb, (char)*p);
        } else if (*p == ' ') {
            sb_putc(&sb, '+');
        } else {
            sb_putc(&sb, '%');
            sb_putc(&sb, hex[*p >> 4]);
            sb_putc(&sb, hex[*p & 15]);
        }
    }
    return sb_detach(&sb);
}

json_t *alerts_links(const char *preset_id, const char *provider_id)
{
    json_t *links = json_object();
    int has_preset = preset_id && *preset_id, has_provider = provider_id && *provider_id;
    char *qp = has_preset ? alerts_quote_plus(preset_id) : NULL;
    char *qv = has_provider ? alerts_quote_plus(provider_id) : NULL;
    struct sb sb = SB_INIT;
    if (qp) {
        sb_printf(&sb, "/admin/merchandising?presetId=%s", qp);
        json_object_set_new(links, "merchandising", json_string(sb_str(&sb)));
        sb_reset(&sb);
    }
    if (qv) {
        sb_printf(&sb, "/admin/fulfillment/providers?providerId=%s", qv);
        json_object_set_new(links, "fulfillment", json_string(sb_str(&sb)));
        sb_reset(&sb);
    }
    if (qp || qv) {
        sb_puts(&sb, "/admin/orders?");
        if (qp)
            sb_printf(&sb, "presetId=%s", qp);
        if (qv)
            sb_printf(&sb, "%sproviderId=%s", qp ? "&" : "", qv);
        json_object_set_new(links, "orders", json_string(sb_str(&sb)));
    }
    sb_release(&sb);
    free(qp);
    free(qv);
    return links;
}

/* 1 when s starts with a URL scheme ("mailto:", "ftp:"). */
static int has_scheme(const char *s)
{
    if (!isalpha((unsigned char)*s))
        return 0;
    const char *p = s + 1;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '.' || *p == '-')
        p++;
    return *p == ':';
}

char *alerts_absolutize(const char *frontend_url, const char *link)
{
    char *t = trim_dup(link);
    if (strncmp(t, "http://", 7) == 0 || strncmp(t, "https://", 8) == 0 || has_scheme(t))
        return t;
    const char *base = frontend_url ? frontend_url : "";
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    const char *rel = t;
    while (*rel == '/')
        rel++;
    struct sb sb = SB_INIT;
    sb_append(&sb, base, blen);
    sb_putc(&sb, '/');
    sb_puts(&sb, rel);
    free(t);
    return sb_detach(&sb);
}

/* ---- Load alerts ---- */

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

static char *entry_key(const json_t *e)
{
    char *preset = id_text(json_object_get(e, "presetId"));
    struct sb sb = SB_INIT;
    sb_puts(&sb, preset ? preset : "\x1e");
    sb_putc(&sb, '\x1f');
    const char *pv = str_at(e, "providerId"), *sv = str_at(e, "serviceId");
    sb_puts(&sb, pv ? pv : "");
    sb_putc(&sb, '\x1f');
    sb_puts(&sb, sv ? sv : "");
    free(preset);
    return sb_detach(&sb);
}

/* {key: entry} of a window's entries; later duplicates overwrite. New object. */
static json_t *window_index(const json_t *windows, int days)
{
    char key[16];
    snprintf(key, sizeof(key), "%d", days);
    json_t *idx = json_object();
    const json_t *entries = json_object_get(json_object_get(windows, key), "entries");
    size_t i;
    json_t *e;
    json_array_foreach (entries, i, e) {
        if (!json_is_object(e))
            continue;
        char *k = entry_key(e);
        json_object_set(idx, k, e);
        free(k);
    }
    return idx;
}

struct alert_ref {
    json_t *alert;
    double delta, short_share;
    size_t order;
};

static int alert_cmp(const void *a, const void *b)
{
    const struct alert_ref *x = a, *y = b;
    if (x->delta != y->delta)
        return x->delta > y->delta ? -1 : 1;
    if (x->short_share != y->short_share)
        return x->short_share > y->short_share ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

static void copy_key(json_t *to, const json_t *from, const char *key)
{
    const json_t *v = json_object_get(from, key);
    json_object_set_new(to, key, v ? json_incref((json_t *)v) : json_null());
}

json_t *load_alerts_compute(const json_t *windows, const struct load_alert_params *p)
{
    double share_t = clamp01(p->share_threshold), delta_t = clamp01(p->delta_threshold);
    json_int_t min_eng = p->min_engagements > 1 ? p->min_engagements : 1;
    size_t limit = p->limit > 1 ? (size_t)p->limit : 1;
    json_t *out = json_array();
    if (!json_is_object(windows))
        return out;
    json_t *short_idx = window_index(windows, p->short_days);
    json_t *long_idx = window_index(windows, p->long_days);
    size_t cap = json_object_size(short_idx), n = 0;
    struct alert_ref *refs = xcalloc(cap ? cap : 1, sizeof(*refs));
    const char *k;
    json_t *se;
    json_object_foreach (short_idx, k, se) {
        json_int_t short_eng = int_at(se, "engagements");
        if (short_eng < min_eng)
            continue;
        double short_share = num_at(se, "engagementShare");
        if (short_share < share_t)
            continue;
        const json_t *le = json_object_get(long_idx, k);
        double long_share = le ? num_at(le, "engagementShare") : 0.0;
        double delta = short_share - long_share;
        if (delta < delta_t)
            continue;
        json_t *a = json_object();
        copy_key(a, se, "providerId");
        copy_key(a, se, "providerName");
        copy_key(a, se, "presetId");
        copy_key(a, se, "presetLabel");
        copy_key(a, se, "serviceId");
        copy_key(a, se, "serviceAction");
        const json_t *cur = json_object_get(se, "currency");
        if (!json_is_string(cur) || json_string_length(cur) == 0)
            cur = le ? json_object_get(le, "currency") : NULL;
        json_object_set_new(a, "currency",
                            json_is_string(cur) && json_string_length(cur)
                                ? json_incref((json_t *)cur)
                                : json_null());
        json_object_set_new(a, "shortWindowDays", json_integer(p->short_days));
        json_object_set_new(a, "longWindowDays", json_integer(p->long_days));
        json_object_set_new(a, "shortShare", json_real(short_share));
        json_object_set_new(a, "longShare", json_real(long_share));
        json_object_set_new(a, "shareDelta", json_real(delta));
        json_object_set_new(a, "shortEngagements", json_integer(short_eng));
        json_object_set_new(a, "longEngagements", json_integer(le ? int_at(le, "engagements") : 0));
        json_object_set_new(a, "shortAmountTotal", json_real(num_at(se, "amountTotal")));
        json_object_set_new(a, "longAmountTotal", json_real(le ? num_at(le, "amountTotal") : 0.0));
        char *preset = id_text(json_object_get(se, "presetId"));
        char *provider = id_text(json_object_get(se, "providerId"));
        json_object_set_new(a, "links", alerts_links(preset, provider));
        free(preset);
        free(provider);
        refs[n].alert = a;
        refs[n].delta = delta;
        refs[n].short_share = short_share;
        refs[n].order = n;
        n++;
    }
    qsort(refs, n, sizeof(*refs), alert_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i < limit)
            json_array_append(out, refs[i].alert);
        json_decref(refs[i].alert);
    }
    free(refs);
    json_decref(short_idx);
    json_decref(long_idx);
    return out;
}

/* A non-blank link of the entry's links object, trimmed; NULL otherwise. New string. */
static char *given_link(const json_t *links, const char *key)
{
    const char *v = str_at(links, key);
    if (!v)
        return NULL;
    char *t = trim_dup(v);
    if (*t)
        return t;
    free(t);
    return NULL;
}

static json_t *number_or(const json_t *v, json_t *fallback)
{
    if (json_is_number(v) && json_number_value(v) != 0.0) {
        json_decref(fallback);
        return json_incref((json_t *)v);
    }
    return fallback;
}

json_t *load_alerts_digest(const json_t *load_alerts, const struct load_alert_params *p,
                           const char *frontend_url)
{
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach (load_alerts, i, a) {
        if (!json_is_object(a))
            continue;
        char *provider = id_text(json_object_get(a, "providerId"));
        char *preset = id_text(json_object_get(a, "presetId"));
        if (!provider || !preset) {
            free(provider);
            free(preset);
            continue;
        }
        json_t *d = json_object();
        json_object_set_new(d, "providerId", json_string(provider));
        copy_key(d, a, "providerName");
        json_object_set_new(d, "presetId", json_string(preset));
        copy_key(d, a, "presetLabel");
        copy_key(d, a, "serviceId");
        copy_key(d, a, "serviceAction");
        copy_key(d, a, "currency");
        json_object_set_new(
            d, "shortWindowDays",
            number_or(json_object_get(a, "shortWindowDays"), json_integer(p->short_days)));
        json_object_set_new(
            d, "longWindowDays",
            number_or(json_object_get(a, "longWindowDays"), json_integer(p->long_days)));
        static const char *const reals[] = {"shortShare", "longShare", "shareDelta"};
        for (size_t k = 0; k < 3; k++)
            json_object_set_new(d, reals[k],
                                number_or(json_object_get(a, reals[k]), json_real(0.0)));
        json_object_set_new(d, "shortEngagements",
                            number_or(json_object_get(a, "shortEngagements"), json_integer(0)));
        json_object_set_new(d, "longEngagements",
                            number_or(json_object_get(a, "longEngagements"), json_integer(0)));
        json_object_set_new(d, "shortAmountTotal",
                            number_or(json_object_get(a, "shortAmountTotal"), json_real(0.0)));
        json_object_set_new(d, "longAmountTotal",
                            number_or(json_object_get(a, "longAmountTotal"), json_real(0.0)));

        const json_t *given = json_object_get(a, "links");
        char *tp = trim_dup(preset), *tv = trim_dup(provider);
        json_t *fallback = alerts_links(tp, tv);
        json_t *links = json_object();
        static const char *const keys[] = {"merchandising", "fulfillment", "orders"};
        for (size_t k = 0; k < 3; k++) {
            char *link = given_link(given, keys[k]);
            if (!link && str_at(fallback, keys[k]))
                link = xstrdup(str_at(fallback, keys[k]));
            if (link) {
                char *abs = alerts_absolutize(frontend_url, link);
                if (*abs)
                    json_object_set_new(links, keys[k], json_string(abs));
                free(abs);
            }
            free(link);
        }
        if (json_object_size(links) > 0)
            json_object_set_new(d, "links", links);
        else
            json_decref(links);
        json_decref(fallback);
        free(tp);
        free(tv);
        free(provider);
        free(preset);
        json_array_append_new(out, d);
    }
    return out;
}

/* ---- Auto pause / resume ---- */

void guardrail_status_rows_free(struct guardrail_status_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].provider_id);
        free(rows[i].provider_name);
        free(rows[i].last_source);
        free(rows[i].last_follow_up_id);
    }
    free(rows);
}

static const struct guardrail_status_row *status_of(const struct guardrail_status_row *st, size_t n,
                                                    const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (st[i].provider_id && strcmp(st[i].provider_id, id) == 0)
            return &st[i];
    return NULL;
}

static int action_cmp(const void *a, const void *b)
{
    const struct auto_action *x = a, *y = b;
    return strcmp(x->provider_id, y->provider_id);
}

void alerts_plan_actions(const json_t *digest, const struct guardrail_status_row *statuses,
                         size_t nstatuses, const struct alert_thresholds *raw,
                         struct auto_action **out, size_t *n)
{
    /* The last alert of a provider wins, as in the original's dict. */
    json_t *by_provider = json_object();
    size_t i;
    json_t *a;
    json_array_foreach (digest, i, a) {
        const char *id = str_at(a, "providerId");
        if (id)
            json_object_set(by_provider, id, a);
    }
    size_t cap = json_object_size(by_provider) + nstatuses, np = 0;
    struct auto_action *acts = xcalloc(cap ? cap : 1, sizeof(*acts));
    const char *id;
    json_object_foreach (by_provider, id, a) {
        if (!(int_at(a, "guardrailFailures") >= raw->fail ||
              int_at(a, "replayFailures") >= raw->replay))
            continue; /* warn-only alerts never pause */
        const struct guardrail_status_row *st = status_of(statuses, nstatuses, id);
        if (st && st->is_paused)
            continue; /* already paused, manually or by us */
        acts[np].pause = 1;
        acts[np].provider_id = str_at(a, "providerId");
        acts[np].alert = a;
        np++;
    }
    qsort(acts, np, sizeof(*acts), action_cmp);
    size_t nr = np;
    for (i = 0; i < nstatuses; i++) {
        const struct guardrail_status_row *st = &statuses[i];
        if (!st->provider_id || !st->is_paused || !st->last_source ||
            strcmp(st->last_source, "automation") != 0 ||
            json_object_get(by_provider, st->provider_id))
            continue;
        acts[nr].pause = 0;
        acts[nr].provider_id = st->provider_id;
        acts[nr].status = st;
        nr++;
    }
    /* The alert items stay alive through the caller's digest. */
    json_decref(by_provider);
    *out = acts;
    *n = nr;
}

json_t *alerts_auto_paused_item(const json_t *alert, const char *follow_up_id)
{
    json_t *o = json_object();
    copy_key(o, alert, "providerId");
    copy_key(o, alert, "providerName");
    json_object_set_new(o, "action", json_string("pause"));
    json_object_set_new(o, "notes", json_string(ALERTS_PAUSE_NOTES));
    copy_key(o, alert, "guardrailFailures");
    copy_key(o, alert, "guardrailWarnings");
    copy_key(o, alert, "replayFailures");
    copy_key(o, alert, "replayTotal");
    copy_key(o, alert, "reasons");
    json_object_set_new(o, "followUpId", str_or_null(follow_up_id));
    return o;
}

json_t *alerts_auto_resumed_item(const struct guardrail_status_row *st, const char *follow_up_id)
{
    json_t *o = json_object();
    json_object_set_new(o, "providerId", json_string(st->provider_id));
    json_object_set_new(
        o, "providerName",
        json_string(st->provider_name && *st->provider_name ? st->provider_name : st->provider_id));
    json_object_set_new(o, "action", json_string("resume"));
    json_object_set_new(o, "notes", json_string(ALERTS_RESUME_NOTES));
    json_object_set_new(o, "followUpId", str_or_null(follow_up_id));
    json_object_set_new(o, "previousFollowUpId", str_or_null(st->last_follow_up_id));
    return o;
}

/* ---- Notification texts ---- */

void alerts_format_thousands(double v, char *out, size_t cap)
{
    char digits[400];
    snprintf(digits, sizeof(digits), "%.0f", v);
    const char *d = digits;
    struct sb sb = SB_INIT;
    if (*d == '-') {
        sb_putc(&sb, '-');
        d++;
    }
    size_t len = strlen(d);
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            sb_putc(&sb, ',');
        sb_putc(&sb, d[i]);
    }
    snprintf(out, cap, "%s", sb_str(&sb));
    sb_release(&sb);
}

/* One auto action, normalised (§8.1). */
struct norm_action {
    int pause;
    char *id;
    char *name;
    char *detail; /* reasons joined ", ", else notes; NULL when neither */
};

static size_t normalise_actions(const json_t *list, int pause, struct norm_action **acts, size_t n)
{
    size_t i;
    json_t *e;
    json_array_foreach (list, i, e) {
        if (!json_is_object(e))
            continue;
        char *raw_id = id_text(json_object_get(e, "providerId"));
        char *id = trim_dup(raw_id ? raw_id : "");
        free(raw_id);
        if (!*id) {
            free(id);
            continue;
        }
        char *raw_name = id_text(json_object_get(e, "providerName"));
        char *name = trim_dup(raw_name ? raw_name : id);
        free(raw_name);
        if (!*name) {
            free(name);
            name = xstrdup(id);
        }
        struct sb sb = SB_INIT;
        size_t k;
        json_t *r;
        json_array_foreach (json_object_get(e, "reasons"), k, r) {
            if (!json_is_string(r))
                continue;
            char *t = trim_dup(json_string_value(r));
            if (*t)
                sb_printf(&sb, "%s%s", sb.len ? ", " : "", t);
            free(t);
        }
        char *detail = NULL;
        if (sb.len) {
            detail = sb_detach(&sb);
        } else {
            sb_release(&sb);
            const char *notes = str_at(e, "notes");
            char *t = trim_dup(notes);
            if (t && *t)
                detail = xstrdup(notes);
            free(t);
        }
        *acts = xrealloc(*acts, (n + 1) * sizeof(**acts));
        (*acts)[n].pause = pause;
        (*acts)[n].id = id;
        (*acts)[n].name = name;
        (*acts)[n].detail = detail;
        n++;
    }
    return n;
}

static void free_actions(struct norm_action *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].id);
        free(a[i].name);
        free(a[i].detail);
    }
    free(a);
}

static void joined_reasons(struct sb *sb, const json_t *item)
{
    size_t start = sb->len, i;
    json_t *r;
    json_array_foreach (json_object_get(item, "reasons"), i, r) {
        if (json_is_string(r))
            sb_printf(sb, "%s%s", sb->len > start ? ", " : "", json_string_value(r));
    }
    if (sb->len == start)
        sb_puts(sb, "Unknown breach");
}

static const char *or_str(const char *a, const char *b)
{
    return a ? a : b;
}

/* FRONTEND_URL without trailing '/', NULL when blank. New string. */
static char *frontend_base(const char *frontend_url)
{
    char *t = trim_dup(frontend_url ? frontend_url : "");
    size_t len = strlen(t);
    while (len > 0 && t[len - 1] == '/')
        t[--len] = '\0';
    if (!*t) {
        free(t);
        return NULL;
    }
    return t;
}

static const char *const link_keys[] = {"merchandising", "fulfillment", "orders"};
static const char *const link_names[] = {"Merchandising", "Fulfillment", "Orders"};

char *alerts_email_body(const json_t *alerts, const json_t *load_alerts, const json_t *paused,
                        const json_t *resumed, const char *frontend_url)
{
    struct sb sb = SB_INIT;
    size_t i;
    json_t *a;
    if (json_array_size(alerts) > 0) {
        sb_puts(&sb, "The following providers breached automation guardrails:\n\n");
        json_array_foreach (alerts, i, a) {
            char *name = id_text(json_object_get(a, "providerName"));
            char *id = id_text(json_object_get(a, "providerId"));
            sb_printf(&sb, "- %s (%s): ", name ? name : "None", id ? id : "None");
            free(name);
            free(id);
            joined_reasons(&sb, a);
            sb_putc(&sb, '\n');
            const json_t *hot = json_object_get(a, "guardrailHotspots");
            const char *svc;
            json_t *v;
            if (json_object_size(hot) > 0) {
                sb_puts(&sb, "  Guardrail hotspots:\n");
                json_object_foreach ((json_t *)hot, svc, v)
                    sb_printf(&sb,
                              "    \u2022 %s: %" JSON_INTEGER_FORMAT " fail / %" JSON_INTEGER_FORMAT
                              " warn\n",
                              svc, int_at(v, "fail"), int_at(v, "warn"));
            }
            const json_t *ov = json_object_get(a, "ruleOverrides");
            if (json_object_size(ov) > 0) {
                sb_puts(&sb, "  Rule overrides triggering automation:\n");
                json_object_foreach ((json_t *)ov, svc, v) {
                    if (json_array_size(v) == 0)
                        continue;
                    sb_printf(&sb, "    \u2022 %s: ", svc);
                    size_t k;
                    json_t *r;
                    json_array_foreach (v, k, r) {
                        const char *label = str_at(r, "label");
                        char *rid = id_text(json_object_get(r, "id"));
                        sb_printf(&sb, "%s%s (%" JSON_INTEGER_FORMAT ")", k ? ", " : "",
                                  label ? label : or_str(rid, ""), int_at(r, "count"));
                        free(rid);
                    }
                    sb_putc(&sb, '\n');
                }
            }
            sb_putc(&sb, '\n');
        }
    }
    if (json_array_size(load_alerts) > 0) {
        sb_puts(&sb, "Preset/provider cohort pressure detected:\n\n");
        json_array_foreach (load_alerts, i, a) {
            char *label = id_text(json_object_get(a, "presetLabel"));
            char *pname = id_text(json_object_get(a, "providerName"));
            sb_printf(&sb, "- %s dominating %s (%.1f%% vs %.1f%% baseline)\n",
                      pname ? pname : or_str(str_at(a, "providerId"), ""),
                      label ? label : or_str(str_at(a, "presetId"), ""),
                      num_at(a, "shortShare") * 100.0, num_at(a, "longShare") * 100.0);
            free(label);
            free(pname);
            sb_printf(&sb,
                      "  Window %" JSON_INTEGER_FORMAT "d vs %" JSON_INTEGER_FORMAT
                      "d \u00b7 %" JSON_INTEGER_FORMAT " vs %" JSON_INTEGER_FORMAT " engagements\n",
                      int_at(a, "shortWindowDays"), int_at(a, "longWindowDays"),
                      int_at(a, "shortEngagements"), int_at(a, "longEngagements"));
            double sa = num_at(a, "shortAmountTotal");
            if (sa != 0.0) {
                char s1[64], s2[64];
                alerts_format_thousands(sa, s1, sizeof(s1));
                alerts_format_thousands(num_at(a, "longAmountTotal"), s2, sizeof(s2));
                sb_printf(&sb, "  Provider spend %s %s short / %s long\n",
                          or_str(str_at(a, "currency"), "USD"), s1, s2);
            }
            const char *action = str_at(a, "serviceAction");
            if (action)
                sb_printf(&sb, "  Service %s \u00b7 %s\n", or_str(str_at(a, "serviceId"), "-"),
                          action);
            const json_t *links = json_object_get(a, "links");
            int any = 0;
            for (size_t k = 0; k < 3; k++)
                any |= str_at(links, link_keys[k]) != NULL;
            if (any) {
                sb_puts(&sb, "  Links:\n");
                for (size_t k = 0; k < 3; k++)
                    if (str_at(links, link_keys[k]))
                        sb_printf(&sb, "    \u2022 %s: %s\n", link_names[k],
                                  str_at(links, link_keys[k]));
            }
            sb_putc(&sb, '\n');
        }
    }
    struct norm_action *acts = NULL;
    size_t nacts = normalise_actions(paused, 1, &acts, 0);
    nacts = normalise_actions(resumed, 0, &acts, nacts);
    if (nacts > 0) {
        char *base = frontend_base(frontend_url);
        sb_puts(&sb, "Automation guardrail actions taken automatically:\n\n");
        for (i = 0; i < nacts; i++) {
            sb_printf(&sb, "- %s: %s (%s)", acts[i].pause ? "Paused" : "Resumed", acts[i].name,
                      acts[i].id);
            if (acts[i].detail)
                sb_printf(&sb, " \u2014 %s", acts[i].detail);
            sb_putc(&sb, '\n');
            if (base)
                sb_printf(&sb, "  Dashboard: %s/admin/fulfillment/providers/%s?tab=automation\n",
                          base, acts[i].id);
        }
        sb_putc(&sb, '\n');
        free(base);
    }
    free_actions(acts, nacts);
    sb_puts(&sb, "Investigate these providers before rerunning automated fulfillments.");
    return sb_detach(&sb);
}

char *alerts_slack_text(const json_t *alerts, const json_t *load_alerts, const json_t *paused,
                        const json_t *resumed, const json_t *contexts, const char *frontend_url)
{
    struct sb sb = SB_INIT;
    size_t i;
    json_t *a;
    char *base = frontend_base(frontend_url);
    if (json_array_size(alerts) > 0) {
        sb_puts(&sb, ":warning: Provider automation alerts detected");
        json_array_foreach (alerts, i, a) {
            char *name = id_text(json_object_get(a, "providerName"));
            char *id = id_text(json_object_get(a, "providerId"));
            sb_printf(&sb, "\n\u2022 %s (%s) \u2014 ", name ? name : "None", id ? id : "None");
            joined_reasons(&sb, a);
            const json_t *ctx = id ? json_object_get(contexts, id) : NULL;
            if (json_array_size(ctx) > 0) {
                sb_puts(&sb, "\n    contexts: ");
                size_t k;
                json_t *c;
                json_array_foreach (ctx, k, c)
                    sb_printf(&sb, "%s%s", k ? ", " : "", or_str(json_string_value(c), ""));
            }
            free(name);
            free(id);
        }
    }
    struct norm_action *acts = NULL;
    size_t nacts = normalise_actions(paused, 1, &acts, 0);
    nacts = normalise_actions(resumed, 0, &acts, nacts);
    if (nacts > 0) {
        sb_printf(&sb, "%s:robot_face: Guardrail playbook actions", sb.len ? "\n" : "");
        for (i = 0; i < nacts; i++) {
            sb_printf(&sb, "\n\u2022 %s \u2014 %s (%s)",
                      acts[i].pause ? "Auto-pause" : "Auto-resume", acts[i].name, acts[i].id);
            if (acts[i].detail)
                sb_printf(&sb, " \u2014 %s", acts[i].detail);
            if (base)
                sb_printf(&sb,
                          "\n    <%s/admin/fulfillment/providers/%s?tab=automation|Open "
                          "automation tab>",
                          base, acts[i].id);
        }
    }
    free_actions(acts, nacts);
    if (json_array_size(load_alerts) > 0) {
        sb_printf(&sb, "%s:bar_chart: Provider cohort pressure detected", sb.len ? "\n" : "");
        json_array_foreach (load_alerts, i, a) {
            char *label = id_text(json_object_get(a, "presetLabel"));
            char *pname = id_text(json_object_get(a, "providerName"));
            sb_printf(&sb, "\n\u2022 %s / %s %.0f%% vs %.0f%% baseline",
                      pname ? pname : or_str(str_at(a, "providerId"), ""),
                      label ? label : or_str(str_at(a, "presetId"), ""),
                      num_at(a, "shortShare") * 100.0, num_at(a, "longShare") * 100.0);
            free(label);
            free(pname);
            const json_t *links = json_object_get(a, "links");
            int first = 1;
            for (size_t k = 0; k < 3; k++) {
                const char *url = str_at(links, link_keys[k]);
                if (!url)
                    continue;
                sb_printf(&sb, "%s<%s|%s>", first ? "\n    " : " \u00b7 ", url, link_names[k]);
                first = 0;
            }
        }
    }
    free(base);
    return sb_detach(&sb);
}

static void title_case(struct sb *sb, const char *s)
{
    int prev_alpha = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p == '_' ? ' ' : *p;
        if (isalpha(c)) {
            sb_putc(sb, (char)(prev_alpha ? tolower(c) : toupper(c)));
            prev_alpha = 1;
        } else {
            sb_putc(sb, (char)c);
            prev_alpha = 0;
        }
    }
}

/* "<url|name>" of an attachment when both are known, else its name; NULL without a name. */
static char *attachment_label(const json_t *a)
{
    const char *name = str_at(a, "fileName");
    if (!name || !*name)
        name = str_at(a, "file_name");
    if (!name || !*name)
        name = str_at(a, "assetUrl");
    if (!name || !*name)
        return NULL;
    const char *url = str_at(a, "assetUrl");
    struct sb sb = SB_INIT;
    if (url && *url)
        sb_printf(&sb, "<%s|%s>", url, name);
    else
        sb_puts(&sb, name);
    return sb_detach(&sb);
}

static json_int_t count_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

struct svc_rank {
    const char *id;
    const json_t *v;
    size_t seen; /* insertion order: ties keep it, as Python's stable sort does */
};

static int by_fail_warn_pass(const void *a, const void *b)
{
    const struct svc_rank *x = a, *y = b;
    const char *keys[] = {"fail", "warn", "pass"};
    for (size_t i = 0; i < 3; i++) {
        json_int_t p = count_at(x->v, keys[i]), q = count_at(y->v, keys[i]);
        if (p != q)
            return p > q ? -1 : 1;
    }
    return x->seen < y->seen ? -1 : x->seen > y->seen;
}

static int by_overrides(const void *a, const void *b)
{
    const struct svc_rank *x = a, *y = b;
    json_int_t p = count_at(x->v, "totalOverrides"), q = count_at(y->v, "totalOverrides");
    if (p != q)
        return p > q ? -1 : 1;
    return x->seen < y->seen ? -1 : x->seen > y->seen;
}

/* The services of a telemetry map sorted by cmp; *n entries, free() the array. */
static struct svc_rank *ranked(const json_t *map, int (*cmp)(const void *, const void *), size_t *n)
{
    size_t cap = json_object_size(map), k = 0;
    struct svc_rank *out = xcalloc(cap ? cap : 1, sizeof(*out));
    const char *id;
    json_t *v;
    json_object_foreach ((json_t *)map, id, v) {
        if (!json_is_object(v))
            continue;
        out[k].id = id;
        out[k].v = v;
        out[k].seen = k;
        k++;
    }
    qsort(out, k, sizeof(*out), cmp);
    *n = k;
    return out;
}

/* The telemetry block of §8.4: routed orders, replays, guardrail checks, the three services
 * with the most guardrail trouble and the three with the most rule overrides. */
static void telemetry_block(struct sb *sb, const json_t *tel)
{
    sb_printf(
        sb,
        "\n:bar_chart: Provider automation telemetry\n\u2022 Routed orders: %" JSON_INTEGER_FORMAT,
        count_at(tel, "totalOrders"));
    const json_t *rep = json_object_get(tel, "replays");
    if (count_at(rep, "total") || count_at(rep, "scheduled"))
        sb_printf(sb,
                  "\n\u2022 Replays executed %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
                  " \u00b7 Failed %" JSON_INTEGER_FORMAT " \u00b7 Scheduled %" JSON_INTEGER_FORMAT,
                  count_at(rep, "executed"), count_at(rep, "total"), count_at(rep, "failed"),
                  count_at(rep, "scheduled"));
    const json_t *g = json_object_get(tel, "guardrails");
    if (count_at(g, "evaluated"))
        sb_printf(sb,
                  "\n\u2022 Guardrail checks %" JSON_INTEGER_FORMAT ": pass %" JSON_INTEGER_FORMAT
                  " \u00b7 warn %" JSON_INTEGER_FORMAT " \u00b7 fail %" JSON_INTEGER_FORMAT,
                  count_at(g, "evaluated"), count_at(g, "pass"), count_at(g, "warn"),
                  count_at(g, "fail"));
    size_t n, shown = 0;
    struct svc_rank *r =
        ranked(json_object_get(tel, "guardrailHitsByService"), by_fail_warn_pass, &n);
    for (size_t i = 0; i < n && i < 3; i++) {
        json_int_t w = count_at(r[i].v, "warn"), f = count_at(r[i].v, "fail");
        if (w == 0 && f == 0)
            continue;
        sb_printf(sb, "%s%s (warn %" JSON_INTEGER_FORMAT ", fail %" JSON_INTEGER_FORMAT ")",
                  shown++ ? ", " : "\n\u2022 Services under watch: ", r[i].id, w, f);
    }
    free(r);
    shown = 0;
    r = ranked(json_object_get(tel, "ruleOverridesByService"), by_overrides, &n);
    for (size_t i = 0; i < n && i < 3; i++) {
        json_int_t t = count_at(r[i].v, "totalOverrides");
        if (t <= 0)
            continue;
        sb_printf(sb, "%s%s (%" JSON_INTEGER_FORMAT ")",
                  shown++ ? ", " : "\n\u2022 Rule overrides triggered: ", r[i].id, t);
    }
    free(r);
}

char *alerts_followup_message(const struct followup_message *m, const char *frontend_url)
{
    struct sb sb = SB_INIT;
    const char *id = m->provider_id;
    sb_printf(&sb, ":warning: Guardrail follow-up recorded for *%s* (`%s`)\n",
              m->provider_name && *m->provider_name ? m->provider_name : id, id);
    sb_puts(&sb, "\u2022 Action: *");
    title_case(&sb, m->action);
    sb_puts(&sb, "*\n");
    char *t = trim_dup(m->notes);
    sb_printf(&sb, "\u2022 Notes: %s\n", m->notes && *m->notes ? t : "No notes provided.");
    free(t);
    size_t i, shown = 0;
    json_t *a;
    json_array_foreach (m->attachments, i, a) {
        if (shown == 5)
            break;
        char *label = json_is_object(a) ? attachment_label(a) : NULL;
        if (!label)
            continue;
        sb_printf(&sb, "%s%s", shown++ ? ", " : "\u2022 Attachments: ", label);
        free(label);
    }
    if (shown)
        sb_putc(&sb, '\n');
    if (m->has_status)
        sb_printf(&sb, "\u2022 Status: *%s*\n", m->is_paused ? "Paused" : "Active");
    const char *label = str_at(m->platform_context, "label");
    const char *handle = str_at(m->platform_context, "handle");
    label = label && *label ? label : NULL;
    handle = handle && *handle ? handle : NULL;
    if (label && handle)
        sb_printf(&sb, "\u2022 Context: %s (%s)\n", label, handle);
    else if (label || handle)
        sb_printf(&sb, "\u2022 Context: %s\n", label ? label : handle);
    char *base = frontend_base(frontend_url);
    sb_printf(&sb, "<%s/admin/fulfillment/providers/%s?tab=automation|Open dashboard>",
              base ? base : "", id);
    if (m->telemetry)
        telemetry_block(&sb, m->telemetry);
    const char *cursor =
        m->conversion_cursor && *m->conversion_cursor ? m->conversion_cursor : NULL;
    const char *href = m->conversion_href && *m->conversion_href ? m->conversion_href : NULL;
    if (href || base) {
        sb_printf(&sb, "\n\u2022 %s: <",
                  cursor ? "Historical conversion slice" : "Live conversion snapshot");
        if (href) {
            sb_puts(&sb, href);
        } else {
            sb_printf(&sb, "%s/admin/reports", base);
            if (cursor) {
                char *q = alerts_quote_plus(cursor);
                sb_printf(&sb, "?conversionCursor=%s", q);
                free(q);
            }
            sb_puts(&sb, "#experiment-analytics");
        }
        sb_puts(&sb, "|Open conversions>");
        if (cursor)
            sb_printf(&sb, " (cursor %s)", cursor);
    }
    free(base);
    return sb_detach(&sb);
}

char *alerts_followup_slack_text(const char *provider_id, const char *provider_name,
                                 const char *action, const char *notes, int is_paused,
                                 const char *frontend_url)
{
    struct followup_message m = {
        .provider_id = provider_id,
        .provider_name = provider_name,
        .action = action,
        .notes = notes,
        .has_status = 1,
        .is_paused = is_paused,
    };
    return alerts_followup_message(&m, frontend_url);
}

json_t *alerts_slack_payload(const char *text, const char *channel)
{
    json_t *o = json_object();
    json_object_set_new(o, "text", json_string(text));
    if (channel && *channel)
        json_object_set_new(o, "channel", json_string(channel));
    return o;
}

char *alerts_context_label(const json_t *row)
{
    const char *label = or_str(str_at(row, "label"), "");
    const char *handle = str_at(row, "handle");
    const char *type = str_at(row, "platform_type");
    if (!type)
        type = str_at(row, "platformType");
    struct sb sb = SB_INIT;
    sb_puts(&sb, label);
    int details = 0;
    if (handle && !strstr(label, handle)) {
        sb_printf(&sb, " (%s", handle);
        details = 1;
    }
    if (type) {
        sb_printf(&sb, "%s%s", details ? ", " : " (", type);
        details = 1;
    }
    if (details)
        sb_putc(&sb, ')');
    return sb_detach(&sb);
}

/* ---- Cooldown ---- */

void alerts_guardrail_key(const json_t *item, char **key, char **fingerprint)
{
    char *id = id_text(json_object_get(item, "providerId"));
    struct sb k = SB_INIT, f = SB_INIT;
    sb_printf(&k, "guardrail:%s", id ? id : "");
    size_t i;
    json_t *r;
    sb_puts(&f, "");
    json_array_foreach (json_object_get(item, "reasons"), i, r)
        sb_printf(&f, "%s%s", i ? "; " : "", or_str(json_string_value(r), ""));
    free(id);
    *key = sb_detach(&k);
    *fingerprint = sb_detach(&f);
}

void alerts_load_key(const json_t *item, char **key, char **fingerprint)
{
    struct sb k = SB_INIT, f = SB_INIT;
    sb_printf(&k, "load:%s|%s|%s", or_str(str_at(item, "presetId"), ""),
              or_str(str_at(item, "providerId"), ""), or_str(str_at(item, "serviceId"), ""));
    sb_printf(&f, "%.0f/%.0f", num_at(item, "shortShare") * 100.0,
              num_at(item, "longShare") * 100.0);
    *key = sb_detach(&k);
    *fingerprint = sb_detach(&f);
}

int alerts_cooldown_due(const char *prev_fp, int64_t prev_sent_us, const char *fp, int64_t now_us,
                        int64_t cooldown_us)
{
    if (!prev_fp || strcmp(prev_fp, fp) != 0)
        return 1;
    return now_us - prev_sent_us >= cooldown_us;
}

/* ---- Retries ---- */

int64_t alerts_retry_delay_us(int attempt, int64_t retry_after_us, int64_t now_us,
                              int64_t deadline_us)
{
    if (attempt < 2 || attempt > ALERTS_SEND_ATTEMPTS)
        return -1;
    int64_t delay =
        retry_after_us >= 0 ? retry_after_us : ALERTS_SEND_BASE_DELAY_US << (attempt - 2);
    if (now_us + delay > deadline_us)
        return -1;
    return delay;
}

int alerts_http_status_retryable(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

json_t *alerts_skipped_result(void)
{
    return json_pack("{s:i,s:b}", "alertsSent", 0, "skipped", 1);
}
