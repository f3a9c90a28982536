/*
 * Scheduling a replay by hand, and saving a payload with its scheduled-replay index in sync.
 * The scheduled pass (core/replay.c) finds payloads changed by other writers through the
 * dirty marks of a trigger; our own HTTP writes do better and re-derive the index rows in
 * the same transaction as the payload, so what the API answers is what the next pass sees.
 * The timeline event is written after the commit: a failure to record it is logged and does
 * not undo the schedule (spec-replay §8), and on PostgreSQL a failed statement inside the
 * transaction would have aborted it.
 */
#include "core/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/iso8601.h"
#include "base/log.h"
#include "base/sb.h"
#include "core/payload.h"

static void log_fields(enum log_level level, const char *message, json_t *fields)
{
    char *text = json_dumps(fields, JSON_COMPACT | JSON_ENSURE_ASCII);
    log_event(level, message, text);
    free(text);
    json_decref(fields);
}

/* Inserts one timeline event of provider order o; failures are logged, never returned. */
static void timeline(struct store *s, const struct provider_order_rec *o, const char *event_type,
                     const char *actor_type, const char *notes, json_t *metadata, int64_t now_us)
{
    if (o->order_id) {
        struct timeline_event ev = {
            .order_id = o->order_id,
            .event_type = event_type,
            .actor_type = actor_type,
            .actor_id = o->id,
            .notes = notes,
            .metadata = metadata,
            .created_us = now_us,
        };
        if (s->ops->timeline_insert(s, &ev) != 0) {
            json_t *f = json_object();
            json_object_set_new(f, "order_id", json_string(o->order_id));
            json_object_set_new(f, "event_type", json_string(event_type));
            json_object_set_new(f, "error", json_string(s->ops->last_error(s)));
            log_fields(LOG_ERROR, "Failed to record replay timeline event", f);
        }
    }
    json_decref(metadata);
}

int schedule_save(struct store *s, struct provider_order_rec *o, int64_t now_us, int always_write,
                  const json_t *reset_entries, size_t *invalid)
{
    struct payload_index ix;
    payload_index_derive(o->payload, o->currency, now_us, &ix);
    size_t ri;
    json_t *rid;
    json_array_foreach (reset_entries, ri, rid) {
        payload_index_reset(&ix, json_string_value(rid));
    }
    int rc = 0;
    if (o->payload && (always_write || ix.mutated))
        rc = s->ops->order_save_payload(s, o->id, o->payload, now_us);
    if (rc == 0)
        rc = s->ops->schedule_replace(s, o->id, o->provider_id, ix.entries, ix.n);
    if (invalid)
        *invalid = rc == 0 ? json_array_size(ix.invalid) : 0;
    if (rc == 0 && ix.invalid) {
        size_t i;
        json_t *e;
        json_array_foreach (ix.invalid, i, e) {
            json_t *extra = json_object();
            json_object_set(extra, "scheduleId", json_object_get(e, "id"));
            json_object_set_new(extra, "trigger", json_string("scheduled_replay"));
            json_object_set_new(extra, "error", json_string(PAYLOAD_INVALID_SCHEDULED_FOR));
            timeline(s, o, "replay_executed", "automation", "Automation replay attempt failed",
                     payload_timeline_metadata(o, e, extra), now_us);
            json_decref(extra);
        }
    }
    payload_index_release(&ix);
    return rc;
}

int schedule_render_time(const char *run_at, char out[ISO_BUFSZ])
{
    struct iso_time t;
    if (!run_at || iso_parse(run_at, strlen(run_at), &t) != 0)
        return ERR_INVALID;
    if (!t.has_offset) { /* DECISIONS 14: a naive runAt is UTC */
        t.has_offset = 1;
        t.offset_sec = 0;
    }
    iso_format(&t, out);
    return 0;
}

static char *store_error(struct store *s, const char *what)
{
    struct sb sb = SB_INIT;
    sb_printf(&sb, "%s: %s", what, s->ops->last_error(s));
    return sb_detach(&sb);
}

int schedule_replay(struct replay_env *env, const char *provider_id, const char *po_id,
                    const json_t *amount, const char *run_at, const struct replay_trigger *trigger,
                    json_t **entry_out, char **error)
{
    struct store *s = env->store;
    char when[ISO_BUFSZ];
    struct provider_order_rec o;
    int64_t now = env->now_us ? env->now_us(env->clock_ctx) : time_now_us();

    *entry_out = NULL;
    *error = NULL;
    if (schedule_render_time(run_at, when) != 0) {
        *error = xstrdup("runAt is not a valid datetime");
        return ERR_INVALID;
    }
    if (s->ops->begin(s) != 0) {
        *error = store_error(s, "could not start a transaction");
        return ERR_DB;
    }
    int rc = s->ops->order_get(s, po_id, provider_id, 1, &o);
    if (rc != 0) {
        s->ops->rollback(s);
        if (rc == ERR_NOT_FOUND) {
            *error = xstrdup("Provider order not found");
            return ERR_NOT_FOUND;
        }
        *error = store_error(s, "could not load the provider order");
        return ERR_DB;
    }
    if (!json_is_object(o.payload)) {
        json_decref(o.payload);
        o.payload = json_object();
    }
    json_t *entry = payload_schedule_entry(
        o.payload, amount && !json_is_null(amount) ? amount : NULL, o.currency, when);
    json_array_append(payload_array(o.payload, "scheduledReplays"), entry);
    rc = schedule_save(s, &o, now, 1, NULL, NULL);
    if (rc == 0)
        rc = s->ops->commit(s);
    if (rc != 0) {
        *error = store_error(s, "could not save the scheduled replay");
        s->ops->rollback(s);
        json_decref(entry);
        provider_order_rec_release(&o);
        return ERR_DB;
    }
    struct sb notes = SB_INIT;
    sb_printf(&notes, "Replay scheduled for %s", when);
    timeline(s, &o, "replay_scheduled", trigger ? trigger->actor_type : "operator", sb_str(&notes),
             payload_timeline_metadata(&o, entry, trigger ? trigger->extra : NULL), now);
    sb_release(&notes);

    json_t *f = json_object();
    json_object_set_new(f, "provider_id", json_string(o.provider_id));
    json_object_set_new(f, "provider_order_id", json_string(o.id));
    json_object_set_new(f, "scheduled_for", json_string(when));
    log_fields(LOG_INFO, "Provider order replay scheduled", f);
    provider_order_rec_release(&o);
    *entry_out = entry;
    return 0;
}
