/* pl-plot.c — line plots with Cairo and Pango: ranges, ticks, layout, decimation, drawing
 * and PNG/SVG export. Nothing here needs a display or GTK; the widget is pl-plot-view.c.
 *
 * A draw is two steps: plan_build computes everything in device units (plot area, ticks
 * and their labels, decimated polylines, marker label rows, where the legend goes), then
 * plan_draw only paints. The legend goes in the first corner of the plot area that no
 * line or marker label crosses; when there is none it gets a strip above the plot, and
 * the plan is built again for the smaller area.
 */
#include "pl-plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <cairo-svg.h>
#include <glib/gstdio.h>
#include <pango/pangocairo.h>

G_DEFINE_QUARK (pl-plot-error-quark, pl_plot_error)

#define FONT               "Sans 9"
#define TITLE_FONT         "Sans Bold 10"
#define SMALL_FONT         "Sans 8"
#define MAX_TICKS          24
#define MAX_MINOR          96
#define PAD                8.0   /* around everything */
#define TICK_LEN           4.0
#define DEFAULT_LINE_WIDTH 1.5
#define SAMPLE_W           22.0  /* the line sample in a legend entry */
/* Device coordinates are clamped to this: Cairo's 24.8 fixed point wraps near 8e6, and a
 * point far outside an explicit y range must still leave the plot at the right angle. */
#define COORD_LIMIT        1e6
/* Legend corner search: line-column intersections a corner may have before it counts as
 * covered; and a cap on occupancy work so unsorted x cannot make it quadratic. */
#define OCC_WORK_PER_COLUMN 64

/* ---------------------------------------------------------------------------------- */
/* Ticks and their labels                                                             */

/* Widens an empty range (or one narrower than double precision can split into ticks)
 * around its centre. */
static void
widen_degenerate (double *min, double *max)
{
  double mag = MAX (fabs (*min), fabs (*max));
  if (*max - *min > mag * 1e-12 && *max > *min)
    return;
  double v = 0.5 * (*min + *max);
  double d = fabs (v) * 0.1;
  if (d == 0 || !isfinite (d))
    d = 1;
  *min = v - d;
  *max = v + d;
}

/* 10^k for an integer k: exactly the double nearest 1ek, which neither 1 / 10^-k nor
 * glibc's pow (10, 23) is. Only called for ticks and labels, never per data point. */
static double
pow10i (int k)
{
  char text[16];
  g_snprintf (text, sizeof text, "1e%d", k);
  return g_ascii_strtod (text, NULL);
}

static guint
nice_ticks_linear (double min, double max, guint max_ticks, double *ticks)
{
  static const int mults[] = { 1, 2, 5 };

  if (max_ticks < 3)
    return 0;
  widen_degenerate (&min, &max);
  double span = max - min;
  if (!isfinite (span))
    return 0;
  int e = (int) floor (log10 (span / (max_ticks - 1)));
  /* A step of 10^(e+2) is over ten times the smallest one that could fit, so with
   * max_ticks >= 3 the loop always finds a step. */
  for (int k = e - 1; k <= e + 3; k++)
    for (guint m = 0; m < G_N_ELEMENTS (mults); m++)
      {
        double step = mults[m] * pow10i (k);
        /* A small tolerance so 0.3 / 0.1 = 2.9999999999999996 counts as 3. */
        double i0 = floor (min / step + 1e-9);
        double i1 = ceil (max / step - 1e-9);
        if (i1 - i0 + 1 > max_ticks)
          continue;
        guint n = 0;
        for (double i = i0; i <= i1; i++)
          {
            /* i·m / 10^-k rounds once, so 3 × 0.1 comes out as 0.3. */
            double v = k >= 0 ? i * mults[m] * pow10i (k) : i * mults[m] / pow10i (-k);
            ticks[n++] = i == 0 ? 0.0 : v;
          }
        return n;
      }
  return 0;
}

static guint
nice_ticks_log (double min, double max, guint max_ticks, double *ticks)
{
  static const int steps[] = { 1, 2, 5, 10, 20, 50, 100, 200, 500 };

  if (max_ticks < 2 || !(min > 0) || !(max > 0))
    return 0;
  double d0 = floor (log10 (min) + 1e-9);
  double d1 = ceil (log10 (max) - 1e-9);
  if (d1 <= d0)
    d1 = d0 + 1;
  for (guint s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      double i0 = floor (d0 / steps[s]), i1 = ceil (d1 / steps[s]);
      if (i1 - i0 + 1 > max_ticks)
        continue;
      guint n = 0;
      for (double i = i0; i <= i1; i++)
        ticks[n++] = pow10i ((int) (i * steps[s]));
      return n;
    }
  return 0;
}

guint
pl_plot_nice_ticks (double min, double max, guint max_ticks, gboolean log, double *ticks)
{
  g_return_val_if_fail (ticks != NULL || max_ticks == 0, 0);

  if (!isfinite (min) || !isfinite (max))
    return 0;
  if (min > max)
    {
      double t = min;
      min = max;
      max = t;
    }
  return log ? nice_ticks_log (min, max, max_ticks, ticks)
             : nice_ticks_linear (min, max, max_ticks, ticks);
}

/* Formats a with the given number of decimals, then drops trailing zeros and a lone
 * point. ASCII digits and '.', whatever the locale, so exports read the same anywhere. */
static void
format_fixed (char *buf, gsize len, double a, int decimals)
{
  char fmt[16];
  g_snprintf (fmt, sizeof fmt, "%%.%df", CLAMP (decimals, 0, 12));
  g_ascii_formatd (buf, len, fmt, a);
  if (strchr (buf, '.') != NULL)
    {
      char *end = buf + strlen (buf) - 1;
      while (*end == '0')
        *end-- = '\0';
      if (*end == '.')
        *end = '\0';
    }
}

/* Decimals needed to tell apart multiples of step (1, 2 and 5 × 10^k). */
static int
decimals_for (double step)
{
  return MAX (0, (int) -floor (log10 (step) + 1e-9));
}

char *
pl_plot_format_tick (double value, double step)
{
  static const struct { double scale; const char *suffix; } si[] = {
    { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" },
  };
  char num[64];

  if (isnan (value))
    return g_strdup ("NaN");
  if (isinf (value))
    return g_strdup (value > 0 ? "∞" : "−∞");
  step = fabs (step);
  if (!(step > 0) || !isfinite (step))
    step = fabs (value);
  if (value == 0 || fabs (value) < step * 1e-6)
    return g_strdup ("0");

  double a = fabs (value);
  const char *sign = value < 0 ? "−" : "";  /* U+2212: as wide as '+' */
  if (a >= 1e15 || a < 0.01)
    {
      int e = (int) floor (log10 (a));
      int decimals = CLAMP (e - (int) floor (log10 (step) + 1e-9), 0, 6);
      double mant = a / pow10i (e);
      double unit = pow10i (-decimals);
      mant = round (mant / unit) * unit;
      if (mant >= 10)
        {
          mant /= 10;
          e++;
        }
      else if (mant < 1)  /* log10 rounding just below a power of ten */
        {
          mant *= 10;
          e--;
        }
      format_fixed (num, sizeof num, mant, decimals);
      return g_strdup_printf ("%s%se%d", sign, num, e);
    }
  for (guint i = 0; i < G_N_ELEMENTS (si); i++)
    if (a >= si[i].scale)
      {
        format_fixed (num, sizeof num, a / si[i].scale, decimals_for (step / si[i].scale));
        return g_strdup_printf ("%s%s%s", sign, num, si[i].suffix);
      }
  format_fixed (num, sizeof num, a, decimals_for (step));
  return g_strdup_printf ("%s%s", sign, num);
}

/* ---------------------------------------------------------------------------------- */
/* Text                                                                               */

typedef struct {
  PangoLayout *layout;
  PangoFontDescription *font, *title_font, *small_font;
  double line_h;        /* logical height of a line in FONT */
  double small_h;
} Ink;

static void
ink_init (Ink *ink, cairo_t *cr)
{
  ink->layout = pango_cairo_create_layout (cr);
  ink->font = pango_font_description_from_string (FONT);
  ink->title_font = pango_font_description_from_string (TITLE_FONT);
  ink->small_font = pango_font_description_from_string (SMALL_FONT);
  pango_layout_set_single_paragraph_mode (ink->layout, TRUE);
}

static void
ink_clear (Ink *ink)
{
  g_clear_object (&ink->layout);
  g_clear_pointer (&ink->font, pango_font_description_free);
  g_clear_pointer (&ink->title_font, pango_font_description_free);
  g_clear_pointer (&ink->small_font, pango_font_description_free);
}

/* Sets the layout's text; max_w > 0 ellipsizes at the end. Returns its logical size. */
static void
ink_set (Ink *ink, const PangoFontDescription *font, const char *text, double max_w,
         double *w, double *h)
{
  PangoRectangle logical;

  pango_layout_set_font_description (ink->layout, font);
  pango_layout_set_text (ink->layout, text, -1);
  if (max_w > 0)
    {
      pango_layout_set_width (ink->layout, (int) (max_w * PANGO_SCALE));
      pango_layout_set_ellipsize (ink->layout, PANGO_ELLIPSIZE_END);
    }
  else
    {
      pango_layout_set_width (ink->layout, -1);
      pango_layout_set_ellipsize (ink->layout, PANGO_ELLIPSIZE_NONE);
    }
  pango_layout_get_pixel_extents (ink->layout, NULL, &logical);
  if (w != NULL)
    *w = MIN (logical.width, max_w > 0 ? max_w : G_MAXDOUBLE);
  if (h != NULL)
    *h = logical.height;
}

static double
ink_width (Ink *ink, const PangoFontDescription *font, const char *text)
{
  double w;
  ink_set (ink, font, text, 0, &w, NULL);
  return w;
}

/* Shows the layout as last set, its logical top-left at (x, y). */
static void
ink_show (Ink *ink, cairo_t *cr, double x, double y)
{
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, ink->layout);
}

/* ---------------------------------------------------------------------------------- */
/* Plan                                                                               */

typedef struct {
  double lo, hi;               /* visible range, data units */
  gboolean log;
  guint n_ticks;
  double ticks[MAX_TICKS];     /* labelled, inside [lo, hi] */
  char *labels[MAX_TICKS];
  double max_label_w;
  guint n_minor;
  double minor[MAX_MINOR];     /* grid only (log axes) */
  double scale, offset;        /* device = offset + scale · (log ? log10 (v) : v) */
} Axis;

typedef struct {
  double x, y;
  gboolean move;               /* starts a new sub-path */
} PPoint;

typedef struct {
  PPoint *pts;
  gsize n;
} Poly;

typedef struct {
  double x, y, w, h;           /* the box behind the text */
  guint marker;
} MarkerLabel;

typedef enum {
  LEGEND_NONE,
  LEGEND_INSIDE,
  LEGEND_OUTSIDE,
  LEGEND_WANTS_OUTSIDE,        /* no free corner: build the plan again */
} LegendPlace;

typedef struct {
  double x_lo, x_hi, y_lo, y_hi;  /* over drawable points (and marker x) */
  gboolean has_data;
  gboolean has_x;
} Ranges;

typedef struct {
  double width, height;
  double ax0, ay0, ax1, ay1;   /* plot area: left, top, right, bottom */
  double title_y, legend_y, x_ticks_y, x_label_y, y_label_x;
  Axis x, y;
  Poly *polys;                 /* [n_series] */
  MarkerLabel *mlabels;
  guint n_mlabels;
  guint n_label_compromises;   /* marker labels that cover a line or had no room */
  /* Legend */
  LegendPlace legend;
  double lg_x, lg_y, lg_w, lg_h;  /* inside; with WANTS_OUTSIDE, the least covered corner */
  gboolean lg_fits;               /* an inside legend would fit in the plot area */
  double lg_label_max_w;
  /* Occupancy of each pixel column of the plot area by lines: [occ_lo, occ_hi]. */
  float *occ_lo, *occ_hi;
  int n_cols;
  gsize occ_work;
  gboolean occ_saturated;
} Plan;

static void
axis_clear (Axis *a)
{
  for (guint i = 0; i < a->n_ticks; i++)
    g_clear_pointer (&a->labels[i], g_free);
  a->n_ticks = 0;
  a->n_minor = 0;
}

static void
axis_set_map (Axis *a, double p0, double p1)
{
  double t0 = a->log ? log10 (a->lo) : a->lo;
  double t1 = a->log ? log10 (a->hi) : a->hi;
  a->scale = (p1 - p0) / (t1 - t0);
  a->offset = p0 - t0 * a->scale;
}

static inline double
clamp_coord (double v)
{
  return CLAMP (v, -COORD_LIMIT, COORD_LIMIT);
}

static inline double
axis_map (const Axis *a, double v)
{
  return clamp_coord (a->offset + a->scale * (a->log ? log10 (v) : v));
}

static void
axis_add_tick (Axis *a, double v, double step)
{
  if (a->n_ticks >= MAX_TICKS)
    return;
  a->ticks[a->n_ticks] = v;
  a->labels[a->n_ticks] = pl_plot_format_tick (v, step);
  a->n_ticks++;
}

/* A linear axis over [lo, hi] with at most max_ticks labelled ticks; with extend the
 * range grows to the outer ticks (y axes: the curve ends on a grid line). */
static void
axis_linear (Axis *a, double lo, double hi, guint max_ticks, gboolean extend)
{
  double t[MAX_TICKS];

  axis_clear (a);
  a->log = FALSE;
  widen_degenerate (&lo, &hi);
  guint n = pl_plot_nice_ticks (lo, hi, CLAMP (max_ticks, 3, MAX_TICKS), FALSE, t);
  a->lo = lo;
  a->hi = hi;
  if (n < 2)
    return;
  double step = (t[n - 1] - t[0]) / (n - 1);
  if (extend)
    {
      a->lo = t[0];
      a->hi = t[n - 1];
    }
  double eps = step * 1e-6;
  for (guint i = 0; i < n; i++)
    if (t[i] >= a->lo - eps && t[i] <= a->hi + eps)
      axis_add_tick (a, t[i], step);
}

/* A log axis over [lo, hi] (both > 0), padded by 5 % of its span in log space. Labelled
 * ticks are decades; with fewer than three inside, 1-2-5 multiples if they fit; with
 * fewer than two of either, linear ticks. Minor grid lines at 2…9 × 10^k when a decade
 * is at least 40 pixels long (the axis is length_px long). */
static void
axis_log (Axis *a, double lo, double hi, guint max_ticks, gboolean pad, double length_px)
{
  double t[MAX_TICKS];

  axis_clear (a);
  a->log = TRUE;
  double l0 = log10 (lo), l1 = log10 (hi);
  if (pad)
    {
      double p = MAX (0.05 * (l1 - l0), 0.05);
      l0 -= p;
      l1 += p;
    }
  else if (l1 - l0 < 1e-9)
    {
      l0 -= 0.05;
      l1 += 0.05;
    }
  a->lo = pow (10, l0);
  a->hi = pow (10, l1);
  max_ticks = CLAMP (max_ticks, 2, MAX_TICKS);

  double in[MAX_TICKS];
  guint n_in = 0;
  guint n = pl_plot_nice_ticks (a->lo, a->hi, max_ticks, TRUE, t);
  for (guint i = 0; i < n; i++)
    if (t[i] >= a->lo * (1 - 1e-9) && t[i] <= a->hi * (1 + 1e-9))
      in[n_in++] = t[i];
  if (n_in < 3)
    {
      static const int mults[] = { 1, 2, 5 };
      double decades[MAX_TICKS];
      guint n_decades = n_in;
      memcpy (decades, in, n_in * sizeof *in);
      n_in = 0;
      for (int d = (int) floor (l0); d <= (int) ceil (l1) && n_in < MAX_TICKS; d++)
        for (guint m = 0; m < G_N_ELEMENTS (mults) && n_in < MAX_TICKS; m++)
          {
            double v = mults[m] * pow10i (d);
            if (v >= a->lo && v <= a->hi)
              in[n_in++] = v;
          }
      if (n_in > max_ticks)
        {
          memcpy (in, decades, n_decades * sizeof *in);
          n_in = n_decades;
        }
    }
  if (n_in >= 2)
    for (guint i = 0; i < n_in; i++)
      axis_add_tick (a, in[i], in[i]);
  else
    {
      /* Less than a factor of ~2.5 between the ends: linear ticks read best. */
      n = pl_plot_nice_ticks (a->lo, a->hi, CLAMP (max_ticks, 3, MAX_TICKS), FALSE, t);
      double step = n >= 2 ? (t[n - 1] - t[0]) / (n - 1) : 0;
      for (guint i = 0; i < n; i++)
        if (t[i] > 0 && t[i] >= a->lo && t[i] <= a->hi)
          axis_add_tick (a, t[i], step);
    }

  if (length_px / (l1 - l0) >= 40)
    for (int d = (int) floor (l0); d <= (int) ceil (l1); d++)
      for (int m = 2; m <= 9 && a->n_minor < MAX_MINOR; m++)
        {
          double v = m * pow10i (d);
          if (v > a->lo && v < a->hi)
            a->minor[a->n_minor++] = v;
        }
}

static void
axis_measure (Axis *a, Ink *ink)
{
  a->max_label_w = 0;
  for (guint i = 0; i < a->n_ticks; i++)
    a->max_label_w = MAX (a->max_label_w, ink_width (ink, ink->font, a->labels[i]));
}

static gboolean
point_drawable (const PlPlotData *data, double x, double y)
{
  return isfinite (x) && isfinite (y) && (!data->log_y || y > 0);
}

static void
ranges_compute (Ranges *r, const PlPlotData *data)
{
  r->x_lo = r->y_lo = G_MAXDOUBLE;
  r->x_hi = r->y_hi = -G_MAXDOUBLE;
  r->has_data = FALSE;
  for (guint s = 0; s < data->n_series; s++)
    {
      const PlPlotSeries *series = &data->series[s];
      for (gsize i = 0; i < series->n; i++)
        {
          double x = series->x[i], y = series->y[i];
          if (!point_drawable (data, x, y))
            continue;
          r->x_lo = MIN (r->x_lo, x);
          r->x_hi = MAX (r->x_hi, x);
          r->y_lo = MIN (r->y_lo, y);
          r->y_hi = MAX (r->y_hi, y);
          r->has_data = TRUE;
        }
    }
  r->has_x = r->has_data;
  for (guint m = 0; m < data->n_markers; m++)
    if (isfinite (data->markers[m].x))
      {
        r->x_lo = MIN (r->x_lo, data->markers[m].x);
        r->x_hi = MAX (r->x_hi, data->markers[m].x);
        r->has_x = TRUE;
      }
  if (!r->has_x)
    {
      r->x_lo = 0;
      r->x_hi = 1;
    }
  if (!r->has_data)
    {
      r->y_lo = data->log_y ? 1 : 0;
      r->y_hi = data->log_y ? 10 : 1;
    }
}

/* Sets the y axis from the data range and the explicit limits, for a plot area of
 * height plot_h. */
static void
plan_y_axis (Plan *plan, Ink *ink, const PlPlotData *data, const Ranges *r, double plot_h)
{
  double lo = r->y_lo, hi = r->y_hi;
  gboolean fixed_lo = isfinite (data->y_min) && (!data->log_y || data->y_min > 0);
  gboolean fixed_hi = isfinite (data->y_max) && (!data->log_y || data->y_max > 0);
  guint max_ticks = (guint) CLAMP (plot_h / (ink->line_h * 1.6) + 1, 3, 12);

  if (fixed_lo)
    lo = data->y_min;
  if (fixed_hi)
    hi = data->y_max;
  if (lo > hi)
    {
      /* One fixed limit on the wrong side of the data: keep the fixed one. */
      if (fixed_lo && !fixed_hi)
        hi = lo;
      else if (fixed_hi && !fixed_lo)
        lo = hi;
      else
        {
          double t = lo;
          lo = hi;
          hi = t;
        }
    }
  if (data->log_y)
    {
      if (lo == hi && (fixed_lo || fixed_hi))
        {
          lo /= 10;
          hi *= 10;
        }
      axis_log (&plan->y, lo, hi, max_ticks, !(fixed_lo && fixed_hi), plot_h);
    }
  else
    axis_linear (&plan->y, lo, hi, max_ticks, !(fixed_lo && fixed_hi));
  /* Half-fixed: the fixed end stays where it was put. */
  if (!data->log_y && (fixed_lo != fixed_hi))
    {
      Axis *a = &plan->y;
      double want_lo = fixed_lo ? lo : a->lo, want_hi = fixed_hi ? hi : a->hi;
      if (want_lo < want_hi && (want_lo != a->lo || want_hi != a->hi))
        axis_linear (a, want_lo, want_hi, max_ticks, FALSE);
    }
  axis_measure (&plan->y, ink);
}

/* The x axis: the data range exactly, ticks inside it, as many as fit without the
 * labels touching. */
static void
plan_x_axis (Plan *plan, Ink *ink, const Ranges *r, double plot_w)
{
  double lo = r->x_lo, hi = r->x_hi;
  widen_degenerate (&lo, &hi);
  char *a = pl_plot_format_tick (lo, (hi - lo) / 4);
  char *b = pl_plot_format_tick (hi, (hi - lo) / 4);
  double guess_w = MAX (ink_width (ink, ink->font, a), ink_width (ink, ink->font, b));
  g_free (a);
  g_free (b);

  guint max_ticks = (guint) CLAMP (plot_w / (guess_w + 28) + 1, 3, 12);
  for (;; max_ticks--)
    {
      axis_linear (&plan->x, lo, hi, max_ticks, FALSE);
      axis_measure (&plan->x, ink);
      if (max_ticks <= 3 || plan->x.n_ticks < 2)
        break;
      double gap_px = (plan->x.ticks[1] - plan->x.ticks[0]) / (hi - lo) * plot_w;
      if (gap_px >= plan->x.max_label_w + 12)
        break;
    }
}

/* Widens [lo[c], hi[c]] of each pixel column c (x in [ax0 + c, ax0 + c + 1)) that the
 * segment crosses to the segment's y range within that column. */
static void
spans_add_segment (float *lo, float *hi, int n_cols, double ax0, double x0, double y0,
                   double x1, double y1)
{
  if (x1 < x0)
    {
      double t = x0;
      x0 = x1;
      x1 = t;
      t = y0;
      y0 = y1;
      y1 = t;
    }
  int c0 = (int) CLAMP (floor (x0 - ax0), 0, n_cols - 1);
  int c1 = (int) CLAMP (floor (x1 - ax0), 0, n_cols - 1);
  double slope = x1 > x0 ? (y1 - y0) / (x1 - x0) : 0;
  for (int c = c0; c <= c1; c++)
    {
      double ya = y0, yb = y1;
      if (x1 > x0)
        {
          double xa = MAX (x0, ax0 + c), xb = MIN (x1, ax0 + c + 1);
          ya = y0 + slope * (xa - x0);
          yb = y0 + slope * (xb - x0);
        }
      lo[c] = MIN (lo[c], (float) MIN (ya, yb));
      hi[c] = MAX (hi[c], (float) MAX (ya, yb));
    }
}

/* How many pixel columns a segment from x0 to x1 touches. */
static gsize
columns_touched (double x0, double x1)
{
  return (gsize) fabs (floor (x1) - floor (x0)) + 1;
}

/* Marks the columns a segment crosses as occupied over the segment's y range there. */
static void
occ_segment (Plan *plan, double x0, double y0, double x1, double y1)
{
  if (plan->occ_saturated)
    return;
  plan->occ_work += columns_touched (MAX (x0, plan->ax0 - 1), MAX (x1, plan->ax0 - 1));
  if (plan->occ_work > (gsize) plan->n_cols * OCC_WORK_PER_COLUMN)
    {
      plan->occ_saturated = TRUE;
      return;
    }
  spans_add_segment (plan->occ_lo, plan->occ_hi, plan->n_cols, plan->ax0, x0, y0, x1, y1);
}

/* M4 decimation: per pixel column, the first, lowest, highest and last point, in the
 * order they came. Consecutive columns join as the full data would, and the column
 * holding a one-sample spike keeps it. */
typedef struct {
  gsize i;
  double x, y;
} Sample;

typedef struct {
  Plan *plan;
  Poly *poly;
  gboolean pen_down;
  gboolean active;
  double col;
  Sample first, lo, hi, last;
} Decimator;

static void
dec_emit (Decimator *d, const Sample *s)
{
  Poly *poly = d->poly;
  if (d->pen_down)
    {
      const PPoint *prev = &poly->pts[poly->n - 1];
      occ_segment (d->plan, prev->x, prev->y, s->x, s->y);
    }
  else
    occ_segment (d->plan, s->x, s->y, s->x, s->y);
  poly->pts[poly->n++] = (PPoint) { s->x, s->y, !d->pen_down };
  d->pen_down = TRUE;
}

static void
dec_flush (Decimator *d)
{
  Sample s[4] = { d->first, d->lo, d->hi, d->last };

  if (!d->active)
    return;
  d->active = FALSE;
  for (int i = 1; i < 4; i++)  /* four elements: insertion sort by index */
    for (int j = i; j > 0 && s[j].i < s[j - 1].i; j--)
      {
        Sample t = s[j];
        s[j] = s[j - 1];
        s[j - 1] = t;
      }
  for (int i = 0; i < 4; i++)
    if (i == 0 || s[i].i != s[i - 1].i)
      dec_emit (d, &s[i]);
}

static void
dec_add (Decimator *d, gsize i, double x, double y)
{
  Sample s = { i, x, y };
  double col = floor (x);

  if (d->active && col == d->col)
    {
      if (y < d->lo.y)
        d->lo = s;
      if (y > d->hi.y)
        d->hi = s;
      d->last = s;
      return;
    }
  dec_flush (d);
  d->active = TRUE;
  d->col = col;
  d->first = d->lo = d->hi = d->last = s;
}

static void
dec_break (Decimator *d)
{
  dec_flush (d);
  d->pen_down = FALSE;
}

static void
plan_decimate (Plan *plan, const PlPlotData *data)
{
  plan->n_cols = MAX (1, (int) ceil (plan->ax1 - plan->ax0) + 1);
  plan->occ_lo = g_new (float, plan->n_cols);
  plan->occ_hi = g_new (float, plan->n_cols);
  for (int c = 0; c < plan->n_cols; c++)
    {
      plan->occ_lo[c] = G_MAXFLOAT;
      plan->occ_hi[c] = -G_MAXFLOAT;
    }
  plan->polys = g_new0 (Poly, MAX (data->n_series, 1));
  for (guint s = 0; s < data->n_series; s++)
    {
      const PlPlotSeries *series = &data->series[s];
      Decimator d = { .plan = plan, .poly = &plan->polys[s] };
      /* Decimation emits a subset of the input, so n points always suffice. */
      d.poly->pts = g_new (PPoint, MAX (series->n, 1));
      for (gsize i = 0; i < series->n; i++)
        {
          double x = series->x[i], y = series->y[i];
          if (!point_drawable (data, x, y))
            {
              dec_break (&d);
              continue;
            }
          dec_add (&d, i, axis_map (&plan->x, x), axis_map (&plan->y, y));
        }
      dec_flush (&d);
    }
}

static int
cmp_marker_x (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const PlPlotMarker *markers = user_data;
  double xa = markers[*(const guint *) a].x, xb = markers[*(const guint *) b].x;
  return xa < xb ? -1 : xa > xb ? 1 : 0;
}

static gboolean
boxes_overlap (double ax, double aw, double bx, double bw, double gap)
{
  return ax < bx + bw + gap && bx < ax + aw + gap;
}

/* How many pixel columns of the rectangle (grown by margin) a line crosses. */
static double
lines_cost (const Plan *plan, double x, double y, double w, double h, double margin)
{
  double cost = 0;

  if (plan->occ_saturated)
    return G_MAXDOUBLE;
  int c0 = (int) CLAMP (floor (x - margin - plan->ax0), 0, plan->n_cols - 1);
  int c1 = (int) CLAMP (ceil (x + w + margin - plan->ax0), 0, plan->n_cols - 1);
  for (int c = c0; c <= c1; c++)
    if (plan->occ_hi[c] >= y - margin && plan->occ_lo[c] <= y + h + margin)
      cost += 1;
  return cost;
}

/* Marker labels sit right of their line (left when they would leave the plot), in rows
 * at the top of the plot area, else in rows at its bottom. A label takes the first row
 * where it touches no other label, not the legend and no line; failing that, the first
 * where it only covers lines (its background keeps it readable). A label with no row
 * at all is skipped; its line is still drawn. */
static void
plan_marker_labels (Plan *plan, Ink *ink, const PlPlotData *data)
{
  if (data->n_markers == 0)
    return;
  double row_h = ink->small_h + 2;
  int rows_each = (int) CLAMP ((plan->ay1 - plan->ay0) * 0.2 / row_h, 1, 3);
  g_autofree guint *order = g_new (guint, data->n_markers);
  for (guint m = 0; m < data->n_markers; m++)
    order[m] = m;
  g_qsort_with_data (order, data->n_markers, sizeof *order, cmp_marker_x,
                     (gpointer) data->markers);

  plan->mlabels = g_new (MarkerLabel, data->n_markers);
  for (guint k = 0; k < data->n_markers; k++)
    {
      const PlPlotMarker *marker = &data->markers[order[k]];
      if (marker->label == NULL || marker->label[0] == '\0' || !isfinite (marker->x))
        continue;
      double w;
      ink_set (ink, ink->small_font, marker->label, (plan->ax1 - plan->ax0) * 0.45, &w, NULL);
      double lx = axis_map (&plan->x, marker->x);
      double bw = w + 4, bx = lx + 2;
      if (bx + bw > plan->ax1)
        bx = lx - 2 - bw;
      bx = MAX (bx, plan->ax0);
      gboolean placed = FALSE;
      int pass;
      for (pass = 0; pass < 2 && !placed; pass++)
        for (int r = 0; r < 2 * rows_each && !placed; r++)
          {
            double by = r < rows_each ? plan->ay0 + 2 + r * row_h
                                      : plan->ay1 - 2 - (r - rows_each + 1) * row_h;
            gboolean free_row = TRUE;
            for (guint j = 0; j < plan->n_mlabels && free_row; j++)
              if (plan->mlabels[j].y == by
                  && boxes_overlap (bx, bw, plan->mlabels[j].x, plan->mlabels[j].w, 3))
                free_row = FALSE;
            if (plan->legend == LEGEND_INSIDE
                && boxes_overlap (bx, bw, plan->lg_x, plan->lg_w, 2)
                && boxes_overlap (by, row_h, plan->lg_y, plan->lg_h, 2))
              free_row = FALSE;
            if (pass == 0 && free_row && lines_cost (plan, bx, by, bw, row_h, 1) > 0)
              free_row = FALSE;
            if (free_row)
              {
                plan->mlabels[plan->n_mlabels++] = (MarkerLabel) { bx, by, bw, row_h,
                                                                   order[k] };
                placed = TRUE;
              }
          }
      if (!placed || pass > 1)
        plan->n_label_compromises++;
    }
}

static guint
legend_entries (const PlPlotData *data)
{
  guint n = 0;
  for (guint s = 0; s < data->n_series; s++)
    if (data->series[s].label != NULL && data->series[s].label[0] != '\0')
      n++;
  return n;
}

/* Width of the widest legend label, each ellipsized at max_w. */
static double
legend_label_w (Ink *ink, const PlPlotData *data, double max_w)
{
  double widest = 0;
  for (guint s = 0; s < data->n_series; s++)
    if (data->series[s].label != NULL && data->series[s].label[0] != '\0')
      {
        double w;
        ink_set (ink, ink->font, data->series[s].label, max_w, &w, NULL);
        widest = MAX (widest, w);
      }
  return widest;
}

static void
plan_legend_inside (Plan *plan, Ink *ink, const PlPlotData *data)
{
  guint n = legend_entries (data);
  double plot_w = plan->ax1 - plan->ax0, plot_h = plan->ay1 - plan->ay0;

  plan->lg_label_max_w = MAX (plot_w * 0.55 - SAMPLE_W - 18, 40);
  double label_w = legend_label_w (ink, data, plan->lg_label_max_w);
  plan->lg_w = 6 + SAMPLE_W + 6 + label_w + 6;
  plan->lg_h = 4 + n * ink->line_h + 4;
  plan->legend = LEGEND_WANTS_OUTSIDE;
  const double inset = 6;
  plan->lg_fits = plan->lg_w + 2 * inset <= plot_w && plan->lg_h + 2 * inset <= plot_h;
  plan->lg_x = plan->ax1 - inset - plan->lg_w;
  plan->lg_y = plan->ay0 + inset;
  if (plan->lg_w > plot_w * 0.7 || plan->lg_h > plot_h * 0.6)
    return;
  double left = plan->ax0 + inset, right = plan->ax1 - inset - plan->lg_w;
  double top = plan->ay0 + inset, bottom = plan->ay1 - inset - plan->lg_h;
  /* Top right first (where a falling loss curve leaves room), then the other corners. */
  const double corners[4][2] = {
    { right, top }, { right, bottom }, { left, top }, { left, bottom },
  };
  double best = G_MAXDOUBLE;
  for (guint i = 0; i < G_N_ELEMENTS (corners); i++)
    {
      double cost = lines_cost (plan, corners[i][0], corners[i][1], plan->lg_w, plan->lg_h, 3);
      if (cost < best)
        {
          best = cost;
          plan->lg_x = corners[i][0];
          plan->lg_y = corners[i][1];
        }
      if (cost == 0)
        {
          plan->legend = LEGEND_INSIDE;
          return;
        }
    }
}

/* The strip above the plot: entries side by side, wrapped, centred. Returns the height. */
static double
legend_outside_layout (Plan *plan, Ink *ink, const PlPlotData *data, double avail_w,
                       double x0, double y0, gboolean draw, cairo_t *cr);

static void
plan_clear (Plan *plan, const PlPlotData *data)
{
  axis_clear (&plan->x);
  axis_clear (&plan->y);
  if (plan->polys != NULL)
    for (guint s = 0; s < data->n_series; s++)
      g_free (plan->polys[s].pts);
  g_clear_pointer (&plan->polys, g_free);
  g_clear_pointer (&plan->mlabels, g_free);
  g_clear_pointer (&plan->occ_lo, g_free);
  g_clear_pointer (&plan->occ_hi, g_free);
}

/* Computes the layout; FALSE when the surface is too small for a plot area. */
static gboolean
plan_build (Plan *plan, Ink *ink, const PlPlotData *data, const Ranges *r, double width,
            double height, gboolean legend_outside)
{
  memset (plan, 0, sizeof *plan);
  plan->width = width;
  plan->height = height;

  /* Vertical: title, outside legend, plot, x tick labels, x label. */
  double top = PAD;
  if (data->title != NULL && data->title[0] != '\0')
    {
      double th;
      ink_set (ink, ink->title_font, data->title, width - 2 * PAD, NULL, &th);
      plan->title_y = top;
      top += th;
    }
  if (legend_outside)
    {
      plan->legend = LEGEND_OUTSIDE;
      plan->legend_y = top;
      plan->lg_label_max_w = MAX (width * 0.4, 40);
      top += legend_outside_layout (plan, ink, data, width - 2 * PAD, PAD, top, FALSE, NULL)
             + 4;
    }
  top += ink->line_h / 2;  /* room for the top half of the top y tick label */
  double bottom = height - PAD;
  if (data->x_label != NULL && data->x_label[0] != '\0')
    {
      plan->x_label_y = bottom - ink->line_h;
      bottom -= ink->line_h + 1;
    }
  plan->x_ticks_y = bottom - ink->line_h;
  bottom -= ink->line_h + TICK_LEN + 1;
  plan->ay0 = top;
  plan->ay1 = bottom;
  if (plan->ay1 - plan->ay0 < 20)
    return FALSE;

  plan_y_axis (plan, ink, data, r, plan->ay1 - plan->ay0);

  /* Horizontal: y label, y tick labels, plot, room for half the last x tick label. */
  double left = PAD;
  if (data->y_label != NULL && data->y_label[0] != '\0')
    {
      plan->y_label_x = left;
      left += ink->line_h + 3;
    }
  left += plan->y.max_label_w + TICK_LEN + 4;
  double right = width - PAD;
  {
    char *last = pl_plot_format_tick (r->x_hi, (r->x_hi - r->x_lo) / 4);
    right -= MAX (0, ink_width (ink, ink->font, last) / 2 - PAD + 2);
    g_free (last);
  }
  plan->ax0 = floor (left);
  plan->ax1 = floor (right);
  if (plan->ax1 - plan->ax0 < 20)
    return FALSE;

  plan_x_axis (plan, ink, r, plan->ax1 - plan->ax0);
  axis_set_map (&plan->x, plan->ax0, plan->ax1);
  axis_set_map (&plan->y, plan->ay1, plan->ay0);

  plan_decimate (plan, data);
  if (legend_entries (data) == 0)
    plan->legend = LEGEND_NONE;
  else if (!legend_outside)
    plan_legend_inside (plan, ink, data);
  if (plan->legend != LEGEND_WANTS_OUTSIDE)
    plan_marker_labels (plan, ink, data);
  return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* Painting                                                                           */

#define TEXT_RGB      0.13, 0.13, 0.15
#define AXIS_RGB      0.35, 0.35, 0.38
#define GRID_RGB      0.88, 0.88, 0.90
#define MINOR_RGB     0.94, 0.94, 0.95
#define MARKER_RGBA   0.30, 0.30, 0.36, 0.85

/* Centre of the pixel row/column containing v: 1-px lines stay sharp. */
static inline double
crisp (double v)
{
  return floor (v) + 0.5;
}

static void
set_series_style (cairo_t *cr, const PlPlotSeries *series)
{
  double lw = series->line_width > 0 ? series->line_width : DEFAULT_LINE_WIDTH;
  cairo_set_source_rgba (cr, series->rgba[0], series->rgba[1], series->rgba[2],
                         series->rgba[3]);
  cairo_set_line_width (cr, lw);
  if (series->dashed)
    {
      double dashes[] = { 4 * lw, 2.5 * lw };
      cairo_set_dash (cr, dashes, 2, 0);
    }
  else
    cairo_set_dash (cr, NULL, 0, 0);
}

/* Is the decimated line denser than the pixels (more than 2.5 points per column it
 * spans), and cheap to turn into column spans? Such a line is mostly vertical strokes
 * over each other, which Cairo's stroker takes ten times longer to draw than the same
 * pixels as one box per column. */
static gboolean
poly_is_dense (const Plan *plan, const Poly *poly)
{
  double x_min = G_MAXDOUBLE, x_max = -G_MAXDOUBLE;
  gsize work = 0;

  if (poly->n < 64)
    return FALSE;
  for (gsize i = 0; i < poly->n; i++)
    {
      x_min = MIN (x_min, poly->pts[i].x);
      x_max = MAX (x_max, poly->pts[i].x);
      if (i > 0)
        work += columns_touched (poly->pts[i - 1].x, poly->pts[i].x);
    }
  return poly->n > 2.5 * (x_max - x_min + 1)
         && work <= (gsize) plan->n_cols * OCC_WORK_PER_COLUMN;
}

/* Draws a dense line as one box per pixel column, from the lowest to the highest point
 * the line reaches in that column, grown by the line width; a dashed series leaves out
 * the columns that fall in the gaps of its dash pattern. */
static void
fill_envelope (const Plan *plan, cairo_t *cr, const Poly *poly, const PlPlotSeries *series)
{
  double lw = series->line_width > 0 ? series->line_width : DEFAULT_LINE_WIDTH;
  double box_w = lw > 1.5 ? lw : 1;
  double on = 4 * lw, period = 6.5 * lw;
  g_autofree float *lo = g_new (float, plan->n_cols);
  g_autofree float *hi = g_new (float, plan->n_cols);

  for (int c = 0; c < plan->n_cols; c++)
    {
      lo[c] = G_MAXFLOAT;
      hi[c] = -G_MAXFLOAT;
    }
  for (gsize i = 0; i < poly->n; i++)
    {
      const PPoint *p = &poly->pts[i];
      const PPoint *q = poly->pts[i].move ? p : &poly->pts[i - 1];
      spans_add_segment (lo, hi, plan->n_cols, plan->ax0, q->x, q->y, p->x, p->y);
    }
  for (int c = 0; c < plan->n_cols; c++)
    {
      if (lo[c] > hi[c] || (series->dashed && fmod (c, period) >= on))
        continue;
      cairo_rectangle (cr, plan->ax0 + c + 0.5 - box_w / 2, lo[c] - lw / 2, box_w,
                       hi[c] - lo[c] + lw);
    }
  cairo_fill (cr);
}

static void
draw_series (const Plan *plan, cairo_t *cr, const PlPlotData *data)
{
  cairo_save (cr);
  /* A little slack so a line lying on the top or bottom grid line is drawn whole. */
  cairo_rectangle (cr, plan->ax0 - 2, plan->ay0 - 2, plan->ax1 - plan->ax0 + 4,
                   plan->ay1 - plan->ay0 + 4);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint s = 0; s < data->n_series; s++)
    {
      const PlPlotSeries *series = &data->series[s];
      const Poly *poly = &plan->polys[s];
      double lw = series->line_width > 0 ? series->line_width : DEFAULT_LINE_WIDTH;

      set_series_style (cr, series);
      if (poly_is_dense (plan, poly))
        fill_envelope (plan, cr, poly, series);
      else
        {
          for (gsize i = 0; i < poly->n; i++)
            {
              if (poly->pts[i].move)
                cairo_move_to (cr, poly->pts[i].x, poly->pts[i].y);
              else
                cairo_line_to (cr, poly->pts[i].x, poly->pts[i].y);
            }
          cairo_stroke (cr);
        }
      /* A point with no neighbour (one sample, or between two gaps) is a dot. */
      for (gsize i = 0; i < poly->n; i++)
        if (poly->pts[i].move && (i + 1 == poly->n || poly->pts[i + 1].move))
          {
            cairo_new_sub_path (cr);
            cairo_arc (cr, poly->pts[i].x, poly->pts[i].y, MAX (lw, 1.5) * 1.2, 0, 2 * G_PI);
          }
      cairo_fill (cr);
    }
  cairo_restore (cr);
}

static void
draw_grid_and_axes (const Plan *plan, Ink *ink, cairo_t *cr)
{
  double x0 = plan->ax0, x1 = plan->ax1, y0 = plan->ay0, y1 = plan->ay1;

  cairo_set_line_width (cr, 1);
  cairo_set_source_rgb (cr, MINOR_RGB);
  for (guint i = 0; i < plan->y.n_minor; i++)
    {
      double y = crisp (axis_map (&plan->y, plan->y.minor[i]));
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x1, y);
    }
  cairo_stroke (cr);

  cairo_set_source_rgb (cr, GRID_RGB);
  for (guint i = 0; i < plan->y.n_ticks; i++)
    {
      double y = crisp (axis_map (&plan->y, plan->y.ticks[i]));
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x1, y);
    }
  for (guint i = 0; i < plan->x.n_ticks; i++)
    {
      double x = crisp (axis_map (&plan->x, plan->x.ticks[i]));
      cairo_move_to (cr, x, y0);
      cairo_line_to (cr, x, y1);
    }
  cairo_stroke (cr);

  /* Axes: left and bottom, with outward ticks. */
  cairo_set_source_rgb (cr, AXIS_RGB);
  cairo_move_to (cr, crisp (x0) - 1, y0);
  cairo_line_to (cr, crisp (x0) - 1, crisp (y1) + 1);
  cairo_line_to (cr, x1, crisp (y1) + 1);
  for (guint i = 0; i < plan->y.n_ticks; i++)
    {
      double y = crisp (axis_map (&plan->y, plan->y.ticks[i]));
      cairo_move_to (cr, crisp (x0) - 1 - TICK_LEN, y);
      cairo_line_to (cr, crisp (x0) - 1, y);
    }
  for (guint i = 0; i < plan->x.n_ticks; i++)
    {
      double x = crisp (axis_map (&plan->x, plan->x.ticks[i]));
      cairo_move_to (cr, x, crisp (y1) + 1);
      cairo_line_to (cr, x, crisp (y1) + 1 + TICK_LEN);
    }
  cairo_stroke (cr);

  /* Tick labels. */
  cairo_set_source_rgb (cr, TEXT_RGB);
  for (guint i = 0; i < plan->y.n_ticks; i++)
    {
      double w, h;
      double y = axis_map (&plan->y, plan->y.ticks[i]);
      ink_set (ink, ink->font, plan->y.labels[i], 0, &w, &h);
      ink_show (ink, cr, x0 - 1 - TICK_LEN - 3 - w, y - h / 2);
    }
  for (guint i = 0; i < plan->x.n_ticks; i++)
    {
      double w;
      double x = axis_map (&plan->x, plan->x.ticks[i]);
      ink_set (ink, ink->font, plan->x.labels[i], 0, &w, NULL);
      double lx = CLAMP (x - w / 2, 1, plan->width - 1 - w);
      ink_show (ink, cr, lx, plan->x_ticks_y);
    }
}

static void
draw_labels (const Plan *plan, Ink *ink, cairo_t *cr, const PlPlotData *data)
{
  double w, h;

  cairo_set_source_rgb (cr, TEXT_RGB);
  if (data->title != NULL && data->title[0] != '\0')
    {
      ink_set (ink, ink->title_font, data->title, plan->width - 2 * PAD, &w, NULL);
      ink_show (ink, cr, (plan->width - w) / 2, plan->title_y);
    }
  if (data->x_label != NULL && data->x_label[0] != '\0')
    {
      ink_set (ink, ink->font, data->x_label, plan->ax1 - plan->ax0, &w, NULL);
      ink_show (ink, cr, plan->ax0 + (plan->ax1 - plan->ax0 - w) / 2, plan->x_label_y);
    }
  if (data->y_label != NULL && data->y_label[0] != '\0')
    {
      ink_set (ink, ink->font, data->y_label, plan->ay1 - plan->ay0, &w, &h);
      cairo_save (cr);
      cairo_translate (cr, plan->y_label_x, (plan->ay0 + plan->ay1) / 2 + w / 2);
      cairo_rotate (cr, -G_PI / 2);
      pango_cairo_update_layout (cr, ink->layout);
      ink_show (ink, cr, 0, 0);
      cairo_restore (cr);
      pango_cairo_update_layout (cr, ink->layout);
    }
}

static void
draw_markers (const Plan *plan, Ink *ink, cairo_t *cr, const PlPlotData *data,
              gboolean labels)
{
  if (!labels)
    {
      const double dashes[] = { 4, 3 };
      cairo_save (cr);
      cairo_set_source_rgba (cr, MARKER_RGBA);
      cairo_set_line_width (cr, 1);
      cairo_set_dash (cr, dashes, 2, 0);
      for (guint m = 0; m < data->n_markers; m++)
        {
          if (!isfinite (data->markers[m].x))
            continue;
          double x = crisp (axis_map (&plan->x, data->markers[m].x));
          cairo_move_to (cr, x, plan->ay0);
          cairo_line_to (cr, x, plan->ay1);
        }
      cairo_stroke (cr);
      cairo_restore (cr);
      return;
    }
  for (guint j = 0; j < plan->n_mlabels; j++)
    {
      const MarkerLabel *l = &plan->mlabels[j];
      cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
      cairo_rectangle (cr, l->x, l->y, l->w, l->h);
      cairo_fill (cr);
      ink_set (ink, ink->small_font, data->markers[l->marker].label,
               (plan->ax1 - plan->ax0) * 0.45, NULL, NULL);
      cairo_set_source_rgba (cr, MARKER_RGBA);
      ink_show (ink, cr, l->x + 2, l->y + 1);
    }
}

static void
draw_legend_entry (Ink *ink, cairo_t *cr, const PlPlotSeries *series, double x, double y,
                   double label_max_w)
{
  double h = 0;
  ink_set (ink, ink->font, series->label, label_max_w, NULL, &h);
  cairo_save (cr);
  set_series_style (cr, series);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  cairo_move_to (cr, x, crisp (y + h / 2));
  cairo_line_to (cr, x + SAMPLE_W, crisp (y + h / 2));
  cairo_stroke (cr);
  cairo_restore (cr);
  cairo_set_source_rgb (cr, TEXT_RGB);
  ink_show (ink, cr, x + SAMPLE_W + 6, y);
}

static double
legend_outside_layout (Plan *plan, Ink *ink, const PlPlotData *data, double avail_w,
                       double x0, double y0, gboolean draw, cairo_t *cr)
{
  const double spacing = 14;
  guint n_rows = 0;
  guint s = 0;

  while (s < data->n_series)
    {
      /* One row: as many entries as fit (at least one). */
      guint first = s, end = s;
      double row_w = 0;
      for (; end < data->n_series; end++)
        {
          const PlPlotSeries *series = &data->series[end];
          if (series->label == NULL || series->label[0] == '\0')
            continue;
          double w;
          ink_set (ink, ink->font, series->label, plan->lg_label_max_w, &w, NULL);
          double entry_w = SAMPLE_W + 6 + w;
          double next_w = row_w + (row_w > 0 ? spacing : 0) + entry_w;
          if (row_w > 0 && next_w > avail_w)
            break;
          row_w = next_w;
        }
      s = end;
      if (row_w == 0)
        continue;
      if (draw)
        {
          double x = x0 + MAX (0, (avail_w - row_w) / 2);
          for (guint k = first; k < end; k++)
            {
              const PlPlotSeries *series = &data->series[k];
              if (series->label == NULL || series->label[0] == '\0')
                continue;
              double w;
              ink_set (ink, ink->font, series->label, plan->lg_label_max_w, &w, NULL);
              draw_legend_entry (ink, cr, series, x, y0 + n_rows * ink->line_h,
                                 plan->lg_label_max_w);
              x += SAMPLE_W + 6 + w + spacing;
            }
        }
      n_rows++;
    }
  return n_rows * ink->line_h;
}

static void
draw_legend (Plan *plan, Ink *ink, cairo_t *cr, const PlPlotData *data)
{
  if (plan->legend == LEGEND_OUTSIDE)
    {
      legend_outside_layout (plan, ink, data, plan->width - 2 * PAD, PAD, plan->legend_y,
                             TRUE, cr);
      return;
    }
  if (plan->legend != LEGEND_INSIDE)
    return;
  cairo_rectangle (cr, crisp (plan->lg_x), crisp (plan->lg_y), floor (plan->lg_w),
                   floor (plan->lg_h));
  cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, GRID_RGB);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  double y = plan->lg_y + 4;
  for (guint s = 0; s < data->n_series; s++)
    {
      const PlPlotSeries *series = &data->series[s];
      if (series->label == NULL || series->label[0] == '\0')
        continue;
      draw_legend_entry (ink, cr, series, plan->lg_x + 6, y, plan->lg_label_max_w);
      y += ink->line_h;
    }
}

static void
draw_no_data (const Plan *plan, Ink *ink, cairo_t *cr)
{
  double w, h;
  ink_set (ink, ink->font, "no data yet", 0, &w, &h);
  cairo_set_source_rgb (cr, 0.5, 0.5, 0.52);
  ink_show (ink, cr, (plan->ax0 + plan->ax1 - w) / 2, (plan->ay0 + plan->ay1 - h) / 2);
}

static gboolean
data_valid (const PlPlotData *data)
{
  g_return_val_if_fail (data->n_series == 0 || data->series != NULL, FALSE);
  g_return_val_if_fail (data->n_markers == 0 || data->markers != NULL, FALSE);
  for (guint s = 0; s < data->n_series; s++)
    g_return_val_if_fail (data->series[s].n == 0
                          || (data->series[s].x != NULL && data->series[s].y != NULL),
                          FALSE);
  return TRUE;
}

void
pl_plot_draw (cairo_t *cr, const PlPlotData *data, double width, double height)
{
  Ranges ranges;
  Plan plan;
  Ink ink;

  g_return_if_fail (cr != NULL);
  g_return_if_fail (data != NULL);
  if (!data_valid (data))
    return;

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  ink_init (&ink, cr);
  ink_set (&ink, ink.font, "0", 0, NULL, &ink.line_h);
  ink_set (&ink, ink.small_font, "0", 0, NULL, &ink.small_h);
  ranges_compute (&ranges, data);

  gboolean ok = plan_build (&plan, &ink, data, &ranges, width, height, FALSE);
  gboolean wants_outside = ok && plan.legend == LEGEND_WANTS_OUTSIDE;
  /* An inside legend may also be what pushes marker labels onto the lines. */
  if (wants_outside || (ok && plan.legend == LEGEND_INSIDE && plan.n_label_compromises > 0))
    {
      Plan other;
      if (plan_build (&other, &ink, data, &ranges, width, height, TRUE)
          && (wants_outside || other.n_label_compromises < plan.n_label_compromises))
        {
          plan_clear (&plan, data);
          plan = other;
        }
      else
        {
          plan_clear (&other, data);
          if (wants_outside)
            {
              /* No room above the plot either: the least covered corner, if it fits. */
              plan.legend = plan.lg_fits ? LEGEND_INSIDE : LEGEND_NONE;
              plan_marker_labels (&plan, &ink, data);
            }
        }
    }
  if (ok)
    {
      draw_grid_and_axes (&plan, &ink, cr);
      draw_markers (&plan, &ink, cr, data, FALSE);
      draw_series (&plan, cr, data);
      draw_markers (&plan, &ink, cr, data, TRUE);
      draw_labels (&plan, &ink, cr, data);
      draw_legend (&plan, &ink, cr, data);
      if (!ranges.has_data)
        draw_no_data (&plan, &ink, cr);
    }
  plan_clear (&plan, data);
  ink_clear (&ink);
  cairo_restore (cr);
}

/* ---------------------------------------------------------------------------------- */
/* Export                                                                             */

typedef struct {
  int fd;
  int saved_errno;
} Sink;

static cairo_status_t
sink_write (void *closure, const unsigned char *bytes, unsigned int length)
{
  Sink *sink = closure;
  while (length > 0)
    {
      ssize_t n = write (sink->fd, bytes, length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          sink->saved_errno = n < 0 ? errno : EIO;
          return CAIRO_STATUS_WRITE_ERROR;
        }
      bytes += n;
      length -= (unsigned int) n;
    }
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
set_io_error (GError **error, const char *path, int errsv, const char *what)
{
  g_set_error (error, PL_PLOT_ERROR, PL_PLOT_ERROR_IO, "Cannot export the plot to “%s”: %s",
               path, what != NULL ? what : g_strerror (errsv));
  return FALSE;
}

/* Draws into the open file; FALSE with error set when Cairo or the file fails. */
static gboolean
export_to_fd (const PlPlotData *const *panels, guint n_panels, gboolean svg, int fd,
              const char *path, int width, int height, GError **error)
{
  Sink sink = { fd, 0 };
  cairo_surface_t *surface;
  cairo_status_t status;

  if (svg)
    {
      surface = cairo_svg_surface_create_for_stream (sink_write, &sink, width, height);
      cairo_svg_surface_set_document_unit (surface, CAIRO_SVG_UNIT_PX);
    }
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  /* Panel p takes the columns [p·width/n, (p + 1)·width/n). */
  for (guint p = 0; p < n_panels; p++)
    {
      double x0 = round ((double) width * p / n_panels);
      double x1 = round ((double) width * (p + 1) / n_panels);
      cairo_save (cr);
      cairo_translate (cr, x0, 0);
      pl_plot_draw (cr, panels[p], x1 - x0, height);
      cairo_restore (cr);
    }
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    {
      if (svg)
        {
          cairo_surface_finish (surface);
          status = cairo_surface_status (surface);
        }
      else
        status = cairo_surface_write_to_png_stream (surface, sink_write, &sink);
    }
  cairo_surface_destroy (surface);
  if (status == CAIRO_STATUS_WRITE_ERROR && sink.saved_errno != 0)
    return set_io_error (error, path, sink.saved_errno, NULL);
  if (status != CAIRO_STATUS_SUCCESS)
    return set_io_error (error, path, 0, cairo_status_to_string (status));
  return TRUE;
}

gboolean
pl_plot_export (const PlPlotData *data, const char *path, int width, int height,
                GError **error)
{
  g_return_val_if_fail (data != NULL, FALSE);
  return pl_plot_export_panels (&data, 1, path, width, height, error);
}

gboolean
pl_plot_export_panels (const PlPlotData *const *panels, guint n_panels, const char *path,
                       int width, int height, GError **error)
{
  g_return_val_if_fail (panels != NULL && n_panels > 0, FALSE);
  for (guint p = 0; p < n_panels; p++)
    g_return_val_if_fail (panels[p] != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *lower = g_ascii_strdown (path, -1);
  gboolean svg = g_str_has_suffix (lower, ".svg");
  if (!svg && !g_str_has_suffix (lower, ".png"))
    {
      g_set_error (error, PL_PLOT_ERROR, PL_PLOT_ERROR_FORMAT,
                   "Cannot export the plot to “%s”: the name must end in .png or .svg", path);
      return FALSE;
    }
  if (width < 1 || height < 1 || width > PL_PLOT_MAX_EXPORT_SIDE
      || height > PL_PLOT_MAX_EXPORT_SIDE)
    {
      g_set_error (error, PL_PLOT_ERROR, PL_PLOT_ERROR_SIZE,
                   "Cannot export the plot to “%s”: %d×%d is not between 1 and %d pixels a side",
                   path, width, height, PL_PLOT_MAX_EXPORT_SIDE);
      return FALSE;
    }

  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp_name = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *tmp_path = g_build_filename (dir, tmp_name, NULL);
  /* 0666 before the umask, as a plain file created by the user would get. */
  int fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0)
    return set_io_error (error, path, errno, NULL);

  gboolean ok = export_to_fd (panels, n_panels, svg, fd, path, width, height, error);
  if (ok && fsync (fd) != 0)
    ok = set_io_error (error, path, errno, NULL);
  if (close (fd) != 0 && ok)
    ok = set_io_error (error, path, errno, NULL);
  if (ok && g_rename (tmp_path, path) != 0)
    ok = set_io_error (error, path, errno, NULL);
  if (!ok)
    g_unlink (tmp_path);
  return ok;
}

/* ---------------------------------------------------------------------------------- */
/* Copies                                                                             */

static gsize
str_size (const char *s)
{
  return s != NULL ? strlen (s) + 1 : 0;
}

/* Copies s into the block at *cursor; NULL stays NULL. */
static const char *
str_place (char **cursor, const char *s)
{
  if (s == NULL)
    return NULL;
  gsize n = strlen (s) + 1;
  char *dst = memcpy (*cursor, s, n);
  *cursor += n;
  return dst;
}

PlPlotData *
pl_plot_data_copy (const PlPlotData *data)
{
  g_return_val_if_fail (data != NULL, NULL);

  /* One block: the structs, then the doubles (8-aligned after them), then strings. */
  gsize n_doubles = 0, n_chars = 0;
  n_chars += str_size (data->title) + str_size (data->x_label) + str_size (data->y_label);
  for (guint s = 0; s < data->n_series; s++)
    {
      n_doubles += 2 * data->series[s].n;
      n_chars += str_size (data->series[s].label);
    }
  for (guint m = 0; m < data->n_markers; m++)
    n_chars += str_size (data->markers[m].label);

  gsize head = sizeof (PlPlotData) + data->n_series * sizeof (PlPlotSeries)
               + data->n_markers * sizeof (PlPlotMarker);
  head = (head + 7) & ~(gsize) 7;
  char *block = g_malloc (head + n_doubles * sizeof (double) + n_chars);
  PlPlotData *copy = (PlPlotData *) block;
  PlPlotSeries *series = (PlPlotSeries *) (copy + 1);
  PlPlotMarker *markers = (PlPlotMarker *) (series + data->n_series);
  double *values = (double *) (block + head);
  char *chars = (char *) (values + n_doubles);

  *copy = *data;
  copy->series = data->n_series > 0 ? series : NULL;
  copy->markers = data->n_markers > 0 ? markers : NULL;
  copy->title = str_place (&chars, data->title);
  copy->x_label = str_place (&chars, data->x_label);
  copy->y_label = str_place (&chars, data->y_label);
  for (guint s = 0; s < data->n_series; s++)
    {
      const PlPlotSeries *src = &data->series[s];
      series[s] = *src;
      series[s].label = str_place (&chars, src->label);
      if (src->n > 0)
        {
          series[s].x = memcpy (values, src->x, src->n * sizeof (double));
          series[s].y = memcpy (values + src->n, src->y, src->n * sizeof (double));
          values += 2 * src->n;
        }
      else
        series[s].x = series[s].y = NULL;
    }
  for (guint m = 0; m < data->n_markers; m++)
    {
      markers[m] = data->markers[m];
      markers[m].label = str_place (&chars, data->markers[m].label);
    }
  return copy;
}

void
pl_plot_data_free (PlPlotData *data)
{
  g_free (data);
}
