/* test-trainer.c — the worker thread: knob changes from another thread, replay
 * from seed + edit log, every command from every state, snapshot delivery to a
 * main context, divergence, and the memory guard. */
#include "pl-test-util.h"

#include "pl-trainer.h"

#include <math.h>
#include <string.h>

static PlDataset *
small_dataset (void)
{
  g_autoptr (GError) error = NULL;
  PlDataset *ds = pl_dataset_new_builtin (3, 8, 4, 64, &error);
  g_assert_no_error (error);
  return ds;
}

static PlNetSpec *
small_spec (void)
{
  return pl_test_spec ("c3x8 c3x8 p2 c3x8 c3x8 p2 c3x8 c1x4", 3);
}

static void
base_knobs (PlKnobs *k)
{
  pl_knobs_init_default (k);
  k->patch = 32;
  k->batch = 4;
}

static PlTrainer *
new_trainer (const PlKnobs *knobs, PlTrainerOptions *options)
{
  g_autoptr (PlNetSpec) spec = small_spec ();
  g_autoptr (GError) error = NULL;
  options->threads = 1;
  PlTrainer *t = pl_trainer_new (small_dataset (), spec, knobs, options, &error);
  g_assert_no_error (error);
  return t;
}

/* Waits (politely) until the trainer's snapshot is in `state`. */
static PlSnapshot *
wait_for_state (PlTrainer *t, PlTrainerState state)
{
  for (int i = 0; i < 60000; i++)
    {
      PlSnapshot *s = pl_trainer_dup_snapshot (t);
      if (pl_snapshot_get_state (s) == state)
        return s;
      pl_snapshot_unref (s);
      g_usleep (1000);
    }
  g_error ("trainer never reached state %d", state);
  return NULL;
}

static GArray *
losses_of (const PlSnapshot *s)
{
  GArray *losses = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < pl_snapshot_get_history_length (s); i++)
    g_array_append_val (losses, pl_snapshot_get_metrics (s, i)->loss);
  return losses;
}

typedef struct {
  PlTrainer *trainer;
  GArray *sent;           /* PlKnobs sent, in order */
  volatile gint stop;
} Twiddler;

static gpointer
twiddle (gpointer data)
{
  Twiddler *tw = data;
  PlRng rng;
  pl_rng_init (&rng, 77);
  while (!g_atomic_int_get (&tw->stop))
    {
      PlKnobs k;
      base_knobs (&k);
      k.patch = pl_rng_below (&rng, 3) == 0 ? 0 : 24 + 4 * (int) pl_rng_below (&rng, 6);
      k.batch = 1 + (int) pl_rng_below (&rng, 6);
      k.sampling = 0.25 + 0.75 * pl_rng_uniform (&rng);
      k.fixed_terms = pl_rng_below (&rng, 2);
      k.lr = 0.01 + 0.04 * pl_rng_uniform (&rng);
      g_assert_true (pl_trainer_set_knobs (tw->trainer, &k, NULL));
      g_array_append_val (tw->sent, k);
      g_usleep (1000 + pl_rng_below (&rng, 3000));
    }
  return NULL;
}

static void
test_knob_changes_from_another_thread_and_replay (void)
{
  PlKnobs knobs;
  base_knobs (&knobs);
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.seed = 5;
  options.max_steps = 300;
  options.preview_interval = 0.01;
  PlTrainer *t = new_trainer (&knobs, &options);

  Twiddler tw = { t, g_array_new (FALSE, FALSE, sizeof (PlKnobs)), 0 };
  pl_trainer_start (t);
  GThread *thread = g_thread_new ("twiddler", twiddle, &tw);
  g_autoptr (PlSnapshot) done = wait_for_state (t, PL_TRAINER_STOPPED);
  g_atomic_int_set (&tw.stop, 1);
  g_thread_join (thread);

  g_assert_cmpint (pl_snapshot_get_step (done), ==, 300);
  g_assert_cmpuint (pl_snapshot_get_history_length (done), ==, 300);
  guint n_edits = pl_snapshot_get_n_edits (done);
  g_test_message ("%u knob sets sent, %u edits recorded over 300 steps", tw.sent->len, n_edits);
  g_assert_cmpuint (n_edits, >, 20);

  /* Edits are sent knobs, in the order sent, at increasing steps; and every step
   * ran with the knobs of the edit in force. */
  guint at = 0;
  for (guint e = 1; e < n_edits; e++)
    {
      const PlKnobEdit *edit = pl_snapshot_get_edit (done, e);
      g_assert_cmpint (edit->step, >, pl_snapshot_get_edit (done, e - 1)->step);
      while (at < tw.sent->len && !pl_knobs_equal (&g_array_index (tw.sent, PlKnobs, at),
                                                   &edit->knobs))
        at++;
      g_assert_cmpuint (at, <, tw.sent->len);
    }
  for (guint i = 0; i < 300; i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (done, i);
      const PlKnobs *in_force = NULL;
      for (guint e = 0; e < n_edits; e++)
        if (pl_snapshot_get_edit (done, e)->step <= m->step)
          in_force = &pl_snapshot_get_edit (done, e)->knobs;
      g_assert_cmpint (m->step, ==, (gint64) i + 1);
      g_assert_cmpint (m->patch_side, ==, in_force->patch);
      int expect = in_force->fixed_terms ? (int) lround (in_force->batch / in_force->sampling)
                                         : in_force->batch;
      g_assert_cmpint (m->n_crops, ==, MAX (expect, 1));
    }

  /* Replay: the same seed and the edit log as a schedule give the same losses. */
  g_autoptr (GArray) schedule = pl_snapshot_dup_schedule (done);
  PlTrainerOptions replay_options = options;
  replay_options.schedule = schedule;
  replay_options.preview_interval = -1;  /* previews never touch the run */
  PlTrainer *r = new_trainer (&knobs, &replay_options);
  pl_trainer_start (r);
  g_autoptr (PlSnapshot) replayed = wait_for_state (r, PL_TRAINER_STOPPED);
  g_autoptr (GArray) a = losses_of (done);
  g_autoptr (GArray) b = losses_of (replayed);
  g_assert_cmpuint (a->len, ==, b->len);
  g_assert_cmpmem (a->data, a->len * sizeof (double), b->data, b->len * sizeof (double));
  /* Edits sent after the last step (for step 301) never took effect. */
  guint effective = 0;
  for (guint e = 0; e < n_edits; e++)
    effective += pl_snapshot_get_edit (done, e)->step <= 300;
  g_assert_cmpuint (pl_snapshot_get_n_edits (replayed), ==, effective);

  pl_trainer_free (r);
  pl_trainer_free (t);
  g_array_unref (tw.sent);
}

static void
test_commands_from_every_state (void)
{
  PlKnobs knobs;
  base_knobs (&knobs);
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  PlTrainer *t = new_trainer (&knobs, &options);
  g_autoptr (PlSnapshot) s0 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_state (s0), ==, PL_TRAINER_READY);

  /* READY: pause does nothing; step takes one step and pauses. */
  pl_trainer_pause (t);
  pl_trainer_step (t);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s1 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_state (s1), ==, PL_TRAINER_PAUSED);
  g_assert_cmpint (pl_snapshot_get_step (s1), ==, 1);
  g_assert_cmpuint (pl_snapshot_get_n_crops (s1), ==, 4);

  /* PAUSED → RUNNING → PAUSED, and steps go on from where they were. */
  pl_trainer_start (t);
  g_usleep (20000);
  pl_trainer_pause (t);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s2 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_state (s2), ==, PL_TRAINER_PAUSED);
  gint64 steps = pl_snapshot_get_step (s2);
  g_assert_cmpint (steps, >, 1);
  g_assert_cmpuint (pl_snapshot_get_history_length (s2), ==, (guint) steps);

  /* RUNNING → step: one more, paused. */
  pl_trainer_start (t);
  pl_trainer_step (t);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s3 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_state (s3), ==, PL_TRAINER_PAUSED);

  /* STOPPED ignores start and step until a reset. */
  pl_trainer_stop (t);
  pl_trainer_start (t);
  pl_trainer_step (t);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s4 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_state (s4), ==, PL_TRAINER_STOPPED);
  g_assert_cmpint (pl_snapshot_get_step (s4), ==, pl_snapshot_get_step (s3));

  /* Reset from STOPPED gives a fresh run, and its first step repeats the first. */
  pl_trainer_reset (t);
  pl_trainer_step (t);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s5 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_step (s5), ==, 1);
  g_assert_cmpfloat (pl_snapshot_get_metrics (s5, 0)->loss, ==,
                     pl_snapshot_get_metrics (s1, 0)->loss);

  /* Reset while running, stop while running, and free while running. */
  pl_trainer_start (t);
  g_usleep (10000);
  pl_trainer_reset (t);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s6 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_state (s6), ==, PL_TRAINER_READY);
  g_assert_cmpint (pl_snapshot_get_step (s6), ==, 0);
  pl_trainer_start (t);
  g_usleep (10000);
  pl_trainer_stop (t);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s7 = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_state (s7), ==, PL_TRAINER_STOPPED);
  pl_trainer_reset (t);
  pl_trainer_start (t);
  g_usleep (10000);
  pl_trainer_free (t);  /* from RUNNING */

  /* And free straight after creation, and from PAUSED. */
  pl_trainer_free (new_trainer (&knobs, &options));
  PlTrainer *p = new_trainer (&knobs, &options);
  pl_trainer_step (p);
  pl_trainer_free (p);
}

typedef struct {
  int notifications;
  gint64 last_step;
  gboolean stopped;
} Consumer;

static void
on_snapshot (PlTrainer *trainer, gpointer data)
{
  Consumer *c = data;
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (trainer);
  g_assert_cmpint (pl_snapshot_get_step (s), >=, c->last_step);  /* never goes back */
  c->last_step = pl_snapshot_get_step (s);
  c->notifications++;
  c->stopped = pl_snapshot_get_state (s) == PL_TRAINER_STOPPED;
}

static void
test_snapshots_reach_a_main_context (void)
{
  GMainContext *context = g_main_context_new ();
  Consumer consumer = { 0 };
  PlKnobs knobs;
  base_knobs (&knobs);
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.max_steps = 150;
  options.context = context;
  options.notify = on_snapshot;
  options.notify_data = &consumer;
  options.publish_interval = 0.002;
  PlTrainer *t = new_trainer (&knobs, &options);
  pl_trainer_start (t);

  /* A consumer that is slow: it dispatches once every 5 ms. */
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!consumer.stopped && g_get_monotonic_time () < deadline)
    {
      g_usleep (5000);
      int pending = 0;
      while (g_main_context_iteration (context, FALSE))
        pending++;
      g_assert_cmpint (pending, <=, 1);  /* coalesced: never more than one waiting */
    }
  g_assert_true (consumer.stopped);
  g_assert_cmpint (consumer.last_step, ==, 150);
  g_test_message ("%d notifications for 150 steps", consumer.notifications);
  g_assert_cmpint (consumer.notifications, >, 2);

  /* A notification still pending when the trainer goes is cancelled. */
  pl_trainer_step (t);
  pl_trainer_reset (t);
  pl_trainer_sync (t);
  pl_trainer_free (t);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_unref (context);
}

static void
check_finite (PlNet *net, gpointer data)
{
  for (gsize i = 0; i < net->n_params; i++)
    *(gboolean *) data &= isfinite (net->params[i]);
}

static void
test_divergence_pauses_and_restores (void)
{
  PlKnobs knobs;
  base_knobs (&knobs);
  knobs.lr = 10.0;
  knobs.momentum = 0.99;
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.max_steps = 2000;
  PlTrainer *t = new_trainer (&knobs, &options);
  pl_trainer_start (t);
  g_autoptr (PlSnapshot) s = wait_for_state (t, PL_TRAINER_PAUSED);
  guint serial;
  const char *message = pl_snapshot_get_message (s, &serial);
  g_test_message ("%s", message);
  g_assert_nonnull (message);
  g_assert_nonnull (strstr (message, "diverged"));
  g_assert_cmpuint (serial, ==, 1);
  /* Every recorded loss is finite: the bad step was not kept. */
  for (guint i = 0; i < pl_snapshot_get_history_length (s); i++)
    g_assert_true (isfinite (pl_snapshot_get_metrics (s, i)->loss));

  /* The restored weights are finite. */
  gboolean finite = TRUE;
  pl_trainer_call (t, check_finite, &finite);
  g_assert_true (finite);
  pl_trainer_free (t);
}

static void
test_memory_guard (void)
{
  PlKnobs knobs;
  base_knobs (&knobs);
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.memory_budget = 8 << 20;
  PlTrainer *t = new_trainer (&knobs, &options);
  PlKnobs big = knobs;
  big.patch = 64;
  big.batch = 2000;
  g_autoptr (GError) error = NULL;
  g_assert_false (pl_trainer_set_knobs (t, &big, &error));
  g_assert_error (error, PL_TRAINER_ERROR, PL_TRAINER_ERROR_MEMORY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "2000 crops of 64×64 px would need"));
  g_assert_nonnull (strstr (error->message, "budget of 8.0"));  /* g_format_size: no-break space */
  g_assert_cmpuint (pl_trainer_estimate_memory (t, &big), >, 8 << 20);
  pl_trainer_sync (t);
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (t);
  g_assert_cmpint (pl_snapshot_get_knobs (s)->batch, ==, 4);  /* unchanged */
  pl_trainer_free (t);

  /* Creating a trainer with such knobs fails the same way (and frees the data). */
  g_autoptr (PlNetSpec) spec = small_spec ();
  g_autoptr (GError) error2 = NULL;
  g_assert_null (pl_trainer_new (small_dataset (), spec, &big, &options, &error2));
  g_assert_error (error2, PL_TRAINER_ERROR, PL_TRAINER_ERROR_MEMORY);
}

/* Two runs sharing a gate never step at the same time, and take turns. */
static void
test_gate_interleaves_runs (void)
{
  g_autoptr (PlStepGate) gate = pl_step_gate_new ();
  PlKnobs patches, whole;
  base_knobs (&patches);
  base_knobs (&whole);
  whole.patch = 0;
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.max_steps = 40;
  options.gate = gate;
  PlTrainer *a = new_trainer (&patches, &options), *b = new_trainer (&whole, &options);
  pl_trainer_start (a);
  pl_trainer_start (b);
  g_autoptr (PlSnapshot) sa = wait_for_state (a, PL_TRAINER_STOPPED);
  g_autoptr (PlSnapshot) sb = wait_for_state (b, PL_TRAINER_STOPPED);
  /* Steps as intervals [started, started + seconds): no two overlap. */
  for (guint i = 0; i < 40; i++)
    for (guint j = 0; j < 40; j++)
      {
        const PlStepMetrics *x = pl_snapshot_get_metrics (sa, i), *y = pl_snapshot_get_metrics (sb, j);
        gboolean apart = x->started + x->seconds <= y->started + 1e-6
                         || y->started + y->seconds <= x->started + 1e-6;
        if (!apart)
          g_error ("step %u of run A overlaps step %u of run B", i + 1, j + 1);
      }
  /* Both make progress while both run. (They need not move in lockstep: a run's
   * preview and snapshots happen outside its turn, and a run that is not waiting lets
   * the other go on.) */
  double both_from = MAX (pl_snapshot_get_metrics (sa, 0)->started,
                          pl_snapshot_get_metrics (sb, 0)->started);
  double both_until = MIN (pl_snapshot_get_metrics (sa, 39)->started,
                           pl_snapshot_get_metrics (sb, 39)->started);
  guint ahead = 0, compared = 0;
  for (guint i = 0; i < 40; i++)
    {
      double when = pl_snapshot_get_metrics (sa, i)->started;
      if (when < both_from || when > both_until)
        continue;
      compared++;
      guint a_done = 0, b_done = 0;
      for (guint j = 0; j < 40; j++)
        {
          a_done += pl_snapshot_get_metrics (sa, j)->started < when
                    && pl_snapshot_get_metrics (sa, j)->started >= both_from;
          b_done += pl_snapshot_get_metrics (sb, j)->started < when
                    && pl_snapshot_get_metrics (sb, j)->started >= both_from;
        }
      ahead = MAX (ahead, (guint) ABS ((int) a_done - (int) b_done));
    }
  guint b_steps = 0;
  for (guint j = 0; j < 40; j++)
    {
      double when = pl_snapshot_get_metrics (sb, j)->started;
      b_steps += when >= both_from && when <= both_until;
    }
  g_test_message ("while both ran: %u steps of run A, %u of run B, at most %u apart", compared,
                  b_steps, ahead);
  g_assert_cmpuint (compared, >=, 10);
  g_assert_cmpuint (b_steps, >=, 10);
  pl_trainer_free (a);
  pl_trainer_free (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trainer/knob-changes-and-replay", test_knob_changes_from_another_thread_and_replay);
  g_test_add_func ("/trainer/commands-from-every-state", test_commands_from_every_state);
  g_test_add_func ("/trainer/snapshots-reach-a-main-context", test_snapshots_reach_a_main_context);
  g_test_add_func ("/trainer/divergence", test_divergence_pauses_and_restores);
  g_test_add_func ("/trainer/memory-guard", test_memory_guard);
  g_test_add_func ("/trainer/gate-interleaves-runs", test_gate_interleaves_runs);
  return g_test_run ();
}
