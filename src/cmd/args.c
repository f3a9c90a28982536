/*
 * A small option parser. It exists because getopt_long has no "--flag=value
 * with unique prefix" rule identical to argparse's and the original's users
 * type abbreviations.
 */
#include "cmd/args.h"

#include <stdio.h>
#include <string.h>

static const struct arg_spec *find_long(const struct arg_spec *specs, const char *name, size_t len,
                                        char *err, unsigned errlen)
{
    const struct arg_spec *match = NULL;
    int count = 0;
    for (const struct arg_spec *s = specs; s->name; s++) {
        if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
            return s;
        if (strncmp(s->name, name, len) == 0) {
            match = s;
            count++;
        }
    }
    if (count == 1)
        return match;
    snprintf(err, errlen, count ? "ambiguous option: --%.*s" : "unrecognized argument: --%.*s",
             (int)len, name);
    return NULL;
}

int args_parse(int argc, char **argv, const struct arg_spec *specs, char *err, unsigned errlen)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return 1;
        const struct arg_spec *spec = NULL;
        const char *inline_value = NULL;
        if (strncmp(a, "--", 2) == 0 && a[2]) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            spec = find_long(specs, name, len, err, errlen);
            if (!spec)
                return -1;
            inline_value = eq ? eq + 1 : NULL;
        } else if (a[0] == '-' && a[1] && a[1] != '-') {
            for (const struct arg_spec *s = specs; s->name; s++)
                if (s->short_name && s->short_name == a[1])
                    spec = s;
            if (!spec) {
                snprintf(err, errlen, "unrecognized argument: %s", a);
                return -1;
            }
            inline_value = a[2] ? a + 2 : NULL;
        } else {
            snprintf(err, errlen, "unrecognized argument: %s", a);
            return -1;
        }
        if (!spec->takes_value) {
            if (inline_value) {
                snprintf(err, errlen, "argument --%s: ignored explicit argument '%s'", spec->name,
                         inline_value);
                return -1;
            }
            *spec->value = "1";
            continue;
        }
        if (!inline_value) {
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] == '-')) {
                snprintf(err, errlen, "argument --%s: expected one argument", spec->name);
                return -1;
            }
            inline_value = argv[++i];
        }
        *spec->value = inline_value;
    }
    return 0;
}
