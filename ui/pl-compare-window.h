/* pl-compare-window.h — two or three runs side by side: the same initial weights and data
 * order, each with its own live knobs; overlaid loss curves, a table of what each costs,
 * and the break-even sampling ratio p* measured from their step times. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PL_TYPE_COMPARE_WINDOW (pl_compare_window_get_type ())
G_DECLARE_FINAL_TYPE (PlCompareWindow, pl_compare_window, PL, COMPARE_WINDOW, GtkWindow)

typedef enum {
  PL_COMPARE_PATCH_VS_FCN,  /* patchwise (N = R, 64 crops) against whole images (B = 4) */
  PL_COMPARE_FIGURE5,       /* whole images, p = 1, 0.5, 0.25, images per step × 1/p */
} PlComparison;

PlCompareWindow *pl_compare_window_new (GtkWindow *parent);
void pl_compare_window_set_comparison (PlCompareWindow *self, PlComparison comparison);
/* The trainer of run i (borrowed), or NULL past the last run. */
struct _PlTrainer *pl_compare_window_get_trainer (PlCompareWindow *self, int i);

G_END_DECLS
