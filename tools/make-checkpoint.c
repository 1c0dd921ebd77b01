/* make-checkpoint.c — writes a sample PatchLab checkpoint (He-initialised net, a
 * velocity, every metadata field set) so that readers outside the engine, such as
 * tools/safetensors-check.py, have a real file to check. Not a training tool.
 *
 *   make-checkpoint OUTPUT [SPEC]     SPEC defaults to the default spec with 4 classes
 */
#include "pl-engine.h"

#include <stdio.h>

int
main (int argc, char **argv)
{
  if (argc < 2 || argc > 3)
    {
      fprintf (stderr, "usage: %s OUTPUT [SPEC]\n", argv[0]);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (argc > 2 ? argv[2] : PL_DEFAULT_SPEC, 3,
                                                  argc > 2 ? 0 : 4, &error);
  if (spec == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_autoptr (PlNet) net = pl_net_new (spec, 1);
  for (gsize i = 0; i < net->n_params; i++)
    net->velocity[i] = 0.01f * net->params[i];

  g_auto (PlCheckpointMeta) meta = { 0 };
  meta.class_names = g_new0 (char *, spec->n_classes + 1);
  for (int i = 0; i < spec->n_classes; i++)
    meta.class_names[i] = g_strdup_printf ("class %d", i);
  meta.dataset = g_strdup ("sample written by tools/make-checkpoint");
  meta.step = 1000;
  meta.seed = 1;
  meta.patch_size = 64;
  meta.batch_size = 8;
  meta.sampling = 0.5;
  meta.lr = 0.01;
  meta.momentum = 0.9;
  meta.weight_decay = 5e-4;
  meta.history = g_strdup ("step 0: lr 0.01\n");
  if (!pl_checkpoint_save (argv[1], net, &meta, TRUE, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  return 0;
}
