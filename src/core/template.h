/*
 * Template rendering of endpoint configurations (spec-replay §2.2), to the byte: whole
 * placeholders keep JSON types for arrays and objects and become Python str() otherwise;
 * embedded placeholders are replaced textually, in context insertion order.
 */
#ifndef SMPLAT_CORE_TEMPLATE_H
#define SMPLAT_CORE_TEMPLATE_H

#include <jansson.h>

#include "base/sb.h"

/* Renders tmpl (string, array, object or scalar) against ctx (a JSON object whose key order is
 * the insertion order). Returns a new reference. */
json_t *template_render(const json_t *tmpl, const json_t *ctx);

/* Appends Python str(value): strings verbatim, integers, floats as repr ("150.0"), True/False,
 * "" for null, and Python repr for arrays and objects ("[{'id': 'r1'}]"). */
void template_pystr(struct sb *out, const json_t *value);

#endif
