/*
 * Checked number and boolean parsing: the whole string must be consumed, overflow and empty
 * input are errors. Used for configuration, CLI flags and query strings.
 */
#ifndef SMPLAT_BASE_NUM_H
#define SMPLAT_BASE_NUM_H

#include <stdint.h>

/* Optional surrounding ASCII whitespace, optional sign, decimal digits. 0 or ERR_INVALID. */
int num_parse_i64(const char *s, int64_t *out);
int num_parse_int(const char *s, int *out);
/* A finite or non-finite double as Python float() accepts it ("1", "1.5", "1e3", "inf",
 * "nan", surrounding whitespace). 0 or ERR_INVALID. */
int num_parse_double(const char *s, double *out);
/* true/false/1/0/yes/no/on/off, any case, surrounding whitespace. 0 or ERR_INVALID. */
int num_parse_bool(const char *s, int *out);

#endif
