/*
 * Numbers rendered exactly as Python's str()/repr() render them, because provider requests
 * and stored payloads must keep the original's bytes: 150.0, 12.5, 1e+16, 1e-05,
 * 0.30000000000000004, inf, -inf, nan; integers without a decimal point.
 */
#ifndef SMPLAT_BASE_PYNUM_H
#define SMPLAT_BASE_PYNUM_H

#include <stddef.h>
#include <stdint.h>

/* Longest output of pynum_float plus NUL. */
#define PYNUM_BUFSZ 32

/* Python repr(float): shortest round-tripping digits; exponent form when the decimal
 * exponent is < -4 or >= 16 ("1e+16", "1.5e-07"), otherwise positional with at least ".0".
 * Returns the length written to out (NUL-terminated). */
size_t pynum_float(double v, char out[PYNUM_BUFSZ]);
size_t pynum_int(int64_t v, char out[PYNUM_BUFSZ]);

/* JSON rendering as Python's json.dumps: like pynum_float, but inf/nan become
 * "Infinity", "-Infinity", "NaN". */
size_t pynum_float_json(double v, char out[PYNUM_BUFSZ]);

#endif
