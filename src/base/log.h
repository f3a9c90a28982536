/*
 * The logging interface. Library code does not log errors it returns; commands and loops log
 * them once. Lines go to stderr: readable text by default, one JSON object per line when the
 * format is LOG_FORMAT_JSON (SMPLAT_LOG_FORMAT=json). Fields are a pre-rendered JSON object
 * text (or NULL) so that this layer needs no JSON library.
 */
#ifndef SMPLAT_BASE_LOG_H
#define SMPLAT_BASE_LOG_H

enum log_level { LOG_DEBUG = 10, LOG_INFO = 20, LOG_WARNING = 30, LOG_ERROR = 40 };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

void log_setup(enum log_format format, enum log_level min_level);
/* message: the exact catalogue text; fields_json: "{...}" or NULL. Thread-safe. */
void log_event(enum log_level level, const char *message, const char *fields_json);
/* printf-style convenience without fields. */
void log_msgf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
