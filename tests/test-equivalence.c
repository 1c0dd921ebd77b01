/* test-equivalence.c — DESIGN.md §2, the point of the whole program:
 *
 *   the gradient of whole-image training with the loss restricted to a set S of
 *   output cells equals the sum of the gradients of the R×R patches at S,
 *
 * when patch origins are multiples of J (and the losses are summed, not averaged).
 * With unaligned origins the pooling windows shift and the outputs differ. The first
 * tests compute both sides by hand; the /equivalence/check ones test the engine's
 * pl_equivalence_check, which the window's button calls, against them. */
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
  PlSample *sample; /* random pixels and labels (some 255) */
  float *image;     /* [1, 3, H, W]: the sample as the net sees it */
  guint8 *truth;    /* [H, W] per-pixel labels: the sample's */
  int oh, ow;
} Fixture;

/* A sample of random pixels and labels (5% ignored). */
static PlSample *
random_sample (int height, int width, guint64 seed)
{
  PlSample *s = pl_sample_new ("random", width, height);
  PlRng rng;
  pl_rng_init (&rng, seed);
  for (gsize p = 0; p < (gsize) 3 * width * height; p++)
    s->rgb[p] = (guint8) pl_rng_below (&rng, 256);
  pl_test_fill_labels (s->labels, (gsize) width * height, K, 0.05f, &rng);
  return s;
}

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
  f->sample = random_sample (H, W, 77);
  f->image = g_new (float, 3 * H * W);
  pl_sample_to_input (f->sample, 0, 0, H, W, f->image);
  f->truth = f->sample->labels;
}

static void
fixture_clear (Fixture *f)
{
  pl_net_spec_free (f->spec);
  pl_net_free (f->net);
  pl_workspace_free (f->ws);
  g_free (f->image);
  pl_sample_free (f->sample);
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

/* ---- pl_equivalence_check: the engine function behind the window's button ---- */

/* Momentum state that a check must not touch. */
static void
fill_velocity (PlNet *net)
{
  PlRng rng;
  pl_rng_init (&rng, 31);
  pl_test_fill_uniform (net->velocity, net->n_params, -0.1f, 0.1f, &rng);
}

static gboolean
all_zero (const float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (x[i] != 0.0f)
      return FALSE;
  return TRUE;
}

/* Aligned: exact up to float rounding; the whole-image side is the gradient the hand-made
 * computation above gets; weights, velocity untouched and gradients left zeroed. */
static void
test_check_aligned (void)
{
  Fixture f;
  fixture_init (&f, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
  fill_velocity (f.net);
  int M = f.oh * f.ow;
  g_autofree guint8 *keep = g_new (guint8, M);
  g_autofree int *cells = g_new (int, M);
  int n = random_cells (&f, keep, cells, 5), labelled = 0;
  for (int s = 0; s < n; s++)
    labelled += centre_label (&f, cells[s] / f.ow, cells[s] % f.ow, 0, 0) != PL_LABEL_IGNORE;
  double loss;
  g_autofree float *g_whole = whole_image_gradient (&f, keep, &loss);
  double norm2 = 0.0;
  for (gsize p = 0; p < f.net->n_params; p++)
    norm2 += (double) g_whole[p] * g_whole[p];
  g_autofree float *params = g_memdup2 (f.net->params, sizeof (float) * f.net->n_params);
  g_autofree float *velocity = g_memdup2 (f.net->velocity, sizeof (float) * f.net->n_params);

  PlEquivalence e;
  g_autoptr (GError) error = NULL;
  g_assert_true (pl_equivalence_check (f.net, f.ws, f.sample, keep, 0, 0, &e, &error));
  g_assert_no_error (error);
  g_test_message ("aligned: |S| = %d, max |g| %.4g, norm %.4g, max difference %.3g, output "
                  "difference %.3g; %.3g s whole, %.3g s patches; FLOPs x%.2f", e.n_cells,
                  e.max_abs_grad, e.grad_norm, e.max_abs_diff, e.output_diff, e.seconds_whole,
                  e.seconds_patches, e.flops_patches / e.flops_whole);
  g_assert_cmpint (e.n_cells, ==, labelled);
  g_assert_cmpfloat (e.max_abs_grad, ==, pl_test_max_abs (g_whole, f.net->n_params));
  g_assert_cmpfloat (fabs (e.grad_norm - sqrt (norm2)), <=, 1e-9 * e.grad_norm);
  g_assert_cmpfloat (e.max_abs_grad, >, 0.0);
  g_assert_cmpfloat (e.max_abs_diff, <=, 1e-5 * e.max_abs_grad);
  g_assert_cmpfloat (e.output_diff, <=, 1e-4);
  g_assert_cmpfloat (e.seconds_whole, >=, 0.0);
  g_assert_cmpfloat (e.seconds_patches, >=, 0.0);
  PlLayerFlops one;
  pl_net_spec_flops (f.spec, 1, H, W, NULL, &one);
  g_assert_cmpfloat (e.flops_whole, ==, one.forward + one.backward);
  pl_net_spec_flops (f.spec, 1, f.rf.R, f.rf.R, NULL, &one);
  g_assert_cmpfloat (fabs (e.flops_patches - e.n_cells * (one.forward + one.backward)), <=,
                     1e-9 * e.flops_patches);

  g_assert_true (all_zero (f.net->grads, f.net->n_params));
  g_assert_cmpmem (params, sizeof (float) * f.net->n_params, f.net->params,
                   sizeof (float) * f.net->n_params);
  g_assert_cmpmem (velocity, sizeof (float) * f.net->n_params, f.net->velocity,
                   sizeof (float) * f.net->n_params);
  fixture_clear (&f);
}

/* Every cell of a larger image: the patches take more than one chunk. */
static void
test_check_all_cells_in_chunks (void)
{
  Fixture f;
  fixture_init (&f, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
  g_autoptr (PlSample) big = random_sample (120, 104, 78);
  int oh, ow, labelled = 0;
  g_assert_true (pl_net_spec_output_size (f.spec, big->height, big->width, &oh, &ow));
  g_assert_cmpint (oh * ow, >, PL_EQUIVALENCE_CHUNK);
  for (int i = 0; i < oh; i++)
    for (int j = 0; j < ow; j++)
      {
        int y, x;
        pl_receptive_field_centre (f.rf, i, j, &y, &x);
        labelled += big->labels[y * big->width + x] != PL_LABEL_IGNORE;
      }
  PlEquivalence e;
  g_autoptr (GError) error = NULL;
  g_assert_true (pl_equivalence_check (f.net, f.ws, big, NULL, 0, 0, &e, &error));
  g_assert_no_error (error);
  g_test_message ("%dx%d, every cell: |S| = %d, max difference %.3g (scale %.4g), output "
                  "difference %.3g", big->width, big->height, e.n_cells, e.max_abs_diff,
                  e.max_abs_grad, e.output_diff);
  g_assert_cmpint (e.n_cells, ==, labelled);
  g_assert_cmpfloat (e.max_abs_diff, <=, 1e-5 * e.max_abs_grad);
  g_assert_cmpfloat (e.output_diff, <=, 1e-4);
  g_assert_true (all_zero (f.net->grads, f.net->n_params));
  fixture_clear (&f);
}

/* Shifted by (1, 2) px, off the J grid: outputs and gradients clearly differ, and the
 * cells whose shifted window leaves the image (last row and column) are skipped; shifted
 * back by (−1, −2), the first row and column are. */
static void
test_check_shifted (void)
{
  Fixture f;
  fixture_init (&f, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
  fill_velocity (f.net);
  g_autofree float *params = g_memdup2 (f.net->params, sizeof (float) * f.net->n_params);
  g_autofree float *velocity = g_memdup2 (f.net->velocity, sizeof (float) * f.net->n_params);
  const int shifts[][2] = { { 1, 2 }, { -1, -2 } };
  for (int t = 0; t < 2; t++)
    {
      int dy = shifts[t][0], dx = shifts[t][1], expect = 0;
      for (int i = 0; i < f.oh; i++)
        for (int j = 0; j < f.ow; j++)
          {
            gboolean inside = dy > 0 ? i < f.oh - 1 && j < f.ow - 1 : i > 0 && j > 0;
            expect += inside && centre_label (&f, i, j, 0, 0) != PL_LABEL_IGNORE
                      && centre_label (&f, i, j, dy, dx) != PL_LABEL_IGNORE;
          }
      PlEquivalence e;
      g_autoptr (GError) error = NULL;
      g_assert_true (pl_equivalence_check (f.net, f.ws, f.sample, NULL, dy, dx, &e, &error));
      g_assert_no_error (error);
      g_test_message ("shifted by (%d, %d): |S| = %d, max difference %.3g (scale %.4g), output "
                      "difference %.3g", dy, dx, e.n_cells, e.max_abs_diff, e.max_abs_grad,
                      e.output_diff);
      g_assert_cmpint (e.n_cells, ==, expect);
      g_assert_cmpfloat (e.max_abs_diff, >, 1e-2 * e.max_abs_grad);
      g_assert_cmpfloat (e.output_diff, >, 1e-2);
      g_assert_true (all_zero (f.net->grads, f.net->n_params));
    }
  g_assert_cmpmem (params, sizeof (float) * f.net->n_params, f.net->params,
                   sizeof (float) * f.net->n_params);
  g_assert_cmpmem (velocity, sizeof (float) * f.net->n_params, f.net->velocity,
                   sizeof (float) * f.net->n_params);
  fixture_clear (&f);
}

/* A sample smaller than R, and a set S that ends up empty, are errors naming the sample. */
static void
test_check_errors (void)
{
  Fixture f;
  fixture_init (&f, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK");
  PlEquivalence e;
  g_autoptr (GError) error = NULL;
  g_autoptr (PlSample) tiny = random_sample (23, 40, 79);
  g_assert_false (pl_equivalence_check (f.net, f.ws, tiny, NULL, 0, 0, &e, &error));
  g_assert_error (error, PL_EQUIVALENCE_ERROR, PL_EQUIVALENCE_ERROR_SIZE);
  g_assert_nonnull (strstr (error->message, "random: 40×23 is smaller than"));
  g_clear_error (&error);

  g_autofree guint8 *none = g_new0 (guint8, f.oh * f.ow);
  g_assert_false (pl_equivalence_check (f.net, f.ws, f.sample, none, 0, 0, &e, &error));
  g_assert_error (error, PL_EQUIVALENCE_ERROR, PL_EQUIVALENCE_ERROR_EMPTY);
  g_clear_error (&error);
  /* A shift larger than the image leaves no window inside it. */
  g_assert_false (pl_equivalence_check (f.net, f.ws, f.sample, NULL, H, 0, &e, &error));
  g_assert_error (error, PL_EQUIVALENCE_ERROR, PL_EQUIVALENCE_ERROR_EMPTY);
  g_assert_nonnull (strstr (error->message, "random:"));
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
  g_test_add_func ("/equivalence/check/aligned", test_check_aligned);
  g_test_add_func ("/equivalence/check/all-cells-in-chunks", test_check_all_cells_in_chunks);
  g_test_add_func ("/equivalence/check/shifted", test_check_shifted);
  g_test_add_func ("/equivalence/check/errors", test_check_errors);
  return g_test_run ();
}
