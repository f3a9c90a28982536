/*
 * Lists written as one comma-separated setting (PROVIDER_ALLOWED_HOSTS, queue names): items
 * trimmed of spaces and tabs, empty ones dropped.
 */
#ifndef SMPLAT_BASE_STRLIST_H
#define SMPLAT_BASE_STRLIST_H

#include <stddef.h>

/* Appends the items of the comma list s (NULL: none) to the array *v of *n owned strings. */
void strlist_append_split(char ***v, size_t *n, const char *s);
/* Frees v and its n strings. */
void strlist_free(char **v, size_t n);

#endif
