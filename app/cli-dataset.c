/* cli-dataset.c — `--data` for the commands that need a dataset:
 *   builtin (default)   generated shapes, no files
 *   fashion-mnist       Fashion-MNIST scenes (Debian package dataset-fashion-mnist)
 *   PATH                a folder with images/ and masks/ */
#include "cli.h"

#include "pl-engine.h"

PlDataset *
_pl_cli_load_dataset (const char *source, guint64 seed, int n_train, int n_val, int side,
                      gboolean skip_bad, GError **error)
{
  if (source == NULL || g_str_equal (source, "builtin"))
    return pl_dataset_new_builtin (seed, n_train, n_val, side, error);
  if (g_str_equal (source, "fashion-mnist"))
    return pl_dataset_load_fashion_mnist (NULL, seed, n_train, n_val, side, error);
  PlFolderOptions options = { .skip_bad = skip_bad, .val_fraction = 0.1, .seed = seed };
  return pl_dataset_load_folder (source, &options, error);
}
