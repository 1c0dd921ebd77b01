/* cli-info.c — `patchlab-cli info`: what a net costs before anything runs. */
#include "cli.h"

#include "pl-engine.h"

#include <stdio.h>

static void
print_bytes (const char *label, gsize bytes)
{
  g_autofree char *text = g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
  printf ("  %-22s %s\n", label, text);
}

int
_pl_cli_info (int argc, char **argv)
{
  g_autofree char *spec_text = NULL;
  int size = 128, batch = 1, classes = 4, height = 0, width = 0;
  GOptionEntry entries[] = {
    { "spec", 0, 0, G_OPTION_ARG_STRING, &spec_text, "Net spec (default: " PL_DEFAULT_SPEC ")",
      "SPEC" },
    { "classes", 'k', 0, G_OPTION_ARG_INT, &classes, "Class count K (default 4)", "K" },
    { "size", 'n', 0, G_OPTION_ARG_INT, &size, "Square input side N (default 128)", "N" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "Input height (overrides --size)", "H" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Input width (overrides --size)", "W" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Inputs per step B (default 1)", "B" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— receptive field and cost of a net");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _pl_cli_fail ("info", 2, "%s", error->message);
  if (argc > 1)
    return _pl_cli_fail ("info", 2, "unexpected argument '%s'", argv[1]);
  if (height <= 0)
    height = size;
  if (width <= 0)
    width = size;
  if (batch < 1 || height < 1 || width < 1 || height > 65536 || width > 65536)
    return _pl_cli_fail ("info", 2, "batch and sizes must be positive (sides at most 65536)");

  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (spec_text ? spec_text : PL_DEFAULT_SPEC, 3,
                                                  classes, &error);
  if (spec == NULL)
    return _pl_cli_fail ("info", 2, "%s", error->message);

  PlReceptiveField rf = pl_receptive_field (spec);
  PlShape shapes[PL_SPEC_MAX_LAYERS + 1];
  printf ("net: %s\nreceptive field R = %d px, jump J = %d px\n", spec->text, rf.R, rf.J);
  if (!pl_net_spec_shapes (spec, height, width, shapes))
    return _pl_cli_fail ("info", 1, "a %d×%d input is smaller than the receptive field (%d px)",
                         height, width, rf.R);

  PlLayerFlops per[PL_SPEC_MAX_LAYERS], total;
  pl_net_spec_flops (spec, batch, height, width, per, &total);
  printf ("input: %d × %d × %d, batch %d\n\n", spec->in_channels, height, width, batch);
  printf ("  %-3s %-7s %-18s %5s %5s %14s %14s\n", "#", "layer", "output (C×H×W)", "R", "J",
          "fwd MFLOP", "bwd MFLOP");
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      PlReceptiveField at = pl_receptive_field_at (spec, l + 1);
      g_autofree char *name = layer->kind == PL_LAYER_CONV
                                ? g_strdup_printf ("c%dx%d", layer->k, layer->n_out)
                                : g_strdup_printf ("p%d", layer->k);
      g_autofree char *shape = g_strdup_printf ("%d×%d×%d", shapes[l + 1].channels,
                                                shapes[l + 1].height, shapes[l + 1].width);
      printf ("  %-3d %-7s %-18s %5d %5d %14.2f %14.2f\n", l, name, shape, at.R, at.J,
              per[l].forward / 1e6, per[l].backward / 1e6);
    }
  printf ("  %-3s %-7s %-18s %5s %5s %14.2f %14.2f\n\n", "", "total", "", "", "",
          total.forward / 1e6, total.backward / 1e6);

  PlShape out = shapes[spec->n_layers];
  printf ("output grid: %d × %d cells per input (%d loss terms per step at p = 1)\n",
          out.height, out.width, out.height * out.width * batch);

  PlMemoryEstimate mem;
  pl_net_spec_memory (spec, batch, height, width, &mem);
  printf ("memory for one step:\n");
  print_bytes ("parameters (×3)", mem.params);
  print_bytes ("input", mem.input);
  print_bytes ("activations", mem.activations);
  print_bytes ("max-pool winners", mem.argmax);
  print_bytes ("activation gradients", mem.gradients);
  print_bytes ("im2col scratch", mem.scratch);
  print_bytes ("total", mem.total);
  return 0;
}
