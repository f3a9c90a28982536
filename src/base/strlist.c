#include "base/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "base/sb.h"

void strlist_append_split(char ***v, size_t *n, const char *s)
{
    while (s && *s) {
        size_t len = strcspn(s, ",");
        const char *a = s, *b = s + len;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            *v = xrealloc(*v, (*n + 1) * sizeof(**v));
            (*v)[(*n)++] = xstrndup(a, (size_t)(b - a));
        }
        s += len;
        if (*s == ',')
            s++;
    }
}

void strlist_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
