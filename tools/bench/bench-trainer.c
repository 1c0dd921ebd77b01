/* bench-trainer.c — what the trainer costs beyond the net's own compute, and the
 * large-image case.
 *
 * 1. Default knobs on the built-in scenes: the share of wall time spent outside
 *    forward/backward/update (sampling, snapshots, previews, commands), measured as
 *    1 − Σ net_seconds / wall time of the whole run. Target: under 10%.
 * 2. Whole-image training on 980×980 scenes: step time, and the peak resident memory
 *    the run added, next to the engine's estimate. Target: within 20%.
 * A benchmark, not a test: it prints numbers and never fails on speed. */
#include "pl-engine.h"
#include "pl-proc-status.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>

static PlSnapshot *
run_to_end (PlTrainer *t, double *wall)
{
  double t0 = g_get_monotonic_time () * 1e-6;
  pl_trainer_start (t);
  for (;;)
    {
      PlSnapshot *s = pl_trainer_dup_snapshot (t);
      if (pl_snapshot_get_state (s) == PL_TRAINER_STOPPED
          || pl_snapshot_get_state (s) == PL_TRAINER_PAUSED)
        {
          *wall = g_get_monotonic_time () * 1e-6 - t0;
          return s;
        }
      pl_snapshot_unref (s);
      g_usleep (2000);
    }
}

static void
overhead (int threads)
{
  g_autoptr (GError) error = NULL;
  PlDataset *ds = pl_dataset_new_builtin (1, 64, 16, 0, &error);
  g_assert_no_error (error);
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, ds->n_classes, &error);
  PlKnobs knobs;
  pl_knobs_init_default (&knobs);
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.threads = threads;
  options.max_steps = 300;
  PlTrainer *t = pl_trainer_new (ds, spec, &knobs, &options, &error);
  g_assert_no_error (error);
  double wall;
  g_autoptr (PlSnapshot) s = run_to_end (t, &wall);
  double net = 0, side = 0, sampling = 0;
  for (guint i = 0; i < pl_snapshot_get_history_length (s); i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, i);
      net += m->net_seconds;
      side += m->side_seconds;
      sampling += m->seconds - m->net_seconds;
    }
  printf ("default knobs (whole 96×96 images, B = 4), 300 steps, %d thread(s): %.2f s wall\n",
          threads, wall);
  printf ("  net (forward, loss, backward, update): %.2f s\n", net);
  printf ("  sampling: %.3f s (%.1f%%), preview + validation: %.3f s (%.1f%%), other "
          "(snapshots, commands): %.3f s (%.1f%%)\n", sampling, 100 * sampling / wall, side,
          100 * side / wall, wall - net - sampling - side,
          100 * (wall - net - sampling - side) / wall);
  printf ("  trainer overhead beyond the net: %.1f%% of wall time   (target < 10%%)\n\n",
          100 * (1 - net / wall));
  pl_trainer_free (t);
}

static void
large_images (int threads, int batch)
{
  g_autoptr (GError) error = NULL;
  PlDataset *ds = pl_dataset_new_builtin (2, 4, 0, 980, &error);
  g_assert_no_error (error);
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, ds->n_classes, &error);
  PlKnobs knobs;
  pl_knobs_init_default (&knobs);
  knobs.patch = 0;
  knobs.batch = batch;
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.threads = threads;
  options.max_steps = 6;
  options.preview_interval = -1;
  gsize before = pl_proc_status_bytes ("VmRSS");
  PlTrainer *t = pl_trainer_new (ds, spec, &knobs, &options, &error);
  g_assert_no_error (error);
  gsize estimate = pl_trainer_estimate_memory (t, &knobs);
  double wall;
  g_autoptr (PlSnapshot) s = run_to_end (t, &wall);
  gsize peak = pl_proc_status_bytes ("VmHWM");
  double best = G_MAXDOUBLE;
  for (guint i = 1; i < pl_snapshot_get_history_length (s); i++)
    best = MIN (best, pl_snapshot_get_metrics (s, i)->seconds);
  g_autofree char *e = g_format_size_full (estimate, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *m = g_format_size_full (peak - before, G_FORMAT_SIZE_IEC_UNITS);
  printf ("whole 980×980 images, %d per step: %.2f s per step (best of 5 after the first)\n",
          batch, best);
  printf ("  peak resident memory added by the run: %s; engine estimate: %s; measured / "
          "estimate = %.2f   (target 0.8–1.2)\n", m, e, (double) (peak - before) / estimate);
  pl_trainer_free (t);
}

int
main (int argc, char **argv)
{
  int threads = argc > 1 ? atoi (argv[1]) : 1;
  overhead (threads);
  large_images (threads, 2);
  return 0;
}
