/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.c - the debug log. Read URINGPROV_DEBUG once; after that a disabled log costs one load.
 * Lines go out with a single write() so that lines from several threads never interleave.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uo_log.h"

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static int log_lvl;
static int log_fd = -1;

static void log_setup(void)
{
    const char *env = getenv(UO_ENV_DEBUG);
    char spec[512];
    char *tok, *save = NULL;
    const char *path = NULL;
    int level = 1;

    if (env == NULL || *env == '\0' || strcmp(env, "0") == 0)
        return;
    snprintf(spec, sizeof(spec), "%s", env);
    for (tok = strtok_r(spec, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (strncmp(tok, "file:", 5) == 0)
            path = tok + 5;
        else if (strncmp(tok, "level:", 6) == 0)
            level = atoi(tok + 6);
        else if (atoi(tok) > 0)
            level = atoi(tok);
    }
    if (level <= 0)
        return;
    if (path != NULL && *path != '\0') {
        log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log_fd < 0)
            return;
    } else {
        log_fd = STDERR_FILENO;
    }
    log_lvl = level;
}

int uo_log_level(void)
{
    pthread_once(&log_once, log_setup);
    return log_lvl;
}

void uo_log_write(int level, const char *file, int line, const char *func, const char *fmt, ...)
{
    char buf[1024];
    struct timespec ts;
    struct tm tm;
    const char *base = strrchr(file, '/');
    va_list ap;
    int n, m;

    if (log_fd < 0)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%06ld [%d] uringprov L%d %s:%d %s(): ",
                 tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000, (int)syscall(SYS_gettid),
                 level, base != NULL ? base + 1 : file, line, func);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return;
    va_start(ap, fmt);
    m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += m;
    if ((size_t)n > sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    while (write(log_fd, buf, (size_t)n) < 0 && errno == EINTR)
        ;
}
