/* cli.h — the subcommands of patchlab-cli; each parses its own arguments and
 * returns the process exit status (0 ok, 1 failure, 2 bad usage). */
#pragma once

#include <glib.h>

#include "pl-dataset.h"
#include "pl-experiment.h"

int _pl_cli_info (int argc, char **argv);
int _pl_cli_train (int argc, char **argv);
int _pl_cli_predict (int argc, char **argv);
int _pl_cli_experiment (int argc, char **argv);

/* The experiment's figure (loss against step | against relative wall time) as a PNG or
 * SVG file, by the path's extension; written atomically. */
gboolean _pl_cli_experiment_figure (const PlExperiment *experiment, const char *path,
                                    GError **error);

/* Prints "patchlab-cli CMD: message" to stderr; returns the status to exit with. */
int _pl_cli_fail (const char *command, int status, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* The dataset named by --data: "builtin" (or NULL), "fashion-mnist", or a folder. */
PlDataset *_pl_cli_load_dataset (const char *source, guint64 seed, int n_train, int n_val,
                                 int side, gboolean skip_bad, GError **error);
