/* bench-engine.c — how close one training step of the default net comes to the
 * machine's sgemm speed. Everything is measured in this one run, side by side:
 * OpenBLAS sgemm on large square matrices, then full steps (forward, loss,
 * backward, SGD) at 4×128×128 and 1×512×512, then where the time goes per layer.
 * A benchmark, not a test: it prints numbers and ratios and never fails on speed. */
#include "pl-engine.h"

#include "bench-util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static double
sgemm_gflops (int n, int reps)
{
  float *a = g_new (float, (gsize) n * n), *b = g_new (float, (gsize) n * n);
  float *c = g_new0 (float, (gsize) n * n);
  PlRng rng;
  pl_rng_init (&rng, 1);
  for (gsize i = 0; i < (gsize) n * n; i++)
    {
      a[i] = pl_rng_uniform (&rng);
      b[i] = pl_rng_uniform (&rng);
    }
  double times[16];
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
  for (int r = 0; r < reps; r++)
    {
      double t0 = now ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
      times[r] = now () - t0;
    }
  g_free (a);
  g_free (b);
  g_free (c);
  return 2.0 * n * (double) n * n / pl_bench_median (times, reps) / 1e9;
}

typedef struct {
  double step_seconds;
  double gflops_actual;    /* what the engine computes / time */
  double gflops_3x_fwd;    /* 3 × forward conv FLOPs / time: the convention of the reference */
  double layer_fwd[PL_SPEC_MAX_LAYERS], layer_bwd[PL_SPEC_MAX_LAYERS];
  double loss_and_sgd;
} StepResult;

static StepResult
bench_steps (const PlNetSpec *spec, int B, int H, int W, int reps)
{
  g_autoptr (PlNet) net = pl_net_new (spec, 1);
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  int oh, ow;
  pl_net_spec_output_size (spec, H, W, &oh, &ow);
  gsize n_in = (gsize) B * 3 * H * W, cells = (gsize) B * oh * ow;
  g_autofree float *input = g_new (float, n_in);
  g_autofree guint8 *labels = g_new (guint8, cells);
  PlRng rng;
  pl_rng_init (&rng, 2);
  for (gsize i = 0; i < n_in; i++)
    input[i] = 2.0f * pl_rng_uniform (&rng) - 1.0f;
  for (gsize i = 0; i < cells; i++)
    labels[i] = (guint8) pl_rng_below (&rng, (guint32) spec->n_classes);
  PlSgdParams sgd = { 0.01f, 0.9f, 1e-4f };

  StepResult r = { 0 };
  double times[64], fwd[64][PL_SPEC_MAX_LAYERS], bwd[64][PL_SPEC_MAX_LAYERS], rest[64];
  for (int rep = -2; rep < reps; rep++)  /* two warm-up steps */
    {
      PlLossStats stats;
      double t0 = now ();
      pl_net_forward (net, ws, input, B, H, W);
      double t1 = now ();
      pl_net_loss (net, ws, labels, NULL, PL_LOSS_MEAN, &stats);
      pl_net_zero_grad (net);
      double t2 = now ();
      pl_net_backward (net, ws, NULL);
      double t3 = now ();
      pl_net_sgd_step (net, &sgd);
      double t4 = now ();
      if (rep < 0)
        continue;
      times[rep] = t4 - t0;
      rest[rep] = (t2 - t1) + (t4 - t3);
      for (int l = 0; l < spec->n_layers; l++)
        {
          fwd[rep][l] = ws->forward_seconds[l];
          bwd[rep][l] = ws->backward_seconds[l];
        }
    }
  /* Per-layer figures come from the median step, so they add up to it. */
  double sorted[64];
  memcpy (sorted, times, sizeof (double) * (gsize) reps);
  double med = pl_bench_median (sorted, reps);
  int at = 0;
  for (int rep = 0; rep < reps; rep++)
    if (times[rep] == med || (times[rep] >= med && times[at] < med))
      at = rep;
  r.step_seconds = med;
  for (int l = 0; l < spec->n_layers; l++)
    {
      r.layer_fwd[l] = fwd[at][l];
      r.layer_bwd[l] = bwd[at][l];
    }
  r.loss_and_sgd = rest[at];
  PlLayerFlops total;
  pl_net_spec_flops (spec, B, H, W, NULL, &total);
  r.gflops_actual = (total.forward + total.backward) / med / 1e9;
  r.gflops_3x_fwd = 3.0 * pl_net_spec_conv_forward_flops (spec, B, H, W) / med / 1e9;
  return r;
}

static void
print_layers (const PlNetSpec *spec, int B, int H, int W, const StepResult *r)
{
  PlLayerFlops per[PL_SPEC_MAX_LAYERS];
  pl_net_spec_flops (spec, B, H, W, per, NULL);
  printf ("    %-3s %-6s %9s %9s %8s %8s %7s\n", "#", "layer", "fwd ms", "bwd ms", "fwd GF/s",
          "bwd GF/s", "share");
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      g_autofree char *name = layer->kind == PL_LAYER_CONV
                                ? g_strdup_printf ("c%dx%d", layer->k, layer->n_out)
                                : g_strdup_printf ("p%d", layer->k);
      printf ("    %-3d %-6s %9.2f %9.2f %8.1f %8.1f %6.1f%%\n", l, name, 1e3 * r->layer_fwd[l],
              1e3 * r->layer_bwd[l], per[l].forward / MAX (r->layer_fwd[l], 1e-9) / 1e9,
              per[l].backward / MAX (r->layer_bwd[l], 1e-9) / 1e9,
              100.0 * (r->layer_fwd[l] + r->layer_bwd[l]) / r->step_seconds);
    }
  printf ("    loss + zero-grad + SGD: %.2f ms (%.1f%%)\n", 1e3 * r->loss_and_sgd,
          100.0 * r->loss_and_sgd / r->step_seconds);
}

int
main (int argc, char **argv)
{
  g_autoptr (PlNetSpec) spec = pl_bench_default_spec (argc, argv);

  printf ("PatchLab engine benchmark — %s, %d OpenBLAS thread(s)\n\n", spec->text,
          pl_engine_get_threads ());
  double gemm = sgemm_gflops (2048, 5);
  printf ("OpenBLAS sgemm 2048²: %.1f GFLOP/s\n\n", gemm);

  struct { int B, H, W, reps; } cases[] = { { 4, 128, 128, 21 }, { 1, 512, 512, 11 } };
  StepResult results[2];
  for (int c = 0; c < 2; c++)
    results[c] = bench_steps (spec, cases[c].B, cases[c].H, cases[c].W, cases[c].reps);
  double gemm_after = sgemm_gflops (2048, 5);

  for (int c = 0; c < 2; c++)
    {
      const StepResult *r = &results[c];
      printf ("step %d×%d×%d: %.1f ms; %.1f GFLOP/s computed, %.1f GFLOP/s as 3×forward "
              "(the PyTorch reference's convention)\n", cases[c].B, cases[c].H, cases[c].W,
              1e3 * r->step_seconds, r->gflops_actual, r->gflops_3x_fwd);
      print_layers (spec, cases[c].B, cases[c].H, cases[c].W, r);
      printf ("\n");
    }
  printf ("sgemm again after the steps: %.1f GFLOP/s (drift check)\n\n", gemm_after);
  double gemm_mean = 0.5 * (gemm + gemm_after);
  printf ("ratio engine/sgemm at 4×128²: %.2f\n", results[0].gflops_actual / gemm_mean);
  printf ("ratio engine/sgemm at 1×512²: %.2f   (target ≥ 0.50)\n",
          results[1].gflops_actual / gemm_mean);
  printf ("engine at 1×512², 3×forward convention: %.1f GFLOP/s   (PyTorch 1.13 CPU step "
          "measured here: about 79)\n", results[1].gflops_3x_fwd);
  return 0;
}
