/* cli.h — the subcommands of patchlab-cli; each parses its own arguments and
 * returns the process exit status (0 ok, 1 failure, 2 bad usage). */
#pragma once

#include <glib.h>

int _pl_cli_info (int argc, char **argv);

/* Prints "patchlab-cli CMD: message" to stderr; returns the status to exit with. */
int _pl_cli_fail (const char *command, int status, const char *format, ...) G_GNUC_PRINTF (3, 4);
