/* pl-plot.h — line plots of training curves drawn with Cairo and Pango, no GTK.
 *
 * The window's PlPlotView, PNG/SVG export and the tests all call pl_plot_draw, so
 * what the tests check is what the user sees. A plot has series (lines, with NaN
 * points as gaps), optional vertical markers (knob changes, labelled at the top),
 * a title, axis labels, a legend and a light grid. Ticks use 1, 2, 5 × 10^k steps
 * (decades on a log axis) and compact labels (0.5, 1k, 2.5M, 1e-3).
 *
 * Cost: drawing decimates each series to at most four points per pixel column
 * (first, min, max, last of the column), so a spike of one sample stays visible; a
 * series still denser than the pixels is filled as one box per column instead of
 * stroked. 100k points draw in about 1 ms at 400×250 and 2 ms at 1000×600 (the
 * /plot/draw/timing test prints it).
 *
 * Threads: no global state of its own; Pango's default font map is per thread, so a
 * worker may export while the window draws.
 *
 * Ownership: PlPlotData only borrows its arrays and strings; pl_plot_data_copy
 * makes one block that owns copies of everything (free it with g_free or
 * pl_plot_data_free). Not for: computing the curves (that is the trainer's job),
 * interaction (zoom, hover).
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

#define PL_PLOT_ERROR (pl_plot_error_quark ())
GQuark pl_plot_error_quark (void);

typedef enum {
  PL_PLOT_ERROR_FORMAT,  /* the path's extension is neither .png nor .svg */
  PL_PLOT_ERROR_SIZE,    /* width or height outside [1, PL_PLOT_MAX_EXPORT_SIDE] */
  PL_PLOT_ERROR_IO,      /* creating, writing or renaming the file failed */
} PlPlotError;

#define PL_PLOT_MAX_EXPORT_SIDE 16384

typedef struct {
  const char *label;      /* legend text; NULL keeps the series out of the legend */
  double rgba[4];
  const double *x, *y;    /* [n]; points with a NaN x or y are gaps (the line breaks) */
  gsize n;
  gboolean dashed;
  double line_width;      /* 0 = default (1.5) */
} PlPlotSeries;

typedef struct {
  double x;
  const char *label;      /* may be NULL: a line without a label */
} PlPlotMarker;           /* a vertical line, labelled at the top of the plot */

typedef struct {
  const char *title, *x_label, *y_label;  /* each may be NULL */
  gboolean log_y;          /* only positive y drawn */
  double y_min, y_max;     /* NaN = automatic */
  const PlPlotSeries *series;
  guint n_series;
  const PlPlotMarker *markers;
  guint n_markers;
} PlPlotData;

/* Draws the whole plot, background included, into the rectangle (0, 0, width, height)
 * of cr's user space. Leaves cr's state as it found it. */
void pl_plot_draw (cairo_t          *cr,
                   const PlPlotData *data,
                   double            width,
                   double            height);

/* Writes a PNG or SVG (by the path's extension, case-insensitive; anything else is an
 * error naming the path), atomically: a temporary file in the same folder, then a
 * rename; on failure the target is untouched and no temporary file is left. */
gboolean pl_plot_export (const PlPlotData *data,
                         const char       *path,
                         int               width,
                         int               height,
                         GError          **error);

/* The same for a figure of n_panels plots side by side in one file, panel p drawn by
 * pl_plot_draw into the columns [p·width/n, (p + 1)·width/n) (e.g. loss against step
 * next to loss against time). */
gboolean pl_plot_export_panels (const PlPlotData *const *panels,
                                guint                    n_panels,
                                const char              *path,
                                int                      width,
                                int                      height,
                                GError                 **error);

/* "Nice" tick positions (1, 2, 5 × 10^k steps) covering [min, max]: the first tick is
 * <= min and the last >= max, at most max_ticks of them (the caller's ticks[] holds
 * max_ticks). Returns the count written. Equal endpoints are widened around the value;
 * reversed ones are swapped; non-finite ones give 0. With log, the ticks are decades
 * (every 1st, 2nd, 5th, 10th… decade so that they fit), and min must be > 0. */
guint pl_plot_nice_ticks (double   min,
                          double   max,
                          guint    max_ticks,
                          gboolean log,
                          double  *ticks);

/* A compact tick label for value on an axis whose ticks are step apart: "0.3" (never
 * "0.30000000000000004"), "1.5k", "2.5M", "1e-3", "−2". Free with g_free. */
char *pl_plot_format_tick (double value,
                           double step);

/* A deep copy in one allocation (arrays and strings included). */
PlPlotData *pl_plot_data_copy (const PlPlotData *data);
void        pl_plot_data_free (PlPlotData *data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlPlotData, pl_plot_data_free)

G_END_DECLS
