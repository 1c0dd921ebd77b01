/* cli-experiment.c — `patchlab-cli experiment fig5|patch-vs-fcn`: the lesson's
 * experiments headless, several seeds each, one run at a time; CSV files, a figure
 * (PNG and SVG, drawn in cli-experiment-figure.c) and a summary table on stdout. */
#include "cli.h"

#include "pl-engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
  gboolean tty, quiet;
  double last_print;
  guint runs_done, n_runs;
} Progress;

static void
print_progress (const PlExperiment *e, guint arm, guint seed, const PlSnapshot *s,
                gpointer data)
{
  Progress *p = data;
  PlTrainerState state = pl_snapshot_get_state (s);
  double now = g_get_monotonic_time () * 1e-6;
  gboolean done = state == PL_TRAINER_STOPPED;
  guint n = pl_snapshot_get_history_length (s);
  if (!p->quiet && n > 0 && (done || now - p->last_print >= (p->tty ? 0.2 : 5.0)))
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, n - 1);
      fprintf (stderr, "%srun %u/%u  %s, seed %" G_GUINT64_FORMAT "  step %" G_GINT64_FORMAT
               "  loss %.4f  %.1f steps/s%s", p->tty ? "\r" : "", p->runs_done + 1, p->n_runs,
               pl_experiment_get_arm (e, arm)->label, pl_experiment_get_seed (e, seed), m->step,
               m->loss, m->elapsed > 0 ? m->step / m->elapsed : 0.0,
               p->tty && !done ? "   " : "\n");
      p->last_print = now;
    }
  if (done)
    p->runs_done++;
}

/* "12.3 s" or "—" for a time never reached. */
static char *
format_seconds (double seconds)
{
  return isfinite (seconds) ? g_strdup_printf ("%.1f s", seconds) : g_strdup ("—");
}

static void
print_table (const PlExperiment *e, const PlExperimentOptions *o, int threads)
{
  double threshold = pl_experiment_threshold (e);
  guint n_arms = pl_experiment_get_n_arms (e);
  printf ("%s — %s\n", pl_experiment_get_name (e), pl_experiment_get_title (e));
  printf ("%u seed(s) × %" G_GINT64_FORMAT " steps per arm, one run at a time (each has the "
          "machine to itself), %d OpenBLAS thread(s)\n", o->n_seeds, o->steps, threads);
  printf ("final loss: mean of the last 10%% of steps; loss threshold %.4f: the highest final "
          "loss + 5%%,\nreached on the mean curve smoothed over %u steps; speedup: time to the "
          "threshold, first arm ÷ this arm\n\n", threshold, pl_experiment_smoothing (e));
  printf ("%-40s %-17s %7s %8s %9s %11s %8s\n", "arm", "final loss ± sd", "val acc", "val mIoU",
          "s/step", "time to thr", "speedup");
  for (guint arm = 0; arm < n_arms; arm++)
    {
      PlArmSummary s;
      pl_experiment_summarize_arm (e, arm, threshold, &s);
      g_autofree char *loss = g_strdup_printf ("%.4f ± %.4f", s.final_loss, s.final_loss_sd);
      g_autofree char *time = format_seconds (s.time_to_threshold);
      g_autofree char *speedup = isfinite (s.speedup) ? g_strdup_printf ("%.2f×", s.speedup)
                                                      : g_strdup ("—");
      printf ("%-40s %-17s %7.3f %8.3f %9.4f %11s %8s\n", pl_experiment_get_arm (e, arm)->label,
              loss, s.val_accuracy, s.val_miou, s.step_seconds, time, speedup);
    }
}

int
_pl_cli_experiment (int argc, char **argv)
{
  g_autofree char *spec_text = NULL, *data = NULL, *out = NULL;
  PlExperimentOptions options;
  pl_experiment_options_init (&options);
  gint64 seed = (gint64) options.first_seed;
  int n_seeds = (int) options.n_seeds, threads = 0, n_train = 64, n_val = 16, side = 0;
  gboolean skip_bad = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "seeds", 0, 0, G_OPTION_ARG_INT, &n_seeds, "Runs per arm, one per seed (default 3)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed,
      "First seed (default 1); the data are made from it", "S" },
    { "steps", 'n', 0, G_OPTION_ARG_INT64, &options.steps, "Steps per run (default 400)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "Folder for the CSV files and the figure (default: the current one)", "DIR" },
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data,
      "builtin (default), fashion-mnist, or a folder with images/ and masks/", "SOURCE" },
    { "spec", 0, 0, G_OPTION_ARG_STRING, &spec_text, "Net spec (default: " PL_DEFAULT_SPEC ")",
      "SPEC" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
      "BLAS threads (default: every core; runs go one at a time)", "T" },
    { "train-images", 0, 0, G_OPTION_ARG_INT, &n_train,
      "Generated train scenes (builtin, fashion-mnist; default 64)", "N" },
    { "val-images", 0, 0, G_OPTION_ARG_INT, &n_val, "Generated val scenes (default 16)", "N" },
    { "side", 0, 0, G_OPTION_ARG_INT, &side, "Side of generated scenes (default 96)", "PX" },
    { "skip-bad", 0, 0, G_OPTION_ARG_NONE, &skip_bad, "Skip bad pairs in a folder", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("fig5|patch-vs-fcn — the lesson's "
                                                             "experiments, several seeds each");
  g_option_context_set_description (context,
    "fig5: whole images with loss sampling p = 1, 0.5, 0.25 and 1/p times the images per\n"
    "step (the FCN paper's Figure 5). patch-vs-fcn: patchwise training (R×R crops) against\n"
    "fully convolutional training (whole images). Runs of one seed share initial weights and\n"
    "the sequence of images. Writes DIR/<experiment>-<arm>-seed<k>.csv,\n"
    "DIR/<experiment>-summary.csv, DIR/<experiment>.png and .svg; prints a summary table.");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return _pl_cli_fail ("experiment", 2, "%s", error->message);
  if (argc < 2)
    return _pl_cli_fail ("experiment", 2, "which experiment? fig5 or patch-vs-fcn");
  if (argc > 2)
    return _pl_cli_fail ("experiment", 2, "unexpected argument '%s'", argv[2]);
  if (!pl_experiment_check_name (argv[1], &error))
    return _pl_cli_fail ("experiment", 2, "%s", error->message);
  if (options.steps < 1 || options.steps > G_GINT64_CONSTANT (1000000))
    return _pl_cli_fail ("experiment", 2, "--steps must be between 1 and 1000000");
  if (n_seeds < 1 || n_seeds > 100)
    return _pl_cli_fail ("experiment", 2, "--seeds must be between 1 and 100");
  if (threads < 0)
    return _pl_cli_fail ("experiment", 2, "--threads must not be negative");
  options.n_seeds = (guint) n_seeds;
  options.first_seed = (guint64) seed;
  options.threads = threads > 0 ? threads : (int) g_get_num_processors ();
  const char *dir = out != NULL ? out : ".";
  if (g_mkdir_with_parents (dir, 0777) != 0)
    return _pl_cli_fail ("experiment", 1, "cannot create the folder “%s”: %s", dir,
                         g_strerror (errno));

  g_autoptr (PlDataset) dataset = _pl_cli_load_dataset (data, (guint64) seed, n_train, n_val,
                                                        side, skip_bad, &error);
  if (dataset == NULL)
    return _pl_cli_fail ("experiment", 1, "%s", error->message);
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (spec_text ? spec_text : PL_DEFAULT_SPEC, 3,
                                                  dataset->n_classes, &error);
  if (spec == NULL)
    return _pl_cli_fail ("experiment", 2, "%s", error->message);
  g_autoptr (PlExperiment) e = pl_experiment_new (argv[1], spec, &error);
  if (e == NULL)
    return _pl_cli_fail ("experiment", 2, "%s", error->message);

  Progress progress = { .tty = isatty (2), .quiet = quiet,
                        .n_runs = pl_experiment_get_n_arms (e) * options.n_seeds };
  options.progress = print_progress;
  options.progress_data = &progress;
  if (!quiet)
    fprintf (stderr, "%s: %s on %s\n", argv[1], spec->text, dataset->description);
  if (!pl_experiment_run (e, dataset, &options, &error))
    return _pl_cli_fail ("experiment", 1, "%s", error->message);

  print_table (e, &options, options.threads);
  if (!pl_experiment_write_csv (e, dir, &error))
    return _pl_cli_fail ("experiment", 1, "%s", error->message);
  static const char *const formats[] = { "png", "svg" };
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.%s", argv[1], formats[i]);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (!_pl_cli_experiment_figure (e, path, &error))
        return _pl_cli_fail ("experiment", 1, "%s", error->message);
    }
  if (!quiet)
    fprintf (stderr, "wrote %s/%s-*.csv, %s.png and %s.svg\n", dir, argv[1], argv[1], argv[1]);
  return 0;
}
