/*
 * Scheduling a replay by hand (spec-replay §5, the HTTP "replay later"), and the one way every
 * writer outside the scheduled pass saves a payload: together with the scheduled-replay index
 * rows derived from it, so that an entry written over HTTP is due at the next pass without
 * waiting for the dirty-mark sync.
 */
#ifndef SMPLAT_CORE_SCHEDULE_H
#define SMPLAT_CORE_SCHEDULE_H

#include <jansson.h>
#include <stdint.h>

#include "base/iso8601.h"
#include "core/replay.h"
#include "core/store.h"

/* Saves o->payload and re-derives o's index rows from it. always_write: write the payload
 * even when deriving changed nothing (callers that edited it); otherwise it is written only
 * when ids were assigned or entries failed. reset_entries: NULL or an array of entry ids
 * whose claims are dropped (retried entries). Entries found invalid on the way (missing or
 * unparseable scheduledFor) are failed in the payload and get the scheduled pass's
 * "Automation replay attempt failed" timeline event; *invalid (when not NULL) gets their
 * number. Call inside a transaction with the order row read for update. 0 or the store's
 * code. */
int schedule_save(struct store *s, struct provider_order_rec *o, int64_t now_us, int always_write,
                  const json_t *reset_entries, size_t *invalid);

/* Appends a pending scheduledReplays entry for run_at (ISO-8601 text; a naive value is UTC,
 * an offset is kept as written) to provider order po_id of provider_id, saves it with its
 * index rows, then records the replay_scheduled timeline event (actor trigger->actor_type,
 * notes "Replay scheduled for <scheduledFor>", metadata extras trigger->extra). amount: a JSON
 * number or NULL (the entry's requestedAmount is then null). Returns 0 with *entry_out (new
 * reference), or ERR_NOT_FOUND ("Provider order not found"), ERR_INVALID (run_at does not
 * parse) or ERR_DB with *error owned. */
int schedule_replay(struct replay_env *env, const char *provider_id, const char *po_id,
                    const json_t *amount, const char *run_at, const struct replay_trigger *trigger,
                    json_t **entry_out, char **error);

/* The stored scheduledFor of run_at: isoformat() in its own offset, "+00:00" for a naive
 * value. 0, or ERR_INVALID when run_at does not parse. */
int schedule_render_time(const char *run_at, char out[ISO_BUFSZ]);

#endif
