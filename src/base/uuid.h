/* UUIDs as the original renders them: lowercase, hyphenated, 36 characters. */
#ifndef SMPLAT_BASE_UUID_H
#define SMPLAT_BASE_UUID_H

#include <stddef.h>

#define UUID_STRLEN 36

/* A random (version 4) UUID into out[37]. */
void uuid4(char out[UUID_STRLEN + 1]);
/* Python uuid.UUID() acceptance: hyphenated or 32 hex digits, optional surrounding braces,
 * optional "urn:uuid:" prefix, any case. Writes the canonical form. 0 or ERR_INVALID. */
int uuid_parse(const char *s, char out[UUID_STRLEN + 1]);

#endif
