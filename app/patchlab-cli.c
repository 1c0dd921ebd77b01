/* patchlab-cli.c — the headless front end: dispatches to one subcommand. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "train", _pl_cli_train, "train a net on a dataset; history as CSV, a checkpoint" },
  { "predict", _pl_cli_predict, "segment an image with a checkpoint" },
  { "info", _pl_cli_info, "receptive field, output size, FLOPs and memory of a net" },
  { "experiment", _pl_cli_experiment,
    "fig5 or patch-vs-fcn over several seeds: CSV files, a figure, a summary" },
};

int
_pl_cli_fail (const char *command, int status, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "patchlab-cli %s: %s\n", command, message);
  return status;
}

static void
usage (FILE *out)
{
  fprintf (out, "Usage: patchlab-cli COMMAND [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'patchlab-cli COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "patchlab-cli: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
