/*
 * status.c - status names, the thread-local detailed error message and the logger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define PL__ERRMSG_SIZE 1024
static _Thread_local char pl__errmsg_buf[PL__ERRMSG_SIZE];

const char *pl_status_name(pl_status s) {
    switch (s) {
#define PL__STATUS_NAME(name, value, text)                                                         \
    case name:                                                                                     \
        return #name;
        PL_STATUS_LIST(PL__STATUS_NAME)
#undef PL__STATUS_NAME
    }
    return "PL_ERR_UNKNOWN";
}

const char *pl_status_text(pl_status s) {
    switch (s) {
#define PL__STATUS_TEXT(name, value, text)                                                         \
    case name:                                                                                     \
        return text;
        PL_STATUS_LIST(PL__STATUS_TEXT)
#undef PL__STATUS_TEXT
    }
    return "unknown status";
}

const char *pl_errmsg(void) { return pl__errmsg_buf; }

void pl__clear_error(void) { pl__errmsg_buf[0] = '\0'; }

pl_status pl__fail(pl_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pl__errmsg_buf, sizeof(pl__errmsg_buf), fmt, ap);
    va_end(ap);
    return s;
}

pl_status pl__fail_prefix(pl_status s, const char *fmt, ...) {
    char prefix[512], old[PL__ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, pl__errmsg_buf, sizeof(old));
    if (old[0])
        snprintf(pl__errmsg_buf, sizeof(pl__errmsg_buf), "%s: %.*s", prefix,
                 (int)(sizeof(old) - strlen(prefix) - 3 > 0 ? sizeof(old) - strlen(prefix) - 3 : 0), old);
    else
        snprintf(pl__errmsg_buf, sizeof(pl__errmsg_buf), "%s: %s", prefix, pl_status_text(s));
    return s;
}

_Noreturn void pl__assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "plinth: internal assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}

/* ---- logging ---- */
static void pl__default_log(void *user, pl_log_severity sev, const char *msg) {
    static const char *names[] = {"error", "warning", "info", "verbose"};
    (void)user;
    fprintf(stderr, "plinth %s: %s\n", names[sev & 3], msg);
}

static pl_log_fn pl__log_fn = pl__default_log;
static void *pl__log_user;
static pl_log_severity pl__log_max = PL_LOG_WARNING;

void pl_set_logger(pl_log_fn fn, void *user, pl_log_severity max_severity) {
    pl__log_fn = fn ? fn : pl__default_log;
    pl__log_user = fn ? user : NULL;
    pl__log_max = fn ? max_severity : PL_LOG_WARNING;
}

bool pl__log_enabled(pl_log_severity sev) { return sev <= pl__log_max; }

void pl__log(pl_log_severity sev, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    if (sev > pl__log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pl__log_fn(pl__log_user, sev, buf);
}

void pl_free(void *p) { free(p); }
