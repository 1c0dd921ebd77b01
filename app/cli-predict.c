/* cli-predict.c — `patchlab-cli predict`: a checkpoint applied to one image. */
#include "cli.h"

#include "pl-checkpoint.h"
#include "pl-engine.h"
#include "pl-image-io.h"

#include <stdio.h>
#include <string.h>

/* NumPy's .npy format, version 1.0: magic, header length, a Python dict padded so
 * that the data starts on a 64-byte boundary, then little-endian float32. */
static gboolean
write_npy (const char *path, const float *data, int K, int H, int W, GError **error)
{
  g_autofree char *dict = g_strdup_printf ("{'descr': '<f4', 'fortran_order': False, "
                                           "'shape': (%d, %d, %d), }", K, H, W);
  gsize header = 10 + strlen (dict) + 1, padded = (header + 63) / 64 * 64;
  gsize bytes = (gsize) K * H * W * sizeof (float);
  g_autoptr (GByteArray) out = g_byte_array_sized_new ((guint) (padded + bytes));
  guint16 len = GUINT16_TO_LE ((guint16) (padded - 10));
  g_byte_array_append (out, (const guint8 *) "\x93NUMPY\x01\x00", 8);
  g_byte_array_append (out, (const guint8 *) &len, 2);
  g_byte_array_append (out, (const guint8 *) dict, (guint) strlen (dict));
  while (out->len < padded - 1)
    g_byte_array_append (out, (const guint8 *) " ", 1);
  g_byte_array_append (out, (const guint8 *) "\n", 1);
  g_byte_array_append (out, (const guint8 *) data, (guint) bytes);  /* x86 is little-endian */
  return g_file_set_contents (path, (const char *) out->data, out->len, error);
}

int
_pl_cli_predict (int argc, char **argv)
{
  g_autofree char *checkpoint = NULL, *output = NULL, *npy = NULL;
  int threads = 0;
  GOptionEntry entries[] = {
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint, "A .safetensors checkpoint",
      "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Palette PNG of predicted labels, the input's size", "FILE" },
    { "probabilities", 0, 0, G_OPTION_ARG_FILENAME, &npy,
      "Per-class probabilities of the output grid as .npy [K, Ho, Wo]", "FILE" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "BLAS threads", "T" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("IMAGE — segment one image");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Each output cell's label is written to the input pixels nearest its receptive-field\n"
    "centre. Pixels the net cannot centre a window on (a border of about R/2) are left\n"
    "as 255, \"void\".\n");
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _pl_cli_fail ("predict", 2, "%s", error->message);
  if (argc != 2)
    return _pl_cli_fail ("predict", 2, "give exactly one image (see --help)");
  if (checkpoint == NULL || output == NULL)
    return _pl_cli_fail ("predict", 2, "--checkpoint and --output are required");
  if (threads > 0)
    pl_engine_set_threads (threads);

  g_auto (PlCheckpointMeta) meta = { 0 };
  g_autoptr (PlNet) net = pl_checkpoint_load (checkpoint, &meta, &error);
  if (net == NULL)
    return _pl_cli_fail ("predict", 1, "%s", error->message);
  int W, H;
  g_autofree guint8 *rgb = NULL;
  if (!pl_image_load_rgb (argv[1], &W, &H, &rgb, &error))
    return _pl_cli_fail ("predict", 1, "%s", error->message);
  int oh, ow;
  PlReceptiveField rf = pl_receptive_field (net->spec);
  if (!pl_net_spec_output_size (net->spec, H, W, &oh, &ow))
    return _pl_cli_fail ("predict", 1, "%s: %d×%d is smaller than the net's receptive field "
                         "(%d px)", argv[1], W, H, rf.R);

  PlSample sample = { .name = argv[1], .width = W, .height = H, .rgb = rgb };
  g_autofree float *input = g_new (float, (gsize) 3 * H * W);
  pl_sample_to_input (&sample, 0, 0, H, W, input);
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  pl_net_forward (net, ws, input, 1, H, W);
  int K = net->spec->n_classes;
  g_autofree float *probs = g_new (float, (gsize) K * oh * ow);
  pl_net_get_probabilities (ws, probs);

  /* Each pixel takes the label of the output cell whose centre is nearest, if the
   * pixel lies within J/2 of the grid of centres. */
  g_autofree guint8 *labels = g_new (guint8, (gsize) H * W);
  memset (labels, 255, (gsize) H * W);
  for (int i = 0; i < oh; i++)
    for (int j = 0; j < ow; j++)
      {
        int best = 0;
        for (int k = 1; k < K; k++)
          if (probs[((gsize) k * oh + i) * ow + j] > probs[((gsize) best * oh + i) * ow + j])
            best = k;
        int cy, cx;
        pl_receptive_field_centre (rf, i, j, &cy, &cx);
        int y0 = MAX (0, cy - rf.J / 2), y1 = MIN (H, cy - rf.J / 2 + rf.J);
        int x0 = MAX (0, cx - rf.J / 2), x1 = MIN (W, cx - rf.J / 2 + rf.J);
        for (int y = y0; y < y1; y++)
          memset (labels + (gsize) y * W + x0, best, (gsize) MAX (0, x1 - x0));
      }
  if (!pl_image_save_labels (output, W, H, labels, &error))
    return _pl_cli_fail ("predict", 1, "%s", error->message);
  if (npy != NULL && !write_npy (npy, probs, K, oh, ow, &error))
    return _pl_cli_fail ("predict", 1, "%s", error->message);
  printf ("%s: %d×%d → %d×%d cells, %d classes → %s\n", argv[1], W, H, ow, oh, K, output);
  return 0;
}
