/* soak-trainer.c — the trainer under random commands for a long time (tools/soak).
 *
 * A commander thread sends what a restless user would: knob changes (some refused by the
 * memory budget, some with a learning rate that diverges), start, pause, single steps,
 * resets, stops, preview changes, weight checks through pl_trainer_call, syncs. After
 * each command it checks the newest snapshot; the main thread receives the trainer's
 * notifications in its own GMainContext and checks them too:
 *
 *   - the step count never goes back except across a reset;
 *   - the history has one entry per step, numbered 1…step, each loss NaN exactly when
 *     the step kept no loss term, and no step's loss or accuracy outside its range;
 *   - the edit log starts at step 1, its steps increase, and each entry's knobs are valid;
 *   - the weights are finite (a diverged step is rolled back, never kept).
 *
 * A watchdog fails the run when no command has completed for --watchdog seconds (a
 * deadlock or a stuck worker). Leaks are for the sanitizer build to find (LeakSanitizer
 * at exit); the resident memory at the start and the end is printed. Exit status 0 when
 * every check held. Not a benchmark. */
#include "pl-engine.h"
#include "pl-proc-status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  PlTrainer *trainer;
  double seconds;
  guint64 seed;
  gint resets_sent;        /* counted before a reset is sent … */
  gint resets_done;        /* … and once the worker has done it (the notification check) */
  gint progress;           /* commands completed; read by the watchdog */
  gint done;
  guint commands, refused;
  gint64 steps;            /* steps taken over all resets */
  gint64 last_step;        /* of the commander's last check */
  guint diverged;
  gsize rss_warm;          /* resident memory a tenth into the run, once buffers have grown */
} Soak;

static void G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN
fail (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  fprintf (stderr, "soak: FAILED: ");
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  abort ();
}

static void
check_snapshot (const PlSnapshot *s)
{
  gint64 step = pl_snapshot_get_step (s);
  guint n = pl_snapshot_get_history_length (s);
  if ((gint64) n != step)
    fail ("snapshot at step %" G_GINT64_FORMAT " has %u history entries", step, n);
  for (guint i = 0; i < n; i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, i);
      if (m->step != (gint64) i + 1)
        fail ("history entry %u is step %" G_GINT64_FORMAT, i, m->step);
      if (isnan (m->loss) != (m->terms == 0) || (!isnan (m->loss) && !(m->loss >= 0.0))
          || (m->terms > 0 && !(m->accuracy >= 0.0 && m->accuracy <= 1.0)))
        fail ("step %" G_GINT64_FORMAT ": loss %g, accuracy %g with %" G_GINT64_FORMAT
              " loss terms", m->step, m->loss, m->accuracy, m->terms);
    }
  guint n_edits = pl_snapshot_get_n_edits (s);
  if (n_edits == 0 || pl_snapshot_get_edit (s, 0)->step != 1)
    fail ("the edit log does not start at step 1");
  for (guint e = 0; e < n_edits; e++)
    {
      const PlKnobEdit *edit = pl_snapshot_get_edit (s, e);
      g_autoptr (GError) error = NULL;
      if (e > 0 && edit->step <= pl_snapshot_get_edit (s, e - 1)->step)
        fail ("edit %u at step %" G_GINT64_FORMAT " does not come after the one before", e,
              edit->step);
      if (!pl_knobs_validate (&edit->knobs, &error))
        fail ("edit %u holds invalid knobs: %s", e, error->message);
    }
}

static void
check_finite (PlNet *net, gpointer data)
{
  for (gsize i = 0; i < net->n_params; i++)
    if (!isfinite (net->params[i]) || !isfinite (net->velocity[i]))
      fail ("parameter %" G_GSIZE_FORMAT " is not finite", i);
}

static void
random_knobs (PlRng *rng, PlKnobs *k)
{
  pl_knobs_init_default (k);
  k->patch = pl_rng_below (rng, 3) == 0 ? 0 : 24 + 4 * (int) pl_rng_below (rng, 7);
  k->batch = 1 + (int) pl_rng_below (rng, pl_rng_below (rng, 10) == 0 ? 48 : 6);
  k->sampling = 0.05 + 0.95 * pl_rng_uniform (rng);
  k->fixed_terms = pl_rng_below (rng, 3) == 0;
  k->free_origin = pl_rng_below (rng, 4) == 0;
  k->lr = pl_rng_below (rng, 40) == 0 ? 10.0 : 0.001 + 0.03 * pl_rng_uniform (rng);
  k->momentum = 0.9 * pl_rng_uniform (rng);
  if (k->fixed_terms && ceil (k->batch / k->sampling) > PL_KNOBS_MAX_BATCH)
    k->fixed_terms = FALSE;
}

static void
reset (Soak *soak)
{
  g_atomic_int_inc (&soak->resets_sent);
  pl_trainer_reset (soak->trainer);
  pl_trainer_sync (soak->trainer);
  g_atomic_int_inc (&soak->resets_done);
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (soak->trainer);
  if (pl_snapshot_get_step (s) != 0 || pl_snapshot_get_state (s) != PL_TRAINER_READY)
    fail ("after a reset: step %" G_GINT64_FORMAT ", state %d", pl_snapshot_get_step (s),
          pl_snapshot_get_state (s));
  soak->last_step = 0;
}

/* Waits for the worker and checks what it published; counts the steps since the last look.
 * A stopped run is reset half the time, so that it does not idle for long. */
static void
observe (Soak *soak, PlRng *rng)
{
  PlTrainer *t = soak->trainer;
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (t);
  gint64 step = pl_snapshot_get_step (s);
  guint serial;
  check_snapshot (s);
  if (step < soak->last_step)
    fail ("the step went back from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
          " without a reset", soak->last_step, step);
  soak->steps += step - soak->last_step;
  soak->last_step = step;
  if (pl_snapshot_get_message (s, &serial) != NULL)
    soak->diverged = serial;
  if (pl_snapshot_get_state (s) == PL_TRAINER_STOPPED && pl_rng_below (rng, 2) == 0)
    {
      reset (soak);
      pl_trainer_start (t);
    }
}

static gpointer
command (gpointer data)
{
  Soak *soak = data;
  PlTrainer *t = soak->trainer;
  guint n_images = pl_trainer_get_dataset (t)->train->len;
  PlRng rng;
  gint64 start = g_get_monotonic_time ();
  gint64 end = start + (gint64) (soak->seconds * G_USEC_PER_SEC);

  pl_rng_init (&rng, soak->seed);
  pl_trainer_start (t);
  while (g_get_monotonic_time () < end)
    {
      guint what = pl_rng_below (&rng, 100);
      if (what < 40)
        {
          PlKnobs k;
          random_knobs (&rng, &k);
          if (!pl_trainer_set_knobs (t, &k, NULL))
            soak->refused++;
        }
      else if (what < 55)
        pl_trainer_start (t);
      else if (what < 63)
        pl_trainer_pause (t);
      else if (what < 75)
        pl_trainer_step (t);
      else if (what < 78)
        {
          observe (soak, &rng);
          reset (soak);
          pl_trainer_start (t);
        }
      else if (what < 80)
        pl_trainer_stop (t);
      else if (what < 85)
        pl_trainer_set_preview (t, (int) pl_rng_below (&rng, n_images));
      else if (what < 90)
        pl_trainer_call (t, check_finite, NULL);
      else
        pl_trainer_sync (t);
      soak->commands++;

      if (pl_rng_below (&rng, 4) == 0)
        observe (soak, &rng);
      if (soak->rss_warm == 0 && g_get_monotonic_time () - start > (end - start) / 10)
        soak->rss_warm = pl_proc_status_bytes ("VmRSS");
      g_atomic_int_inc (&soak->progress);
      g_usleep (pl_rng_below (&rng, 5000));
    }
  observe (soak, &rng);
  g_atomic_int_set (&soak->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

typedef struct {
  Soak *soak;
  gint64 last_step;
  gint resets_done;        /* done before the last notification's snapshot was taken */
  guint notifications;
} Consumer;

/* The step may go back only when a reset was sent that the last snapshot did not have:
 * resets done before that snapshot was taken are in it, and a reset is counted as sent
 * before the worker can do it. */
static void
on_snapshot (PlTrainer *trainer, gpointer data)
{
  Consumer *c = data;
  int done = g_atomic_int_get (&c->soak->resets_done);
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (trainer);
  int sent = g_atomic_int_get (&c->soak->resets_sent);
  gint64 step = pl_snapshot_get_step (s);
  if (step < c->last_step && sent <= c->resets_done)
    fail ("a notification went back from step %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
          " with no reset in between", c->last_step, step);
  check_snapshot (s);
  c->last_step = step;
  c->resets_done = done;
  c->notifications++;
}

typedef struct {
  Soak *soak;
  double limit;
} Watchdog;

static gpointer
watch (gpointer data)
{
  Watchdog *w = data;
  int last = -1;
  gint64 since = g_get_monotonic_time ();
  while (!g_atomic_int_get (&w->soak->done))
    {
      int now = g_atomic_int_get (&w->soak->progress);
      if (now != last)
        {
          last = now;
          since = g_get_monotonic_time ();
        }
      else if (g_get_monotonic_time () - since > (gint64) (w->limit * G_USEC_PER_SEC))
        fail ("no command completed for %.0f s after %d: a deadlock or a stuck worker",
              w->limit, now);
      g_usleep (100000);
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  double seconds = 600, watchdog = 30;
  gint64 seed = 1;
  int threads = 1;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "How long (default 600)", "S" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the commands and the run", "N" },
    { "watchdog", 0, 0, G_OPTION_ARG_DOUBLE, &watchdog,
      "Fail when no command completes for this long (default 30)", "S" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "BLAS threads (default 1)", "T" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— the trainer under random commands");
  g_autoptr (GError) error = NULL;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || seconds <= 0 || watchdog <= 0)
    {
      fprintf (stderr, "soak: %s\n", error ? error->message : "--seconds and --watchdog must be > 0");
      return 2;
    }

  PlDataset *dataset = pl_dataset_new_builtin ((guint64) seed, 12, 4, 64, &error);
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, dataset->n_classes,
                                                  &error);
  PlKnobs knobs;
  pl_knobs_init_default (&knobs);
  knobs.patch = 32;
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.seed = (guint64) seed;
  options.threads = threads;
  options.memory_budget = 16 << 20;   /* large batches of large crops are refused */
  options.preview_interval = 0.05;
  options.validate_every = 25;
  options.publish_interval = 0.01;
  options.context = g_main_context_default ();
  Soak soak = { .seconds = seconds, .seed = (guint64) seed };
  Consumer consumer = { &soak };
  options.notify = on_snapshot;
  options.notify_data = &consumer;
  soak.trainer = pl_trainer_new (dataset, spec, &knobs, &options, &error);
  if (soak.trainer == NULL)
    fail ("%s", error->message);

  Watchdog w = { &soak, watchdog };
  GThread *watcher = g_thread_new ("soak-watchdog", watch, &w);
  GThread *commander = g_thread_new ("soak-commands", command, &soak);
  while (!g_atomic_int_get (&soak.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (commander);
  g_thread_join (watcher);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  gsize rss_end = pl_proc_status_bytes ("VmRSS");
  pl_trainer_free (soak.trainer);

  printf ("soak: %.0f s, %u commands (%u knob sets refused by the budget, %d resets), %"
          G_GINT64_FORMAT " steps, %u notifications, %u divergence messages; resident "
          "memory %.1f MiB a tenth into the run, %.1f MiB at the end\n", seconds,
          soak.commands, soak.refused, soak.resets_sent, soak.steps, consumer.notifications,
          soak.diverged, soak.rss_warm / 1048576.0, rss_end / 1048576.0);
  return 0;
}
