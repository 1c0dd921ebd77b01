/* pl-workspace.c — one arena per pass, laid out from the same table as the estimate. */
#include "pl-workspace.h"

#include "pl-layers.h"

#include <string.h>

#define ALIGN 64
#define ROUND_UP(n) (((n) + ALIGN - 1) / ALIGN * ALIGN)

static gsize
count_params (const PlNetSpec *spec)
{
  gsize n = 0;
  for (int l = 0; l < spec->n_layers; l++)
    if (spec->layers[l].kind == PL_LAYER_CONV)
      {
        gsize C = (gsize) pl_net_spec_channels_in (spec, l), k = (gsize) spec->layers[l].k;
        n += (gsize) spec->layers[l].n_out * (C * k * k + 1);
      }
  return n;
}

static gsize
plane_floats (PlShape s, int B)
{
  return (gsize) s.channels * (gsize) B * (gsize) s.height * (gsize) s.width;
}

/* Scratch floats for one conv layer: whole output rows, near the target size. */
static gsize
conv_scratch_floats (const PlNetSpec *spec, int l, const PlShape *shapes, int B)
{
  const PlLayerSpec *layer = &spec->layers[l];
  if (layer->kind != PL_LAYER_CONV || layer->k == 1)
    return 0;
  PlShape in = shapes[l], out = shapes[l + 1];
  gsize per_row = pl_conv_scratch_floats (in.channels, layer->k, out.width, 1);
  gsize rows = MAX (1, PL_CONV_SCRATCH_TARGET_FLOATS / per_row);
  rows = MIN (rows, (gsize) B * (gsize) out.height);
  return per_row * rows;
}

/* Reserves `bytes` (rounded up) at *offset, counts them in *kind, and returns where
 * they start in the arena (NULL while only measuring). */
static void *
take (char *arena, gsize *offset, gsize *kind, gsize bytes)
{
  gsize rounded = ROUND_UP (bytes);
  void *at = arena != NULL ? arena + *offset : NULL;
  *offset += rounded;
  *kind += rounded;
  return at;
}

/* One pass over the layers that sums sizes (ws == NULL) or also assigns them. */
static gboolean
layout (const PlNetSpec *spec, int B, int H, int W, PlMemoryEstimate *est, PlWorkspace *ws)
{
  PlShape shapes[PL_SPEC_MAX_LAYERS + 1];
  if (B < 1 || !pl_net_spec_shapes (spec, H, W, shapes))
    return FALSE;

  PlWorkspace scratch_ws = { 0 };
  PlWorkspace *w = ws != NULL ? ws : &scratch_ws;  /* pointers land here when measuring */
  char *arena = ws != NULL ? ws->arena : NULL;
  PlMemoryEstimate e = { 0 };
  gsize offset = 0, max_grad = plane_floats (shapes[0], B), scratch = 1;

  w->input = take (arena, &offset, &e.input, sizeof (float) * plane_floats (shapes[0], B));
  for (int l = 0; l < spec->n_layers; l++)
    {
      gsize n = plane_floats (shapes[l + 1], B);
      w->acts[l] = take (arena, &offset, &e.activations, sizeof (float) * n);
      w->argmax[l] = spec->layers[l].kind == PL_LAYER_MAXPOOL
                       ? take (arena, &offset, &e.argmax, n) : NULL;
      if (l < spec->n_layers - 1)
        max_grad = MAX (max_grad, n);
      scratch = MAX (scratch, conv_scratch_floats (spec, l, shapes, B));
    }
  gsize n_logits = plane_floats (shapes[spec->n_layers], B);
  w->dlogits = take (arena, &offset, &e.gradients, sizeof (float) * n_logits);
  w->grad_a = take (arena, &offset, &e.gradients, sizeof (float) * max_grad);
  w->grad_b = take (arena, &offset, &e.gradients, sizeof (float) * max_grad);
  w->scratch = take (arena, &offset, &e.scratch, sizeof (float) * scratch);
  w->scratch_floats = scratch;
  w->B = B;
  w->H = H;
  w->W = W;
  w->n_layers = spec->n_layers;
  memcpy (w->shapes, shapes, sizeof (PlShape) * (gsize) (spec->n_layers + 1));

  e.params = 3 * sizeof (float) * count_params (spec);
  e.workspace = offset;
  e.total = e.workspace + e.params;
  if (est != NULL)
    *est = e;
  return TRUE;
}

gboolean
pl_workspace_layout (const PlNetSpec *spec, int B, int H, int W, PlMemoryEstimate *estimate)
{
  return layout (spec, B, H, W, estimate, NULL);
}

PlWorkspace *
pl_workspace_new (void)
{
  return g_new0 (PlWorkspace, 1);
}

void
pl_workspace_free (PlWorkspace *ws)
{
  if (ws == NULL)
    return;
  g_free (ws->arena);
  g_free (ws);
}

gboolean
pl_workspace_prepare (PlWorkspace *ws, const PlNetSpec *spec, int B, int H, int W)
{
  PlMemoryEstimate e;
  if (!layout (spec, B, H, W, &e, NULL))
    return FALSE;
  /* Grow when too small; give memory back when far too large. */
  if (e.workspace > ws->arena_bytes || e.workspace < ws->arena_bytes / 4)
    {
      g_free (ws->arena);
      ws->arena = g_malloc (e.workspace);
      ws->arena_bytes = e.workspace;
    }
  return layout (spec, B, H, W, NULL, ws);
}
