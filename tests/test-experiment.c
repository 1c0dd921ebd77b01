/* test-experiment.c — the lesson's experiments. End to end through patchlab-cli, tiny:
 * both write every file with sane contents (the history's columns, steps 1…N in order,
 * finite losses; a summary row for every arm × seed; a PNG and an SVG of the figure's
 * size) and print a row per arm. Through the engine: the curves and summaries agree
 * with the runs' histories. */
#include "pl-test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define STEPS 12
#define SEEDS 2

static char **
read_lines (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  return g_strsplit (g_strchomp (text), "\n", -1);
}

/* One run's history: the header of pl_snapshot_write_csv, steps 1…STEPS, finite losses. */
static void
check_history (const char *path)
{
  g_auto (GStrv) lines = read_lines (path);
  g_assert_cmpuint (g_strv_length (lines), ==, STEPS + 1);
  g_assert_cmpstr (lines[0], ==, "step,loss,accuracy,val_accuracy,val_miou,seconds,net_seconds,"
                                 "elapsed,flops_forward,flops_backward,pixels_pushed,"
                                 "pixels_covered,redundancy,cells,terms,patch_side,crops,"
                                 "memory_bytes");
  double elapsed = 0.0;
  for (int i = 1; i <= STEPS; i++)
    {
      g_auto (GStrv) cells = g_strsplit (lines[i], ",", -1);
      g_assert_cmpuint (g_strv_length (cells), ==, 18);
      g_assert_cmpint (g_ascii_strtoll (cells[0], NULL, 10), ==, i);
      double loss = g_ascii_strtod (cells[1], NULL), t = g_ascii_strtod (cells[7], NULL);
      g_assert_true (isfinite (loss) && loss > 0.0);
      g_assert_cmpfloat (t, >=, elapsed);  /* training time only grows */
      elapsed = t;
      /* validated once, after the last step */
      g_assert_true (isfinite (g_ascii_strtod (cells[3], NULL)) == (i == STEPS));
    }
}

typedef struct {
  double final_loss, val_accuracy, step_seconds, flops, redundancy, terms;
} Row;

/* Runs one experiment tiny and checks its files; rows[arm] gets seed 1's summary row. */
static void
run_experiment (const char *name, const char *const *arms, guint n_arms, Row *rows)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("patchlab-experiment-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *out_dir = g_build_filename (dir, "out", "figures", NULL);  /* made by it */
  g_autofree char *out = NULL, *err = NULL;
  int status = pl_test_run_cli (&out, &err, "experiment", name, "--steps", G_STRINGIFY (STEPS),
                                "--seeds", G_STRINGIFY (SEEDS), "--seed", "3", "--train-images",
                                "4", "--val-images", "2", "--side", "48", "--threads", "1",
                                "--out", out_dir, "--quiet", NULL);
  g_test_message ("%s:\n%s%s", name, out, err);
  g_assert_cmpint (status, ==, 0);
  /* --quiet: no progress lines and no complaint (a sanitizer may add its own report) */
  g_assert_null (strstr (err, "patchlab-cli"));
  g_assert_null (strstr (err, "run 1/"));

  /* Per run: DIR/<name>-<arm>-seed<k>.csv, seeds 3 and 4. */
  for (guint a = 0; a < n_arms; a++)
    for (int k = 3; k < 3 + SEEDS; k++)
      {
        g_autofree char *file = g_strdup_printf ("%s-%s-seed%d.csv", name, arms[a], k);
        g_autofree char *path = g_build_filename (out_dir, file, NULL);
        check_history (path);
      }

  /* The summary: a row for every arm × seed, each once, with sane numbers. */
  g_autofree char *summary_name = g_strdup_printf ("%s-summary.csv", name);
  g_autofree char *summary = g_build_filename (out_dir, summary_name, NULL);
  g_auto (GStrv) lines = read_lines (summary);
  g_assert_cmpstr (lines[0], ==, "arm,seed,steps,final_loss,val_accuracy,val_miou,"
                                 "mean_step_seconds,total_seconds,flops_per_step,redundancy,"
                                 "terms_per_step");
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + n_arms * SEEDS);
  for (guint a = 0; a < n_arms; a++)
    for (int k = 3; k < 3 + SEEDS; k++)
      {
        g_autofree char *prefix = g_strdup_printf ("%s,%d,", arms[a], k);
        int found = 0;
        for (guint l = 1; lines[l] != NULL; l++)
          {
            if (!g_str_has_prefix (lines[l], prefix))
              continue;
            found++;
            g_auto (GStrv) c = g_strsplit (lines[l], ",", -1);
            g_assert_cmpuint (g_strv_length (c), ==, 11);
            Row r = { g_ascii_strtod (c[3], NULL), g_ascii_strtod (c[4], NULL),
                      g_ascii_strtod (c[6], NULL), g_ascii_strtod (c[8], NULL),
                      g_ascii_strtod (c[9], NULL), g_ascii_strtod (c[10], NULL) };
            g_assert_cmpint (g_ascii_strtoll (c[2], NULL, 10), ==, STEPS);
            g_assert_true (isfinite (r.final_loss) && r.final_loss > 0.0);
            g_assert_cmpfloat (r.val_accuracy, >=, 0.0);
            g_assert_cmpfloat (r.val_accuracy, <=, 1.0);
            g_assert_cmpfloat (r.step_seconds, >, 0.0);
            g_assert_cmpfloat (r.flops, >, 0.0);
            g_assert_cmpfloat (r.redundancy, >=, 1.0);
            g_assert_cmpfloat (r.terms, >, 0.0);
            if (k == 3)
              rows[a] = r;
          }
        g_assert_cmpint (found, ==, 1);
      }

  /* The table on stdout: a row per arm (their labels start like the ids' words). */
  g_assert_nonnull (strstr (out, "final loss ± sd"));
  g_assert_nonnull (strstr (out, "1.00×"));  /* the first arm against itself */

  /* The figure: a PNG of 1280×480 (IHDR), and an SVG whose root parses. */
  g_autofree char *png_name = g_strdup_printf ("%s.png", name);
  g_autofree char *png = g_build_filename (out_dir, png_name, NULL);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (png, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpmem (bytes + 12, 4, "IHDR", 4);
  const guint8 *ihdr = (const guint8 *) bytes + 16;
  g_assert_cmpuint (GUINT32_FROM_BE (*(const guint32 *) ihdr), ==, 1280);
  g_assert_cmpuint (GUINT32_FROM_BE (*(const guint32 *) (ihdr + 4)), ==, 480);
  g_clear_pointer (&bytes, g_free);
  g_autofree char *svg_name = g_strdup_printf ("%s.svg", name);
  g_autofree char *svg = g_build_filename (out_dir, svg_name, NULL);
  g_assert_true (g_file_get_contents (svg, &bytes, &len, NULL));
  g_assert_true (g_str_has_prefix (bytes, "<?xml"));
  g_assert_nonnull (strstr (bytes, "<svg"));
  const GMarkupParser parser = { NULL };
  g_autoptr (GMarkupParseContext) ctx = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  g_assert_true (g_markup_parse_context_parse (ctx, bytes, (gssize) len, &error));
  g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
  g_assert_no_error (error);

  /* Nothing else: no temporary files left behind. */
  g_autoptr (GDir) d = g_dir_open (out_dir, 0, NULL);
  guint entries = 0;
  for (const char *entry; (entry = g_dir_read_name (d)) != NULL; entries++)
    {
      g_autofree char *path = g_build_filename (out_dir, entry, NULL);
      g_assert_cmpint (g_remove (path), ==, 0);
    }
  g_assert_cmpuint (entries, ==, n_arms * SEEDS + 3);
  g_autofree char *parent = g_path_get_dirname (out_dir);
  g_assert_cmpint (g_rmdir (out_dir), ==, 0);
  g_assert_cmpint (g_rmdir (parent), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_fig5 (void)
{
  const char *arms[] = { "p1", "p0.5", "p0.25" };
  Row rows[3];
  run_experiment ("fig5", arms, 3, rows);
  /* Images of one size, 1/p of them per step: FLOPs ×2 and ×4 (to the CSV's 6 digits). */
  g_assert_cmpfloat (fabs (rows[1].flops / rows[0].flops - 2.0), <=, 1e-5);
  g_assert_cmpfloat (fabs (rows[2].flops / rows[0].flops - 4.0), <=, 1e-5);
}

static void
test_patch_vs_fcn (void)
{
  const char *arms[] = { "patchwise", "fcn" };
  Row rows[2];
  run_experiment ("patch-vs-fcn", arms, 2, rows);
  /* Patchwise: one loss term per crop, overlapping crops; whole images: every cell a
   * term, and an image covers itself once (redundancy 1 unless drawn twice in a step). */
  g_assert_cmpfloat (rows[0].terms, <=, 64.0);
  g_assert_cmpfloat (rows[1].terms, >, rows[0].terms);
  g_assert_cmpfloat (rows[0].redundancy, >, 1.0);
}

/* The engine's curves and summaries against the histories they come from. */
static void
test_curves_and_summaries (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) data = pl_dataset_new_builtin (5, 3, 2, 48, &error);
  g_assert_no_error (error);
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, data->n_classes, &error);
  g_autoptr (PlExperiment) e = pl_experiment_new ("patch-vs-fcn", spec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_experiment_get_n_arms (e), ==, 2);
  g_assert_cmpint (pl_experiment_get_arm (e, 0)->knobs.patch, ==, 24);  /* R */
  g_assert_null (pl_experiment_dup_curve (e, 0, -1, 1));                /* not run yet */
  g_assert_null (pl_experiment_new ("fig6", spec, &error));
  g_assert_error (error, PL_EXPERIMENT_ERROR, PL_EXPERIMENT_ERROR_NAME);
  g_clear_error (&error);

  PlExperimentOptions o;
  pl_experiment_options_init (&o);
  o.steps = 14;
  o.n_seeds = 2;
  o.first_seed = 7;
  o.threads = 1;
  g_assert_true (pl_experiment_run (e, data, &o, &error));
  g_assert_no_error (error);

  for (guint arm = 0; arm < 2; arm++)
    {
      g_autoptr (PlCurve) mean = pl_experiment_dup_curve (e, arm, -1, 1);
      g_autoptr (PlCurve) smooth = pl_experiment_dup_curve (e, arm, -1, 3);
      g_autoptr (PlCurve) a = pl_experiment_dup_curve (e, arm, 0, 1);
      g_autoptr (PlCurve) b = pl_experiment_dup_curve (e, arm, 1, 1);
      g_assert_cmpuint (mean->n, ==, 14);
      for (guint i = 0; i < 14; i++)
        {
          const PlStepMetrics *m = pl_snapshot_get_metrics (pl_experiment_get_run (e, arm, 0), i);
          g_assert_cmpfloat (a->loss[i], ==, m->loss);
          g_assert_cmpfloat (a->seconds[i], ==, m->elapsed);
          g_assert_cmpfloat (mean->step[i], ==, i + 1);
          g_assert_cmpfloat (fabs (mean->loss[i] - 0.5 * (a->loss[i] + b->loss[i])), <=, 1e-12);
          g_assert_cmpfloat (fabs (mean->seconds[i] - 0.5 * (a->seconds[i] + b->seconds[i])), <=,
                             1e-12);
          /* trailing mean over 3 steps, fewer before step 12: ⌈step / 4⌉ */
          guint w = MIN (3, (i + 4) / 4), from = i + 1 - w;
          double sum = 0.0;
          for (guint j = from; j <= i; j++)
            sum += mean->loss[j];
          g_assert_cmpfloat (fabs (smooth->loss[i] - sum / (i - from + 1)), <=, 1e-12);
        }
      PlRunSummary r;
      pl_run_summary_compute (pl_experiment_get_run (e, arm, 0), &r);
      g_assert_cmpfloat (r.final_loss, ==, a->loss[13]);  /* the last 10% of 14 steps */
      g_assert_cmpfloat (fabs (r.step_seconds * 14 - a->seconds[13]), <=, 1e-12);
      g_assert_true (isfinite (r.val_accuracy));
    }

  /* Every arm reaches the threshold; the first arm's speedup is 1. */
  double threshold = pl_experiment_threshold (e);
  for (guint arm = 0; arm < 2; arm++)
    {
      PlArmSummary s;
      pl_experiment_summarize_arm (e, arm, threshold, &s);
      g_assert_cmpfloat (s.final_loss * 1.05, <=, threshold * (1 + 1e-12));
      g_assert_true (isfinite (s.time_to_threshold));
      if (arm == 0)
        g_assert_cmpfloat (s.speedup, ==, 1.0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/experiment/fig5", test_fig5);
  g_test_add_func ("/experiment/patch-vs-fcn", test_patch_vs_fcn);
  g_test_add_func ("/experiment/curves-and-summaries", test_curves_and_summaries);
  return g_test_run ();
}
