/*
 * UUIDs as the original service renders them: str(uuid.UUID), lowercase and hyphenated.
 * New ids are version 4, drawn from the kernel's CSPRNG; parsing accepts what Python's
 * uuid.UUID(hex) accepts so that ids arriving in URLs and payloads compare equal after
 * normalisation.
 */
#include "base/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sb.h"

/* Fills buf from getrandom(2), retrying on interruption and short reads; falls back to
 * /dev/urandom on kernels without the system call. A machine that can provide neither
 * cannot mint ids safely, so this aborts rather than return predictable ones. */
static void random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        break;
    }
    if (got == n)
        return;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    while (fd >= 0 && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r > 0)
            got += (size_t)r;
        else if (!(r < 0 && errno == EINTR))
            break;
    }
    if (fd >= 0)
        close(fd);
    if (got != n)
        abort();
}

static void render(const unsigned char b[16], char out[UUID_STRLEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0F];
    }
    out[o] = '\0';
}

void uuid4(char out[UUID_STRLEN + 1])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    render(b, out);
}

/* Removes every non-overlapping occurrence of pat, left to right, as str.replace(pat, ""). */
static void remove_all(char *s, const char *pat)
{
    size_t plen = strlen(pat);
    char *r = s, *w = s;
    while (*r) {
        if (strncmp(r, pat, plen) == 0) {
            r += plen;
            continue;
        }
        *w++ = *r++;
    }
    *w = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Python's UUID(hex): drop "urn:" and "uuid:" everywhere, strip '{' and '}' from both ends,
 * drop every '-', then require 32 hex digits. (Python's int(hex, 16) would also take a sign,
 * "0x", underscores or spaces inside those 32 characters; such ids are refused here.) */
int uuid_parse(const char *s, char out[UUID_STRLEN + 1])
{
    if (!s || strlen(s) > 256)
        return ERR_INVALID;
    char *buf = xstrdup(s);
    int rc = ERR_INVALID;
    remove_all(buf, "urn:");
    remove_all(buf, "uuid:");
    char *p = buf;
    while (*p == '{' || *p == '}')
        p++;
    size_t len = strlen(p);
    while (len > 0 && (p[len - 1] == '{' || p[len - 1] == '}'))
        p[--len] = '\0';
    remove_all(p, "-");
    if (strlen(p) != 32)
        goto out;
    unsigned char b[16];
    for (size_t i = 0; i < 16; i++) {
        int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            goto out;
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    render(b, out);
    rc = 0;
out:
    free(buf);
    return rc;
}
