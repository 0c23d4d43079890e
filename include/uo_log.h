/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uo_log.h - the debug log shared by offload/ and provider/.
 *
 * Off unless URINGPROV_DEBUG is set, read once:
 *   URINGPROV_DEBUG=1                      level 1 to stderr
 *   URINGPROV_DEBUG=file:/tmp/u.log,level:3
 * Level 1: set-up, fallbacks and warnings; 2: per-operation events; 3: everything.
 * Each line: timestamp, thread id, file:line func(), message. Never log key material.
 */
#ifndef UO_LOG_H
#define UO_LOG_H

#define UO_ENV_DEBUG "URINGPROV_DEBUG"

int uo_log_level(void);
void uo_log_write(int level, const char *file, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define UO_LOG(level, ...)                                                        \
    do {                                                                          \
        if (uo_log_level() >= (level))                                            \
            uo_log_write((level), __FILE__, __LINE__, __func__, __VA_ARGS__);     \
    } while (0)

#endif
