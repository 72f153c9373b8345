/*
 * cli.h - shared pieces of the plinth command-line tool.
 */
#ifndef PL_CLI_H
#define PL_CLI_H

#include "plinth/plinth.h"

/* Prints "plinth: <message>" on stderr; returns 1 (the user-error exit status). */
int pl_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the failing call's detailed message; returns 1. */
int pl_cli_status(pl_status s);

/* `plinth plugin ...` (tools/plinth/cmd-plugin.c). */
int pl__cli_plugin(int argc, char **argv) __attribute__((weak));

#endif
