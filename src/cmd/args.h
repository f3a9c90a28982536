/*
 * Command-line options the way the original's argparse took them: "--flag
 * value" and
 * "--flag=value", unique prefixes of long names, "-h"/"--help". Errors name the
 * option.
 */
#ifndef SMPLAT_CMD_ARGS_H
#define SMPLAT_CMD_ARGS_H

struct arg_spec {
    const char *name;   /* long name without dashes, e.g. "provider-id" */
    char short_name;    /* 0 when none, e.g. 'Q' */
    int takes_value;    /* 1: needs a value; 0: a switch */
    const char **value; /* where the value (or "1" for a switch) is stored;
                           borrowed argv */
};

/* Parses argv[0..argc) against specs (terminated by a NULL name). Positional
 * arguments are refused. Returns 0, 1 when help was asked for, or -1 with a
 * message in err. */
int args_parse(int argc, char **argv, const struct arg_spec *specs, char *err, unsigned errlen);

#endif
