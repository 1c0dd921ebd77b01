/* pl-window.h — the PatchLab window: one training run, its input and outputs, plots
 * and the knobs that change it while it runs. It reads trainer snapshots and sends
 * commands; it never waits for the trainer (slow work runs in GTask threads). */
#pragma once

#include <gtk/gtk.h>

#include "pl-engine.h"

G_BEGIN_DECLS

#define PL_TYPE_WINDOW (pl_window_get_type ())
G_DECLARE_FINAL_TYPE (PlWindow, pl_window, PL, WINDOW, GtkApplicationWindow)

PlWindow  *pl_window_new (GtkApplication *app);
/* The run shown now (borrowed; replaced when the dataset changes). */
PlTrainer *pl_window_get_trainer (PlWindow *self);
/* Presets: "patchwise" (N = R), "fcn" (whole images), "sampled" (whole images,
 * p = 0.5, batch scaled by 1/p). */
void       pl_window_apply_preset (PlWindow *self, const char *preset);
/* Renders the whole window (or one named child: "probability", "input", …) to a PNG. */
gboolean   pl_window_save_png (PlWindow *self, const char *part, const char *path,
                               GError **error);
/* The message shown in the window's bar, or NULL when none is shown. */
const char *pl_window_get_message (PlWindow *self);
/* Closes without asking about unsaved weights (for scripted use and tests). */
void       pl_window_set_quiet_close (PlWindow *self, gboolean quiet);

G_END_DECLS
