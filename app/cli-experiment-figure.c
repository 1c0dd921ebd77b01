/* cli-experiment-figure.c — the figure of an experiment: two panels side by side, loss
 * against step and loss against relative wall time, one colour per arm (the mean over
 * seeds as a line, each seed faint behind it). Drawn by pl_plot (Cairo + Pango, no GTK)
 * and written atomically as PNG or SVG. */
#include "cli.h"

#include "pl-experiment.h"
#include "pl-plot.h"

#include <math.h>

#define FIGURE_WIDTH 1280
#define FIGURE_HEIGHT 480

static const double palette[][3] = {
  { 0.12, 0.47, 0.71 },  /* blue */
  { 0.90, 0.45, 0.05 },  /* orange */
  { 0.17, 0.63, 0.17 },  /* green */
  { 0.84, 0.15, 0.16 },  /* red */
  { 0.58, 0.40, 0.74 },  /* purple */
};

/* Everything the two panels borrow, freed together. */
typedef struct {
  GPtrArray *curves;   /* PlCurve */
  GPtrArray *arrays;   /* double[]: relative times */
  GArray *by_step;     /* PlPlotSeries */
  GArray *by_time;     /* PlPlotSeries */
} Figure;

static void
figure_clear (Figure *f)
{
  g_ptr_array_unref (f->curves);
  g_ptr_array_unref (f->arrays);
  g_array_unref (f->by_step);
  g_array_unref (f->by_time);
}

/* One curve in both panels: against step, and against time ÷ slowest. */
static void
add_curve (Figure *f, PlCurve *c, const char *label, const double *rgb, gboolean mean,
           double slowest)
{
  g_ptr_array_add (f->curves, c);
  double *relative = g_new (double, MAX (c->n, 1));
  for (guint i = 0; i < c->n; i++)
    relative[i] = c->seconds[i] / slowest;
  g_ptr_array_add (f->arrays, relative);
  PlPlotSeries s = {
    .label = label,
    .rgba = { rgb[0], rgb[1], rgb[2], mean ? 1.0 : 0.25 },
    .x = c->step,
    .y = c->loss,
    .n = c->n,
    .line_width = mean ? 2.0 : 1.0,
  };
  g_array_append_val (f->by_step, s);
  s.x = relative;
  g_array_append_val (f->by_time, s);
}

gboolean
_pl_cli_experiment_figure (const PlExperiment *e, const char *path, GError **error)
{
  guint n_arms = pl_experiment_get_n_arms (e), n_seeds = pl_experiment_get_n_seeds (e);
  guint window = pl_experiment_smoothing (e);
  Figure f = {
    .curves = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_curve_free),
    .arrays = g_ptr_array_new_with_free_func (g_free),
    .by_step = g_array_new (FALSE, FALSE, sizeof (PlPlotSeries)),
    .by_time = g_array_new (FALSE, FALSE, sizeof (PlPlotSeries)),
  };

  /* Relative wall time: training time ÷ the slowest arm's total (mean over seeds). */
  double slowest = 0.0;
  for (guint arm = 0; arm < n_arms; arm++)
    {
      PlArmSummary s;
      pl_experiment_summarize_arm (e, arm, NAN, &s);
      slowest = MAX (slowest, s.total_seconds);
    }
  if (!(slowest > 0.0))
    slowest = 1.0;

  /* Faint seeds first, so that every mean line is drawn over all of them. */
  for (guint arm = 0; arm < n_arms && n_seeds > 1; arm++)
    for (guint k = 0; k < n_seeds; k++)
      add_curve (&f, pl_experiment_dup_curve (e, arm, (int) k, window), NULL,
                 palette[arm % G_N_ELEMENTS (palette)], FALSE, slowest);
  for (guint arm = 0; arm < n_arms; arm++)
    add_curve (&f, pl_experiment_dup_curve (e, arm, -1, window),
               pl_experiment_get_arm (e, arm)->label, palette[arm % G_N_ELEMENTS (palette)],
               TRUE, slowest);

  /* The loss every arm reaches (the table's "time to thr"), across the time panel. */
  double threshold = pl_experiment_threshold (e);
  static const double xs[2] = { 0.0, 1.0 };
  double ys[2] = { threshold, threshold };
  g_autofree char *threshold_label = g_strdup_printf ("loss %.3f, reached by every arm",
                                                      threshold);
  PlPlotSeries line = { threshold_label, { 0.3, 0.3, 0.3, 0.8 }, xs, ys, 2, TRUE, 1.0 };
  if (isfinite (threshold))
    g_array_append_val (f.by_time, line);

  g_autofree char *y_label =
    n_seeds > 1 ? g_strdup_printf ("loss: mean of %u seeds (faint: each), %u-step mean", n_seeds,
                                   window)
                : g_strdup_printf ("loss, %u-step mean", window);
  g_autofree char *title = g_strdup_printf ("%s: loss against step",
                                            pl_experiment_get_title (e));
  g_autofree char *x_label = g_strdup_printf ("training time ÷ the slowest arm's (%.1f s)",
                                              slowest);
  PlPlotData by_step = {
    .title = title,
    .x_label = "step",
    .y_label = y_label,
    .log_y = TRUE,
    .y_min = NAN,
    .y_max = NAN,
    .series = (const PlPlotSeries *) f.by_step->data,
    .n_series = f.by_step->len,
  };
  PlPlotData by_time = by_step;
  by_time.title = "The same runs against relative wall time";
  by_time.x_label = x_label;
  by_time.series = (const PlPlotSeries *) f.by_time->data;
  by_time.n_series = f.by_time->len;
  const PlPlotData *panels[] = { &by_step, &by_time };
  gboolean ok = pl_plot_export_panels (panels, 2, path, FIGURE_WIDTH, FIGURE_HEIGHT, error);
  figure_clear (&f);
  return ok;
}
