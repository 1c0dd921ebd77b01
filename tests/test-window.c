/* test-window.c — the PatchLab window under Xvfb: it opens on the built-in data,
 * trains 20 steps, a knob change sent through its action reaches the engine and its
 * history, the screenshot is not blank and its heatmap changes with training, and the
 * window closes cleanly in the middle of a run. */
#include <gtk/gtk.h>

#include "pl-compare-window.h"
#include "pl-window.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* Runs the main loop until cond (data) holds; fails after `seconds`. */
static void
wait_until (gboolean (*cond) (gpointer), gpointer data, double seconds, const char *what)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("timed out waiting for %s", what);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
is_drawn (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 600;
}

typedef struct {
  PlWindow *window;
  gint64 step;
} StepWait;

static gboolean
reached_step (gpointer data)
{
  StepWait *w = data;
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (pl_window_get_trainer (w->window));
  gint64 preview = -1;
  pl_snapshot_get_preview (s, NULL, &preview, NULL, NULL, NULL, NULL);
  return pl_snapshot_get_step (s) >= w->step && preview >= w->step;
}

typedef struct {
  PlWindow *window;
  const char *fragment;
} MessageWait;

static gboolean
message_says (gpointer data)
{
  MessageWait *w = data;
  const char *message = pl_window_get_message (w->window);
  return message != NULL && strstr (message, w->fragment) != NULL;
}

/* RGBA pixels of a PNG the window wrote. */
static GBytes *
png_pixels (const char *path, int *width, int *height)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  *width = gdk_texture_get_width (texture);
  *height = gdk_texture_get_height (texture);
  gsize stride = (gsize) *width * 4;
  guint8 *data = g_malloc (stride * *height);
  gdk_texture_download (texture, data, stride);
  return g_bytes_new_take (data, stride * *height);
}

static void
test_opens_trains_and_changes_knobs (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("patchlab-window-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *heat0 = g_build_filename (dir, "heat0.png", NULL);
  g_autofree char *heat20 = g_build_filename (dir, "heat20.png", NULL);
  g_autofree char *window_png = g_build_filename (dir, "window.png", NULL);

  PlWindow *window = pl_window_new (NULL);
  pl_window_set_quiet_close (window, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  wait_until (is_drawn, window, 30, "the window to show");
  PlTrainer *trainer = pl_window_get_trainer (window);
  g_assert_nonnull (trainer);
  g_assert_cmpuint (pl_trainer_get_dataset (trainer)->n_classes, ==, 4);  /* built-in data */

  StepWait at0 = { window, 0 };
  wait_until (reached_step, &at0, 30, "the first preview");
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  pl_window_save_png (window, "probability", heat0, &error);
  g_assert_no_error (error);

  for (int i = 0; i < 20; i++)
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-step", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.set-sampling", "d", 0.5));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-step", NULL));
  StepWait at21 = { window, 21 };
  wait_until (reached_step, &at21, 120, "21 steps");

  /* The knob change reached the engine at the step boundary and is in its history. */
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (trainer);
  g_assert_cmpuint (pl_snapshot_get_n_edits (s), ==, 2);
  const PlKnobEdit *edit = pl_snapshot_get_edit (s, 1);
  g_assert_cmpint (edit->step, ==, 21);
  g_assert_cmpfloat (edit->knobs.sampling, ==, 0.5);
  const PlStepMetrics *before = pl_snapshot_get_metrics (s, 19), *after = pl_snapshot_get_metrics (s, 20);
  g_test_message ("loss terms: %" G_GINT64_FORMAT " at step 20, %" G_GINT64_FORMAT " at step 21",
                  before->terms, after->terms);
  g_assert_cmpint (after->terms, <, 0.75 * before->terms);

  /* The heatmap changed with training; the window is not blank. */
  gtk_test_widget_wait_for_draw (GTK_WIDGET (window));
  g_assert_true (pl_window_save_png (window, "probability", heat20, &error));
  g_assert_true (pl_window_save_png (window, NULL, window_png, &error));
  int w0, h0, w1, h1, ww, wh;
  g_autoptr (GBytes) a = png_pixels (heat0, &w0, &h0);
  g_autoptr (GBytes) b = png_pixels (heat20, &w1, &h1);
  g_assert_cmpint (w0, ==, w1);
  g_assert_cmpint (h0, ==, h1);
  const guint8 *pa = g_bytes_get_data (a, NULL), *pb = g_bytes_get_data (b, NULL);
  gsize changed = 0;
  for (gsize i = 0; i < (gsize) w0 * h0; i++)
    changed += memcmp (pa + 4 * i, pb + 4 * i, 3) != 0;
  g_test_message ("%" G_GSIZE_FORMAT " of %d heatmap pixels changed in 21 steps", changed, w0 * h0);
  g_assert_cmpuint (changed, >, (gsize) w0 * h0 / 20);

  g_autoptr (GBytes) shot = png_pixels (window_png, &ww, &wh);
  const guint8 *ps = g_bytes_get_data (shot, NULL);
  g_autoptr (GHashTable) colours = g_hash_table_new (NULL, NULL);
  for (gsize i = 0; i < (gsize) ww * wh; i += 7)
    g_hash_table_add (colours, GUINT_TO_POINTER ((ps[4 * i] << 16) | (ps[4 * i + 1] << 8) | ps[4 * i + 2]));
  g_test_message ("window %d×%d, %u distinct colours", ww, wh, g_hash_table_size (colours));
  g_assert_cmpint (ww, >, 800);
  g_assert_cmpuint (g_hash_table_size (colours), >, 200);

  /* The equivalence, live: on this step's cells, aligned, then shifted off the grid. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.check-equivalence", NULL));
  MessageWait aligned = { window, "the same up to float rounding" };
  wait_until (message_says, &aligned, 120, "the equivalence result");
  g_test_message ("%s", pl_window_get_message (window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.set-free-origin", "b", TRUE));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.check-equivalence", NULL));
  MessageWait shifted = { window, "off the J = 4 grid" };
  wait_until (message_says, &shifted, 120, "the shifted equivalence result");
  g_test_message ("%s", pl_window_get_message (window));

  gtk_window_destroy (GTK_WINDOW (window));
  const char *files[] = { heat0, heat20, window_png };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    g_assert_cmpint (g_remove (files[i]), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static gboolean
is_running (gpointer data)
{
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (pl_window_get_trainer (data));
  return pl_snapshot_get_step (s) >= 5;
}

static void
test_closes_cleanly_mid_run (void)
{
  PlWindow *window = pl_window_new (NULL);
  pl_window_set_quiet_close (window, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  wait_until (is_drawn, window, 30, "the window to show");
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.train-toggle", NULL));
  wait_until (is_running, window, 60, "training to run");
  gtk_window_close (GTK_WINDOW (window));  /* through close-request, as the user would */
  for (int i = 0; i < 100 && window != NULL; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (1000);
    }
  g_assert_null (window);  /* disposed: its trainer was stopped and freed */
}

static gboolean
all_runs_stepped (gpointer data)
{
  PlCompareWindow *compare = data;
  for (int i = 0; pl_compare_window_get_trainer (compare, i) != NULL; i++)
    {
      g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (pl_compare_window_get_trainer (compare, i));
      if (pl_snapshot_get_step (s) < 12)
        return FALSE;
    }
  return TRUE;
}

/* Compare mode: the Figure 5 arms start, run side by side, keep the expected number of
 * loss terms fixed (images per step × 1/p), and stop cleanly when the window goes. */
static void
test_compare_mode (void)
{
  PlCompareWindow *compare = pl_compare_window_new (NULL);
  pl_compare_window_set_comparison (compare, PL_COMPARE_FIGURE5);
  gtk_window_present (GTK_WINDOW (compare));
  g_assert_nonnull (pl_compare_window_get_trainer (compare, 2));
  g_assert_null (pl_compare_window_get_trainer (compare, 3));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (compare), "compare.toggle", NULL));
  wait_until (all_runs_stepped, compare, 120, "every run to take 12 steps");

  double terms[3];
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (pl_compare_window_get_trainer (compare, i));
      gint64 sum = 0;
      for (guint k = 0; k < 12; k++)
        sum += pl_snapshot_get_metrics (s, k)->terms;
      terms[i] = sum / 12.0;
      g_test_message ("arm %d: p = %.2f, %.0f loss terms per step", i,
                      pl_snapshot_get_knobs (s)->sampling, terms[i]);
    }
  g_assert_cmpfloat (fabs (terms[1] / terms[0] - 1), <, 0.25);
  g_assert_cmpfloat (fabs (terms[2] / terms[0] - 1), <, 0.25);

  g_object_add_weak_pointer (G_OBJECT (compare), (gpointer *) &compare);
  gtk_window_destroy (GTK_WINDOW (compare));  /* while the runs are going */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (compare);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  g_test_add_func ("/window/opens-trains-and-changes-knobs", test_opens_trains_and_changes_knobs);
  g_test_add_func ("/window/closes-cleanly-mid-run", test_closes_cleanly_mid_run);
  g_test_add_func ("/window/compare-mode", test_compare_mode);
  return g_test_run ();
}
