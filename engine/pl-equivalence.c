/* pl-equivalence.c — one sample's whole-image gradient against the summed gradients
 * of its R×R patches, on the same weights (see pl-equivalence.h). */
#include "pl-equivalence.h"

#include "pl-cost.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (pl-equivalence-error-quark, pl_equivalence_error)

static double
now (void)
{
  return (double) g_get_monotonic_time () * 1e-6;
}

/* The label of input pixel (y, x). */
static guint8
label_at (const PlSample *s, int y, int x)
{
  return s->labels[(gsize) y * s->width + x];
}

/* The cells of S: kept, inside the image once shifted, and labelled on both sides.
 * Fills labels [oh·ow] (the whole image's, at every cell) and mask [oh·ow]; returns
 * |S| with the cell indices in cells. */
static int
select_cells (PlReceptiveField rf, const PlSample *s, int oh, int ow, const guint8 *keep,
              int dy, int dx, guint8 *labels, guint8 *mask, int *cells)
{
  int n = 0;
  for (int i = 0; i < oh; i++)
    for (int j = 0; j < ow; j++)
      {
        int m = i * ow + j, y0, x0, y, x;
        pl_receptive_field_window (rf, i, j, &y0, &x0);
        pl_receptive_field_centre (rf, i, j, &y, &x);
        labels[m] = label_at (s, y, x);
        y0 += dy;
        x0 += dx;
        mask[m] = (keep == NULL || keep[m]) && y0 >= 0 && x0 >= 0 && y0 + rf.R <= s->height
                  && x0 + rf.R <= s->width && labels[m] != PL_LABEL_IGNORE
                  && label_at (s, y + dy, x + dx) != PL_LABEL_IGNORE;
        if (mask[m])
          cells[n++] = m;
      }
  return n;
}

gboolean
pl_equivalence_check (PlNet *net, PlWorkspace *ws, const PlSample *sample, const guint8 *keep,
                      int dy, int dx, PlEquivalence *result, GError **error)
{
  g_return_val_if_fail (net != NULL && ws != NULL && sample != NULL && result != NULL, FALSE);
  const PlNetSpec *spec = net->spec;
  PlReceptiveField rf = pl_receptive_field (spec);
  int K = spec->n_classes, R = rf.R, H = sample->height, W = sample->width, oh, ow;
  if (!pl_net_spec_output_size (spec, H, W, &oh, &ow))
    {
      g_set_error (error, PL_EQUIVALENCE_ERROR, PL_EQUIVALENCE_ERROR_SIZE,
                   "%s: %d×%d is smaller than the net's receptive field (%d px)", sample->name, W,
                   H, R);
      return FALSE;
    }
  gsize M = (gsize) oh * ow;
  g_autofree guint8 *labels = g_new (guint8, M);
  g_autofree guint8 *mask = g_new (guint8, M);
  g_autofree int *cells = g_new (int, M);
  int n = select_cells (rf, sample, oh, ow, keep, dy, dx, labels, mask, cells);
  if (n == 0)
    {
      g_set_error (error, PL_EQUIVALENCE_ERROR, PL_EQUIVALENCE_ERROR_EMPTY,
                   "%s: no output cell is kept, labelled and inside the image with the crops "
                   "shifted by (%d, %d) px", sample->name, dy, dx);
      return FALSE;
    }
  *result = (PlEquivalence) { .n_cells = n };
  PlLossStats stats;
  PlLayerFlops f;

  /* The whole image, loss summed over S. */
  g_autofree float *input = g_new (float, (gsize) 3 * H * W);  /* [1, 3, H, W] */
  pl_sample_to_input (sample, 0, 0, H, W, input);
  pl_net_zero_grad (net);
  double t0 = now ();
  pl_net_forward (net, ws, input, 1, H, W);
  pl_net_loss (net, ws, labels, mask, PL_LOSS_SUM, &stats);
  pl_net_backward (net, ws, NULL);
  result->seconds_whole = now () - t0;
  pl_net_spec_flops (spec, 1, H, W, NULL, &f);
  result->flops_whole = f.forward + f.backward;
  g_clear_pointer (&input, g_free);
  g_autofree float *g_whole = g_memdup2 (net->grads, sizeof (float) * net->n_params);
  g_autofree float *whole_logits = g_new (float, (gsize) K * M);  /* [1, K, oh, ow] */
  pl_net_get_logits (ws, whole_logits);

  /* The patches at S, in chunks; their gradients add up in net->grads. */
  int chunk = MIN (n, PL_EQUIVALENCE_CHUNK);
  g_autofree float *batch = g_new (float, (gsize) chunk * 3 * R * R);  /* [chunk, 3, R, R] */
  g_autofree guint8 *patch_labels = g_new (guint8, chunk);
  g_autofree float *logits = g_new (float, (gsize) chunk * K);        /* [chunk, K, 1, 1] */
  pl_net_zero_grad (net);
  for (int a = 0; a < n; a += chunk)
    {
      int b = MIN (chunk, n - a);
      for (int s = 0; s < b; s++)
        {
          int i = cells[a + s] / ow, j = cells[a + s] % ow, y0, x0, y, x;
          pl_receptive_field_window (rf, i, j, &y0, &x0);
          pl_receptive_field_centre (rf, i, j, &y, &x);
          pl_sample_to_input (sample, y0 + dy, x0 + dx, R, R, batch + (gsize) s * 3 * R * R);
          patch_labels[s] = label_at (sample, y + dy, x + dx);
        }
      double t = now ();
      pl_net_forward (net, ws, batch, b, R, R);
      pl_net_loss (net, ws, patch_labels, NULL, PL_LOSS_SUM, &stats);
      pl_net_backward (net, ws, NULL);
      result->seconds_patches += now () - t;
      pl_net_spec_flops (spec, b, R, R, NULL, &f);
      result->flops_patches += f.forward + f.backward;
      pl_net_get_logits (ws, logits);
      for (int s = 0; s < b; s++)
        for (int k = 0; k < K; k++)
          result->output_diff = MAX (result->output_diff,
                                     fabs ((double) logits[(gsize) s * K + k]
                                           - whole_logits[(gsize) k * M + cells[a + s]]));
    }

  double norm2 = 0.0;
  for (gsize p = 0; p < net->n_params; p++)
    {
      double g = g_whole[p];
      result->max_abs_diff = MAX (result->max_abs_diff, fabs (g - net->grads[p]));
      result->max_abs_grad = MAX (result->max_abs_grad, fabs (g));
      norm2 += g * g;
    }
  result->grad_norm = sqrt (norm2);
  pl_net_zero_grad (net);
  return TRUE;
}
