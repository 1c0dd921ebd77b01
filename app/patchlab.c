/* patchlab.c — the GTK application: one window on the built-in dataset, ready to train.
 *
 *   patchlab                                  the window
 *   patchlab --screenshot out.png [--steps N] [--preset patchwise|fcn|sampled] [--part NAME]
 *                                             train N steps headlessly, write a PNG, quit
 *   patchlab --compare patch-vs-fcn|fig5      also open the side-by-side comparison (with
 *                                             --screenshot: N steps of each run, its PNG)
 */
#include <gtk/gtk.h>

#include "pl-compare-window.h"
#include "pl-widget-png.h"
#include "pl-window.h"

typedef struct {
  char *screenshot;
  char *compare;
  PlCompareWindow *compare_window;
  char *preset;
  char *part;
  int steps;
  int status;
  PlWindow *window;
  guint frames;
} Options;

static void
on_startup (GApplication *app, Options *o)
{
  static const struct {
    const char *action;
    const char *accels[2];
  } accels[] = {
    { "win.train-toggle", { "space", NULL } },
    { "win.train-step", { "s", NULL } },
    { "win.save-checkpoint", { "<Control>s", NULL } },
    { "win.open-dataset", { "<Control>o", NULL } },
    { "app.quit", { "<Control>q", NULL } },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
  GtkCssProvider *css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/patchlab/PatchLab/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref (css);
  gtk_window_set_default_icon_name ("org.patchlab.PatchLab");
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer app)
{
  /* Each window asks about unsaved weights before it goes. */
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
}

/* Screenshot mode: wait until the run reached its step and the preview shows it,
 * let two frames paint, then write the PNG and quit. */
static gboolean
compare_done (Options *o)
{
  for (int i = 0; pl_compare_window_get_trainer (o->compare_window, i) != NULL; i++)
    {
      g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (pl_compare_window_get_trainer (o->compare_window, i));
      if (pl_snapshot_get_step (s) < o->steps)
        return FALSE;
    }
  return TRUE;
}

static gboolean
compare_screenshot_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  Options *o = data;
  if (!compare_done (o))
    {
      o->frames = 0;
      return G_SOURCE_CONTINUE;
    }
  /* The window refreshes on a 200 ms timer: give it a few frames past that. */
  if (++o->frames < 30)
    return G_SOURCE_CONTINUE;
  g_autoptr (GError) error = NULL;
  if (!pl_widget_save_png (widget, o->screenshot, &error))
    {
      g_printerr ("patchlab: %s\n", error->message);
      o->status = 1;
    }
  gtk_window_destroy (GTK_WINDOW (o->compare_window));
  gtk_window_destroy (GTK_WINDOW (o->window));
  return G_SOURCE_REMOVE;
}

static gboolean
screenshot_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  Options *o = data;
  g_autoptr (PlSnapshot) s = pl_trainer_dup_snapshot (pl_window_get_trainer (o->window));
  gint64 preview_step = -1;
  gboolean has_preview = pl_snapshot_get_preview (s, NULL, &preview_step, NULL, NULL, NULL, NULL);
  if (pl_snapshot_get_step (s) < o->steps || (o->steps > 0 && (!has_preview || preview_step < o->steps)))
    return G_SOURCE_CONTINUE;
  if (++o->frames < 3)
    return G_SOURCE_CONTINUE;
  g_autoptr (GError) error = NULL;
  if (!pl_window_save_png (o->window, o->part, o->screenshot, &error))
    {
      g_printerr ("patchlab: %s\n", error->message);
      o->status = 1;
    }
  gtk_window_destroy (GTK_WINDOW (o->window));
  return G_SOURCE_REMOVE;
}

static void
on_activate (GApplication *app, Options *o)
{
  PlWindow *window = pl_window_new (GTK_APPLICATION (app));
  o->window = window;
  if (o->preset != NULL)
    pl_window_apply_preset (window, o->preset);
  gtk_window_present (GTK_WINDOW (window));
  if (o->compare != NULL)
    {
      o->compare_window = pl_compare_window_new (GTK_WINDOW (window));
      pl_compare_window_set_comparison (o->compare_window, g_str_equal (o->compare, "fig5")
                                                             ? PL_COMPARE_FIGURE5
                                                             : PL_COMPARE_PATCH_VS_FCN);
      gtk_window_present (GTK_WINDOW (o->compare_window));
    }
  if (o->screenshot == NULL)
    return;
  pl_window_set_quiet_close (window, TRUE);
  if (o->compare_window != NULL)
    {
      for (int i = 0; pl_compare_window_get_trainer (o->compare_window, i) != NULL; i++)
        for (int s = 0; s < o->steps; s++)
          pl_trainer_step (pl_compare_window_get_trainer (o->compare_window, i));
      gtk_widget_add_tick_callback (GTK_WIDGET (o->compare_window), compare_screenshot_tick, o,
                                    NULL);
      return;
    }
  PlTrainer *trainer = pl_window_get_trainer (window);
  for (int i = 0; i < o->steps; i++)
    pl_trainer_step (trainer);
  gtk_widget_add_tick_callback (GTK_WIDGET (window), screenshot_tick, o, NULL);
}

static int
on_options (GApplication *app, GVariantDict *dict, Options *o)
{
  if (o->screenshot == NULL && (o->steps > 0 || o->part != NULL))
    {
      g_printerr ("patchlab: --steps and --part go with --screenshot\n");
      return 2;
    }
  if (o->steps < 0 || o->steps > 100000)
    {
      g_printerr ("patchlab: --steps must be between 0 and 100000\n");
      return 2;
    }
  if (o->compare != NULL && !g_str_equal (o->compare, "patch-vs-fcn")
      && !g_str_equal (o->compare, "fig5"))
    {
      g_printerr ("patchlab: --compare is patch-vs-fcn or fig5\n");
      return 2;
    }
  if (o->preset != NULL && !g_str_equal (o->preset, "patchwise") && !g_str_equal (o->preset, "fcn")
      && !g_str_equal (o->preset, "sampled"))
    {
      g_printerr ("patchlab: --preset is patchwise, fcn or sampled\n");
      return 2;
    }
  return -1;  /* go on */
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  g_autoptr (GtkApplication) app = gtk_application_new ("org.patchlab.PatchLab",
                                                        G_APPLICATION_NON_UNIQUE);
  GOptionEntry entries[] = {
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &o.screenshot,
      "Train headlessly, write a PNG of the window and quit", "FILE" },
    { "steps", 'n', 0, G_OPTION_ARG_INT, &o.steps, "Steps to train before the screenshot", "N" },
    { "preset", 'p', 0, G_OPTION_ARG_STRING, &o.preset,
      "Start from a preset: patchwise, fcn or sampled", "NAME" },
    { "compare", 0, 0, G_OPTION_ARG_STRING, &o.compare,
      "Open the side-by-side comparison: patch-vs-fcn or fig5", "NAME" },
    { "part", 0, 0, G_OPTION_ARG_STRING, &o.part,
      "Screenshot one part: input, probability, argmax or loss", "NAME" },
    { NULL }
  };
  g_application_add_main_option_entries (G_APPLICATION (app), entries);
  static const GActionEntry app_actions[] = { { "quit", quit_activated, NULL, NULL, NULL } };
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  g_signal_connect (app, "startup", G_CALLBACK (on_startup), &o);
  g_signal_connect (app, "activate", G_CALLBACK (on_activate), &o);
  g_signal_connect (app, "handle-local-options", G_CALLBACK (on_options), &o);
  int status = g_application_run (G_APPLICATION (app), argc, argv);
  g_free (o.screenshot);
  g_free (o.preset);
  g_free (o.part);
  g_free (o.compare);
  return status != 0 ? status : o.status;
}
