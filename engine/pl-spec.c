/* pl-spec.c — parsing and printing the text form of a net. */
#include "pl-spec.h"

#include <string.h>

G_DEFINE_QUARK (pl-spec-error-quark, pl_spec_error)

/* Reads a decimal number of at most 6 digits at *p; -1 when there is none. */
static int
read_number (const char **p)
{
  int value = 0, digits = 0;
  while (g_ascii_isdigit (**p) && digits < 7)
    {
      value = value * 10 + (**p - '0');
      (*p)++;
      digits++;
    }
  if (digits == 0 || digits > 6)
    return -1;
  return value;
}

static gboolean
set_error (GError **error, PlSpecError code, const char *token, int token_len, int column,
           const char *reason)
{
  g_set_error (error, PL_SPEC_ERROR, code, "net spec: token '%.*s' at column %d: %s",
               token_len, token, column, reason);
  return FALSE;
}

/* Parses one token [start, end) into *layer. *symbolic_k is set for "cNxK". */
static gboolean
parse_token (const char *start, const char *end, int column, PlLayerSpec *layer,
             gboolean *symbolic_k, GError **error)
{
  const char *p = start + 1;
  int len = (int) (end - start);

  *symbolic_k = FALSE;
  memset (layer, 0, sizeof *layer);
  if (*start == 'c' || *start == 'C')
    {
      int k = read_number (&p);
      if (k < 0 || (*p != 'x' && *p != 'X'))
        return set_error (error, PL_SPEC_ERROR_SYNTAX, start, len, column,
                          "expected cKxN (a k×k convolution with N filters), e.g. c3x16");
      p++;
      int n;
      if (*p == 'K' && p + 1 == end)
        {
          *symbolic_k = TRUE;
          n = 0;
          p++;
        }
      else
        n = read_number (&p);
      if ((n < 0 && !*symbolic_k) || p != end)
        return set_error (error, PL_SPEC_ERROR_SYNTAX, start, len, column,
                          "expected cKxN (a k×k convolution with N filters), e.g. c3x16");
      if (k < 1 || k > PL_SPEC_MAX_KERNEL)
        return set_error (error, PL_SPEC_ERROR_RANGE, start, len, column,
                          "kernel size must be between 1 and " G_STRINGIFY (PL_SPEC_MAX_KERNEL));
      if (!*symbolic_k && (n < 1 || n > PL_SPEC_MAX_FILTERS))
        return set_error (error, PL_SPEC_ERROR_RANGE, start, len, column,
                          "filter count must be between 1 and " G_STRINGIFY (PL_SPEC_MAX_FILTERS));
      layer->kind = PL_LAYER_CONV;
      layer->k = k;
      layer->stride = 1;
      layer->n_out = n;
      layer->relu = TRUE;
      return TRUE;
    }
  if (*start == 'p' || *start == 'P')
    {
      int k = read_number (&p);
      if (k < 0 || p != end)
        return set_error (error, PL_SPEC_ERROR_SYNTAX, start, len, column,
                          "expected pK (a K×K max pool with stride K), e.g. p2");
      if (k < 2 || k > PL_SPEC_MAX_POOL)
        return set_error (error, PL_SPEC_ERROR_RANGE, start, len, column,
                          "pool size must be between 2 and " G_STRINGIFY (PL_SPEC_MAX_POOL));
      layer->kind = PL_LAYER_MAXPOOL;
      layer->k = k;
      layer->stride = k;
      return TRUE;
    }
  return set_error (error, PL_SPEC_ERROR_SYNTAX, start, len, column,
                    "unknown layer; use cKxN for a convolution or pK for a max pool");
}

static char *
spec_to_text (const PlNetSpec *spec)
{
  GString *s = g_string_new (NULL);
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      if (l > 0)
        g_string_append_c (s, ' ');
      if (layer->kind == PL_LAYER_CONV)
        g_string_append_printf (s, "c%dx%d", layer->k, layer->n_out);
      else
        g_string_append_printf (s, "p%d", layer->k);
    }
  return g_string_free (s, FALSE);
}

PlNetSpec *
pl_net_spec_parse (const char *text, int in_channels, int n_classes, GError **error)
{
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (in_channels >= 1, NULL);

  g_autoptr (GArray) layers = g_array_new (FALSE, TRUE, sizeof (PlLayerSpec));
  const char *p = text;
  gboolean last_symbolic = FALSE;
  const char *last_start = NULL;
  int last_len = 0, last_column = 0;
  int R = 1, J = 1;  /* receptive field so far (pl-receptive.h), bounded as it grows */

  while (*p)
    {
      while (*p && g_ascii_isspace (*p))
        p++;
      if (!*p)
        break;
      const char *start = p;
      while (*p && !g_ascii_isspace (*p))
        p++;
      int column = (int) (start - text) + 1;
      if (layers->len >= PL_SPEC_MAX_LAYERS)
        {
          set_error (error, PL_SPEC_ERROR_STRUCTURE, start, (int) (p - start), column,
                     "too many layers (at most " G_STRINGIFY (PL_SPEC_MAX_LAYERS) ")");
          return NULL;
        }
      if (last_symbolic)
        {
          set_error (error, PL_SPEC_ERROR_STRUCTURE, last_start, last_len, last_column,
                     "the class count K may only stand in the last layer");
          return NULL;
        }
      PlLayerSpec layer;
      if (!parse_token (start, p, column, &layer, &last_symbolic, error))
        return NULL;
      /* R <= PL_SPEC_MAX_RECEPTIVE and J <= R so far, so neither product overflows. */
      R += (layer.k - 1) * J;
      J *= layer.stride;
      if (R > PL_SPEC_MAX_RECEPTIVE)
        {
          set_error (error, PL_SPEC_ERROR_STRUCTURE, start, (int) (p - start), column,
                     "the receptive field grows past " G_STRINGIFY (PL_SPEC_MAX_RECEPTIVE)
                     " px here, larger than any image");
          return NULL;
        }
      g_array_append_val (layers, layer);
      last_start = start;
      last_len = (int) (p - start);
      last_column = column;
    }

  if (layers->len == 0)
    {
      g_set_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_STRUCTURE,
                   "net spec: it is empty; write layers such as \"%s\"", PL_DEFAULT_SPEC);
      return NULL;
    }
  PlLayerSpec *last = &g_array_index (layers, PlLayerSpec, layers->len - 1);
  if (last->kind != PL_LAYER_CONV)
    {
      set_error (error, PL_SPEC_ERROR_STRUCTURE, last_start, last_len, last_column,
                 "the last layer must be a convolution (the classifier), e.g. c1xK");
      return NULL;
    }
  if (last_symbolic)
    {
      if (n_classes <= 0)
        {
          set_error (error, PL_SPEC_ERROR_STRUCTURE, last_start, last_len, last_column,
                     "K (the class count) is not known here; write the number instead");
          return NULL;
        }
      last->n_out = n_classes;
    }
  else if (n_classes > 0 && last->n_out != n_classes)
    {
      g_autofree char *why = g_strdup_printf ("the classifier has %d outputs but the data has "
                                              "%d classes (write K to follow the data)",
                                              last->n_out, n_classes);
      set_error (error, PL_SPEC_ERROR_STRUCTURE, last_start, last_len, last_column, why);
      return NULL;
    }
  if (last->n_out < 2 || last->n_out > PL_SPEC_MAX_CLASSES)
    {
      set_error (error, PL_SPEC_ERROR_RANGE, last_start, last_len, last_column,
                 "the classifier needs between 2 and " G_STRINGIFY (PL_SPEC_MAX_CLASSES)
                 " classes");
      return NULL;
    }
  last->relu = FALSE;

  PlNetSpec *spec = g_new0 (PlNetSpec, 1);
  spec->n_layers = (int) layers->len;
  spec->layers = (PlLayerSpec *) g_array_free (g_steal_pointer (&layers), FALSE);
  spec->in_channels = in_channels;
  spec->n_classes = last->n_out;
  /* Pool layers pass their input's channel count through. */
  int channels = in_channels;
  for (int l = 0; l < spec->n_layers; l++)
    {
      if (spec->layers[l].kind == PL_LAYER_MAXPOOL)
        spec->layers[l].n_out = channels;
      channels = spec->layers[l].n_out;
    }
  spec->n_classes = spec->layers[spec->n_layers - 1].n_out;
  spec->text = spec_to_text (spec);
  return spec;
}

PlNetSpec *
pl_net_spec_copy (const PlNetSpec *spec)
{
  PlNetSpec *copy = g_new0 (PlNetSpec, 1);
  *copy = *spec;
  copy->layers = g_memdup2 (spec->layers, sizeof (PlLayerSpec) * (gsize) spec->n_layers);
  copy->text = g_strdup (spec->text);
  return copy;
}

void
pl_net_spec_free (PlNetSpec *spec)
{
  if (spec == NULL)
    return;
  g_free (spec->layers);
  g_free (spec->text);
  g_free (spec);
}

int
pl_net_spec_channels_in (const PlNetSpec *spec, int l)
{
  g_return_val_if_fail (l >= 0 && l <= spec->n_layers, 0);
  return l == 0 ? spec->in_channels : spec->layers[l - 1].n_out;
}
