/*
 * The one place that writes log lines. Each line is assembled in memory and written to stderr
 * in a single call under a mutex, so lines from concurrent threads (the HTTP server, the
 * worker loops) never interleave. Text lines read "2026-01-01T00:00:00.123Z INFO message
 * {fields}"; JSON lines are one object with "time", "level" and "message" followed by the
 * caller's fields, spliced in as text so that this layer needs no JSON library. Choosing
 * the format from the environment is the commands' business, not this file's.
 */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/iso8601.h"
#include "base/sb.h"

/* Generous: the compiler cannot know struct tm holds a sane date. */
#define STAMP_BUFSZ 96

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static enum log_level log_min = LOG_INFO;

void log_setup(enum log_format format, enum log_level min_level)
{
    pthread_mutex_lock(&log_lock);
    log_fmt = format;
    log_min = min_level;
    pthread_mutex_unlock(&log_lock);
}

static const char *level_name(enum log_level level)
{
    switch (level) {
    case LOG_DEBUG:
        return "DEBUG";
    case LOG_INFO:
        return "INFO";
    case LOG_WARNING:
        return "WARNING";
    case LOG_ERROR:
        return "ERROR";
    }
    return "INFO";
}

/* Millisecond UTC timestamp with a 'Z', the usual form of log timestamps. */
static void stamp(char out[STAMP_BUFSZ])
{
    int64_t us = time_now_us();
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, STAMP_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(us % 1000000 / 1000));
}

/* A JSON string literal; the message is UTF-8 already, only quotes, backslashes and control
 * characters need escaping. */
static void put_json_string(struct sb *sb, const char *s)
{
    sb_putc(sb, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            sb_puts(sb, "\\\"");
            break;
        case '\\':
            sb_puts(sb, "\\\\");
            break;
        case '\n':
            sb_puts(sb, "\\n");
            break;
        case '\r':
            sb_puts(sb, "\\r");
            break;
        case '\t':
            sb_puts(sb, "\\t");
            break;
        default:
            if (*p < 0x20)
                sb_printf(sb, "\\u%04x", *p);
            else
                sb_putc(sb, (char)*p);
        }
    }
    sb_putc(sb, '"');
}

/* The members of a "{...}" text without its braces, or an empty span when there are none. */
static void inner_members(const char *fields, const char **b, size_t *n)
{
    *b = NULL;
    *n = 0;
    if (!fields)
        return;
    const char *p = fields;
    const char *e = fields + strlen(fields);
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    if (e - p < 2 || *p != '{' || e[-1] != '}')
        return;
    p++;
    e--;
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        e--;
    *b = p;
    *n = (size_t)(e - p);
}

void log_event(enum log_level level, const char *message, const char *fields_json)
{
    struct sb line = SB_INIT;
    char ts[STAMP_BUFSZ];
    const char *members;
    size_t mlen;

    pthread_mutex_lock(&log_lock);
    if ((int)level < (int)log_min) {
        pthread_mutex_unlock(&log_lock);
        return;
    }
    enum log_format fmt = log_fmt;
    pthread_mutex_unlock(&log_lock);

    if (!message)
        message = "";
    stamp(ts);
    if (fmt == LOG_FORMAT_JSON) {
        sb_puts(&line, "{\"time\": ");
        put_json_string(&line, ts);
        sb_puts(&line, ", \"level\": ");
        put_json_string(&line, level_name(level));
        sb_puts(&line, ", \"message\": ");
        put_json_string(&line, message);
        inner_members(fields_json, &members, &mlen);
        if (mlen) {
            sb_puts(&line, ", ");
            sb_append(&line, members, mlen);
        }
        sb_putc(&line, '}');
    } else {
        sb_printf(&line, "%s %s %s", ts, level_name(level), message);
        if (fields_json && *fields_json && strcmp(fields_json, "{}") != 0)
            sb_printf(&line, " %s", fields_json);
    }
    sb_putc(&line, '\n');

    pthread_mutex_lock(&log_lock);
    fwrite(line.buf, 1, line.len, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
    sb_release(&line);
}

void log_msgf(enum log_level level, const char *fmt, ...)
{
    struct sb msg = SB_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&msg, fmt, ap);
    va_end(ap);
    log_event(level, sb_str(&msg), NULL);
    sb_release(&msg);
}
