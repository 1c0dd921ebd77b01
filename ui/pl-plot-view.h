/* pl-plot-view.h — a widget showing one PlPlotData (training curves) drawn by pl_plot_draw.
 * It owns a deep copy of the data; the window replaces it whenever new points arrive. */
#pragma once

#include <gtk/gtk.h>

#include "pl-plot.h"

G_BEGIN_DECLS

#define PL_TYPE_PLOT_VIEW (pl_plot_view_get_type ())
G_DECLARE_FINAL_TYPE (PlPlotView, pl_plot_view, PL, PLOT_VIEW, GtkWidget)

GtkWidget *pl_plot_view_new      (void);
/* Copies data (arrays and strings) and queues a redraw; NULL shows an empty plot. */
void       pl_plot_view_set_data (PlPlotView       *self,
                                  const PlPlotData *data);

G_END_DECLS
