/* plot-examples.c — writes the plots PatchLab draws, on realistic made-up curves, as PNG
 * (and one SVG) files into a folder, to look at them: loss against step with a gap and
 * knob-change markers, the same on a log axis, accuracy in [0, 1], empty data.
 *   build/tools/plot-examples /tmp/plot-examples */
#include <math.h>

#include "pl-plot.h"

#define N_STEPS 2000

typedef struct {
  double steps[N_STEPS];
  double train[N_STEPS], val[N_STEPS], acc[N_STEPS], val_acc[N_STEPS];
} Curves;

/* Noisy exponential decay with a bump after each knob change; a NaN gap (a pause of
 * the trainer) in [900, 960). */
static void
make_curves (Curves *c)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  for (int i = 0; i < N_STEPS; i++)
    {
      double t = i;
      double base = 0.08 + 2.2 * exp (-t / 350.0);
      double bump = (i >= 600 ? 0.25 * exp (-(t - 600) / 80.0) : 0)
                    + (i >= 1400 ? 0.15 * exp (-(t - 1400) / 60.0) : 0);
      double noise = g_rand_double_range (rand, -1, 1) * 0.12 * (base + 0.1);
      c->steps[i] = t;
      c->train[i] = base + bump + noise;
      c->val[i] = (i % 50 == 0) ? base * 1.15 + bump + 0.05 : NAN;
      c->acc[i] = CLAMP (1 - 0.85 * exp (-t / 300.0) - bump * 0.3
                         + g_rand_double_range (rand, -0.03, 0.03), 0, 1);
      c->val_acc[i] = (i % 50 == 0) ? c->acc[i] - 0.04 : NAN;
      if (i >= 900 && i < 960)
        c->train[i] = c->acc[i] = NAN;
    }
  /* Validation is only measured every 50 steps: keep those points, drop the NaNs so
   * the line joins them. */
}

/* Keeps the points of (x, y) where y is a number; returns how many. */
static gsize
compact (const double *x, const double *y, double *out_x, double *out_y, gsize n)
{
  gsize k = 0;
  for (gsize i = 0; i < n; i++)
    if (!isnan (y[i]))
      {
        out_x[k] = x[i];
        out_y[k] = y[i];
        k++;
      }
  return k;
}

static void
export (const PlPlotData *data, const char *dir, const char *name, int w, int h)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_strdup_printf ("%s-%dx%d.png", name, w, h);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  if (!pl_plot_export (data, path, w, h, &error))
    g_printerr ("%s\n", error->message);
  else
    g_print ("%s\n", path);
}

/* Odd inputs: one point, constant y, huge and tiny values, negative values, clipped
 * data, crowded markers, a long title, a tiny surface. */
static void
edge_cases (const char *dir)
{
  static double x[3000], y[3000], y2[3000];
  const double one_x = 5, one_y = 0.25;
  PlPlotSeries s = { "only point", { 0.8, 0.1, 0.1, 1 }, &one_x, &one_y, 1, FALSE, 0 };
  PlPlotData d = { .title = "One point", .y_min = NAN, .y_max = NAN, .series = &s,
                   .n_series = 1 };
  export (&d, dir, "edge-one-point", 400, 250);

  for (int i = 0; i < 3000; i++)
    {
      x[i] = i * 1e-3;                   /* wall time in seconds, tiny */
      y[i] = 7.5;                        /* constant */
      y2[i] = 3e9 * sin (i / 300.0) - 1e9;  /* huge, negative */
    }
  PlPlotSeries flat = { "constant", { 0.1, 0.5, 0.1, 1 }, x, y, 3000, FALSE, 0 };
  d = (PlPlotData) { .title = "Constant y, x in milliseconds", .x_label = "wall time (s)",
                     .y_min = NAN, .y_max = NAN, .series = &flat, .n_series = 1 };
  export (&d, dir, "edge-constant", 400, 250);

  PlPlotSeries big = { "throughput", { 0.2, 0.2, 0.7, 1 }, x, y2, 3000, FALSE, 0 };
  d = (PlPlotData) { .title = "Huge and negative", .y_label = "pixels/s",
                     .y_min = NAN, .y_max = NAN, .series = &big, .n_series = 1 };
  export (&d, dir, "edge-huge", 400, 250);

  d.y_min = -1e9;
  d.y_max = 1e9;
  d.title = "Clipped to an explicit range";
  export (&d, dir, "edge-clipped", 400, 250);

  PlPlotMarker crowd[12];
  char labels[12][32];
  for (int i = 0; i < 12; i++)
    {
      g_snprintf (labels[i], sizeof labels[i], "knob %d→%d", i, i + 1);
      crowd[i] = (PlPlotMarker) { 1.0 + i * 0.05, labels[i] };
    }
  for (int i = 0; i < 3000; i++)
    y[i] = 1e-4 * exp (-x[i]) + 2e-5;
  PlPlotSeries tiny = { "gradient norm with a rather long label", { 0.6, 0.3, 0.1, 1 }, x, y,
                        3000, FALSE, 0 };
  d = (PlPlotData) { .title = "A very long title that will not fit in a small plot, so it is "
                              "ellipsized at the end",
                     .x_label = "wall time (s)", .y_label = "norm",
                     .y_min = NAN, .y_max = NAN, .series = &tiny, .n_series = 1,
                     .markers = crowd, .n_markers = 12 };
  export (&d, dir, "edge-crowded", 400, 250);
  export (&d, dir, "edge-crowded", 1000, 600);
  export (&d, dir, "edge-tiny", 160, 100);
}

int
main (int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : "/tmp/plot-examples";
  static Curves c;
  static double vx[N_STEPS], vy[N_STEPS], ax[N_STEPS], ay[N_STEPS];

  g_mkdir_with_parents (dir, 0755);
  make_curves (&c);
  gsize nv = compact (c.steps, c.val, vx, vy, N_STEPS);
  gsize na = compact (c.steps, c.val_acc, ax, ay, N_STEPS);

  const PlPlotSeries loss[] = {
    { "train loss", { 0.12, 0.40, 0.75, 1 }, c.steps, c.train, N_STEPS, FALSE, 1.2 },
    { "validation loss", { 0.90, 0.45, 0.10, 1 }, vx, vy, nv, TRUE, 2 },
  };
  const PlPlotMarker markers[] = {
    { 600, "patch 24→whole" },
    { 1400, "batch 8→4" },
    { 1450, "keep 1.0→0.25" },
  };
  PlPlotData data = {
    .title = "Loss", .x_label = "step", .y_label = "cross-entropy",
    .y_min = NAN, .y_max = NAN,
    .series = loss, .n_series = G_N_ELEMENTS (loss),
    .markers = markers, .n_markers = G_N_ELEMENTS (markers),
  };
  export (&data, dir, "loss", 400, 250);
  export (&data, dir, "loss", 1000, 600);

  data.log_y = TRUE;
  data.title = "Loss (log scale)";
  export (&data, dir, "loss-log", 400, 250);
  export (&data, dir, "loss-log", 1000, 600);

  const PlPlotSeries acc[] = {
    { "train pixel accuracy", { 0.20, 0.60, 0.25, 1 }, c.steps, c.acc, N_STEPS, FALSE, 1 },
    { "validation", { 0.55, 0.25, 0.70, 1 }, ax, ay, na, FALSE, 2 },
  };
  PlPlotData acc_data = {
    .title = "Accuracy", .x_label = "step", .y_label = "accuracy",
    .y_min = 0, .y_max = 1,
    .series = acc, .n_series = G_N_ELEMENTS (acc),
    .markers = markers, .n_markers = G_N_ELEMENTS (markers),
  };
  export (&acc_data, dir, "accuracy", 400, 250);
  export (&acc_data, dir, "accuracy", 1000, 600);

  PlPlotData empty = {
    .title = "Validation mean IoU", .x_label = "wall time (s)", .y_label = "mIoU",
    .y_min = NAN, .y_max = NAN,
  };
  export (&empty, dir, "empty", 400, 250);

  edge_cases (dir);

  g_autoptr (GError) error = NULL;
  g_autofree char *svg = g_build_filename (dir, "loss-1000x600.svg", NULL);
  data.log_y = FALSE;
  data.title = "Loss";
  if (!pl_plot_export (&data, svg, 1000, 600, &error))
    g_printerr ("%s\n", error->message);
  else
    g_print ("%s\n", svg);
  return 0;
}
