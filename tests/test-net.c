/* test-net.c — the whole net: finite-difference gradients of the default net (all
 * layers chained), determinism, the memory estimate against the real allocation,
 * FLOP counts by hand, and the NCHW views of the output. */
#include "pl-test-util.h"

#include <math.h>
#include <string.h>

typedef struct {
  PlNet *net;
  PlWorkspace *ws;
  float *input;
  guint8 *labels, *keep;
  int B, H, W;
} NetCtx;

static double
net_loss (gpointer data, guint64 *signature)
{
  NetCtx *c = data;
  PlLossStats stats;
  g_assert_true (pl_net_forward (c->net, c->ws, c->input, c->B, c->H, c->W));
  pl_net_loss (c->net, c->ws, c->labels, c->keep, PL_LOSS_SUM, &stats);
  *signature = pl_test_branch_signature (c->net, c->ws);
  return stats.loss;
}

/* Tolerance: eps = 1e-3 on weights and biases, 1e-2 on inputs; float32 forward
 * passes with the loss summed in double; |numeric − analytic| ≤ 5e-3 +
 * 3e-2·max(|n|, |a|). Measured worst case here: 0.98 of the bound at 2e-3/2e-2
 * (the first layer, where thousands of ReLUs and pool winners sit near ±eps). */
static void
test_default_net_gradients (void)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x3", 3);
  PlRng rng;
  pl_rng_init (&rng, 11);
  NetCtx c = { .B = 2, .H = 28, .W = 32 };
  c.net = pl_net_new (spec, 5);
  c.ws = pl_workspace_new ();
  int oh, ow;
  g_assert_true (pl_net_spec_output_size (spec, c.H, c.W, &oh, &ow));
  gsize n_in = (gsize) c.B * 3 * c.H * c.W, cells = (gsize) c.B * oh * ow;
  c.input = g_new (float, n_in);
  c.labels = g_new (guint8, cells);
  c.keep = g_new (guint8, cells);
  pl_test_fill_uniform (c.input, n_in, -1, 1, &rng);
  pl_test_fill_labels (c.labels, cells, 3, 0.1f, &rng);
  for (gsize m = 0; m < cells; m++)
    c.keep[m] = pl_rng_uniform (&rng) < 0.75f;
  /* Nonzero biases so that every bias gradient is exercised. */
  for (int l = 0; l < spec->n_layers; l++)
    if (spec->layers[l].kind == PL_LAYER_CONV)
      pl_test_fill_uniform (c.net->params + c.net->slots[l].bias, spec->layers[l].n_out,
                            -0.05f, 0.05f, &rng);

  g_autofree float *dinput = g_new (float, n_in);
  net_loss (&c, &(guint64) { 0 });
  pl_net_zero_grad (c.net);
  pl_net_backward (c.net, c.ws, dinput);

  for (int l = 0; l < spec->n_layers; l++)
    {
      if (spec->layers[l].kind != PL_LAYER_CONV)
        continue;
      const PlParamSlot *slot = &c.net->slots[l];
      g_autofree char *w_name = g_strdup_printf ("layer %d weight", l);
      g_autofree char *b_name = g_strdup_printf ("layer %d bias", l);
      pl_test_check_gradient (w_name, c.net->params + slot->weight, c.net->grads + slot->weight,
                              slot->n_weight, 40, 1e-3f, 3e-2, 5e-3, net_loss, &c, &rng);
      pl_test_check_gradient (b_name, c.net->params + slot->bias, c.net->grads + slot->bias,
                              (gsize) spec->layers[l].n_out, 16, 1e-3f, 3e-2, 5e-3, net_loss, &c,
                              &rng);
    }
  pl_test_check_gradient ("input", c.input, dinput, n_in, 60, 1e-2f, 3e-2, 5e-3, net_loss, &c,
                          &rng);
  pl_net_free (c.net);
  pl_workspace_free (c.ws);
  g_free (c.input);
  g_free (c.labels);
  g_free (c.keep);
}

/* Random data from a seed, trained for `steps`; returns the per-step losses. */
static GArray *
train_losses (guint64 seed, int steps)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4", 3);
  g_autoptr (PlNet) net = pl_net_new (spec, seed);
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  PlRng rng;
  pl_rng_init (&rng, seed ^ 0xdeadbeef);
  const int B = 3, H = 40, W = 44;
  int oh, ow;
  g_assert_true (pl_net_spec_output_size (spec, H, W, &oh, &ow));
  gsize n_in = (gsize) B * 3 * H * W, cells = (gsize) B * oh * ow;
  g_autofree float *input = g_new (float, n_in);
  g_autofree guint8 *labels = g_new (guint8, cells);
  GArray *losses = g_array_new (FALSE, FALSE, sizeof (double));
  PlSgdParams sgd = { .lr = 0.05f, .momentum = 0.9f, .weight_decay = 1e-4f };
  for (int s = 0; s < steps; s++)
    {
      pl_test_fill_uniform (input, n_in, -1, 1, &rng);
      pl_test_fill_labels (labels, cells, 4, 0.05f, &rng);
      PlLossStats stats;
      g_assert_true (pl_net_forward (net, ws, input, B, H, W));
      pl_net_loss (net, ws, labels, NULL, PL_LOSS_MEAN, &stats);
      pl_net_zero_grad (net);
      pl_net_backward (net, ws, NULL);
      pl_net_sgd_step (net, &sgd);
      g_assert_true (isfinite (stats.loss));
      g_array_append_val (losses, stats.loss);
    }
  return losses;
}

static void
test_determinism (void)
{
  g_autoptr (GArray) a = train_losses (42, 20);
  g_autoptr (GArray) b = train_losses (42, 20);
  g_autoptr (GArray) other = train_losses (43, 20);
  g_assert_cmpmem (a->data, a->len * sizeof (double), b->data, b->len * sizeof (double));
  g_assert_cmpint (memcmp (a->data, other->data, a->len * sizeof (double)), !=, 0);
}

static void
test_memory_estimate_is_allocation (void)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4", 3);
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  const int shapes[][3] = { { 4, 128, 128 }, { 1, 512, 512 }, { 64, 24, 24 }, { 1, 980, 980 } };
  for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      PlMemoryEstimate e;
      g_assert_true (pl_net_spec_memory (spec, shapes[i][0], shapes[i][1], shapes[i][2], &e));
      g_assert_true (pl_workspace_prepare (ws, spec, shapes[i][0], shapes[i][1], shapes[i][2]));
      g_assert_cmpuint (e.workspace, ==, e.input + e.activations + e.argmax + e.gradients
                                         + e.scratch);
      g_assert_cmpuint (e.total, ==, e.workspace + e.params);
      g_assert_cmpuint (ws->arena_bytes, >=, e.workspace);
      g_assert_cmpuint (ws->arena_bytes, <, 4 * e.workspace + 1);
      /* Activations dominate and are counted exactly: 16+16 channels at 510, 508… */
      gsize B = (gsize) shapes[i][0], H = (gsize) shapes[i][1];
      g_assert_cmpuint (e.activations, >=, B * 16 * 4 * (H - 2) * (H - 2));
    }
  /* A fresh workspace for 1×980×980 allocates exactly the estimate. */
  g_autoptr (PlWorkspace) fresh = pl_workspace_new ();
  PlMemoryEstimate e;
  g_assert_true (pl_net_spec_memory (spec, 1, 980, 980, &e));
  g_assert_true (pl_workspace_prepare (fresh, spec, 1, 980, 980));
  g_assert_cmpuint (fresh->arena_bytes, ==, e.workspace);
  /* The im2col scratch stays bounded however large the image. */
  g_assert_cmpuint (e.scratch, <=, sizeof (float) * 2 * PL_CONV_SCRATCH_TARGET_FLOATS);
  g_assert_false (pl_net_spec_memory (spec, 1, 20, 980, &e));
}

static void
test_flops_by_hand (void)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x2 p2 c1x2", 1);
  PlLayerFlops per[3], total;
  /* 7×7 → conv 5×5×2 → pool 2×2×2 → classifier 2×2×2 */
  g_assert_true (pl_net_spec_flops (spec, 1, 7, 7, per, &total));
  g_assert_cmpfloat (per[0].forward, ==, 2.0 * 50 * 9 + 50 + 50);  /* GEMM, bias, ReLU */
  g_assert_cmpfloat (per[0].backward, ==, 2.0 * 50 * 9 + 50 + 50); /* no dX in layer 0 */
  g_assert_cmpfloat (per[1].forward, ==, 8.0 * 3);
  g_assert_cmpfloat (per[1].backward, ==, 8.0);
  g_assert_cmpfloat (per[2].forward, ==, 2.0 * 8 * 2 + 8);
  g_assert_cmpfloat (per[2].backward, ==, 2.0 * 2.0 * 8 * 2 + 8);
  g_assert_cmpfloat (total.forward, ==, per[0].forward + per[1].forward + per[2].forward);
  g_assert_cmpfloat (pl_net_spec_conv_forward_flops (spec, 1, 7, 7), ==, 2.0 * (50 * 9 + 16));

  g_autoptr (PlNetSpec) def = pl_test_spec ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4", 3);
  /* Batch scales linearly. */
  PlLayerFlops one, four;
  g_assert_true (pl_net_spec_flops (def, 1, 128, 128, NULL, &one));
  g_assert_true (pl_net_spec_flops (def, 4, 128, 128, NULL, &four));
  g_assert_cmpfloat (four.forward, ==, 4 * one.forward);
  g_assert_false (pl_net_spec_flops (def, 1, 10, 10, NULL, &one));
}

static void
test_outputs_nchw (void)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x4 p2 c3x5", 2);
  g_autoptr (PlNet) net = pl_net_new (spec, 3);
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  PlRng rng;
  pl_rng_init (&rng, 8);
  const int B = 3, H = 12, W = 10, K = 5;
  int oh, ow;
  g_assert_true (pl_net_spec_output_size (spec, H, W, &oh, &ow));
  gsize plane = (gsize) oh * ow, n_in = (gsize) B * 2 * H * W;
  g_autofree float *input = g_new (float, n_in);
  g_autofree float *logits = g_new (float, (gsize) B * K * plane);
  g_autofree float *probs = g_new (float, (gsize) B * K * plane);
  g_autofree float *single = g_new (float, (gsize) K * plane);
  pl_test_fill_uniform (input, n_in, -1, 1, &rng);
  g_assert_true (pl_net_forward (net, ws, input, B, H, W));
  pl_net_get_logits (ws, logits);
  pl_net_get_probabilities (ws, probs);

  /* Each image of the batch alone gives the same logits: the layout round-trips. */
  for (int b = 0; b < B; b++)
    {
      g_assert_true (pl_net_forward (net, ws, input + (gsize) b * 2 * H * W, 1, H, W));
      pl_net_get_logits (ws, single);
      g_assert_cmpfloat (pl_test_max_abs_diff (single, logits + (gsize) b * K * plane,
                                               (gsize) K * plane), <=, 1e-5);
    }
  for (int b = 0; b < B; b++)
    for (gsize m = 0; m < plane; m++)
      {
        double sum = 0.0;
        for (int k = 0; k < K; k++)
          sum += probs[((gsize) b * K + k) * plane + m];
        g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      }
  g_assert_false (pl_net_forward (net, ws, input, 1, 5, 5));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/default-net-gradients", test_default_net_gradients);
  g_test_add_func ("/net/determinism", test_determinism);
  g_test_add_func ("/net/memory-estimate-is-allocation", test_memory_estimate_is_allocation);
  g_test_add_func ("/net/flops-by-hand", test_flops_by_hand);
  g_test_add_func ("/net/outputs-nchw", test_outputs_nchw);
  return g_test_run ();
}
