/*
 * Runs fuzz corpora through a libFuzzer entry point without libFuzzer, so that every corpus
 * is an ordinary test under the sanitizers of the test build. Each argument is a file or a
 * directory (its regular files, in name order). Besides each input as it is, every prefix
 * of it and a few deterministic byte mutations are run: the cheap part of what a fuzzer
 * would try first (truncated bodies, broken escapes, a stray NUL). Exit 0 when every input
 * ran; a failed check or a sanitizer report aborts; 1 when no input was found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prefixes and mutations are tried for inputs up to this size (all corpus files are). */
#define MUTATE_MAX 8192

static const uint8_t mutation_bytes[] = {'\0', '"', '\\', '{', '[', '/', '\n', 0xFF};

static size_t run_one(const uint8_t *data, size_t size)
{
    size_t runs = 0;
    LLVMFuzzerTestOneInput(data, size);
    runs++;
    if (size > MUTATE_MAX)
        return runs;
    /* Every prefix of small inputs; about 512 evenly spaced ones of larger inputs. */
    size_t step = size <= 1024 ? 1 : size / 512;
    for (size_t n = 0; n < size; n += step, runs++)
        LLVMFuzzerTestOneInput(data, n);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return runs;
    /* At a handful of positions spread over the input, each special byte in turn. */
    for (size_t k = 1; size > 0 && k <= 8; k++) {
        size_t pos = (size * k) / 9;
        for (size_t m = 0; m < sizeof(mutation_bytes); m++, runs++) {
            memcpy(copy, data, size);
            copy[pos] = mutation_bytes[m];
            LLVMFuzzerTestOneInput(copy, size);
        }
    }
    free(copy);
    return runs;
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = len;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs one file; returns the number of executions, or -1 when it cannot be read. */
static long run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t runs = run_one(data, size);
    free(data);
    return (long)runs;
}

int main(int argc, char **argv)
{
    size_t files = 0, runs = 0;
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            long n = run_file(argv[i]);
            failed |= n < 0;
            files += n >= 0;
            runs += n > 0 ? (size_t)n : 0;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
            continue;
        }
        char **names = NULL;
        size_t nnames = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            if (nnames == cap) {
                cap = cap ? cap * 2 : 64;
                char **bigger = realloc(names, cap * sizeof(*names));
                if (!bigger)
                    abort();
                names = bigger;
            }
            size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
            names[nnames] = malloc(len);
            if (!names[nnames])
                abort();
            snprintf(names[nnames], len, "%s/%s", argv[i], e->d_name);
            nnames++;
        }
        closedir(d);
        qsort(names, nnames, sizeof(*names), by_name);
        for (size_t k = 0; k < nnames; k++) {
            if (stat(names[k], &st) == 0 && S_ISREG(st.st_mode)) {
                long n = run_file(names[k]);
                failed |= n < 0;
                files += n >= 0;
                runs += n > 0 ? (size_t)n : 0;
            }
            free(names[k]);
        }
        free(names);
    }
    printf("replay: %zu inputs, %zu executions\n", files, runs);
    if (files == 0) {
        fprintf(stderr, "replay: no inputs (usage: %s FILE|DIR...)\n", argv[0]);
        return 1;
    }
    return failed;
}
