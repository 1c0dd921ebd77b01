/* test-equivalence.c — DESIGN.md §2, the point of the whole program:
 *
 *   the gradient of whole-image training with the loss restricted to a set S of
 *   output cells equals the sum of the gradients of the R×R patches at S,
 *
 * when patch origins are multiples of J (and the losses are summed, not averaged).
 * With unaligned origins the pooling windows shift and the outputs differ. */
#include "pl-test-util.h"

#include <math.h>
#include <string.h>

#define H 68
#define W 60
#define K 4

typedef struct {
  PlNetSpec *spec;
  PlNet *net;
  PlWorkspace *ws;
  PlReceptiveField rf;
  float *image;    /* [1, 3, H, W] */
  guint8 *truth;   /* [H, W] per-pixel labels */
  int oh, ow;
} Fixture;

static void
fixture_init (Fixture *f, const char *text)
{
  g_autoptr (GError) error = NULL;
  f->spec = pl_net_spec_parse (text, 3, K, &error);
  g_assert_no_error (error);
  f->net = pl_net_new (f->spec, 2024);
  f->ws = pl_workspace_new ();
  f->rf = pl_receptive_field (f->spec);
  g_assert_true (pl_net_spec_output_size (f->spec, H, W, &f->oh, &f->ow));
  PlRng rng;
  pl_rng_init (&rng, 77);
  f->image = g_new (float, 3 * H * W);
  f->truth = g_new (guint8, H * W);
  pl_test_fill_uniform (f->image, 3 * H * W, -1, 1, &rng);
  pl_test_fill_labels (f->truth, H * W, K, 0.05f, &rng);
}

static void
fixture_clear (Fixture *f)
{
  pl_net_spec_free (f->spec);
  pl_net_free (f->net);
  pl_workspace_free (f->ws);
  g_free (f->image);
  g_free (f->truth);
}

/* Copies a side×side crop at (y0, x0) of the image into dst [3, side, side]. */
static void
crop (const Fixture *f, int y0, int x0, int side, float *dst)
{
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < side; y++)
      memcpy (dst + ((gsize) c * side + y) * side, f->image + ((gsize) c * H + y0 + y) * W + x0,
              sizeof (float) * side);
}

static guint8
centre_label (const Fixture *f, int i, int j, int dy, int dx)
{
  int y, x;
  pl_receptive_field_centre (f->rf, i, j, &y, &x);
  return f->truth[(y + dy) * W + x + dx];
}

/* Whole image, loss kept on S only; returns a copy of the gradients. */
static float *
whole_image_gradient (Fixture *f, const guint8 *keep, double *loss)
{
  g_autofree guint8 *labels = g_new (guint8, f->oh * f->ow);
  for (int i = 0; i < f->oh; i++)
    for (int j = 0; j < f->ow; j++)
      labels[i * f->ow + j] = centre_label (f, i, j, 0, 0);
  PlLossStats stats;
  g_assert_true (pl_net_forward (f->net, f->ws, f->image, 1, H, W));
  pl_net_loss (f->net, f->ws, labels, keep, PL_LOSS_SUM, &stats);
  pl_net_zero_grad (f->net);
  pl_net_backward (f->net, f->ws, NULL);
  *loss = stats.loss;
  return g_memdup2 (f->net->grads, sizeof (float) * f->net->n_params);
}

/* The R×R patches at the cells of S, offset by (dy, dx), as one batch. Returns the
 * gradients; logits [|S|, K] of each patch's single output cell go to *logits. */
static float *
patch_gradient (Fixture *f, const int *cells, int n, int dy, int dx, double *loss,
                float **logits)
{
  int R = f->rf.R;
  g_autofree float *batch = g_new (float, (gsize) n * 3 * R * R);
  g_autofree guint8 *labels = g_new (guint8, n);
  for (int s = 0; s < n; s++)
    {
      int i = cells[s] / f->ow, j = cells[s] % f->ow, y0, x0;
      pl_receptive_field_window (f->rf, i, j, &y0, &x0);
      crop (f, y0 + dy, x0 + dx, R, batch + (gsize) s * 3 * R * R);
      labels[s] = centre_label (f, i, j, dy, dx);
    }
  PlLossStats stats;
  g_assert_true (pl_net_forward (f->net, f->ws, batch, n, R, R));
  g_assert_cmpint (f->ws->shapes[f->spec->n_layers].height, ==, 1);
  pl_net_loss (f->net, f->ws, labels, NULL, PL_LOSS_SUM, &stats);
  *logits = g_new (float, (gsize) n * K);
  pl_net_get_logits (f->ws, *logits);
  pl_net_zero_grad (f->net);
  pl_net_backward (f->net, f->ws, NULL);
  *loss = stats.loss;
  return g_memdup2 (f->net->grads, sizeof (float) * f->net->n_params);
}

static int
random_cells (const Fixture *f, guint8 *keep, int *cells, guint64 seed)
{
  PlRng rng;
  pl_rng_init (&rng, seed);
  int n = 0;
  for (int m = 0; m < f->oh * f->ow; m++)
    {
      keep[m] = pl_rng_uniform (&rng) < 0.3f;
      if (keep[m])
        cells[n++] = m;
    }
  return n;
}

static void
check_equivalence (const char *text)
{
  Fixture f;
  fixture_init (&f, text);
  int M = f.oh * f.ow;
  g_autofree guint8 *keep = g_new (guint8, M);
  g_autofree int *cells = g_new (int, M);
  int n = random_cells (&f, keep, cells, 5);
  g_assert_cmpint (n, >, 3);

  double loss_whole, loss_patches;
  g_autofree float *logits = NULL;
  g_autofree float *g_whole = whole_image_gradient (&f, keep, &loss_whole);
  g_autofree float *whole_logits = g_new (float, (gsize) K * M);
  pl_net_get_logits (f.ws, whole_logits);
  g_autofree float *g_patches = patch_gradient (&f, cells, n, 0, 0, &loss_patches, &logits);

  /* Each patch's output is the whole image's output at its cell… */
  for (int s = 0; s < n; s++)
    for (int k = 0; k < K; k++)
      g_assert_cmpfloat (fabs (logits[s * K + k] - whole_logits[(gsize) k * M + cells[s]]), <=,
                         1e-4);
  /* …so the summed losses agree and so do the gradients, parameter by parameter. */
  g_assert_cmpfloat (fabs (loss_whole - loss_patches), <=, 1e-5 * fabs (loss_whole));
  double scale = pl_test_max_abs (g_whole, f.net->n_params);
  double diff = pl_test_max_abs_diff (g_whole, g_patches, f.net->n_params);
  g_test_message ("%s: |S| = %d of %d cells, max |grad| %.4g, max difference %.3g", text, n, M,
                  scale, diff);
  g_assert_cmpfloat (scale, >, 0.0);
  g_assert_cmpfloat (diff, <=, 1e-5 * scale);

  /* One patch at a time, gradients accumulated, is the same sum again. */
  pl_net_zero_grad (f.net);
  g_autofree float *g_one_by_one = g_new0 (float, f.net->n_params);
  for (int s = 0; s < n; s++)
    {
      double l;
      g_autofree float *lg = NULL;
      g_autofree float *g = patch_gradient (&f, &cells[s], 1, 0, 0, &l, &lg);
      for (gsize p = 0; p < f.net->n_params; p++)
        g_one_by_one[p] += g[p];
    }
  g_assert_cmpfloat (pl_test_max_abs_diff (g_whole, g_one_by_one, f.net->n_params), <=,
                     1e-5 * scale);
  fixture_clear (&f);
}

static void
test_equivalence_default_net (void)
{
  check_equivalence ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
}

static void
test_equivalence_other_nets (void)
{
  check_equivalence ("c5x8 p3 c3x8 c1xK");
  check_equivalence ("c3x8 c3x8 c1xK");
}

/* A crop larger than R at a J-aligned origin gives a sub-grid of the whole output. */
static void
test_larger_crop_is_subgrid (void)
{
  Fixture f;
  fixture_init (&f, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
  int M = f.oh * f.ow;
  g_autofree float *whole = g_new (float, (gsize) K * M);
  g_assert_true (pl_net_forward (f.net, f.ws, f.image, 1, H, W));
  pl_net_get_logits (f.ws, whole);

  int side = f.rf.R + 3 * f.rf.J, i0 = 2, j0 = 3;  /* a 4×4 output grid */
  g_autofree float *patch = g_new (float, 3 * side * side);
  crop (&f, i0 * f.rf.J, j0 * f.rf.J, side, patch);
  g_assert_true (pl_net_forward (f.net, f.ws, patch, 1, side, side));
  g_autofree float *sub = g_new (float, K * 16);
  pl_net_get_logits (f.ws, sub);
  for (int k = 0; k < K; k++)
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++)
        g_assert_cmpfloat (fabs (sub[(k * 4 + i) * 4 + j]
                                 - whole[(gsize) k * M + (i0 + i) * f.ow + j0 + j]), <=, 1e-4);
  fixture_clear (&f);
}

/* Shift every crop by one pixel (not a multiple of J = 4): the pooling windows no
 * longer line up, the outputs stop matching any cell of the whole image, and the
 * gradient sum differs. The test requires that difference to be large. */
static void
test_unaligned_origins_differ (void)
{
  Fixture f;
  fixture_init (&f, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
  int M = f.oh * f.ow;
  g_autofree guint8 *keep = g_new (guint8, M);
  g_autofree int *cells = g_new (int, M);
  int n = random_cells (&f, keep, cells, 9);
  /* Cells whose shifted window still fits the image. */
  int kept = 0;
  for (int s = 0; s < n; s++)
    if (cells[s] / f.ow < f.oh - 1 && cells[s] % f.ow < f.ow - 1)
      cells[kept++] = cells[s];
  memset (keep, 0, M);
  for (int s = 0; s < kept; s++)
    keep[cells[s]] = 1;

  double loss_whole, loss_shifted;
  g_autofree float *logits = NULL;
  g_autofree float *g_whole = whole_image_gradient (&f, keep, &loss_whole);
  g_autofree float *whole_logits = g_new (float, (gsize) K * M);
  pl_net_get_logits (f.ws, whole_logits);
  g_autofree float *g_shifted = patch_gradient (&f, cells, kept, 1, 2, &loss_shifted, &logits);

  double out_diff = 0.0, out_scale = pl_test_max_abs (whole_logits, (gsize) K * M);
  for (int s = 0; s < kept; s++)
    for (int k = 0; k < K; k++)
      out_diff = MAX (out_diff, fabs (logits[s * K + k] - whole_logits[(gsize) k * M + cells[s]]));
  double scale = pl_test_max_abs (g_whole, f.net->n_params);
  double diff = pl_test_max_abs_diff (g_whole, g_shifted, f.net->n_params);
  g_test_message ("unaligned by (1, 2): output differs by %.3g (scale %.3g), gradient by %.3g "
                  "(scale %.3g)", out_diff, out_scale, diff, scale);
  g_assert_cmpfloat (out_diff, >, 1e-2 * out_scale);
  g_assert_cmpfloat (diff, >, 1e-2 * scale);
  fixture_clear (&f);
}

/* The mean-normalised whole-image loss is the patch sum divided by |S|. */
static void
test_mean_is_sum_over_count (void)
{
  Fixture f;
  fixture_init (&f, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
  int M = f.oh * f.ow;
  g_autofree guint8 *keep = g_new (guint8, M);
  g_autofree int *cells = g_new (int, M);
  g_autofree guint8 *labels = g_new (guint8, M);
  int n = random_cells (&f, keep, cells, 13);
  for (int m = 0; m < M; m++)
    labels[m] = centre_label (&f, m / f.ow, m % f.ow, 0, 0);
  PlLossStats mean, sum;
  g_assert_true (pl_net_forward (f.net, f.ws, f.image, 1, H, W));
  pl_net_loss (f.net, f.ws, labels, keep, PL_LOSS_MEAN, &mean);
  pl_net_zero_grad (f.net);
  pl_net_backward (f.net, f.ws, NULL);
  g_autofree float *g_mean = g_memdup2 (f.net->grads, sizeof (float) * f.net->n_params);
  pl_net_loss (f.net, f.ws, labels, keep, PL_LOSS_SUM, &sum);
  pl_net_zero_grad (f.net);
  pl_net_backward (f.net, f.ws, NULL);
  int terms = 0;
  for (int s = 0; s < n; s++)
    terms += labels[cells[s]] != PL_LABEL_IGNORE;
  g_assert_cmpint (mean.n_terms, ==, terms);
  g_assert_cmpfloat (fabs (mean.loss * terms - sum.loss), <=, 1e-9 * sum.loss);
  for (gsize p = 0; p < f.net->n_params; p++)
    g_assert_cmpfloat (fabs (g_mean[p] * terms - f.net->grads[p]), <=,
                       1e-4 * pl_test_max_abs (f.net->grads, f.net->n_params));
  fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/equivalence/default-net", test_equivalence_default_net);
  g_test_add_func ("/equivalence/other-nets", test_equivalence_other_nets);
  g_test_add_func ("/equivalence/larger-crop-is-subgrid", test_larger_crop_is_subgrid);
  g_test_add_func ("/equivalence/unaligned-origins-differ", test_unaligned_origins_differ);
  g_test_add_func ("/equivalence/mean-is-sum-over-count", test_mean_is_sum_over_count);
  return g_test_run ();
}
