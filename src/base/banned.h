/*
 * Functions we never call. Included into every translation unit by the build, after which
 * any use of these names fails to compile. Each has a safer replacement in the tree:
 * sb_printf/snprintf for sprintf, num_parse_* for atoi, gmtime_r for gmtime.
 */
#ifndef SMPLAT_BANNED_H
#define SMPLAT_BANNED_H

/* Declare the real functions first so the system headers stay intact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SMPLAT_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) SMPLAT_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SMPLAT_BANNED(strcat)
#undef sprintf
#define sprintf(...) SMPLAT_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SMPLAT_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SMPLAT_BANNED(strtok)
#undef atoi
#define atoi(x) SMPLAT_BANNED(atoi)
#undef atol
#define atol(x) SMPLAT_BANNED(atol)
#undef gmtime
#define gmtime(x) SMPLAT_BANNED(gmtime)
#undef localtime
#define localtime(x) SMPLAT_BANNED(localtime)
#undef gets
#define gets(x) SMPLAT_BANNED(gets)

#endif
