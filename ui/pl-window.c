/* pl-window.c — the main window: snapshots in, commands out.
 *
 * The trainer notifies at most once per published snapshot and never more than one
 * notification is pending; each notification refreshes the views, the plots and the
 * status line from the newest snapshot. Widgets only draw what they are given.
 */
#include "pl-window.h"

#include "pl-compare-window.h"
#include "pl-ema.h"
#include "pl-image-view.h"
#include "pl-plot-view.h"
#include "pl-resources.h"
#include "pl-widget-png.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define BUILTIN_TRAIN 24
#define BUILTIN_VAL 16
#define PATCHWISE_BATCH 64

struct _PlWindow {
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkDropDown *dataset_dropdown;
  GtkButton *start_button;
  GtkRevealer *message_revealer;
  GtkLabel *message_label;
  GtkButton *message_close;
  GtkCheckButton *whole_check;
  GtkScale *patch_scale;
  GtkAdjustment *patch_adjustment;
  GtkLabel *patch_label;
  GtkSpinButton *batch_spin;
  GtkScale *sampling_scale;
  GtkCheckButton *fixed_terms_check;
  GtkCheckButton *free_origin_check;
  GtkSpinButton *lr_spin;
  GtkCheckButton *truth_check, *crops_check, *keep_check, *field_check, *redundancy_check;
  GtkDropDown *zoom_dropdown;
  GtkLabel *input_title;
  PlImageView *input_view;
  GtkBox *thumbnails;
  GtkDropDown *class_dropdown;
  PlImageView *probability_view, *argmax_view, *truth_view;
  GtkBox *legend;
  GtkCheckButton *time_check;
  PlPlotView *loss_plot, *accuracy_plot, *throughput_plot;
  GtkLabel *status_label;

  /* owned */
  PlTrainer *trainer;
  PlSnapshot *snapshot;
  PlKnobs knobs;             /* what the window last sent */
  int preview_image;
  guint shown_message;       /* serial of the last message shown */
  gint64 saved_step;         /* step of the last checkpoint saved or loaded */
  gboolean syncing;          /* widgets being set from code: send nothing */
  gboolean quiet_close;
  guint dataset_kind;        /* the dropdown position of the data shown */
  GCancellable *loading;
  PlPlotData *loss_data;     /* for export */
  guint refresh_source;      /* a refresh waiting for its time */
  gint64 last_refresh;
  guint refreshes;
};

/* While training runs, snapshots come up to 30 times a second, and repainting views and
 * plots costs 10–15 ms each with a software renderer (measured by tools/bench/ui). So
 * while running, the window refreshes every 100 ms, and each refresh repaints either the
 * views or (every third) the plots, never both in one frame. When the run is not running
 * (one step, a pause) everything refreshes at once. */
#define REFRESH_INTERVAL_US (100 * 1000)
#define PLOTS_EVERY 3

G_DEFINE_FINAL_TYPE (PlWindow, pl_window, GTK_TYPE_APPLICATION_WINDOW)

static void on_trainer_notify (PlTrainer *trainer, gpointer data);

/* ---- messages ---- */

static void
show_message (PlWindow *self, const char *text)
{
  gtk_label_set_text (self->message_label, text);
  gtk_revealer_set_reveal_child (self->message_revealer, TRUE);
}

static void
on_message_close (GtkButton *button, PlWindow *self)
{
  gtk_revealer_set_reveal_child (self->message_revealer, FALSE);
}

/* ---- knobs ---- */

static PlReceptiveField
field (PlWindow *self)
{
  return pl_receptive_field (pl_trainer_get_spec (self->trainer));
}

static int
smallest_side (PlWindow *self)
{
  const PlDataset *ds = pl_trainer_get_dataset (self->trainer);
  int side = G_MAXINT;
  for (guint i = 0; i < ds->train->len; i++)
    {
      const PlSample *s = ds->train->pdata[i];
      side = MIN (side, MIN (s->width, s->height));
    }
  return side;
}

static void
update_patch_label (PlWindow *self)
{
  PlReceptiveField rf = field (self);
  if (self->knobs.patch == 0)
    {
      gtk_label_set_text (self->patch_label, "whole images: fully convolutional");
      return;
    }
  int side = pl_receptive_field_snap (rf, MIN (self->knobs.patch, smallest_side (self)));
  int cells = (side - rf.R) / rf.J + 1;
  g_autofree char *text = g_strdup_printf ("%d px → %d×%d output cells%s", side, cells, cells,
                                           side == rf.R ? " (patchwise)" : "");
  gtk_label_set_text (self->patch_label, text);
}

/* Widgets ← self->knobs, without sending anything. */
static void
sync_widgets (PlWindow *self)
{
  self->syncing = TRUE;
  PlReceptiveField rf = field (self);
  int top = pl_receptive_field_snap (rf, smallest_side (self));
  gtk_adjustment_configure (self->patch_adjustment,
                            self->knobs.patch > 0 ? pl_receptive_field_snap (rf, MIN (self->knobs.patch, top))
                                                  : gtk_adjustment_get_value (self->patch_adjustment),
                            rf.R, top, rf.J, 4 * rf.J, 0);
  gtk_check_button_set_active (self->whole_check, self->knobs.patch == 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->patch_scale), self->knobs.patch != 0);
  gtk_spin_button_set_value (self->batch_spin, self->knobs.batch);
  gtk_range_set_value (GTK_RANGE (self->sampling_scale), self->knobs.sampling);
  gtk_check_button_set_active (self->fixed_terms_check, self->knobs.fixed_terms);
  gtk_check_button_set_active (self->free_origin_check, self->knobs.free_origin);
  gtk_spin_button_set_value (self->lr_spin, self->knobs.lr);
  update_patch_label (self);
  self->syncing = FALSE;
}

/* Sends knobs to the trainer; on refusal shows why and puts the widgets back. */
static gboolean
send_knobs (PlWindow *self, const PlKnobs *knobs)
{
  g_autoptr (GError) error = NULL;
  if (!pl_trainer_set_knobs (self->trainer, knobs, &error))
    {
      show_message (self, error->message);
      sync_widgets (self);
      return FALSE;
    }
  self->knobs = *knobs;
  update_patch_label (self);
  return TRUE;
}

static void
on_knob_widget_changed (PlWindow *self)
{
  if (self->syncing || self->trainer == NULL)
    return;
  PlReceptiveField rf = field (self);
  PlKnobs k = self->knobs;
  gboolean whole = gtk_check_button_get_active (self->whole_check);
  int value = (int) gtk_adjustment_get_value (self->patch_adjustment);
  int snapped = pl_receptive_field_snap (rf, value);
  if (snapped != value)
    {
      /* Keep the slider on sides that tile the output grid exactly. */
      self->syncing = TRUE;
      gtk_adjustment_set_value (self->patch_adjustment, snapped);
      self->syncing = FALSE;
    }
  k.patch = whole ? 0 : snapped;
  k.batch = gtk_spin_button_get_value_as_int (self->batch_spin);
  k.sampling = round (gtk_range_get_value (GTK_RANGE (self->sampling_scale)) * 100) / 100;
  k.fixed_terms = gtk_check_button_get_active (self->fixed_terms_check);
  k.free_origin = gtk_check_button_get_active (self->free_origin_check);
  k.lr = gtk_spin_button_get_value (self->lr_spin);
  gtk_widget_set_sensitive (GTK_WIDGET (self->patch_scale), !whole);
  if (!pl_knobs_equal (&k, &self->knobs))
    send_knobs (self, &k);
}

void
pl_window_apply_preset (PlWindow *self, const char *preset)
{
  PlKnobs k = self->knobs;
  k.sampling = 1.0;
  k.fixed_terms = FALSE;
  k.free_origin = FALSE;
  if (g_str_equal (preset, "patchwise"))
    {
      k.patch = field (self).R;
      k.batch = PATCHWISE_BATCH;
    }
  else if (g_str_equal (preset, "fcn"))
    {
      k.patch = 0;
      k.batch = 4;
    }
  else if (g_str_equal (preset, "sampled"))
    {
      k.patch = 0;
      k.batch = 4;
      k.sampling = 0.5;
      k.fixed_terms = TRUE;
    }
  else
    {
      g_warning ("unknown preset '%s'", preset);
      return;
    }
  if (send_knobs (self, &k))
    sync_widgets (self);
}

/* ---- views ---- */

static PlOverlays
overlays (PlWindow *self)
{
  return (gtk_check_button_get_active (self->truth_check) ? PL_OVERLAY_TRUTH : 0)
         | (gtk_check_button_get_active (self->crops_check) ? PL_OVERLAY_CROPS : 0)
         | (gtk_check_button_get_active (self->keep_check) ? PL_OVERLAY_KEEP : 0)
         | (gtk_check_button_get_active (self->field_check) ? PL_OVERLAY_FIELD : 0)
         | (gtk_check_button_get_active (self->redundancy_check) ? PL_OVERLAY_REDUNDANCY : 0);
}

static void
on_overlay_toggled (PlWindow *self)
{
  pl_image_view_set_overlays (self->input_view, overlays (self));
  static const double zooms[] = { 0, 1, 2, 4, 8 };  /* 0 fits the view */
  pl_image_view_set_zoom (self->input_view, zooms[gtk_drop_down_get_selected (self->zoom_dropdown)]);
}

/* What a scene keeps alive: the snapshot it points into and its own arrays. */
typedef struct {
  PlSnapshot *snapshot;
  PlSceneCrop *crops;
  guint16 *coverage;
} SceneData;

static void
scene_data_free (gpointer data)
{
  SceneData *d = data;
  pl_snapshot_unref (d->snapshot);
  g_free (d->crops);
  g_free (d->coverage);
  g_free (d);
}

static void
update_views (PlWindow *self, PlSnapshot *s)
{
  const PlDataset *ds = pl_trainer_get_dataset (self->trainer);
  const PlSample *sample = ds->train->pdata[self->preview_image];
  PlScene scene = {
    .width = sample->width,
    .height = sample->height,
    .rgb = sample->rgb,
    .labels = sample->labels,
    .rf = field (self),
    .n_classes = ds->n_classes,
  };
  SceneData *data = g_new0 (SceneData, 1);
  data->snapshot = pl_snapshot_ref (s);

  /* This step's crops that fall on the previewed image, and how often each pixel
   * was covered: the redundancy map. */
  guint n = pl_snapshot_get_n_crops (s), on_image = 0;
  data->crops = g_new (PlSceneCrop, MAX (n, 1));
  data->coverage = g_new0 (guint16, (gsize) sample->width * sample->height);
  guint max_coverage = 0;
  for (guint c = 0; c < n; c++)
    {
      PlSceneCrop sc;
      sc.crop = pl_snapshot_get_crop (s, c, &sc.out_h, &sc.out_w, &sc.keep);
      if (sc.crop->image != self->preview_image)
        continue;
      data->crops[on_image++] = sc;
      for (int y = sc.crop->y0; y < sc.crop->y0 + sc.crop->height; y++)
        for (int x = sc.crop->x0; x < sc.crop->x0 + sc.crop->width; x++)
          {
            guint16 *v = &data->coverage[(gsize) y * sample->width + x];
            *v = MIN (*v + 1, G_MAXUINT16);
            max_coverage = MAX (max_coverage, *v);
          }
    }
  scene.crops = data->crops;
  scene.n_crops = on_image;
  scene.coverage = data->coverage;
  scene.max_coverage = max_coverage;

  int image;
  if (pl_snapshot_get_preview (s, &image, NULL, &scene.grid_h, &scene.grid_w,
                               &scene.probabilities, &scene.argmax)
      && image != self->preview_image)
    {
      scene.grid_h = scene.grid_w = 0;
      scene.probabilities = NULL;
      scene.argmax = NULL;
    }
  if (scene.grid_h == 0)
    pl_net_spec_output_size (pl_trainer_get_spec (self->trainer), sample->height,
                             sample->width, &scene.grid_h, &scene.grid_w);

  /* One snapshot reference per view: each releases its own. */
  pl_image_view_set_scene (self->input_view, &scene, data, scene_data_free);
  pl_image_view_set_scene (self->probability_view, &scene, pl_snapshot_ref (s),
                           (GDestroyNotify) pl_snapshot_unref);
  pl_image_view_set_scene (self->argmax_view, &scene, pl_snapshot_ref (s),
                           (GDestroyNotify) pl_snapshot_unref);
  pl_image_view_set_scene (self->truth_view, &scene, NULL, NULL);

  g_autofree char *drawn = on_image == 0 ? g_strdup ("not drawn in this step")
                           : g_strdup_printf ("%u crop%s in this step", on_image,
                                              on_image == 1 ? "" : "s");
  g_autofree char *title = g_strdup_printf ("Input: %s (%d×%d px), %s", sample->name,
                                            sample->width, sample->height, drawn);
  gtk_label_set_text (self->input_title, title);
}

static void
on_hover_cell (PlImageView *view, int i, int j, PlWindow *self)
{
  PlImageView *views[] = { self->input_view, self->probability_view, self->argmax_view,
                           self->truth_view };
  for (gsize v = 0; v < G_N_ELEMENTS (views); v++)
    pl_image_view_set_hover (views[v], i, j);
}

static void
on_class_selected (PlWindow *self)
{
  pl_image_view_set_class (self->probability_view,
                           (int) gtk_drop_down_get_selected (self->class_dropdown));
}

/* ---- plots ---- */

static char *
describe_edit (const PlKnobs *a, const PlKnobs *b)
{
  GString *s = g_string_new (NULL);
  if (a->patch != b->patch)
    {
      g_autofree char *from = a->patch ? g_strdup_printf ("%d", a->patch) : g_strdup ("whole");
      g_autofree char *to = b->patch ? g_strdup_printf ("%d", b->patch) : g_strdup ("whole");
      g_string_append_printf (s, "N %s→%s ", from, to);
    }
  if (a->batch != b->batch)
    g_string_append_printf (s, "B %d→%d ", a->batch, b->batch);
  if (a->sampling != b->sampling)
    g_string_append_printf (s, "p %.2g→%.2g ", a->sampling, b->sampling);
  if (a->fixed_terms != b->fixed_terms)
    g_string_append (s, b->fixed_terms ? "B/p " : "B ");
  if (a->free_origin != b->free_origin)
    g_string_append (s, b->free_origin ? "free origins " : "aligned ");
  if (a->lr != b->lr)
    g_string_append_printf (s, "lr %.3g→%.3g ", a->lr, b->lr);
  if (s->len > 0)
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

static void
update_plots (PlWindow *self, PlSnapshot *s)
{
  guint n = pl_snapshot_get_history_length (s);
  gboolean by_time = gtk_check_button_get_active (self->time_check);
  g_autofree double *x = g_new (double, MAX (n, 1));
  g_autofree double *loss = g_new (double, MAX (n, 1));
  g_autofree double *smooth = g_new (double, MAX (n, 1));
  g_autofree double *acc = g_new (double, MAX (n, 1));
  g_autofree double *val = g_new (double, MAX (n, 1));
  g_autofree double *iou = g_new (double, MAX (n, 1));
  g_autofree double *speed = g_new (double, MAX (n, 1));
  PlEma ema_loss = { 0.95 }, ema_acc = { 0.95 }, ema_speed = { 0.9 };
  for (guint i = 0; i < n; i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, i);
      x[i] = by_time ? m->elapsed : (double) m->step;
      loss[i] = m->loss;
      smooth[i] = pl_ema_add (&ema_loss, m->loss);
      acc[i] = pl_ema_add (&ema_acc, m->accuracy);
      val[i] = m->val_accuracy;
      iou[i] = m->val_miou;
      speed[i] = pl_ema_add (&ema_speed, m->seconds > 0 ? m->pixels_pushed / m->seconds / 1e6 : NAN);
    }
  /* Validation points only where they exist: compact them (NaN would break lines). */
  g_autofree double *vx = g_new (double, MAX (n, 1));
  g_autofree double *vy = g_new (double, MAX (n, 1));
  g_autofree double *iy = g_new (double, MAX (n, 1));
  gsize nv = 0;
  for (guint i = 0; i < n; i++)
    if (isfinite (val[i]))
      {
        vx[nv] = x[i];
        vy[nv] = val[i];
        iy[nv++] = iou[i];
      }

  guint n_edits = pl_snapshot_get_n_edits (s);
  g_autofree PlPlotMarker *markers = g_new0 (PlPlotMarker, MAX (n_edits, 1));
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  guint n_markers = 0;
  for (guint e = 1; e < n_edits; e++)
    {
      const PlKnobEdit *edit = pl_snapshot_get_edit (s, e);
      if (edit->step > (gint64) n)
        continue;  /* not applied yet */
      char *label = describe_edit (&pl_snapshot_get_edit (s, e - 1)->knobs, &edit->knobs);
      g_ptr_array_add (labels, label);
      double at = (double) edit->step;
      if (by_time)
        at = edit->step >= 2 ? pl_snapshot_get_metrics (s, (guint) edit->step - 2)->elapsed : 0;
      markers[n_markers++] = (PlPlotMarker) { at, label };
    }

  const char *x_label = by_time ? "training time (s)" : "step";
  PlPlotSeries loss_series[] = {
    { "loss", { 0.55, 0.65, 0.85, 0.6 }, x, loss, n, FALSE, 1.0 },
    { "smoothed", { 0.1, 0.3, 0.75, 1 }, x, smooth, n, FALSE, 2.0 },
  };
  PlPlotData loss_plot = { "Loss (mean over loss terms)", x_label, "cross-entropy", FALSE, NAN,
                           NAN, loss_series, 2, markers, n_markers };
  pl_plot_view_set_data (self->loss_plot, &loss_plot);
  g_clear_pointer (&self->loss_data, pl_plot_data_free);
  self->loss_data = pl_plot_data_copy (&loss_plot);

  PlPlotSeries acc_series[] = {
    { "train (smoothed)", { 0.2, 0.55, 0.2, 1 }, x, acc, n, FALSE, 2.0 },
    { "val accuracy", { 0.85, 0.4, 0.1, 1 }, vx, vy, nv, FALSE, 2.0 },
    { "val mean IoU", { 0.6, 0.2, 0.6, 1 }, vx, iy, nv, TRUE, 2.0 },
  };
  PlPlotData acc_plot = { "Accuracy and mean IoU", x_label, NULL, FALSE, 0.0, 1.0, acc_series,
                          3, markers, n_markers };
  pl_plot_view_set_data (self->accuracy_plot, &acc_plot);

  PlPlotSeries speed_series[] = {
    { "input Mpx/s", { 0.3, 0.3, 0.3, 1 }, x, speed, n, FALSE, 2.0 },
  };
  PlPlotData speed_plot = { "Throughput", x_label, "million input pixels per second", FALSE,
                            NAN, NAN, speed_series, 1, markers, n_markers };
  pl_plot_view_set_data (self->throughput_plot, &speed_plot);
}

/* ---- status ---- */

static void
update_status (PlWindow *self, PlSnapshot *s)
{
  guint n = pl_snapshot_get_history_length (s);
  PlTrainerState state = pl_snapshot_get_state (s);
  static const char *const states[] = { "ready", "running", "paused", "stopped" };
  gtk_button_set_label (self->start_button, state == PL_TRAINER_RUNNING ? "Pause" : "Start");
  g_autofree char *budget = g_format_size_full (pl_trainer_get_memory_budget (self->trainer),
                                                G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *memory = g_format_size_full (pl_trainer_estimate_memory (self->trainer,
                                                                            &self->knobs),
                                                G_FORMAT_SIZE_IEC_UNITS);
  PlReceptiveField rf = field (self);
  if (n == 0)
    {
      g_autofree char *text = g_strdup_printf ("%s · step 0 · R = %d px, J = %d px · memory %s "
                                               "of %s budget · press Start (Space)",
                                               states[state], rf.R, rf.J, memory, budget);
      gtk_label_set_text (self->status_label, text);
      return;
    }
  const PlStepMetrics *m = pl_snapshot_get_metrics (s, n - 1);
  /* Steps per second over the last few seconds of training time. */
  guint first = n - 1;
  while (first > 0 && m->elapsed - pl_snapshot_get_metrics (s, first - 1)->elapsed < 3.0)
    first--;
  double span = m->elapsed - pl_snapshot_get_metrics (s, first)->elapsed;
  double rate = span > 0 ? (n - 1 - first) / span : 1.0 / MAX (m->seconds, 1e-9);
  g_autofree char *text = g_strdup_printf (
    "%s · step %" G_GINT64_FORMAT " · %.1f steps/s · %.2f GFLOP/step · redundancy %.2f× · "
    "%" G_GINT64_FORMAT " loss terms · R = %d px, J = %d px · memory %s of %s budget",
    states[state], m->step, rate, (m->flops_forward + m->flops_backward) / 1e9,
    (double) m->pixels_pushed / (double) MAX (m->pixels_covered, 1), m->terms, rf.R, rf.J,
    memory, budget);
  gtk_label_set_text (self->status_label, text);
}

static void
refresh (PlWindow *self)
{
  PlSnapshot *s = self->snapshot;
  gboolean running = pl_snapshot_get_state (s) == PL_TRAINER_RUNNING;
  self->last_refresh = g_get_monotonic_time ();
  update_status (self, s);
  if (!running || self->refreshes % PLOTS_EVERY != PLOTS_EVERY - 1)
    update_views (self, s);
  if (!running || self->refreshes % PLOTS_EVERY == PLOTS_EVERY - 1)
    update_plots (self, s);
  self->refreshes++;
  guint serial;
  const char *message = pl_snapshot_get_message (s, &serial);
  if (message != NULL && serial != self->shown_message)
    {
      self->shown_message = serial;
      show_message (self, message);
    }
}

static gboolean
on_refresh_due (gpointer data)
{
  PlWindow *self = data;
  self->refresh_source = 0;
  if (self->snapshot != NULL)
    refresh (self);
  return G_SOURCE_REMOVE;
}

static void
on_trainer_notify (PlTrainer *trainer, gpointer data)
{
  PlWindow *self = data;
  if (trainer != self->trainer)
    return;
  g_clear_pointer (&self->snapshot, pl_snapshot_unref);
  self->snapshot = pl_trainer_dup_snapshot (trainer);
  gint64 now = g_get_monotonic_time ();
  gboolean running = pl_snapshot_get_state (self->snapshot) == PL_TRAINER_RUNNING;
  if (!running || now - self->last_refresh >= REFRESH_INTERVAL_US)
    {
      g_clear_handle_id (&self->refresh_source, g_source_remove);
      refresh (self);
    }
  else if (self->refresh_source == 0)
    {
      /* Show the newest snapshot once its time comes, even if no other arrives. */
      guint delay = (guint) ((self->last_refresh + REFRESH_INTERVAL_US - now) / 1000) + 1;
      self->refresh_source = g_timeout_add (delay, on_refresh_due, self);
    }
}

static void
on_time_toggled (PlWindow *self)
{
  if (self->snapshot != NULL)
    update_plots (self, self->snapshot);
}

/* ---- the dataset: thumbnails, legend, classes ---- */

static void
on_thumbnail_clicked (GtkButton *button, PlWindow *self)
{
  self->preview_image = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "image"));
  pl_trainer_set_preview (self->trainer, self->preview_image);
  if (self->snapshot != NULL)
    update_views (self, self->snapshot);
}

static GdkTexture *
texture_of (const PlSample *s)
{
  g_autoptr (GBytes) bytes = g_bytes_new (s->rgb, (gsize) s->width * s->height * 3);
  return gdk_memory_texture_new (s->width, s->height, GDK_MEMORY_R8G8B8, bytes,
                                 (gsize) s->width * 3);
}

static void
fill_dataset_widgets (PlWindow *self)
{
  const PlDataset *ds = pl_trainer_get_dataset (self->trainer);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->thumbnails))) != NULL)
    gtk_box_remove (self->thumbnails, child);
  for (guint i = 0; i < MIN (ds->train->len, 48u); i++)
    {
      const PlSample *s = ds->train->pdata[i];
      g_autoptr (GdkTexture) texture = texture_of (s);
      GtkWidget *picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
      gtk_widget_set_size_request (picture, 48, 48);
      GtkWidget *button = gtk_button_new ();
      gtk_button_set_child (GTK_BUTTON (button), picture);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, s->name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      s->name, -1);
      g_object_set_data (G_OBJECT (button), "image", GINT_TO_POINTER (i));
      g_signal_connect (button, "clicked", G_CALLBACK (on_thumbnail_clicked), self);
      gtk_box_append (self->thumbnails, button);
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->legend))) != NULL)
    gtk_box_remove (self->legend, child);
  for (int k = 0; k < ds->n_classes; k++)
    {
      double rgb[3];
      pl_scene_class_colour (k, rgb);
      g_autofree char *markup = g_strdup_printf ("<span foreground=\"#%02x%02x%02x\">■</span> %s",
                                                 (int) (rgb[0] * 255), (int) (rgb[1] * 255),
                                                 (int) (rgb[2] * 255), ds->class_names[k]);
      GtkWidget *label = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (label), markup);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_box_append (self->legend, label);
    }

  g_autoptr (GtkStringList) names = gtk_string_list_new ((const char *const *) ds->class_names);
  gtk_drop_down_set_model (self->class_dropdown, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->class_dropdown, ds->n_classes > 1 ? 1 : 0);
}

/* Takes ownership of trainer and shows its run. */
static void
set_trainer (PlWindow *self, PlTrainer *trainer)
{
  g_clear_pointer (&self->snapshot, pl_snapshot_unref);
  g_clear_pointer (&self->trainer, pl_trainer_free);
  self->trainer = trainer;
  self->preview_image = 0;
  self->saved_step = 0;
  self->shown_message = 0;
  self->last_refresh = 0;
  fill_dataset_widgets (self);
  sync_widgets (self);
  on_class_selected (self);
  on_trainer_notify (trainer, self);
}

static PlTrainer *
new_trainer (PlWindow *self, PlDataset *dataset, GError **error)
{
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, dataset->n_classes, error);
  if (spec == NULL)
    {
      pl_dataset_free (dataset);
      return NULL;
    }
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.seed = 1;
  options.validate_every = 50;
  options.validate_images = 16;
  options.context = g_main_context_default ();
  options.notify = on_trainer_notify;
  options.notify_data = self;
  return pl_trainer_new (dataset, spec, &self->knobs, &options, error);
}

typedef struct {
  guint kind;       /* 0 built-in, 1 Fashion-MNIST, 2 folder */
  char *folder;
} LoadRequest;

static void
load_request_free (gpointer data)
{
  LoadRequest *r = data;
  g_free (r->folder);
  g_free (r);
}

static void
load_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  LoadRequest *r = data;
  GError *error = NULL;
  PlDataset *ds = NULL;
  if (r->kind == 0)
    ds = pl_dataset_new_builtin (1, BUILTIN_TRAIN, BUILTIN_VAL, 0, &error);
  else if (r->kind == 1)
    ds = pl_dataset_load_fashion_mnist (NULL, 1, BUILTIN_TRAIN, BUILTIN_VAL, 0, &error);
  else
    {
      PlFolderOptions options = { .skip_bad = FALSE, .val_fraction = 0.1, .seed = 1 };
      ds = pl_dataset_load_folder (r->folder, &options, &error);
    }
  if (ds == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ds, (GDestroyNotify) pl_dataset_free);
}

static void
on_dataset_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  PlWindow *self = PL_WINDOW (source);
  LoadRequest *r = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  PlDataset *ds = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->loading);
  gtk_widget_set_sensitive (GTK_WIDGET (self->dataset_dropdown), TRUE);
  PlTrainer *trainer = ds != NULL ? new_trainer (self, ds, &error) : NULL;
  if (trainer == NULL)
    {
      show_message (self, error->message);
      self->syncing = TRUE;
      gtk_drop_down_set_selected (self->dataset_dropdown, self->dataset_kind);
      self->syncing = FALSE;
      return;
    }
  self->dataset_kind = r->kind;
  self->syncing = TRUE;
  gtk_drop_down_set_selected (self->dataset_dropdown, r->kind);
  self->syncing = FALSE;
  set_trainer (self, trainer);
  show_message (self, pl_trainer_get_dataset (trainer)->description);
}

/* Loads a dataset in a thread; the current run goes on until the new one is ready. */
static void
load_dataset (PlWindow *self, guint kind, const char *folder)
{
  if (self->loading != NULL)
    g_cancellable_cancel (self->loading);
  g_clear_object (&self->loading);
  self->loading = g_cancellable_new ();
  LoadRequest *r = g_new0 (LoadRequest, 1);
  r->kind = kind;
  r->folder = g_strdup (folder);
  g_autoptr (GTask) task = g_task_new (self, self->loading, on_dataset_loaded, NULL);
  g_task_set_task_data (task, r, load_request_free);
  g_task_run_in_thread (task, load_in_thread);
  gtk_widget_set_sensitive (GTK_WIDGET (self->dataset_dropdown), FALSE);
  show_message (self, kind == 2 ? "Loading the folder…" : "Loading the dataset…");
}

static void
on_folder_chosen (GtkNativeDialog *dialog, int response, PlWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      load_dataset (self, 2, path);
    }
  else
    {
      self->syncing = TRUE;
      gtk_drop_down_set_selected (self->dataset_dropdown, self->dataset_kind);
      self->syncing = FALSE;
    }
  g_object_unref (dialog);
}

static void
choose_folder (PlWindow *self)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
    "Open a Dataset Folder (images/ and masks/)", GTK_WINDOW (self),
    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open", "_Cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_dataset_selected (PlWindow *self)
{
  if (self->syncing)
    return;
  guint kind = gtk_drop_down_get_selected (self->dataset_dropdown);
  if (kind == 2)
    choose_folder (self);
  else if (kind != self->dataset_kind)
    load_dataset (self, kind, NULL);
}

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, PlWindow *self)
{
  GFile *file = g_value_get_object (value);
  g_autofree char *path = g_file_get_path (file);
  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      show_message (self, "Drop a folder that holds images/ and masks/.");
      return FALSE;
    }
  load_dataset (self, 2, path);
  return TRUE;
}

/* ---- checkpoints (GTask threads: the worker answers between steps) ---- */

typedef struct {
  char *path;
  PlCheckpointMeta meta;
  PlNet *loaded;
  gboolean ok;
  GError *error;
  gint64 step;
} CheckpointJob;

static void
checkpoint_job_free (gpointer data)
{
  CheckpointJob *job = data;
  g_free (job->path);
  g_free (job->meta.dataset);
  g_free (job->meta.history);
  g_strfreev (job->meta.class_names);
  pl_net_free (job->loaded);
  g_clear_error (&job->error);
  g_free (job);
}

static void
save_on_worker (PlNet *net, gpointer data)
{
  CheckpointJob *job = data;
  job->ok = pl_checkpoint_save (job->path, net, &job->meta, TRUE, &job->error);
}

static void
save_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  PlWindow *self = source;
  pl_trainer_call (self->trainer, save_on_worker, data);
  g_task_return_boolean (task, TRUE);
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer data)
{
  PlWindow *self = PL_WINDOW (source);
  CheckpointJob *job = g_task_get_task_data (G_TASK (result));
  if (!job->ok)
    {
      show_message (self, job->error->message);
      return;
    }
  self->saved_step = job->step;
  g_autofree char *text = g_strdup_printf ("Saved the weights of step %" G_GINT64_FORMAT " to %s",
                                           job->step, job->path);
  show_message (self, text);
}

static void
save_checkpoint (PlWindow *self, const char *path)
{
  const PlDataset *ds = pl_trainer_get_dataset (self->trainer);
  CheckpointJob *job = g_new0 (CheckpointJob, 1);
  job->path = g_strdup (path);
  job->step = self->snapshot ? pl_snapshot_get_step (self->snapshot) : 0;
  job->meta.class_names = g_strdupv (ds->class_names);
  job->meta.dataset = g_strdup (ds->description);
  job->meta.step = job->step;
  job->meta.seed = 1;
  job->meta.patch_size = self->knobs.patch;
  job->meta.batch_size = self->knobs.batch;
  job->meta.sampling = self->knobs.sampling;
  job->meta.lr = self->knobs.lr;
  job->meta.momentum = self->knobs.momentum;
  job->meta.weight_decay = self->knobs.weight_decay;
  job->meta.history = self->snapshot ? pl_snapshot_dup_edit_log (self->snapshot) : NULL;
  g_autoptr (GTask) task = g_task_new (self, NULL, on_saved, NULL);
  g_task_set_task_data (task, job, checkpoint_job_free);
  g_task_run_in_thread (task, save_in_thread);
}

static void
load_on_worker (PlNet *net, gpointer data)
{
  CheckpointJob *job = data;
  memcpy (net->params, job->loaded->params, sizeof (float) * net->n_params);
  memcpy (net->velocity, job->loaded->velocity, sizeof (float) * net->n_params);
}

static void
load_in_thread_ckpt (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  PlWindow *self = source;
  CheckpointJob *job = data;
  job->loaded = pl_checkpoint_load (job->path, &job->meta, &job->error);
  if (job->loaded == NULL)
    {
      g_task_return_boolean (task, FALSE);
      return;
    }
  const PlNetSpec *spec = pl_trainer_get_spec (self->trainer);
  if (!g_str_equal (job->loaded->spec->text, spec->text))
    {
      g_set_error (&job->error, PL_CHECKPOINT_ERROR, PL_CHECKPOINT_ERROR_MISMATCH,
                   "%s: its net (%s) is not this run's net (%s)", job->path,
                   job->loaded->spec->text, spec->text);
      g_task_return_boolean (task, FALSE);
      return;
    }
  pl_trainer_call (self->trainer, load_on_worker, job);
  job->ok = TRUE;
  g_task_return_boolean (task, TRUE);
}

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  PlWindow *self = PL_WINDOW (source);
  CheckpointJob *job = g_task_get_task_data (G_TASK (result));
  if (!job->ok)
    {
      show_message (self, job->error->message);
      return;
    }
  self->saved_step = self->snapshot ? pl_snapshot_get_step (self->snapshot) : 0;
  g_autofree char *text = g_strdup_printf ("Loaded the weights of step %" G_GINT64_FORMAT
                                           " from %s", job->meta.step, job->path);
  show_message (self, text);
}

/* ---- the equivalence, live ---- */

typedef struct {
  const PlSample *sample;
  guint8 *keep;        /* [oh, ow] of the sample's whole-image grid */
  int dy, dx, J;
  PlEquivalence result;
  GError *error;
  gboolean ok;
} EquivalenceJob;

static void
equivalence_job_free (gpointer data)
{
  EquivalenceJob *job = data;
  g_free (job->keep);
  g_clear_error (&job->error);
  g_free (job);
}

static void
equivalence_on_worker (PlNet *net, gpointer data)
{
  EquivalenceJob *job = data;
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  job->ok = pl_equivalence_check (net, ws, job->sample, job->keep, job->dy, job->dx,
                                  &job->result, &job->error);
}

static void
equivalence_in_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  pl_trainer_call (PL_WINDOW (source)->trainer, equivalence_on_worker, data);
  g_task_return_boolean (task, TRUE);
}

static void
on_equivalence_done (GObject *source, GAsyncResult *result, gpointer data)
{
  PlWindow *self = PL_WINDOW (source);
  EquivalenceJob *job = g_task_get_task_data (G_TASK (result));
  if (!job->ok)
    {
      show_message (self, job->error->message);
      return;
    }
  const PlEquivalence *r = &job->result;
  double relative = r->max_abs_grad > 0 ? r->max_abs_diff / r->max_abs_grad : 0;
  g_autofree char *costs = g_strdup_printf (
    "Whole image %.1f ms and %.2f GFLOP; the %d patches %.1f ms and %.2f GFLOP.",
    1e3 * r->seconds_whole, r->flops_whole / 1e9, r->n_cells, 1e3 * r->seconds_patches,
    r->flops_patches / 1e9);
  g_autofree char *text = NULL;
  if (job->dy == 0 && job->dx == 0)
    text = g_strdup_printf ("Equivalence on %s, %d loss terms: the whole-image gradient and the "
                            "summed R×R patch gradients differ by at most %.2g (largest gradient "
                            "%.3g, norm %.3g): %s %s", job->sample->name, r->n_cells,
                            r->max_abs_diff, r->max_abs_grad, r->grad_norm,
                            relative <= 1e-4 ? "the same up to float rounding."
                                             : "MORE than float rounding explains — a bug.",
                            costs);
  else
    text = g_strdup_printf ("Equivalence on %s with patches shifted by (%d, %d) px, off the "
                            "J = %d grid: the gradients differ by up to %.3g (%.0f%% of the "
                            "largest gradient) and the outputs by %.3g. Max pooling groups pixels "
                            "in blocks aligned to J, so a shifted patch pools other pixels "
                            "together: it is no longer a piece of the whole-image computation. "
                            "%s", job->sample->name, job->dy, job->dx, job->J, r->max_abs_diff,
                            100 * relative, r->output_diff, costs);
  show_message (self, text);
}

/* The first image of the last step, with the cells its crops kept; patches shifted off
 * the grid when the run uses free crop origins. */
static void
action_check_equivalence (GtkWidget *widget, const char *name, GVariant *param)
{
  PlWindow *self = PL_WINDOW (widget);
  const PlDataset *ds = pl_trainer_get_dataset (self->trainer);
  PlReceptiveField rf = field (self);
  EquivalenceJob *job = g_new0 (EquivalenceJob, 1);
  guint n = self->snapshot ? pl_snapshot_get_n_crops (self->snapshot) : 0;
  int image = n > 0 ? pl_snapshot_get_crop (self->snapshot, 0, NULL, NULL, NULL)->image
                    : self->preview_image;
  job->sample = ds->train->pdata[image];
  job->J = rf.J;
  if (self->knobs.free_origin)
    {
      job->dy = 1;
      job->dx = 2;
    }
  int oh, ow;
  pl_net_spec_output_size (pl_trainer_get_spec (self->trainer), job->sample->height,
                           job->sample->width, &oh, &ow);
  job->keep = g_new0 (guint8, (gsize) oh * ow);
  gboolean any = FALSE;
  for (guint c = 0; c < n; c++)
    {
      int ch, cw;
      const guint8 *keep;
      const PlCrop *crop = pl_snapshot_get_crop (self->snapshot, c, &ch, &cw, &keep);
      if (crop->image != image)
        continue;
      /* Aligned crops' cells are a sub-grid of the whole image's (free ones: nearest). */
      int i0 = crop->y0 / rf.J, j0 = crop->x0 / rf.J;
      for (int i = 0; i < ch && i0 + i < oh; i++)
        for (int j = 0; j < cw && j0 + j < ow; j++)
          if (keep[i * cw + j])
            {
              job->keep[(i0 + i) * ow + j0 + j] = 1;
              any = TRUE;
            }
    }
  if (!any)
    g_clear_pointer (&job->keep, g_free);  /* no step yet: every cell */
  show_message (self, "Computing the gradient both ways…");
  g_autoptr (GTask) task = g_task_new (self, NULL, on_equivalence_done, NULL);
  g_task_set_task_data (task, job, equivalence_job_free);
  g_task_run_in_thread (task, equivalence_in_thread);
}

const char *
pl_window_get_message (PlWindow *self)
{
  return gtk_revealer_get_reveal_child (self->message_revealer)
           ? gtk_label_get_text (self->message_label) : NULL;
}

/* ---- file choosers ---- */

typedef void (*PathFunc) (PlWindow *self, const char *path, gpointer data);

typedef struct {
  PlWindow *self;
  PathFunc func;
  gpointer data;
} Chooser;

static void
on_file_chosen (GtkNativeDialog *dialog, int response, gpointer data)
{
  Chooser *c = data;
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      c->func (c->self, path, c->data);
    }
  g_free (c);
  g_object_unref (dialog);
}

static void
choose_file (PlWindow *self, const char *title, GtkFileChooserAction action, const char *name,
             PathFunc func, gpointer data)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
    title, GTK_WINDOW (self), action, action == GTK_FILE_CHOOSER_ACTION_SAVE ? "_Save" : "_Open",
    "_Cancel");
  if (name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  Chooser *c = g_new0 (Chooser, 1);
  *c = (Chooser) { self, func, data };
  g_signal_connect (dialog, "response", G_CALLBACK (on_file_chosen), c);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
save_to (PlWindow *self, const char *path, gpointer data)
{
  save_checkpoint (self, path);
}

static void
load_from (PlWindow *self, const char *path, gpointer data)
{
  CheckpointJob *job = g_new0 (CheckpointJob, 1);
  job->path = g_strdup (path);
  g_autoptr (GTask) task = g_task_new (self, NULL, on_loaded, NULL);
  g_task_set_task_data (task, job, checkpoint_job_free);
  g_task_run_in_thread (task, load_in_thread_ckpt);
}

static void
export_plot_to (PlWindow *self, const char *path, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (self->loss_data == NULL || !pl_plot_export (self->loss_data, path, 1200, 700, &error))
    show_message (self, error ? error->message : "There is no plot yet.");
  else
    {
      g_autofree char *text = g_strdup_printf ("Wrote the loss plot to %s", path);
      show_message (self, text);
    }
}

static void
export_csv_to (PlWindow *self, const char *path, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!pl_snapshot_write_csv (self->snapshot, path, &error))
    show_message (self, error->message);
  else
    {
      g_autofree char *text = g_strdup_printf ("Wrote the history to %s", path);
      show_message (self, text);
    }
}

/* ---- actions ---- */

static void
action_train_toggle (GtkWidget *widget, const char *name, GVariant *param)
{
  PlWindow *self = PL_WINDOW (widget);
  if (self->snapshot != NULL && pl_snapshot_get_state (self->snapshot) == PL_TRAINER_RUNNING)
    pl_trainer_pause (self->trainer);
  else if (self->snapshot != NULL && pl_snapshot_get_state (self->snapshot) == PL_TRAINER_STOPPED)
    show_message (self, "This run has stopped: Reset to start a new one.");
  else
    pl_trainer_start (self->trainer);
}

static void
action_train_step (GtkWidget *widget, const char *name, GVariant *param)
{
  pl_trainer_step (PL_WINDOW (widget)->trainer);
}

static void
action_train_reset (GtkWidget *widget, const char *name, GVariant *param)
{
  PlWindow *self = PL_WINDOW (widget);
  pl_trainer_reset (self->trainer);
  self->saved_step = 0;
}

static void
action_preset (GtkWidget *widget, const char *name, GVariant *param)
{
  pl_window_apply_preset (PL_WINDOW (widget), g_variant_get_string (param, NULL));
}

/* set-patch, set-batch, set-sampling, set-free-origin, set-lr: one knob, as if its
 * widget moved. */
static void
action_set_knob (GtkWidget *widget, const char *name, GVariant *param)
{
  PlWindow *self = PL_WINDOW (widget);
  PlKnobs k = self->knobs;
  if (g_str_equal (name, "win.set-patch"))
    k.patch = g_variant_get_int32 (param);
  else if (g_str_equal (name, "win.set-batch"))
    k.batch = g_variant_get_int32 (param);
  else if (g_str_equal (name, "win.set-sampling"))
    k.sampling = g_variant_get_double (param);
  else if (g_str_equal (name, "win.set-free-origin"))
    k.free_origin = g_variant_get_boolean (param);
  else
    k.lr = g_variant_get_double (param);
  if (send_knobs (self, &k))
    sync_widgets (self);
}

static void
action_save (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_file (PL_WINDOW (widget), "Save Checkpoint", GTK_FILE_CHOOSER_ACTION_SAVE,
               "patchlab.safetensors", save_to, NULL);
}

static void
action_load (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_file (PL_WINDOW (widget), "Load Checkpoint", GTK_FILE_CHOOSER_ACTION_OPEN, NULL,
               load_from, NULL);
}

static void
action_open_dataset (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_folder (PL_WINDOW (widget));
}

static void
action_export_plot (GtkWidget *widget, const char *name, GVariant *param)
{
  const char *format = g_variant_get_string (param, NULL);
  g_autofree char *file = g_strdup_printf ("patchlab-loss.%s", format);
  choose_file (PL_WINDOW (widget), "Export Loss Plot", GTK_FILE_CHOOSER_ACTION_SAVE, file,
               export_plot_to, NULL);
}

static void
action_compare (GtkWidget *widget, const char *name, GVariant *param)
{
  PlCompareWindow *compare = pl_compare_window_new (GTK_WINDOW (widget));
  gtk_window_present (GTK_WINDOW (compare));
}

static void
action_export_csv (GtkWidget *widget, const char *name, GVariant *param)
{
  choose_file (PL_WINDOW (widget), "Export History", GTK_FILE_CHOOSER_ACTION_SAVE,
               "patchlab-history.csv", export_csv_to, NULL);
}

/* ---- closing ---- */

static void
on_close_answer (GtkDialog *dialog, int response, PlWindow *self)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (response == GTK_RESPONSE_ACCEPT)
    {
      choose_file (self, "Save Checkpoint", GTK_FILE_CHOOSER_ACTION_SAVE, "patchlab.safetensors",
                   save_to, NULL);
      return;
    }
  if (response == GTK_RESPONSE_REJECT)
    {
      self->quiet_close = TRUE;
      gtk_window_close (GTK_WINDOW (self));
    }
}

static gboolean
pl_window_close_request (GtkWindow *window)
{
  PlWindow *self = PL_WINDOW (window);
  gint64 step = self->snapshot ? pl_snapshot_get_step (self->snapshot) : 0;
  if (self->quiet_close || step == 0 || step == self->saved_step)
    return GTK_WINDOW_CLASS (pl_window_parent_class)->close_request (window);
  GtkWidget *dialog = gtk_message_dialog_new (window, GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION,
                                              GTK_BUTTONS_NONE,
                                              "Save the trained weights before closing?");
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            "The run is at step %" G_GINT64_FORMAT " and its "
                                            "weights have not been saved.", step);
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), "_Cancel", GTK_RESPONSE_CANCEL,
                          "Close _Without Saving", GTK_RESPONSE_REJECT, "_Save…",
                          GTK_RESPONSE_ACCEPT, NULL);
  g_signal_connect (dialog, "response", G_CALLBACK (on_close_answer), self);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

void
pl_window_set_quiet_close (PlWindow *self, gboolean quiet)
{
  self->quiet_close = quiet;
}

/* ---- PNG of the window or a part ---- */

gboolean
pl_window_save_png (PlWindow *self, const char *part, const char *path, GError **error)
{
  GtkWidget *widget = GTK_WIDGET (self);
  if (part != NULL)
    {
      if (g_str_equal (part, "probability"))
        widget = GTK_WIDGET (self->probability_view);
      else if (g_str_equal (part, "input"))
        widget = GTK_WIDGET (self->input_view);
      else if (g_str_equal (part, "argmax"))
        widget = GTK_WIDGET (self->argmax_view);
      else if (g_str_equal (part, "loss"))
        widget = GTK_WIDGET (self->loss_plot);
    }
  return pl_widget_save_png (widget, path, error);
}

/* ---- life cycle ---- */

static void
pl_window_dispose (GObject *object)
{
  PlWindow *self = PL_WINDOW (object);
  if (self->loading != NULL)
    g_cancellable_cancel (self->loading);
  g_clear_object (&self->loading);
  /* Stops the worker from whatever it is doing. */
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_pointer (&self->trainer, pl_trainer_free);
  g_clear_pointer (&self->snapshot, pl_snapshot_unref);
  g_clear_pointer (&self->loss_data, pl_plot_data_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), PL_TYPE_WINDOW);
  G_OBJECT_CLASS (pl_window_parent_class)->dispose (object);
}

static void
pl_window_class_init (PlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = pl_window_dispose;
  window_class->close_request = pl_window_close_request;

  /* Referencing the resource keeps its object (and registration) in the static link. */
  (void) pl_get_resource ();
  g_type_ensure (PL_TYPE_IMAGE_VIEW);
  g_type_ensure (PL_TYPE_PLOT_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/patchlab/PatchLab/pl-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, PlWindow, name)
  BIND (dataset_dropdown);
  BIND (start_button);
  BIND (message_revealer);
  BIND (message_label);
  BIND (message_close);
  BIND (whole_check);
  BIND (patch_scale);
  BIND (patch_adjustment);
  BIND (patch_label);
  BIND (batch_spin);
  BIND (sampling_scale);
  BIND (fixed_terms_check);
  BIND (free_origin_check);
  BIND (lr_spin);
  BIND (truth_check);
  BIND (crops_check);
  BIND (keep_check);
  BIND (field_check);
  BIND (redundancy_check);
  BIND (zoom_dropdown);
  BIND (input_title);
  BIND (input_view);
  BIND (thumbnails);
  BIND (class_dropdown);
  BIND (probability_view);
  BIND (argmax_view);
  BIND (truth_view);
  BIND (legend);
  BIND (time_check);
  BIND (loss_plot);
  BIND (accuracy_plot);
  BIND (throughput_plot);
  BIND (status_label);
#undef BIND

  gtk_widget_class_install_action (widget_class, "win.train-toggle", NULL, action_train_toggle);
  gtk_widget_class_install_action (widget_class, "win.train-step", NULL, action_train_step);
  gtk_widget_class_install_action (widget_class, "win.train-reset", NULL, action_train_reset);
  gtk_widget_class_install_action (widget_class, "win.preset", "s", action_preset);
  gtk_widget_class_install_action (widget_class, "win.set-patch", "i", action_set_knob);
  gtk_widget_class_install_action (widget_class, "win.set-batch", "i", action_set_knob);
  gtk_widget_class_install_action (widget_class, "win.set-sampling", "d", action_set_knob);
  gtk_widget_class_install_action (widget_class, "win.set-lr", "d", action_set_knob);
  gtk_widget_class_install_action (widget_class, "win.set-free-origin", "b", action_set_knob);
  gtk_widget_class_install_action (widget_class, "win.save-checkpoint", NULL, action_save);
  gtk_widget_class_install_action (widget_class, "win.load-checkpoint", NULL, action_load);
  gtk_widget_class_install_action (widget_class, "win.open-dataset", NULL, action_open_dataset);
  gtk_widget_class_install_action (widget_class, "win.export-plot", "s", action_export_plot);
  gtk_widget_class_install_action (widget_class, "win.export-csv", NULL, action_export_csv);
  gtk_widget_class_install_action (widget_class, "win.compare", NULL, action_compare);
  gtk_widget_class_install_action (widget_class, "win.check-equivalence", NULL,
                                   action_check_equivalence);
}

static void
pl_window_init (PlWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  pl_knobs_init_default (&self->knobs);

  pl_image_view_set_overlays (self->input_view, PL_OVERLAY_CROPS | PL_OVERLAY_KEEP
                                                | PL_OVERLAY_FIELD);
  /* The template builds every view as an input view; give the outputs their modes. */
  pl_image_view_set_mode (self->probability_view, PL_SCENE_PROBABILITY);
  pl_image_view_set_mode (self->argmax_view, PL_SCENE_ARGMAX);
  pl_image_view_set_mode (self->truth_view, PL_SCENE_TRUTH);

  PlImageView *views[] = { self->input_view, self->probability_view, self->argmax_view,
                           self->truth_view };
  for (gsize v = 0; v < G_N_ELEMENTS (views); v++)
    g_signal_connect (views[v], "hover-cell", G_CALLBACK (on_hover_cell), self);

  GObject *knob_widgets[] = { G_OBJECT (self->patch_adjustment), G_OBJECT (self->batch_spin),
                              G_OBJECT (self->sampling_scale), G_OBJECT (self->lr_spin) };
  const char *knob_signals[] = { "value-changed", "value-changed", "value-changed",
                                 "value-changed" };
  for (gsize i = 0; i < G_N_ELEMENTS (knob_widgets); i++)
    g_signal_connect_swapped (knob_widgets[i], knob_signals[i],
                              G_CALLBACK (on_knob_widget_changed), self);
  GtkCheckButton *knob_checks[] = { self->whole_check, self->fixed_terms_check,
                                    self->free_origin_check };
  for (gsize i = 0; i < G_N_ELEMENTS (knob_checks); i++)
    g_signal_connect_swapped (knob_checks[i], "toggled", G_CALLBACK (on_knob_widget_changed),
                              self);
  GtkCheckButton *overlay_checks[] = { self->truth_check, self->crops_check, self->keep_check,
                                       self->field_check, self->redundancy_check };
  for (gsize i = 0; i < G_N_ELEMENTS (overlay_checks); i++)
    g_signal_connect_swapped (overlay_checks[i], "toggled", G_CALLBACK (on_overlay_toggled),
                              self);
  g_signal_connect_swapped (self->zoom_dropdown, "notify::selected",
                            G_CALLBACK (on_overlay_toggled), self);
  g_signal_connect_swapped (self->time_check, "toggled", G_CALLBACK (on_time_toggled), self);
  g_signal_connect_swapped (self->class_dropdown, "notify::selected",
                            G_CALLBACK (on_class_selected), self);
  g_signal_connect_swapped (self->dataset_dropdown, "notify::selected",
                            G_CALLBACK (on_dataset_selected), self);
  g_signal_connect (self->message_close, "clicked", G_CALLBACK (on_message_close), self);

  GtkDropTarget *drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  /* The built-in scenes are generated in a few milliseconds: no thread needed. */
  g_autoptr (GError) error = NULL;
  PlDataset *ds = pl_dataset_new_builtin (1, BUILTIN_TRAIN, BUILTIN_VAL, 0, &error);
  PlTrainer *trainer = ds != NULL ? new_trainer (self, ds, &error) : NULL;
  if (trainer == NULL)
    g_error ("the built-in dataset failed: %s", error->message);  /* a programming error */
  set_trainer (self, trainer);
}

PlWindow *
pl_window_new (GtkApplication *app)
{
  return g_object_new (PL_TYPE_WINDOW, "application", app, NULL);
}

PlTrainer *
pl_window_get_trainer (PlWindow *self)
{
  return self->trainer;
}
