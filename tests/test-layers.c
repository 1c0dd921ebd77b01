/* test-layers.c — each kernel against a reference: the im2col+sgemm convolution
 * against plain loops, and every backward pass against central differences.
 *
 * Tolerance for the finite-difference checks (float32 forward, eps = 1e-2, the
 * loss accumulated in double): |numeric − analytic| ≤ 1e-3 + 1e-2·max(|n|, |a|). */
#include "pl-test-util.h"

#include <math.h>
#include <string.h>

#define EPS 1e-2f
#define RTOL 1e-2
#define ATOL 1e-3

typedef struct {
  int B, C, H, W, F, k;
} ConvShape;

static const ConvShape conv_shapes[] = {
  { 1, 1, 5, 5, 1, 1 },   /* k = 1, one input channel */
  { 2, 3, 9, 7, 4, 3 },   /* non-square */
  { 3, 1, 12, 5, 2, 5 },  /* one input channel, k = 5 */
  { 1, 4, 6, 6, 3, 1 },   /* k = 1, several channels */
  { 2, 2, 17, 11, 5, 2 }, /* even kernel */
  { 4, 3, 10, 13, 8, 3 },
  { 1, 16, 30, 24, 32, 3 },
};

static void
test_conv_matches_naive (void)
{
  PlRng rng;
  pl_rng_init (&rng, 1);
  for (gsize s = 0; s < G_N_ELEMENTS (conv_shapes); s++)
    {
      ConvShape c = conv_shapes[s];
      int Ho = c.H - c.k + 1, Wo = c.W - c.k + 1;
      gsize n_in = (gsize) c.C * c.B * c.H * c.W, n_out = (gsize) c.F * c.B * Ho * Wo;
      gsize n_w = (gsize) c.F * c.C * c.k * c.k;
      g_autofree float *in = g_new (float, n_in), *w = g_new (float, n_w);
      g_autofree float *bias = g_new (float, c.F), *dout = g_new (float, n_out);
      g_autofree float *out_fast = g_new (float, n_out), *out_ref = g_new (float, n_out);
      g_autofree float *din_fast = g_new (float, n_in), *din_ref = g_new (float, n_in);
      g_autofree float *dw_fast = g_new (float, n_w), *dw_ref = g_new (float, n_w);
      g_autofree float *db_fast = g_new (float, c.F), *db_ref = g_new (float, c.F);
      pl_test_fill_uniform (in, n_in, -1, 1, &rng);
      pl_test_fill_uniform (w, n_w, -1, 1, &rng);
      pl_test_fill_uniform (bias, c.F, -1, 1, &rng);
      pl_test_fill_uniform (dout, n_out, -1, 1, &rng);
      pl_conv_forward_naive (out_ref, in, w, bias, c.B, c.C, c.H, c.W, c.F, c.k);

      /* Scratch of one row, three rows, and everything: bands must not matter. */
      gsize row = pl_conv_scratch_floats (c.C, c.k, Wo, 1);
      gsize sizes[] = { row, 3 * row, row * (gsize) (c.B * Ho) };
      for (gsize z = 0; z < G_N_ELEMENTS (sizes); z++)
        {
          g_autofree float *scratch = g_new (float, sizes[z]);
          pl_conv_forward (out_fast, in, w, bias, scratch, sizes[z], c.B, c.C, c.H, c.W, c.F,
                           c.k);
          double scale = pl_test_max_abs (out_ref, n_out);
          g_assert_cmpfloat (pl_test_max_abs_diff (out_fast, out_ref, n_out), <=, 1e-5 * scale);

          /* Backward adds: start both sides from the same nonzero gradients. */
          pl_test_fill_uniform (din_ref, n_in, -1, 1, &rng);
          pl_test_fill_uniform (dw_ref, n_w, -1, 1, &rng);
          pl_test_fill_uniform (db_ref, c.F, -1, 1, &rng);
          memcpy (din_fast, din_ref, sizeof (float) * n_in);
          memcpy (dw_fast, dw_ref, sizeof (float) * n_w);
          memcpy (db_fast, db_ref, sizeof (float) * c.F);
          pl_conv_backward_naive (din_ref, dw_ref, db_ref, dout, in, w, c.B, c.C, c.H, c.W, c.F,
                                  c.k);
          pl_conv_backward (din_fast, dw_fast, db_fast, dout, in, w, scratch, sizes[z],
                            c.B, c.C, c.H, c.W, c.F, c.k);
          g_assert_cmpfloat (pl_test_max_abs_diff (din_fast, din_ref, n_in), <=,
                             1e-5 * pl_test_max_abs (din_ref, n_in));
          g_assert_cmpfloat (pl_test_max_abs_diff (dw_fast, dw_ref, n_w), <=,
                             1e-5 * pl_test_max_abs (dw_ref, n_w));
          g_assert_cmpfloat (pl_test_max_abs_diff (db_fast, db_ref, c.F), <=,
                             1e-5 * pl_test_max_abs (db_ref, c.F));

          /* din = NULL (the first layer) leaves the weight gradient unchanged. */
          g_autofree float *dw_nodin = g_new0 (float, n_w), *db_nodin = g_new0 (float, c.F);
          g_autofree float *dw_din = g_new0 (float, n_w), *db_din = g_new0 (float, c.F);
          pl_conv_backward (NULL, dw_nodin, db_nodin, dout, in, w, scratch, sizes[z],
                            c.B, c.C, c.H, c.W, c.F, c.k);
          pl_conv_backward (din_fast, dw_din, db_din, dout, in, w, scratch, sizes[z],
                            c.B, c.C, c.H, c.W, c.F, c.k);
          g_assert_cmpmem (dw_nodin, sizeof (float) * n_w, dw_din, sizeof (float) * n_w);
        }
    }
}

/* ---- convolution: finite differences on input, weights and bias ---- */

typedef struct {
  ConvShape s;
  float *in, *w, *bias, *out, *r, *scratch;
  gsize n_out, scratch_floats;
} ConvCtx;

static double
conv_loss (gpointer data, guint64 *signature)
{
  ConvCtx *c = data;
  pl_conv_forward (c->out, c->in, c->w, c->bias, c->scratch, c->scratch_floats,
                   c->s.B, c->s.C, c->s.H, c->s.W, c->s.F, c->s.k);
  double sum = 0.0;
  for (gsize i = 0; i < c->n_out; i++)
    sum += (double) c->r[i] * c->out[i];
  *signature = 0;  /* linear: no branches */
  return sum;
}

static void
test_conv_gradients (void)
{
  PlRng rng;
  pl_rng_init (&rng, 2);
  ConvShape shapes[] = { { 2, 3, 8, 6, 4, 3 }, { 1, 5, 4, 7, 3, 1 } };
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      ConvCtx c = { .s = shapes[s] };
      int Ho = c.s.H - c.s.k + 1, Wo = c.s.W - c.s.k + 1;
      gsize n_in = (gsize) c.s.C * c.s.B * c.s.H * c.s.W, n_w = (gsize) c.s.F * c.s.C * c.s.k * c.s.k;
      c.n_out = (gsize) c.s.F * c.s.B * Ho * Wo;
      c.scratch_floats = pl_conv_scratch_floats (c.s.C, c.s.k, Wo, 2);
      c.in = g_new (float, n_in);
      c.w = g_new (float, n_w);
      c.bias = g_new (float, c.s.F);
      c.out = g_new (float, c.n_out);
      c.r = g_new (float, c.n_out);
      c.scratch = g_new (float, c.scratch_floats);
      pl_test_fill_uniform (c.in, n_in, -1, 1, &rng);
      pl_test_fill_uniform (c.w, n_w, -1, 1, &rng);
      pl_test_fill_uniform (c.bias, c.s.F, -1, 1, &rng);
      pl_test_fill_uniform (c.r, c.n_out, -1, 1, &rng);

      g_autofree float *din = g_new0 (float, n_in), *dw = g_new0 (float, n_w);
      g_autofree float *db = g_new0 (float, c.s.F);
      pl_conv_backward (din, dw, db, c.r, c.in, c.w, c.scratch, c.scratch_floats,
                        c.s.B, c.s.C, c.s.H, c.s.W, c.s.F, c.s.k);
      pl_test_check_gradient ("conv input", c.in, din, n_in, 40, EPS, RTOL, ATOL, conv_loss, &c,
                              &rng);
      pl_test_check_gradient ("conv weight", c.w, dw, n_w, 40, EPS, RTOL, ATOL, conv_loss, &c,
                              &rng);
      pl_test_check_gradient ("conv bias", c.bias, db, c.s.F, c.s.F, EPS, RTOL, ATOL, conv_loss,
                              &c, &rng);
      g_free (c.in);
      g_free (c.w);
      g_free (c.bias);
      g_free (c.out);
      g_free (c.r);
      g_free (c.scratch);
    }
}

/* ---- ReLU ---- */

typedef struct {
  float *x, *y, *r;
  gsize n;
} ReluCtx;

static double
relu_loss (gpointer data, guint64 *signature)
{
  ReluCtx *c = data;
  memcpy (c->y, c->x, sizeof (float) * c->n);
  pl_relu_forward (c->y, c->n);
  double sum = 0.0;
  guint64 h = 0;
  for (gsize i = 0; i < c->n; i++)
    {
      sum += (double) c->r[i] * c->y[i];
      h = h * 31 + (c->x[i] > 0.0f);
    }
  *signature = h;
  return sum;
}

static void
test_relu_gradient (void)
{
  PlRng rng;
  pl_rng_init (&rng, 3);
  ReluCtx c = { .n = 300 };
  c.x = g_new (float, c.n);
  c.y = g_new (float, c.n);
  c.r = g_new (float, c.n);
  pl_test_fill_uniform (c.x, c.n, -1, 1, &rng);
  pl_test_fill_uniform (c.r, c.n, -1, 1, &rng);
  c.r[0] = c.r[1] = 1.0f;
  c.x[0] = 0.002f;   /* within eps of the kink: must be detected and skipped */
  c.x[1] = -0.004f;
  relu_loss (&c, &(guint64) { 0 });
  g_autofree float *d = g_memdup2 (c.r, sizeof (float) * c.n);
  pl_relu_backward (d, c.y, c.n);
  int compared = pl_test_check_gradient ("relu", c.x, d, c.n, 300, EPS, RTOL, ATOL, relu_loss, &c,
                                         &rng);
  g_assert_cmpint (compared, <, 300);  /* some points sit within eps of the kink */
  for (gsize i = 0; i < c.n; i++)
    g_assert_cmpfloat (c.y[i], >=, 0.0f);
  g_free (c.x);
  g_free (c.y);
  g_free (c.r);
}

/* ---- max pool ---- */

typedef struct {
  int P, H, W, k;
  float *in, *out, *r;
  guint8 *argmax;
} PoolCtx;

static double
pool_loss (gpointer data, guint64 *signature)
{
  PoolCtx *c = data;
  pl_maxpool_forward (c->out, c->argmax, c->in, c->P, c->H, c->W, c->k);
  gsize n = (gsize) c->P * (c->H / c->k) * (c->W / c->k);
  double sum = 0.0;
  guint64 h = 0;
  for (gsize i = 0; i < n; i++)
    {
      sum += (double) c->r[i] * c->out[i];
      h = h * 131 + c->argmax[i];
    }
  *signature = h;
  return sum;
}

static void
test_maxpool_gradient (void)
{
  PlRng rng;
  pl_rng_init (&rng, 4);
  PoolCtx shapes[] = { { 3, 7, 8, 2 }, { 2, 9, 10, 3 } };  /* odd sides drop the last row */
  for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      PoolCtx c = shapes[s];
      gsize n_in = (gsize) c.P * c.H * c.W, n_out = (gsize) c.P * (c.H / c.k) * (c.W / c.k);
      c.in = g_new (float, n_in);
      c.out = g_new (float, n_out);
      c.r = g_new (float, n_out);
      c.argmax = g_new (guint8, n_out);
      pl_test_fill_uniform (c.in, n_in, -1, 1, &rng);
      pl_test_fill_uniform (c.r, n_out, -1, 1, &rng);
      pool_loss (&c, &(guint64) { 0 });
      g_autofree float *din = g_new0 (float, n_in);
      pl_maxpool_backward (din, c.r, c.argmax, c.P, c.H, c.W, c.k);
      pl_test_check_gradient ("maxpool", c.in, din, n_in, (int) n_in, EPS, RTOL, ATOL, pool_loss,
                              &c, &rng);
      /* Forward picks the true maximum of each window. */
      for (int p = 0; p < c.P; p++)
        for (int y = 0; y < c.H / c.k; y++)
          for (int x = 0; x < c.W / c.k; x++)
            {
              float best = -INFINITY;
              for (int i = 0; i < c.k; i++)
                for (int j = 0; j < c.k; j++)
                  best = MAX (best, c.in[((gsize) p * c.H + y * c.k + i) * c.W + x * c.k + j]);
              g_assert_cmpfloat (c.out[((gsize) p * (c.H / c.k) + y) * (c.W / c.k) + x], ==, best);
            }
      g_free (c.in);
      g_free (c.out);
      g_free (c.r);
      g_free (c.argmax);
    }
}

/* ---- softmax cross-entropy ---- */

typedef struct {
  int K;
  gsize M;
  float *logits;
  guint8 *labels, *keep;
  PlLossNorm norm;
} XentCtx;

static double
xent_loss (gpointer data, guint64 *signature)
{
  XentCtx *c = data;
  PlLossStats stats;
  pl_softmax_xent (NULL, &stats, c->logits, c->labels, c->keep, c->K, c->M, c->norm);
  *signature = 0;
  return stats.loss;
}

static void
test_softmax_xent (void)
{
  PlRng rng;
  pl_rng_init (&rng, 5);
  XentCtx c = { .K = 5, .M = 40 };
  gsize n = (gsize) c.K * c.M;
  c.logits = g_new (float, n);
  c.labels = g_new (guint8, c.M);
  c.keep = g_new (guint8, c.M);
  pl_test_fill_uniform (c.logits, n, -3, 3, &rng);
  pl_test_fill_labels (c.labels, c.M, c.K, 0.2f, &rng);
  gint64 expect_terms = 0, expect_correct = 0;
  for (gsize m = 0; m < c.M; m++)
    {
      c.keep[m] = pl_rng_uniform (&rng) < 0.6f;
      if (!c.keep[m] || c.labels[m] == PL_LABEL_IGNORE)
        continue;
      expect_terms++;
      int best = 0;
      for (int k = 1; k < c.K; k++)
        if (c.logits[k * c.M + m] > c.logits[best * c.M + m])
          best = k;
      expect_correct += best == c.labels[m];
    }

  PlLossStats mean_stats, sum_stats;
  g_autofree float *d = g_new (float, n);
  for (int norm = PL_LOSS_MEAN; norm <= PL_LOSS_SUM; norm++)
    {
      c.norm = norm;
      pl_softmax_xent (d, norm == PL_LOSS_MEAN ? &mean_stats : &sum_stats, c.logits, c.labels,
                       c.keep, c.K, c.M, c.norm);
      pl_test_check_gradient (norm == PL_LOSS_MEAN ? "xent mean" : "xent sum", c.logits, d, n,
                              (int) n, EPS, RTOL, ATOL, xent_loss, &c, &rng);
      /* Cells that are not terms get exactly zero gradient. */
      for (gsize m = 0; m < c.M; m++)
        if (!c.keep[m] || c.labels[m] == PL_LABEL_IGNORE)
          for (int k = 0; k < c.K; k++)
            g_assert_cmpfloat (d[k * c.M + m], ==, 0.0f);
    }
  g_assert_cmpint (expect_terms, >, 5);
  g_assert_cmpint (mean_stats.n_terms, ==, expect_terms);
  g_assert_cmpint (sum_stats.n_correct, ==, expect_correct);
  g_assert_cmpfloat_with_epsilon (mean_stats.loss * (double) expect_terms, sum_stats.loss, 1e-9);
  g_assert_cmpfloat (sum_stats.loss, ==, sum_stats.loss_sum);

  /* Uniform logits cost log K per term. */
  memset (c.logits, 0, sizeof (float) * n);
  pl_softmax_xent (NULL, &mean_stats, c.logits, c.labels, NULL, c.K, c.M, PL_LOSS_MEAN);
  g_assert_cmpfloat_with_epsilon (mean_stats.loss, log (c.K), 1e-6);
  g_free (c.logits);
  g_free (c.labels);
  g_free (c.keep);
}

static void
test_sgd_step (void)
{
  float w[3] = { 1.0f, -2.0f, 0.5f }, v[3] = { 0.1f, 0.0f, -0.2f };
  const float g[3] = { 0.5f, 1.0f, -1.0f };
  const float lr = 0.1f, mu = 0.9f, wd = 0.01f;
  float expect_w[3], expect_v[3];
  for (int i = 0; i < 3; i++)
    {
      expect_v[i] = mu * v[i] + g[i] + wd * w[i];
      expect_w[i] = w[i] - lr * expect_v[i];
    }
  pl_sgd_step (w, v, g, 3, lr, mu, wd);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpfloat (v[i], ==, expect_v[i]);
      g_assert_cmpfloat (w[i], ==, expect_w[i]);
    }
  g_assert_cmpfloat_with_epsilon (w[0], 1.0f - 0.1f * (0.09f + 0.5f + 0.01f), 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layers/conv-matches-naive", test_conv_matches_naive);
  g_test_add_func ("/layers/conv-gradients", test_conv_gradients);
  g_test_add_func ("/layers/relu-gradient", test_relu_gradient);
  g_test_add_func ("/layers/maxpool-gradient", test_maxpool_gradient);
  g_test_add_func ("/layers/softmax-xent", test_softmax_xent);
  g_test_add_func ("/layers/sgd-step", test_sgd_step);
  return g_test_run ();
}
