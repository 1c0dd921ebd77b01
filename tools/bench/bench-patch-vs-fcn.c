/* bench-patch-vs-fcn.c — what sharing the computation of overlapping receptive fields
 * is worth in practice. For the default net and built-in scenes of 96, 256 and 512 px,
 * one training step (forward, loss, backward) that covers every output cell of an image
 * is timed (a) as the whole image and (b) as all its R×R patches on the J grid, put
 * through the net in chunks of PL_EQUIVALENCE_CHUNK; next to it, the FLOP ratio of the
 * two (patches ÷ whole). If the engine turned FLOPs into time equally well at both
 * shapes, the measured speedup would equal the FLOP ratio: the last column is their
 * quotient (target ≥ 0.8 at 256 and 512 px).
 *
 * Both sides come from pl_equivalence_check (the window's "Check equivalence" and the
 * tests call it too), so what is timed is also checked: its gradient difference is
 * printed. Times exclude copying pixels into the net's input on both sides. Medians of
 * several calls after a warm-up, interleaved (see bench_side), one thread count for
 * everything. A benchmark, not a test: it prints numbers and never fails on speed. */
#include "pl-engine.h"

#include "bench-util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  int side, cells, reps, whole_per_rep;
  double whole, patches;   /* median seconds */
  double speedup;          /* median over calls of patches ÷ whole */
  double flops_whole, flop_ratio;
  double rel_diff;         /* max |g_whole − g_patches| ÷ max |g_whole| */
} Result;

static PlEquivalence
check (PlNet *net, PlWorkspace *ws, const PlSample *sample, const guint8 *keep)
{
  g_autoptr (GError) error = NULL;
  PlEquivalence e;
  if (!pl_equivalence_check (net, ws, sample, keep, 0, 0, &e, &error))
    g_error ("%s", error->message);
  return e;
}

/* This machine is shared and its speed drifts, so the two sides are timed over about the
 * same span, interleaved: each call's patch pass sits between whole-image passes as many
 * as the FLOP ratio (half before, half after; checks restricted to one cell, so that
 * their patch side is negligible), and the speedup is taken call by call. */
static Result
bench_side (const PlNetSpec *spec, int side, int reps)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) data = pl_dataset_new_builtin (7, 1, 0, side, &error);
  g_assert_no_error (error);
  const PlSample *sample = data->train->pdata[0];
  g_autoptr (PlNet) net = pl_net_new (spec, 1);
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  int oh, ow;
  pl_net_spec_output_size (spec, side, side, &oh, &ow);
  g_autofree guint8 *one_cell = g_new0 (guint8, (gsize) oh * ow);
  one_cell[(oh / 2) * ow + ow / 2] = 1;

  PlEquivalence e = check (net, ws, sample, NULL);  /* warm-up */
  Result r = { .side = side, .reps = reps, .cells = e.n_cells, .flops_whole = e.flops_whole,
               .flop_ratio = e.flops_patches / e.flops_whole };
  r.whole_per_rep = (int) ceil (r.flop_ratio);
  double whole[32], patches[32], speedup[32];
  for (int rep = 0; rep < reps; rep++)
    {
      double sum = 0.0;
      for (int w = 0; w < r.whole_per_rep / 2; w++)
        sum += check (net, ws, sample, one_cell).seconds_whole;
      e = check (net, ws, sample, NULL);
      sum += e.seconds_whole;
      for (int w = r.whole_per_rep / 2; w < r.whole_per_rep; w++)
        sum += check (net, ws, sample, one_cell).seconds_whole;
      whole[rep] = sum / (r.whole_per_rep + 1);
      patches[rep] = e.seconds_patches;
      speedup[rep] = patches[rep] / whole[rep];
      r.rel_diff = MAX (r.rel_diff, e.max_abs_diff / e.max_abs_grad);
    }
  r.whole = pl_bench_median (whole, reps);
  r.patches = pl_bench_median (patches, reps);
  r.speedup = pl_bench_median (speedup, reps);
  return r;
}

int
main (int argc, char **argv)
{
  g_autoptr (PlNetSpec) spec = pl_bench_default_spec (argc, argv);
  PlReceptiveField rf = pl_receptive_field (spec);

  printf ("PatchLab patch-vs-fcn benchmark — %s (R = %d, J = %d), %d OpenBLAS thread(s)\n"
          "one step (forward, loss, backward) covering every output cell of one image;\n"
          "patches in chunks of %d; medians of 9, 7 and 5 calls after a warm-up, each call's\n"
          "patch pass between as many whole-image passes as the FLOP ratio\n\n",
          spec->text, rf.R, rf.J, pl_engine_get_threads (), PL_EQUIVALENCE_CHUNK);
  printf ("%5s %6s %9s %11s %9s %10s %10s %8s %14s %10s\n", "side", "cells", "whole ms",
          "patches ms", "whole GF/s", "patch GF/s", "FLOP ratio", "speedup", "speedup/FLOPs",
          "grad diff");
  const struct { int side, reps; } cases[] = { { 96, 9 }, { 256, 7 }, { 512, 5 } };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      Result r = bench_side (spec, cases[c].side, cases[c].reps);
      printf ("%5d %6d %9.1f %11.1f %9.1f %10.1f %10.2f %8.2f %14.2f %10.2g%s\n", r.side,
              r.cells, 1e3 * r.whole, 1e3 * r.patches, r.flops_whole / r.whole / 1e9,
              r.flops_whole * r.flop_ratio / r.patches / 1e9, r.flop_ratio, r.speedup,
              r.speedup / r.flop_ratio, r.rel_diff, r.side >= 256 ? "  (target ≥ 0.80)" : "");
      fflush (stdout);
    }
  printf ("\nspeedup = patch time ÷ whole-image time (median of the calls' ratios);\n"
          "FLOP ratio = patch FLOPs ÷ whole-image FLOPs; speedup/FLOPs > 1: the whole image\n"
          "also runs faster per FLOP (GF/s columns);\n"
          "grad diff = max |g_whole − g_patches| ÷ max |g_whole| (float rounding only)\n");
  return 0;
}
