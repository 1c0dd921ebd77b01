/* fuzz-spec.c — libFuzzer target: the net-spec parser (pl-spec.h). The first byte picks
 * the class count passed in (0 = the spec must give it); the rest is the text. A spec
 * that parses keeps every documented limit and prints a canonical text that parses
 * again to the same layers; one that does not gives a PL_SPEC_ERROR naming a token or
 * the empty spec. */
#include "fuzz-util.h"

#include "pl-receptive.h"
#include "pl-spec.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_limits (const PlNetSpec *spec, int n_classes)
{
  PL_FUZZ_CHECK (spec->n_layers >= 1 && spec->n_layers <= PL_SPEC_MAX_LAYERS);
  PL_FUZZ_CHECK (spec->n_classes >= 2 && spec->n_classes <= PL_SPEC_MAX_CLASSES);
  PL_FUZZ_CHECK (n_classes <= 0 || spec->n_classes == n_classes);
  PL_FUZZ_CHECK (spec->layers[spec->n_layers - 1].kind == PL_LAYER_CONV);
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      if (layer->kind == PL_LAYER_CONV)
        PL_FUZZ_CHECK (layer->k >= 1 && layer->k <= PL_SPEC_MAX_KERNEL && layer->n_out >= 1
                       && layer->n_out <= PL_SPEC_MAX_FILTERS);
      else
        PL_FUZZ_CHECK (layer->k >= 2 && layer->k <= PL_SPEC_MAX_POOL);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 1)
    return 0;
  int n_classes = data[0] < 128 ? data[0] : 0;
  g_autofree char *text = g_strndup ((const char *) data + 1, size - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (text, 3, n_classes, &error);

  if (spec == NULL)
    {
      pl_fuzz_check_error (error, PL_SPEC_ERROR, "net spec: ");
      return 0;
    }
  check_limits (spec, n_classes);

  g_autoptr (PlNetSpec) again = pl_net_spec_parse (spec->text, 3, 0, &error);
  PL_FUZZ_CHECK (again != NULL);
  PL_FUZZ_CHECK (strcmp (again->text, spec->text) == 0 && again->n_layers == spec->n_layers);
  PL_FUZZ_CHECK (memcmp (again->layers, spec->layers,
                         sizeof (PlLayerSpec) * (gsize) spec->n_layers) == 0);
  g_autoptr (PlNetSpec) copy = pl_net_spec_copy (spec);
  PL_FUZZ_CHECK (strcmp (copy->text, spec->text) == 0);

  /* Receptive-field arithmetic must not overflow on the largest nets. */
  PlReceptiveField rf = pl_receptive_field (spec);
  PL_FUZZ_CHECK (rf.R >= 1 && rf.J >= 1);
  return 0;
}
