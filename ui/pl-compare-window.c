/* pl-compare-window.c — runs compared side by side.
 *
 * Every run trains on its own worker thread, but all share one PlStepGate: they take
 * turns, one step each, so a step always has the whole machine and a run's clock counts
 * only its own steps (see pl-step-gate.h). Same seed: same initial weights and the same
 * sequence of images. Refreshes are coalesced to at most five a second.
 */
#include "pl-compare-window.h"

#include "pl-ema.h"
#include "pl-engine.h"
#include "pl-plot-view.h"

#include <math.h>

#define MAX_RUNS 3
#define RECENT 20          /* steps averaged in the cost table */
#define REFRESH_MS 200

typedef struct {
  PlCompareWindow *owner;
  PlTrainer *trainer;
  PlSnapshot *snapshot;
  PlKnobs knobs;
  char *name;
  double rgba[4];
  GtkWidget *column;
  GtkLabel *status;
  GtkCheckButton *whole, *fixed_terms;
  GtkSpinButton *patch, *batch, *sampling, *lr;
} Run;

struct _PlCompareWindow {
  GtkWindow parent_instance;

  /* template widgets */
  GtkDropDown *preset_dropdown;
  GtkButton *start_button;
  GtkBox *columns;
  GtkDropDown *axis_dropdown;
  GtkSpinButton *target_spin;
  PlPlotView *loss_plot;
  GtkGrid *cost_grid;
  GtkLabel *break_even_label;

  /* owned */
  Run runs[MAX_RUNS];
  int n_runs;
  PlStepGate *gate;
  guint refresh_source;
  gboolean running;
  gboolean syncing;
};

G_DEFINE_FINAL_TYPE (PlCompareWindow, pl_compare_window, GTK_TYPE_WINDOW)

static const double colours[MAX_RUNS][4] = {
  { 0.85, 0.37, 0.0, 1 }, { 0.0, 0.45, 0.70, 1 }, { 0.35, 0.6, 0.2, 1 },
};

/* ---- one run's knobs ---- */

static void
sync_run_widgets (Run *run)
{
  run->owner->syncing = TRUE;
  gtk_check_button_set_active (run->whole, run->knobs.patch == 0);
  gtk_widget_set_sensitive (GTK_WIDGET (run->patch), run->knobs.patch != 0);
  if (run->knobs.patch > 0)
    gtk_spin_button_set_value (run->patch, run->knobs.patch);
  gtk_spin_button_set_value (run->batch, run->knobs.batch);
  gtk_spin_button_set_value (run->sampling, run->knobs.sampling);
  gtk_check_button_set_active (run->fixed_terms, run->knobs.fixed_terms);
  gtk_spin_button_set_value (run->lr, run->knobs.lr);
  run->owner->syncing = FALSE;
}

static void
on_run_knob_changed (Run *run)
{
  if (run->owner->syncing)
    return;
  PlKnobs k = run->knobs;
  PlReceptiveField rf = pl_receptive_field (pl_trainer_get_spec (run->trainer));
  k.patch = gtk_check_button_get_active (run->whole)
              ? 0 : pl_receptive_field_snap (rf, gtk_spin_button_get_value_as_int (run->patch));
  k.batch = gtk_spin_button_get_value_as_int (run->batch);
  k.sampling = gtk_spin_button_get_value (run->sampling);
  k.fixed_terms = gtk_check_button_get_active (run->fixed_terms);
  k.lr = gtk_spin_button_get_value (run->lr);
  g_autoptr (GError) error = NULL;
  if (pl_knobs_equal (&k, &run->knobs))
    return;
  if (!pl_trainer_set_knobs (run->trainer, &k, &error))
    gtk_label_set_text (run->status, error->message);
  else
    run->knobs = k;
  sync_run_widgets (run);
}

static GtkSpinButton *
spin (GtkGrid *grid, int row, const char *label, double lo, double hi, double step, int digits,
      Run *run)
{
  GtkWidget *name = gtk_label_new (label);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  GtkWidget *button = gtk_spin_button_new_with_range (lo, hi, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (button), (guint) digits);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  g_signal_connect_swapped (button, "value-changed", G_CALLBACK (on_run_knob_changed), run);
  gtk_grid_attach (grid, name, 0, row, 1, 1);
  gtk_grid_attach (grid, button, 1, row, 1, 1);
  return GTK_SPIN_BUTTON (button);
}

static GtkCheckButton *
check (GtkGrid *grid, int row, const char *label, Run *run)
{
  GtkWidget *button = gtk_check_button_new_with_label (label);
  g_signal_connect_swapped (button, "toggled", G_CALLBACK (on_run_knob_changed), run);
  gtk_grid_attach (grid, button, 0, row, 2, 1);
  return GTK_CHECK_BUTTON (button);
}

static void
build_column (Run *run)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  g_autofree char *markup = g_strdup_printf ("<span foreground=\"#%02x%02x%02x\">■</span> <b>%s</b>",
                                             (int) (run->rgba[0] * 255), (int) (run->rgba[1] * 255),
                                             (int) (run->rgba[2] * 255), run->name);
  GtkWidget *title = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (title), markup);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_box_append (GTK_BOX (box), title);
  GtkGrid *grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_column_spacing (grid, 8);
  gtk_grid_set_row_spacing (grid, 2);
  run->whole = check (grid, 0, "Whole images", run);
  run->patch = spin (grid, 1, "Patch size N", 24, 1024, 4, 0, run);
  run->batch = spin (grid, 2, "Batch size B", 1, 512, 1, 0, run);
  run->sampling = spin (grid, 3, "Sampling ratio p", 0.05, 1, 0.05, 2, run);
  run->fixed_terms = check (grid, 4, "Scale batch by 1/p", run);
  run->lr = spin (grid, 5, "Learning rate", 0.0001, 1, 0.001, 4, run);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (grid));
  run->status = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (run->status, 0);
  gtk_label_set_wrap (run->status, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (run->status), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (run->status));
  run->column = box;
  gtk_box_append (run->owner->columns, box);
  sync_run_widgets (run);
}

/* ---- refresh ---- */

typedef struct {
  double seconds, terms, cells, flops, redundancy;
  double rate;             /* steps per second of the run's own time */
  double time_to_target;   /* training time until the smoothed loss reached the target */
} Cost;

static gboolean
recent_cost (const PlSnapshot *s, double target, Cost *c)
{
  guint n = pl_snapshot_get_history_length (s);
  if (n == 0)
    return FALSE;
  *c = (Cost) { 0 };
  guint from = n > RECENT ? n - RECENT : 0;
  for (guint i = from; i < n; i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, i);
      c->seconds += m->seconds;
      c->terms += (double) m->terms;
      c->cells += (double) m->cells;
      c->flops += m->flops_forward + m->flops_backward;
      c->redundancy += (double) m->pixels_pushed / (double) MAX (m->pixels_covered, 1);
    }
  double k = n - from;
  c->seconds /= k;
  c->terms /= k;
  c->cells /= k;
  c->flops /= k;
  c->redundancy /= k;
  c->rate = c->seconds > 0 ? 1.0 / c->seconds : 0;
  c->time_to_target = NAN;
  PlEma ema = { 0.95 };
  for (guint i = 0; i < n; i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, i);
      if (pl_ema_add (&ema, m->loss) <= target && i >= 10)
        {
          c->time_to_target = m->elapsed;
          break;
        }
    }
  return TRUE;
}

static void
set_cell (GtkGrid *grid, int column, int row, const char *text)
{
  GtkWidget *label = gtk_grid_get_child_at (grid, column, row);
  if (label == NULL)
    {
      label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (label), column == 0 ? 0 : 1);
      gtk_grid_attach (grid, label, column, row, 1, 1);
    }
  gtk_label_set_text (GTK_LABEL (label), text);
}

static void
update_table (PlCompareWindow *self)
{
  static const char *const headers[] = { "Run", "Steps", "GFLOP/step", "Redundancy",
                                         "Loss terms/step", "ms/step", "µs per loss term",
                                         "Time to target loss" };
  for (int c = 0; c < (int) G_N_ELEMENTS (headers); c++)
    set_cell (self->cost_grid, c, 0, headers[c]);
  double target = gtk_spin_button_get_value (self->target_spin);
  for (int r = 0; r < self->n_runs; r++)
    {
      Run *run = &self->runs[r];
      Cost c;
      char text[8][64] = { { 0 } };
      g_strlcpy (text[0], run->name, sizeof text[0]);
      if (run->snapshot != NULL && recent_cost (run->snapshot, target, &c))
        {
          g_snprintf (text[1], 64, "%" G_GINT64_FORMAT, pl_snapshot_get_step (run->snapshot));
          g_snprintf (text[2], 64, "%.2f", c.flops / 1e9);
          g_snprintf (text[3], 64, "%.2f×", c.redundancy);
          g_snprintf (text[4], 64, "%.0f", c.terms);
          g_snprintf (text[5], 64, "%.1f", 1e3 * c.seconds);
          g_snprintf (text[6], 64, "%.1f", c.terms > 0 ? 1e6 * c.seconds / c.terms : NAN);
          if (isnan (c.time_to_target))
            g_strlcpy (text[7], "not yet", 64);
          else
            g_snprintf (text[7], 64, "%.1f s", c.time_to_target);
        }
      for (int col = 0; col < 8; col++)
        set_cell (self->cost_grid, col, r + 1, text[col]);
    }
}

/* p*: the sampling ratio below which a sampled whole-image step pays more per loss term
 * than patchwise training. A whole-image step costs the same whatever p (every cell is
 * computed; p only drops loss terms), so its cost per term is t_cell / p; patchwise
 * training pays t_patch per term. Equal at p* = t_cell / t_patch. */
static void
update_break_even (PlCompareWindow *self)
{
  Cost patch = { 0 }, whole = { 0 };
  gboolean have_patch = FALSE, have_whole = FALSE;
  double target = gtk_spin_button_get_value (self->target_spin);
  for (int r = 0; r < self->n_runs; r++)
    {
      Run *run = &self->runs[r];
      if (run->snapshot == NULL || pl_snapshot_get_history_length (run->snapshot) < 5)
        continue;
      if (run->knobs.patch > 0 && !have_patch)
        have_patch = recent_cost (run->snapshot, target, &patch);
      else if (run->knobs.patch == 0 && !have_whole)
        have_whole = recent_cost (run->snapshot, target, &whole);
    }
  if (!have_patch || !have_whole || patch.terms <= 0 || whole.cells <= 0)
    {
      gtk_label_set_text (self->break_even_label,
                          have_whole && !have_patch
                            ? "Loss sampling keeps a whole-image step's cost: every output cell "
                              "is still computed, only fewer of them count in the loss. Compare "
                              "against a patchwise run to see the break-even ratio p*."
                            : "Train a patchwise run and a whole-image run for a few steps to "
                              "see the break-even sampling ratio p*.");
      return;
    }
  double per_term = patch.seconds / patch.terms, per_cell = whole.seconds / whole.cells;
  double p_star = per_cell / per_term;
  g_autofree char *text = g_strdup_printf (
    "Break-even sampling ratio p* ≈ %.3f: below it, sampled whole-image training pays more per "
    "loss term than patchwise training. Measured: patchwise %.1f µs per loss term; whole images "
    "%.2f µs per output cell (%.0f cells per step in %.1f ms), at any p.", p_star,
    1e6 * per_term, 1e6 * per_cell, whole.cells, 1e3 * whole.seconds);
  gtk_label_set_text (self->break_even_label, text);
}

static void
update_plot (PlCompareWindow *self)
{
  guint axis = gtk_drop_down_get_selected (self->axis_dropdown);
  PlPlotSeries series[MAX_RUNS];
  double *buffers[2 * MAX_RUNS] = { NULL };
  for (int r = 0; r < self->n_runs; r++)
    {
      Run *run = &self->runs[r];
      guint n = run->snapshot ? pl_snapshot_get_history_length (run->snapshot) : 0;
      double *x = buffers[2 * r] = g_new (double, MAX (n, 1));
      double *y = buffers[2 * r + 1] = g_new (double, MAX (n, 1));
      PlEma ema = { 0.95 };
      double pixels = 0;
      for (guint i = 0; i < n; i++)
        {
          const PlStepMetrics *m = pl_snapshot_get_metrics (run->snapshot, i);
          pixels += (double) m->pixels_pushed;
          x[i] = axis == 0 ? (double) m->step : axis == 1 ? m->elapsed : pixels / 1e6;
          y[i] = pl_ema_add (&ema, m->loss);
        }
      series[r] = (PlPlotSeries) { run->name, { run->rgba[0], run->rgba[1], run->rgba[2], 1 },
                                   x, y, n, FALSE, 2.0 };
    }
  static const char *const x_labels[] = { "step", "training time (s, each run's own)",
                                          "input pixels pushed through the net (millions)" };
  PlPlotData data = { "Loss (smoothed)", x_labels[axis], "cross-entropy", FALSE, NAN, NAN,
                      series, (guint) self->n_runs, NULL, 0 };
  pl_plot_view_set_data (self->loss_plot, &data);
  for (int i = 0; i < 2 * MAX_RUNS; i++)
    g_free (buffers[i]);
}

static gboolean
refresh (gpointer data)
{
  PlCompareWindow *self = data;
  self->refresh_source = 0;
  gboolean any_running = FALSE;
  for (int r = 0; r < self->n_runs; r++)
    {
      Run *run = &self->runs[r];
      g_clear_pointer (&run->snapshot, pl_snapshot_unref);
      run->snapshot = pl_trainer_dup_snapshot (run->trainer);
      PlTrainerState state = pl_snapshot_get_state (run->snapshot);
      any_running |= state == PL_TRAINER_RUNNING;
      static const char *const states[] = { "ready", "running", "paused", "stopped" };
      guint n = pl_snapshot_get_history_length (run->snapshot);
      g_autofree char *text = n == 0 ? g_strdup_printf ("%s", states[state])
        : g_strdup_printf ("%s · step %u · loss %.3f · %.1f s of training", states[state], n,
                           pl_snapshot_get_metrics (run->snapshot, n - 1)->loss,
                           pl_snapshot_get_metrics (run->snapshot, n - 1)->elapsed);
      gtk_label_set_text (run->status, text);
    }
  self->running = any_running;
  gtk_button_set_label (self->start_button, any_running ? "Pause All" : "Start All");
  update_plot (self);
  update_table (self);
  update_break_even (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_refresh (PlCompareWindow *self)
{
  if (self->refresh_source == 0)
    self->refresh_source = g_timeout_add (REFRESH_MS, refresh, self);
}

static void
on_run_notify (PlTrainer *trainer, gpointer data)
{
  schedule_refresh (data);
}

/* ---- runs ---- */

static void
clear_runs (PlCompareWindow *self)
{
  for (int r = 0; r < self->n_runs; r++)
    {
      Run *run = &self->runs[r];
      g_clear_pointer (&run->trainer, pl_trainer_free);
      g_clear_pointer (&run->snapshot, pl_snapshot_unref);
      g_clear_pointer (&run->name, g_free);
      if (run->column != NULL)
        gtk_box_remove (self->columns, run->column);
      run->column = NULL;
    }
  self->n_runs = 0;
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->cost_grid))) != NULL)
    gtk_grid_remove (self->cost_grid, child);
}

static void
add_run (PlCompareWindow *self, const char *name, const PlKnobs *knobs)
{
  g_autoptr (GError) error = NULL;
  PlDataset *ds = pl_dataset_new_builtin (1, 24, 16, 0, &error);
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, ds->n_classes, &error);
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.seed = 1;                /* same weights, same image order */
  options.preview_interval = -1;   /* no previews: the runs' time is their steps' */
  options.validate_every = 0;
  options.gate = self->gate;
  options.context = g_main_context_default ();
  options.notify = on_run_notify;
  options.notify_data = self;
  Run *run = &self->runs[self->n_runs];
  run->owner = self;
  run->knobs = *knobs;
  run->name = g_strdup (name);
  memcpy (run->rgba, colours[self->n_runs], sizeof run->rgba);
  run->trainer = pl_trainer_new (ds, spec, knobs, &options, &error);
  if (run->trainer == NULL)
    g_error ("compare: %s", error->message);  /* fixed presets on built-in data: a bug */
  self->n_runs++;
  build_column (run);
}

void
pl_compare_window_set_comparison (PlCompareWindow *self, PlComparison comparison)
{
  clear_runs (self);
  PlKnobs k;
  pl_knobs_init_default (&k);
  if (comparison == PL_COMPARE_PATCH_VS_FCN)
    {
      k.patch = 24;
      k.batch = 64;
      add_run (self, "Patchwise (N = R = 24, 64 crops)", &k);
      k.patch = 0;
      k.batch = 4;
      add_run (self, "Fully convolutional (4 whole images)", &k);
    }
  else
    {
      const double ps[3] = { 1.0, 0.5, 0.25 };
      k.patch = 0;
      k.batch = 2;
      k.fixed_terms = TRUE;
      for (int i = 0; i < 3; i++)
        {
          k.sampling = ps[i];
          g_autofree char *name = g_strdup_printf ("p = %.2g (%d images per step)", ps[i],
                                                   (int) lround (2 / ps[i]));
          add_run (self, name, &k);
        }
    }
  self->syncing = TRUE;
  gtk_drop_down_set_selected (self->preset_dropdown, comparison);
  self->syncing = FALSE;
  refresh (self);
}

static void
on_preset_selected (PlCompareWindow *self)
{
  if (!self->syncing)
    pl_compare_window_set_comparison (self, gtk_drop_down_get_selected (self->preset_dropdown));
}

static void
action_toggle (GtkWidget *widget, const char *name, GVariant *param)
{
  PlCompareWindow *self = PL_COMPARE_WINDOW (widget);
  for (int r = 0; r < self->n_runs; r++)
    {
      if (self->running)
        pl_trainer_pause (self->runs[r].trainer);
      else
        pl_trainer_start (self->runs[r].trainer);
    }
  self->running = !self->running;
  gtk_button_set_label (self->start_button, self->running ? "Pause All" : "Start All");
}

static void
action_reset (GtkWidget *widget, const char *name, GVariant *param)
{
  PlCompareWindow *self = PL_COMPARE_WINDOW (widget);
  for (int r = 0; r < self->n_runs; r++)
    pl_trainer_reset (self->runs[r].trainer);
  self->running = FALSE;
  schedule_refresh (self);
}

PlTrainer *
pl_compare_window_get_trainer (PlCompareWindow *self, int i)
{
  return i >= 0 && i < self->n_runs ? self->runs[i].trainer : NULL;
}

static void
pl_compare_window_dispose (GObject *object)
{
  PlCompareWindow *self = PL_COMPARE_WINDOW (object);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  for (int r = 0; r < self->n_runs; r++)
    {
      g_clear_pointer (&self->runs[r].trainer, pl_trainer_free);
      g_clear_pointer (&self->runs[r].snapshot, pl_snapshot_unref);
      g_clear_pointer (&self->runs[r].name, g_free);
    }
  self->n_runs = 0;
  g_clear_pointer (&self->gate, pl_step_gate_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), PL_TYPE_COMPARE_WINDOW);
  G_OBJECT_CLASS (pl_compare_window_parent_class)->dispose (object);
}

static void
pl_compare_window_class_init (PlCompareWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = pl_compare_window_dispose;
  g_type_ensure (PL_TYPE_PLOT_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/patchlab/PatchLab/pl-compare-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, preset_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, start_button);
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, columns);
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, axis_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, target_spin);
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, loss_plot);
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, cost_grid);
  gtk_widget_class_bind_template_child (widget_class, PlCompareWindow, break_even_label);
  gtk_widget_class_install_action (widget_class, "compare.toggle", NULL, action_toggle);
  gtk_widget_class_install_action (widget_class, "compare.reset", NULL, action_reset);
}

static void
pl_compare_window_init (PlCompareWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->gate = pl_step_gate_new ();
  g_signal_connect_swapped (self->preset_dropdown, "notify::selected",
                            G_CALLBACK (on_preset_selected), self);
  g_signal_connect_swapped (self->axis_dropdown, "notify::selected", G_CALLBACK (refresh), self);
  g_signal_connect_swapped (self->target_spin, "value-changed", G_CALLBACK (refresh), self);
}

PlCompareWindow *
pl_compare_window_new (GtkWindow *parent)
{
  PlCompareWindow *self = g_object_new (PL_TYPE_COMPARE_WINDOW, "transient-for", parent, NULL);
  pl_compare_window_set_comparison (self, PL_COMPARE_PATCH_VS_FCN);
  return self;
}
