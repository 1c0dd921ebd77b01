/* fuzz-checkpoint.c — libFuzzer target: a file read as a .safetensors checkpoint
 * (pl-checkpoint.h). A file that loads gives a net whose class names fit its spec, and
 * saving it and loading the copy gives the same parameters; a file that does not gives
 * a PL_CHECKPOINT_ERROR naming the file. */
#include "fuzz-util.h"

#include "pl-checkpoint.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *path = pl_fuzz_write ("input.safetensors", data, size);
  g_auto (PlCheckpointMeta) meta = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNet) net = pl_checkpoint_load (path, &meta, &error);

  if (net == NULL)
    {
      pl_fuzz_check_error (error, PL_CHECKPOINT_ERROR, path);
      PL_FUZZ_CHECK (meta.spec == NULL && meta.class_names == NULL);
      return 0;
    }
  PL_FUZZ_CHECK (g_strv_length (meta.class_names) == (guint) net->spec->n_classes);
  PL_FUZZ_CHECK (strcmp (meta.spec, net->spec->text) == 0);

  /* Round trip: what loads must save, and the copy must load to the same numbers. */
  g_autofree char *copy_path = g_build_filename (pl_fuzz_dir (), "copy.safetensors", NULL);
  if (!pl_checkpoint_save (copy_path, net, &meta, TRUE, &error))
    pl_fuzz_fail ("a loaded checkpoint does not save: %s", error->message);
  g_auto (PlCheckpointMeta) copy_meta = { 0 };
  g_autoptr (PlNet) copy = pl_checkpoint_load (copy_path, &copy_meta, &error);
  if (copy == NULL)
    pl_fuzz_fail ("a saved copy does not load: %s", error->message);
  PL_FUZZ_CHECK (copy->n_params == net->n_params);
  PL_FUZZ_CHECK (memcmp (copy->params, net->params, sizeof (float) * net->n_params) == 0);
  PL_FUZZ_CHECK (memcmp (copy->velocity, net->velocity, sizeof (float) * net->n_params) == 0);
  PL_FUZZ_CHECK (copy_meta.step == meta.step && copy_meta.seed == meta.seed);
  return 0;
}
