/* cli-train.c — `patchlab-cli train`: a run of the trainer without a window. */
#include "cli.h"

#include "pl-checkpoint.h"
#include "pl-engine.h"
#include "pl-evaluate.h"
#include "pl-trainer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Where and what a checkpoint saves, and how often during the run. */
typedef struct {
  const char *path;        /* NULL: no checkpoint */
  char **class_names;
  const char *description;
  guint64 seed;
  gint64 every;            /* steps between saves during the run; 0: only at the end */
  gint64 next;             /* the step after which the next periodic save is due */
} Saving;

typedef struct {
  GMainLoop *loop;
  gint64 steps;
  gboolean tty;
  gboolean quiet;
  double last_print;
  guint message_serial;
  Saving *saving;
} Progress;

static gboolean save_checkpoint (PlTrainer *trainer, Saving *saving);

/* A save during the run: pause at a step boundary so the snapshot's step and knobs are
 * the saved weights', save, go on. serial is the message serial seen so far. */
static void
save_periodically (PlTrainer *trainer, Saving *saving, gint64 step, guint serial)
{
  if (saving->path == NULL || saving->every <= 0 || step < saving->next)
    return;
  pl_trainer_pause (trainer);
  pl_trainer_sync (trainer);
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (trainer);
  guint now_serial = 0;
  pl_snapshot_get_message (s, &now_serial);
  /* Stopped at its last step (the final save follows), or paused by a divergence in the
   * meantime (the run ends as it would have): not ours to resume. */
  if (pl_snapshot_get_state (s) != PL_TRAINER_PAUSED || now_serial != serial)
    return;
  if (!save_checkpoint (trainer, saving))
    saving->every = 0;  /* said once; the final save tries again */
  saving->next = pl_snapshot_get_step (s) + saving->every;
  pl_trainer_start (trainer);
  pl_trainer_sync (trainer);  /* so that no later notification sees our pause as the end */
}

static void
print_progress (PlTrainer *trainer, gpointer data)
{
  Progress *p = data;
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (trainer);
  guint n = pl_snapshot_get_history_length (s), serial;
  const char *message = pl_snapshot_get_message (s, &serial);
  if (message != NULL && serial != p->message_serial)
    {
      fprintf (stderr, "%s%s\n", p->tty ? "\n" : "", message);
      p->message_serial = serial;
    }
  PlTrainerState state = pl_snapshot_get_state (s);
  double now = g_get_monotonic_time () * 1e-6;
  gboolean done = state == PL_TRAINER_STOPPED || state == PL_TRAINER_PAUSED;
  if (!p->quiet && n > 0 && (done || now - p->last_print >= (p->tty ? 0.2 : 5.0)))
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, n - 1);
      double val = NAN;
      for (guint i = n; i-- > 0 && isnan (val);)
        val = pl_snapshot_get_metrics (s, i)->val_accuracy;
      char val_text[32] = "—";
      if (!isnan (val))
        g_snprintf (val_text, sizeof val_text, "%.3f", val);
      fprintf (stderr, "%sstep %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT "  loss %.4f  acc %.3f"
               "  val acc %s  %.1f steps/s  redundancy %.2f×%s",
               p->tty ? "\r" : "", m->step, p->steps, m->loss, m->accuracy, val_text,
               m->elapsed > 0 ? m->step / m->elapsed : 0.0,
               (double) m->pixels_pushed / (double) MAX (m->pixels_covered, 1),
               p->tty ? "   " : "\n");
      p->last_print = now;
    }
  if (done)
    {
      if (p->tty && !p->quiet)
        fputc ('\n', stderr);
      g_main_loop_quit (p->loop);
    }
  else if (state == PL_TRAINER_RUNNING && n > 0)
    save_periodically (trainer, p->saving, pl_snapshot_get_metrics (s, n - 1)->step,
                       p->message_serial);
}

typedef struct {
  const char *path;
  PlCheckpointMeta *meta;
  gboolean ok;
  GError *error;
} SaveJob;

static void
save_on_worker (PlNet *net, gpointer data)
{
  SaveJob *job = data;
  job->ok = pl_checkpoint_save (job->path, net, job->meta, TRUE, &job->error);
}

/* Saves the trainer's weights with the newest snapshot's step and knobs: call it while
 * the run is paused or stopped, so the two agree. */
static gboolean
save_checkpoint (PlTrainer *trainer, Saving *saving)
{
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (trainer);
  const PlKnobs *k = pl_snapshot_get_knobs (s);
  g_autofree char *history = pl_snapshot_dup_edit_log (s);
  PlCheckpointMeta meta = {
    .class_names = saving->class_names,
    .dataset = (char *) saving->description,
    .step = pl_snapshot_get_step (s),
    .seed = saving->seed,
    .patch_size = k->patch,
    .batch_size = k->batch,
    .sampling = k->sampling,
    .lr = k->lr,
    .momentum = k->momentum,
    .weight_decay = k->weight_decay,
    .history = history,
  };
  SaveJob job = { saving->path, &meta, FALSE, NULL };
  pl_trainer_call (trainer, save_on_worker, &job);
  if (!job.ok)
    {
      _pl_cli_fail ("train", 1, "%s", job.error->message);
      g_clear_error (&job.error);
    }
  return job.ok;
}

int
_pl_cli_train (int argc, char **argv)
{
  g_autofree char *spec_text = NULL, *data = NULL, *csv = NULL, *save = NULL, *schedule_text = NULL;
  PlKnobs knobs;
  pl_knobs_init_default (&knobs);
  gint64 steps = 200, seed = 1, save_every = 0;
  int threads = 0, n_train = 64, n_val = 16, side = 0, validate_every = 50;
  gboolean fixed_terms = FALSE, free_origin = FALSE, skip_bad = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data,
      "builtin (default), fashion-mnist, or a folder with images/ and masks/", "SOURCE" },
    { "spec", 0, 0, G_OPTION_ARG_STRING, &spec_text, "Net spec (default: " PL_DEFAULT_SPEC ")",
      "SPEC" },
    { "steps", 'n', 0, G_OPTION_ARG_INT64, &steps, "Training steps (default 200)", "N" },
    { "patch", 'p', 0, G_OPTION_ARG_INT, &knobs.patch,
      "Crop side N; 0 = whole images (default 0)", "N" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &knobs.batch, "Crops or images per step (default 4)",
      "B" },
    { "sampling", 0, 0, G_OPTION_ARG_DOUBLE, &knobs.sampling,
      "Share of output cells kept in the loss, (0, 1] (default 1)", "P" },
    { "fixed-terms", 0, 0, G_OPTION_ARG_NONE, &fixed_terms,
      "Draw B/p crops or images per step (the paper's Figure 5)", NULL },
    { "free-origin", 0, 0, G_OPTION_ARG_NONE, &free_origin,
      "Crop origins off the J grid", NULL },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &knobs.lr, "Learning rate (default 0.01)", "LR" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &knobs.momentum, "Momentum (default 0.9)", "M" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &knobs.weight_decay,
      "L2 weight decay (default 1e-4)", "WD" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule_text,
      "Knob changes at steps, e.g. 200:patch=64,400:sampling=0.25", "SCHEDULE" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of weights, data and sampling", "S" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "BLAS threads (default: cores − 1)", "T" },
    { "train-images", 0, 0, G_OPTION_ARG_INT, &n_train,
      "Generated train scenes (builtin, fashion-mnist; default 64)", "N" },
    { "val-images", 0, 0, G_OPTION_ARG_INT, &n_val, "Generated val scenes (default 16)", "N" },
    { "side", 0, 0, G_OPTION_ARG_INT, &side, "Side of generated scenes (default 96)", "PX" },
    { "skip-bad", 0, 0, G_OPTION_ARG_NONE, &skip_bad, "Skip bad pairs in a folder", NULL },
    { "validate-every", 0, 0, G_OPTION_ARG_INT, &validate_every,
      "Steps between validations; 0 never (default 50)", "N" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write the per-step history as CSV", "FILE" },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save, "Save a .safetensors checkpoint", "FILE" },
    { "save-every", 0, 0, G_OPTION_ARG_INT64, &save_every,
      "With --save, also save during the run every N steps (default: only at the end)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress line", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— train a net without a window");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _pl_cli_fail ("train", 2, "%s", error->message);
  if (argc > 1)
    return _pl_cli_fail ("train", 2, "unexpected argument '%s'", argv[1]);
  knobs.fixed_terms = fixed_terms;
  knobs.free_origin = free_origin;
  if (steps < 1 || steps > G_GINT64_CONSTANT (100000000))
    return _pl_cli_fail ("train", 2, "--steps must be between 1 and 100000000");
  if (!pl_knobs_validate (&knobs, &error))
    return _pl_cli_fail ("train", 2, "%s", error->message);
  if (save_every < 0 || (save_every > 0 && save == NULL))
    return _pl_cli_fail ("train", 2, "--save-every needs --save FILE and a step count >= 1");
  g_autoptr (GArray) schedule = NULL;
  if (schedule_text != NULL
      && ((schedule = pl_schedule_parse (schedule_text, &error)) == NULL
          || !pl_schedule_validate (schedule, &knobs, &error)))
    return _pl_cli_fail ("train", 2, "%s", error->message);

  PlDataset *dataset = _pl_cli_load_dataset (data, (guint64) seed, n_train, n_val, side,
                                             skip_bad, &error);
  if (dataset == NULL)
    return _pl_cli_fail ("train", 1, "%s", error->message);
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (spec_text ? spec_text : PL_DEFAULT_SPEC, 3,
                                                  dataset->n_classes, &error);
  if (spec == NULL)
    {
      pl_dataset_free (dataset);
      return _pl_cli_fail ("train", 2, "%s", error->message);
    }
  g_autofree char *description = g_strdup (dataset->description);
  g_auto (GStrv) class_names = g_strdupv (dataset->class_names);
  double baseline = pl_evaluate_majority_baseline (spec, dataset->val);

  GMainContext *main_context = g_main_context_default ();
  Saving saving = { save, class_names, description, (guint64) seed, save_every, save_every };
  Progress progress = { g_main_loop_new (main_context, FALSE), steps, isatty (2), quiet };
  progress.saving = &saving;
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.seed = (guint64) seed;
  options.threads = threads;
  options.max_steps = steps;
  options.schedule = schedule;
  options.validate_every = validate_every;
  options.preview_interval = -1;
  options.publish_interval = 0.1;
  options.context = main_context;
  options.notify = print_progress;
  options.notify_data = &progress;
  PlTrainer *trainer = pl_trainer_new (dataset, spec, &knobs, &options, &error);
  if (trainer == NULL)
    {
      g_main_loop_unref (progress.loop);
      return _pl_cli_fail ("train", 1, "%s", error->message);
    }
  if (!quiet)
    fprintf (stderr, "training %s on %s\n", spec->text, description);
  pl_trainer_start (trainer);
  g_main_loop_run (progress.loop);
  g_main_loop_unref (progress.loop);

  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (trainer);
  int status = pl_snapshot_get_state (s) == PL_TRAINER_STOPPED ? 0 : 1;
  guint n = pl_snapshot_get_history_length (s);
  if (n > 0)
    {
      const PlStepMetrics *last = pl_snapshot_get_metrics (s, n - 1);
      double val_acc = NAN, val_iou = NAN;
      for (guint i = n; i-- > 0 && isnan (val_acc);)
        {
          val_acc = pl_snapshot_get_metrics (s, i)->val_accuracy;
          val_iou = pl_snapshot_get_metrics (s, i)->val_miou;
        }
      printf ("steps %" G_GINT64_FORMAT "  final loss %.4f  train acc %.3f  val acc %.3f  "
              "val mIoU %.3f  majority baseline %.3f  %.1f s\n", last->step, last->loss,
              last->accuracy, val_acc, val_iou, baseline, last->elapsed);
    }
  if (csv != NULL && !pl_snapshot_write_csv (s, csv, &error))
    {
      status = 1;
      _pl_cli_fail ("train", 1, "%s", error->message);
      g_clear_error (&error);
    }
  if (save != NULL && !save_checkpoint (trainer, &saving))
    status = 1;
  pl_trainer_free (trainer);
  return status;
}
