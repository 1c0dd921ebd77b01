/* bench-ui.c — does the window stay responsive while it trains? A probe timer asks to
 * run every 5 ms; how late it runs is how long the main loop was busy (a stall). The
 * run trains at default knobs while the sampling slider is "dragged" (a new value every
 * 20 ms, as a pointer drag would give), for 10 s. Prints the 50th/99th percentile and
 * the worst stall. Target: 99th percentile under 16 ms (one frame at 60 Hz).
 * Run it through tools/bench/ui (it needs a display; that script starts Xvfb). */
#include <gtk/gtk.h>

#include "pl-window.h"

#include "bench-util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  GArray *lateness;   /* ms */
  gint64 last;
  GtkRange *slider;
  int ticks;
  GMainLoop *loop;
} Probe;

static gint64 paint_start;
static GArray *frame_ms;

static void
on_before_paint (GdkFrameClock *clock, gpointer data)
{
  paint_start = g_get_monotonic_time ();
}

static void
on_after_paint (GdkFrameClock *clock, gpointer data)
{
  double ms = (g_get_monotonic_time () - paint_start) / 1000.0;
  g_array_append_val (frame_ms, ms);
}

static gboolean
probe (gpointer data)
{
  Probe *p = data;
  gint64 now = g_get_monotonic_time ();
  double late = (now - p->last) / 1000.0 - 5.0;
  g_array_append_val (p->lateness, late);
  p->last = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
drag (gpointer data)
{
  Probe *p = data;
  p->ticks++;
  gtk_range_set_value (p->slider, 0.4 + 0.5 * (0.5 + 0.5 * sin (p->ticks / 10.0)));
  return G_SOURCE_CONTINUE;
}

static gboolean
stop (gpointer data)
{
  g_main_loop_quit (((Probe *) data)->loop);
  return G_SOURCE_REMOVE;
}

static GtkWidget *
find_scale (GtkWidget *widget, const char *label)
{
  /* The sampling slider is the scale labelled "Sampling ratio". */
  if (GTK_IS_SCALE (widget))
    {
      GValue value = G_VALUE_INIT;
      if (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget)) == GTK_ACCESSIBLE_ROLE_SLIDER
          && gtk_widget_get_sensitive (widget) && gtk_range_get_adjustment (GTK_RANGE (widget))
          && gtk_adjustment_get_upper (gtk_range_get_adjustment (GTK_RANGE (widget))) == 1.0)
        return widget;
      g_value_unset (&value);
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_scale (c, label);
      if (found)
        return found;
    }
  return NULL;
}

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? atof (argv[1]) : 10.0;
  gtk_init ();
  PlWindow *window = pl_window_new (NULL);
  pl_window_set_quiet_close (window, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  for (int i = 0; i < 50; i++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
  Probe p = { g_array_new (FALSE, FALSE, sizeof (double)), g_get_monotonic_time (), NULL, 0,
              g_main_loop_new (NULL, FALSE) };
  p.slider = GTK_RANGE (find_scale (GTK_WIDGET (window), "Sampling ratio"));
  g_assert (p.slider != NULL);
  frame_ms = g_array_new (FALSE, FALSE, sizeof (double));
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (clock, "layout", G_CALLBACK (on_before_paint), NULL);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.train-toggle", NULL);
  g_timeout_add (5, probe, &p);
  g_timeout_add (20, drag, &p);
  g_timeout_add ((guint) (seconds * 1000), stop, &p);
  p.last = g_get_monotonic_time ();
  g_main_loop_run (p.loop);

  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (pl_window_get_trainer (window));
  double *v = (double *) p.lateness->data;
  guint n = p.lateness->len;
  pl_bench_sort (v, n);
  printf ("%.0f s of training at default knobs, sampling slider moved every 20 ms "
          "(%d moves, %u knob edits recorded, %" G_GINT64_FORMAT " steps)\n", seconds, p.ticks,
          pl_snapshot_get_n_edits (s), pl_snapshot_get_step (s));
  printf ("main-loop stall (probe lateness): median %.2f ms, 99th percentile %.2f ms, worst "
          "%.2f ms over %u probes   (target: 99th percentile < 16 ms)\n", v[n / 2],
          v[(gsize) (0.99 * (n - 1))], v[n - 1], n);
  double *f = (double *) frame_ms->data;
  guint nf = frame_ms->len;
  pl_bench_sort (f, nf);
  printf ("frames (layout + paint, software renderer): %u, median %.2f ms, 99th percentile "
          "%.2f ms, worst %.2f ms\n", nf, f[nf / 2], f[(gsize) (0.99 * (nf - 1))], f[nf - 1]);
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
