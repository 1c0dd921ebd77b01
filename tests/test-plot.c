/* test-plot.c — the plot drawing without a display: nice ticks and their labels, pixels
 * drawn where a series, a marker or a one-sample spike should be and none in NaN gaps,
 * degenerate data, PNG/SVG export and its error paths, deep copies, and how long 100k
 * points take to draw. Everything renders to Cairo image surfaces. */
#include "pl-plot.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

/* ---------------------------------------------------------------------------------- */
/* Ticks                                                                              */

/* Is step m × 10^k with m in {1, 2, 5}? */
static gboolean
is_nice_step (double step)
{
  double e = floor (log10 (step));
  double m = step / pow (10, e);
  return fabs (m - 1) < 1e-6 || fabs (m - 2) < 1e-6 || fabs (m - 5) < 1e-6
         || fabs (m - 10) < 1e-6;
}

/* Reads a tick label back: "−1.5k" → -1500, "2.5e-4" → 0.00025. */
static double
parse_label (const char *label)
{
  static const struct { char suffix; double scale; } si[] = {
    { 'k', 1e3 }, { 'M', 1e6 }, { 'G', 1e9 }, { 'T', 1e12 },
  };
  gboolean negative = g_str_has_prefix (label, "−");
  const char *p = negative ? label + strlen ("−") : label;
  char *end = NULL;
  double v = g_ascii_strtod (p, &end);
  g_assert_true (end != p);
  for (gsize i = 0; i < G_N_ELEMENTS (si); i++)
    if (*end == si[i].suffix)
      {
        v *= si[i].scale;
        end++;
      }
  g_assert_cmpstr (end, ==, "");
  return negative ? -v : v;
}

/* The invariants every linear tick set must have, and labels without float noise. */
static void
check_linear_ticks (double min, double max, guint max_ticks)
{
  double ticks[64];
  guint n = pl_plot_nice_ticks (min, max, max_ticks, FALSE, ticks);
  double lo = MIN (min, max), hi = MAX (min, max);

  g_test_message ("[%g, %g] max %u -> %u ticks from %g to %g", min, max, max_ticks, n,
                  n ? ticks[0] : NAN, n ? ticks[n - 1] : NAN);
  g_assert_cmpuint (n, >=, 2);
  g_assert_cmpuint (n, <=, max_ticks);
  double step = (ticks[n - 1] - ticks[0]) / (n - 1);
  g_assert_true (step > 0);
  g_assert_true (is_nice_step (step));
  g_assert_cmpfloat (ticks[0], <=, lo + step * 1e-6);
  g_assert_cmpfloat (ticks[n - 1], >=, hi - step * 1e-6);
  for (guint i = 1; i < n; i++)
    g_assert_cmpfloat_with_epsilon (ticks[i] - ticks[i - 1], step, step * 1e-6);
  /* Not wasteful: less than a step of slack at each end (unless the range was empty). */
  if (lo < hi)
    {
      g_assert_cmpfloat (lo - ticks[0], <, step * (1 + 1e-9));
      g_assert_cmpfloat (ticks[n - 1] - hi, <, step * (1 + 1e-9));
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *label = pl_plot_format_tick (ticks[i], step);
      g_assert_cmpuint (strlen (label), <=, 12);
      g_assert_null (strstr (label, "000000"));  /* float noise: 0.30000000000000004 */
      g_assert_null (strstr (label, "99999"));
      g_assert_cmpfloat (fabs (parse_label (label) - ticks[i]), <=,
                         step * 1e-3 + fabs (ticks[i]) * 1e-12);
    }
}

static void
test_nice_ticks_linear (void)
{
  const struct { double min, max; guint max_ticks; } ranges[] = {
    { 0, 1, 6 }, { 0, 1, 5 }, { 0, 1, 3 }, { 0, 2000, 7 }, { 0, 1999, 12 },
    { 0.05, 2.4, 8 }, { -3.7, 12.1, 8 }, { -1, 1, 3 }, { -1e-3, -2e-4, 6 },
    { 1e-9, 3e-9, 5 }, { 3.3e-12, 7.1e-12, 10 }, { 0, 2.5e12, 6 }, { -4e9, 2e9, 7 },
    { 1e6, 1e6 + 3, 5 }, { 123456.7, 123459.2, 6 }, { 0.1, 0.3, 4 }, { 0.7, 0.70001, 5 },
    { 0.5, 0.5, 5 }, { 0, 0, 5 }, { -7, -7, 4 }, { 1e300, 1e300, 5 }, { 10, 0, 6 },
    { 1e-300, 2e-300, 5 }, { 0, 1e308, 5 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ranges); i++)
    check_linear_ticks (ranges[i].min, ranges[i].max, ranges[i].max_ticks);
  for (guint max_ticks = 3; max_ticks <= 20; max_ticks++)
    for (int k = -6; k <= 6; k++)
      check_linear_ticks (-0.37 * pow (10, k), 1.93 * pow (10, k), max_ticks);
}

static void
test_nice_ticks_exact (void)
{
  double t[16];

  g_assert_cmpuint (pl_plot_nice_ticks (0, 1, 6, FALSE, t), ==, 6);
  g_assert_cmpfloat (t[1], ==, 0.2);
  g_assert_cmpfloat (t[3], ==, 0.6);
  g_assert_cmpfloat (t[5], ==, 1);
  g_assert_cmpuint (pl_plot_nice_ticks (0, 1, 5, FALSE, t), ==, 3);
  g_assert_cmpfloat (t[1], ==, 0.5);
  /* Multiples of 0.1 are the doubles nearest the decimals, not 3 × 0.1. */
  g_assert_cmpuint (pl_plot_nice_ticks (0, 0.3, 4, FALSE, t), ==, 4);
  g_assert_cmpfloat (t[3], ==, 0.3);
  g_assert_cmpuint (pl_plot_nice_ticks (-3.7, 12.1, 8, FALSE, t), ==, 5);
  g_assert_cmpfloat (t[0], ==, -5);
  g_assert_cmpfloat (t[4], ==, 15);
  g_assert_cmpuint (pl_plot_nice_ticks (0, 2.5e12, 6, FALSE, t), ==, 6);
  g_assert_cmpfloat (t[5], ==, 2.5e12);
  /* A tick at zero is +0, never -0. */
  g_assert_cmpuint (pl_plot_nice_ticks (-1, 1, 5, FALSE, t), ==, 5);
  g_assert_false (signbit (t[2]));
  /* Equal endpoints are widened around the value. */
  guint n = pl_plot_nice_ticks (0.5, 0.5, 5, FALSE, t);
  g_assert_cmpuint (n, >=, 2);
  g_assert_cmpfloat (t[0], <, 0.5);
  g_assert_cmpfloat (t[n - 1], >, 0.5);
  /* What cannot be answered gives no ticks. */
  g_assert_cmpuint (pl_plot_nice_ticks (NAN, 1, 5, FALSE, t), ==, 0);
  g_assert_cmpuint (pl_plot_nice_ticks (0, INFINITY, 5, FALSE, t), ==, 0);
  g_assert_cmpuint (pl_plot_nice_ticks (-1e308, 1e308, 5, FALSE, t), ==, 0);
  g_assert_cmpuint (pl_plot_nice_ticks (0, 1, 2, FALSE, t), ==, 0);
  g_assert_cmpuint (pl_plot_nice_ticks (0, 1, 0, FALSE, NULL), ==, 0);
}

static void
test_nice_ticks_log (void)
{
  double t[16];

  g_assert_cmpuint (pl_plot_nice_ticks (1e-3, 10, 10, TRUE, t), ==, 5);
  g_assert_cmpfloat (t[0], ==, 1e-3);
  g_assert_cmpfloat (t[1], ==, 0.01);
  g_assert_cmpfloat (t[4], ==, 10);
  /* Within one decade: the two around it. */
  g_assert_cmpuint (pl_plot_nice_ticks (0.3, 0.8, 10, TRUE, t), ==, 2);
  g_assert_cmpfloat (t[0], ==, 0.1);
  g_assert_cmpfloat (t[1], ==, 1);
  g_assert_cmpuint (pl_plot_nice_ticks (0.3, 2.4, 10, TRUE, t), ==, 3);
  g_assert_cmpuint (pl_plot_nice_ticks (1, 1, 5, TRUE, t), ==, 2);
  g_assert_cmpfloat (t[0], ==, 1);
  g_assert_cmpfloat (t[1], ==, 10);
  /* Too many decades: every 10th (61 decades, at most 10 ticks). */
  guint n = pl_plot_nice_ticks (1e-30, 1e30, 10, TRUE, t);
  g_assert_cmpuint (n, ==, 7);
  g_assert_cmpfloat (t[0], ==, 1e-30);
  g_assert_cmpfloat (fabs (t[3] - 1), <, 1e-12);
  g_assert_cmpfloat (t[6], ==, 1e30);
  /* Every 2nd decade. */
  n = pl_plot_nice_ticks (1, 1e8, 6, TRUE, t);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpfloat (t[1], ==, 100);
  /* Non-positive ends have no logarithm. */
  g_assert_cmpuint (pl_plot_nice_ticks (0, 10, 5, TRUE, t), ==, 0);
  g_assert_cmpuint (pl_plot_nice_ticks (-1, 10, 5, TRUE, t), ==, 0);
}

static void
test_format_tick (void)
{
  const struct { double value, step; const char *text; } cases[] = {
    { 0.1 * 3, 0.1, "0.3" },
    { 0.30000000000000004, 0.05, "0.3" },
    { 0.5, 0.5, "0.5" },
    { 0.25, 0.05, "0.25" },
    { 0, 0.1, "0" },
    { 1e-17, 0.1, "0" },     /* rounding noise around a zero tick */
    { 2, 1, "2" },
    { -2, 1, "−2" },
    { 500, 500, "500" },
    { 1000, 500, "1k" },
    { 1500, 500, "1.5k" },
    { 1200, 200, "1.2k" },
    { 2.5e6, 5e5, "2.5M" },
    { -3e9, 1e9, "−3G" },
    { 4e12, 1e12, "4T" },
    { 1e15, 1e15, "1e15" },
    { 1e-3, 1e-3, "1e-3" },
    { 2.5e-4, 5e-5, "2.5e-4" },
    { 1.5e-3, 5e-4, "1.5e-3" },
    { 0.05, 0.05, "0.05" },
    { 0.01, 0.01, "0.01" },
    { 123.456, 0.01, "123.46" },
    { 999.9999, 1e-4, "999.9999" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = pl_plot_format_tick (cases[i].value, cases[i].step);
      g_test_message ("%.17g step %g -> %s", cases[i].value, cases[i].step, text);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

/* ---------------------------------------------------------------------------------- */
/* Pixels                                                                             */

static cairo_surface_t *
render (const PlPlotData *data, int width, int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);
  pl_plot_draw (cr, data, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

/* Opaque pixels only (the plot paints its background), so no un-premultiplying. */
static void
pixel (cairo_surface_t *s, int x, int y, int *r, int *g, int *b)
{
  const guint8 *row = cairo_image_surface_get_data (s) + y * cairo_image_surface_get_stride (s);
  guint32 p = ((const guint32 *) row)[x];
  *r = (p >> 16) & 0xff;
  *g = (p >> 8) & 0xff;
  *b = p & 0xff;
}

static gboolean
is_red (cairo_surface_t *s, int x, int y)
{
  int r, g, b;
  pixel (s, x, y, &r, &g, &b);
  return r > 180 && g < 120 && b < 120;
}

/* The markers' grey-blue, or the axes' near-identical grey: dark, unsaturated. */
static gboolean
is_dark_grey (cairo_surface_t *s, int x, int y)
{
  int r, g, b;
  pixel (s, x, y, &r, &g, &b);
  return r < 170 && ABS (r - g) < 12 && b >= r - 4 && b - r < 30;
}

static int
count_column (cairo_surface_t *s, int x, gboolean (*pred) (cairo_surface_t *, int, int))
{
  int n = 0;
  for (int y = 0; y < cairo_image_surface_get_height (s); y++)
    n += pred (s, x, y);
  return n;
}

/* Leftmost and rightmost columns with a red pixel. */
static void
red_extent (cairo_surface_t *s, int *left, int *right)
{
  int w = cairo_image_surface_get_width (s);
  *left = -1;
  *right = -1;
  for (int x = 0; x < w; x++)
    if (count_column (s, x, is_red) > 0)
      {
        if (*left < 0)
          *left = x;
        *right = x;
      }
  g_assert_cmpint (*left, >=, 0);
}

static void
maybe_save (cairo_surface_t *s, const char *name)
{
  const char *dir = g_getenv ("PL_TEST_OUTPUT");
  if (dir == NULL)
    return;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  cairo_surface_write_to_png (s, path);
}

static const double RED[4] = { 1, 0, 0, 1 };

static PlPlotSeries
red_series (const double *x, const double *y, gsize n)
{
  PlPlotSeries s = { NULL, { RED[0], RED[1], RED[2], RED[3] }, x, y, n, FALSE, 0 };
  return s;
}

static void
test_draw_series_and_gap (void)
{
  double x[100], y[100];
  for (int i = 0; i < 100; i++)
    {
      x[i] = i;
      y[i] = (i >= 40 && i < 60) ? NAN : 0.2 + 0.6 * i / 99.0;
    }
  x[70] = NAN;  /* a NaN x is a gap too */
  PlPlotSeries s = red_series (x, y, 100);
  PlPlotData data = { .title = "gap", .x_label = "step", .y_label = "loss",
                      .y_min = NAN, .y_max = NAN, .series = &s, .n_series = 1 };
  cairo_surface_t *surface = render (&data, 400, 250);
  maybe_save (surface, "series-and-gap.png");

  int left, right;
  red_extent (surface, &left, &right);
  g_assert_cmpint (right - left, >, 250);
  double px_per_step = (right - left) / 99.0;
#define COL(i) ((int) round (left + (i) * px_per_step))
  /* Drawn everywhere there are neighbours, nothing inside the gaps. */
  for (int c = COL (0) + 3; c <= COL (39) - 3; c++)
    g_assert_cmpint (count_column (surface, c, is_red), >, 0);
  for (int c = COL (39) + 3; c <= COL (60) - 3; c++)
    g_assert_cmpint (count_column (surface, c, is_red), ==, 0);
  for (int c = COL (60) + 3; c <= COL (69) - 3; c++)
    g_assert_cmpint (count_column (surface, c, is_red), >, 0);
  for (int c = COL (69) + 3; c <= COL (71) - 3; c++)
    g_assert_cmpint (count_column (surface, c, is_red), ==, 0);
  for (int c = COL (71) + 3; c <= COL (99) - 3; c++)
    g_assert_cmpint (count_column (surface, c, is_red), >, 0);
#undef COL
  /* The corners stay background. */
  int r, g, b;
  pixel (surface, 0, 0, &r, &g, &b);
  g_assert_true (r == 255 && g == 255 && b == 255);
  pixel (surface, 399, 249, &r, &g, &b);
  g_assert_true (r == 255 && g == 255 && b == 255);
  cairo_surface_destroy (surface);
}

static void
test_draw_marker (void)
{
  double x[101], y[101];
  for (int i = 0; i <= 100; i++)
    {
      x[i] = i;
      y[i] = 1 + i * 0.01;
    }
  PlPlotSeries s = red_series (x, y, 101);
  PlPlotMarker marker = { 25, "m" };
  PlPlotData data = { .y_min = NAN, .y_max = NAN, .series = &s, .n_series = 1,
                      .markers = &marker, .n_markers = 1 };
  cairo_surface_t *surface = render (&data, 400, 250);
  maybe_save (surface, "marker.png");

  int left, right;
  red_extent (surface, &left, &right);
  double expect = left + 0.25 * (right - left);
  int best = -1, best_count = 0;
  for (int c = (int) expect - 5; c <= (int) expect + 5; c++)
    {
      int n = count_column (surface, c, is_dark_grey);
      if (n > best_count)
        {
          best = c;
          best_count = n;
        }
    }
  g_test_message ("marker expected at column %.1f, darkest column %d (%d px)", expect, best,
                  best_count);
  g_assert_cmpfloat (fabs (best - expect), <=, 1.5);
  g_assert_cmpint (best_count, >, 60);  /* a dashed line over the plot's height */
  g_assert_cmpint (count_column (surface, (int) (left + 0.75 * (right - left)), is_dark_grey),
                   <, 10);
  cairo_surface_destroy (surface);
}

/* 100k samples at about 330 pixel columns: one sample of 1 among zeros must show. */
static void
test_draw_spike (void)
{
  const gsize n = 100000, at = 54321;
  g_autofree double *x = g_new (double, n);
  g_autofree double *y = g_new (double, n);
  for (gsize i = 0; i < n; i++)
    {
      x[i] = i;
      y[i] = 0;
    }
  y[at] = 1;
  PlPlotSeries s = red_series (x, y, n);
  PlPlotData data = { .y_min = NAN, .y_max = NAN, .series = &s, .n_series = 1 };
  cairo_surface_t *surface = render (&data, 400, 250);
  maybe_save (surface, "spike.png");

  int left, right;
  red_extent (surface, &left, &right);
  int tall = 0, tall_at = -1;
  for (int c = left; c <= right; c++)
    if (count_column (surface, c, is_red) > 100)
      {
        tall++;
        tall_at = c;
      }
  double expect = left + (right - left) * (double) at / (n - 1);
  g_test_message ("spike expected at column %.1f, tall columns: %d, last at %d", expect, tall,
                  tall_at);
  g_assert_cmpint (tall, >=, 1);
  g_assert_cmpint (tall, <=, 3);
  g_assert_cmpfloat (fabs (tall_at - expect), <=, 2);
  cairo_surface_destroy (surface);
}

static int
count_non_white (cairo_surface_t *s)
{
  int n = 0;
  for (int y = 0; y < cairo_image_surface_get_height (s); y++)
    for (int x = 0; x < cairo_image_surface_get_width (s); x++)
      {
        int r, g, b;
        pixel (s, x, y, &r, &g, &b);
        n += r != 255 || g != 255 || b != 255;
      }
  return n;
}

static int
count_red (cairo_surface_t *s)
{
  int n = 0;
  for (int x = 0; x < cairo_image_surface_get_width (s); x++)
    n += count_column (s, x, is_red);
  return n;
}

/* Mid-grey pixels ("no data yet") in the middle of the surface. */
static int
count_centre_grey (cairo_surface_t *s)
{
  int w = cairo_image_surface_get_width (s), h = cairo_image_surface_get_height (s), n = 0;
  for (int y = h / 2 - 15; y < h / 2 + 15; y++)
    for (int x = w / 2 - 50; x < w / 2 + 50; x++)
      {
        int r, g, b;
        pixel (s, x, y, &r, &g, &b);
        n += r < 200 && ABS (r - g) < 8;
      }
  return n;
}

static void
test_draw_degenerate (void)
{
  const double nan2[] = { NAN, NAN }, xs[] = { 0, 1, 2, 3 }, flat[] = { 7, 7, 7, 7 };
  const double one_x = 5, one_y = -2, zeros[] = { 0, -1, 0, -3 };

  /* Nothing at all: axes and the centred notice. */
  PlPlotData empty = { .y_min = NAN, .y_max = NAN };
  cairo_surface_t *s = render (&empty, 400, 250);
  maybe_save (s, "empty.png");
  g_assert_cmpint (count_non_white (s), >, 500);
  g_assert_cmpint (count_centre_grey (s), >, 20);
  cairo_surface_destroy (s);

  /* Series that are all NaN, or empty with NULL arrays: the same. */
  PlPlotSeries series[] = { red_series (nan2, nan2, 2), red_series (NULL, NULL, 0) };
  series[0].label = "all NaN";
  PlPlotData all_nan = { .title = "t", .y_min = NAN, .y_max = NAN, .series = series,
                         .n_series = 2 };
  s = render (&all_nan, 400, 250);
  g_assert_cmpint (count_centre_grey (s), >, 20);
  cairo_surface_destroy (s);

  /* One point: a dot. */
  PlPlotSeries one = red_series (&one_x, &one_y, 1);
  PlPlotData one_data = { .y_min = NAN, .y_max = NAN, .series = &one, .n_series = 1 };
  s = render (&one_data, 400, 250);
  maybe_save (s, "one-point.png");
  g_assert_cmpint (count_red (s), >, 4);
  g_assert_cmpint (count_centre_grey (s), ==, 0);
  cairo_surface_destroy (s);

  /* All y equal: a horizontal line across the plot. */
  PlPlotSeries line = red_series (xs, flat, 4);
  PlPlotData flat_data = { .y_min = NAN, .y_max = NAN, .series = &line, .n_series = 1 };
  s = render (&flat_data, 400, 250);
  int left, right;
  red_extent (s, &left, &right);
  g_assert_cmpint (right - left, >, 250);
  cairo_surface_destroy (s);

  /* Log axis with nothing positive: no data; with an explicit range: fine. */
  PlPlotSeries nonpos = red_series (xs, zeros, 4);
  PlPlotData log_data = { .log_y = TRUE, .y_min = NAN, .y_max = NAN, .series = &nonpos,
                          .n_series = 1 };
  s = render (&log_data, 400, 250);
  g_assert_cmpint (count_red (s), ==, 0);
  g_assert_cmpint (count_centre_grey (s), >, 20);
  cairo_surface_destroy (s);
  log_data.series = &line;
  log_data.y_min = 1e-3;
  log_data.y_max = 1e3;
  s = render (&log_data, 400, 250);
  maybe_save (s, "log-explicit.png");
  g_assert_cmpint (count_red (s), >, 250);
  cairo_surface_destroy (s);

  /* Points far outside an explicit range are clipped, not wrapped around. */
  const double wild[] = { -1e300, 1e300, -1e300, 1e300 };
  PlPlotSeries wild_s = red_series (xs, wild, 4);
  PlPlotData wild_data = { .y_min = -1, .y_max = 1, .series = &wild_s, .n_series = 1 };
  s = render (&wild_data, 400, 250);
  g_assert_cmpint (count_red (s), >, 100);
  cairo_surface_destroy (s);

  /* Sizes too small for a plot area draw the background only; zero draws nothing. */
  s = render (&flat_data, 30, 20);
  cairo_surface_destroy (s);
  s = render (&flat_data, 1, 1);
  cairo_surface_destroy (s);
}

static double
median (double *v, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && v[j] < v[j - 1]; j--)
      {
        double t = v[j];
        v[j] = v[j - 1];
        v[j - 1] = t;
      }
  return v[n / 2];
}

/* Two 100k-point series (noisy loss, 2 line widths, one dashed) with markers and a legend. */
static void
test_draw_timing (void)
{
  const gsize n = 100000;
  const int sizes[][2] = { { 400, 250 }, { 1000, 600 } };
  g_autofree double *x = g_new (double, n);
  g_autofree double *y = g_new (double, n);
  g_autofree double *y2 = g_new (double, n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  for (gsize i = 0; i < n; i++)
    {
      x[i] = i;
      y[i] = 0.1 + 2 * exp (-(double) i / 20000) * (1 + 0.2 * g_rand_double_range (rand, -1, 1));
      y2[i] = y[i] * 1.1;
    }
  PlPlotSeries series[] = {
    { "train", { 0.1, 0.4, 0.8, 1 }, x, y, n, FALSE, 1 },
    { "validation", { 0.9, 0.4, 0.1, 1 }, x, y2, n, TRUE, 2 },
  };
  const PlPlotMarker markers[] = { { 30000, "patch 24→whole" }, { 70000, "batch 8→4" } };
  PlPlotData data = { .title = "Loss", .x_label = "step", .y_label = "loss",
                      .y_min = NAN, .y_max = NAN, .series = series, .n_series = 1,
                      .markers = markers, .n_markers = 2 };

  for (guint n_series = 1; n_series <= 2; n_series++)
    for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
      {
        int w = sizes[k][0], h = sizes[k][1];
        cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
        cairo_t *cr = cairo_create (surface);
        double ms[9];
        data.n_series = n_series;
        pl_plot_draw (cr, &data, w, h);  /* warm-up: fontconfig, glyph caches */
        for (int r = 0; r < 9; r++)
          {
            gint64 t0 = g_get_monotonic_time ();
            pl_plot_draw (cr, &data, w, h);
            cairo_surface_flush (surface);
            ms[r] = (g_get_monotonic_time () - t0) / 1000.0;
          }
        double med = median (ms, 9);
        g_test_message ("draw %u x 100k points at %dx%d: min %.2f ms, median %.2f ms%s",
                        n_series, w, h, ms[0], med, UNDER_SANITIZER ? " (sanitizers)" : "");
        if (g_test_verbose () || g_getenv ("PL_TEST_TIMING") != NULL)
          g_printerr ("draw %u x 100k points at %dx%d: min %.2f ms, median %.2f ms\n",
                      n_series, w, h, ms[0], med);
        /* The bound holds for one series in an optimised build; sanitizers are ~5× slower.
         * The fastest of nine runs keeps a busy machine from failing the test. */
        if (n_series == 1)
          g_assert_cmpfloat (ms[0], <, (UNDER_SANITIZER ? 100.0 : 10.0));
        cairo_destroy (cr);
        cairo_surface_destroy (surface);
      }
}

/* ---------------------------------------------------------------------------------- */
/* Export                                                                             */

static const double EX_X[] = { 0, 1, 2, 3, 4, 5 }, EX_Y[] = { 2.3, 1.1, 0.7, NAN, 0.4, 0.35 };

static PlPlotData
example_data (PlPlotSeries *series, PlPlotMarker *marker)
{
  *series = (PlPlotSeries) { "train <loss> & \"more\"", { 0.1, 0.4, 0.8, 1 }, EX_X, EX_Y, 6,
                             FALSE, 0 };
  *marker = (PlPlotMarker) { 2.5, "patch 24→whole" };
  return (PlPlotData) { .title = "Loss & <accuracy>", .x_label = "step", .y_label = "loss",
                        .y_min = NAN, .y_max = NAN, .series = series, .n_series = 1,
                        .markers = marker, .n_markers = 1 };
}

static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  g_assert_nonnull (d);
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
        g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_export_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-plot-XXXXXX", &error);
  g_assert_no_error (error);
  PlPlotSeries series;
  PlPlotMarker marker;
  PlPlotData data = example_data (&series, &marker);

  /* PNG: the signature, and Cairo reads it back at the right size. */
  g_autofree char *png = g_build_filename (dir, "plot.png", NULL);
  g_assert_true (pl_plot_export (&data, png, 400, 250, &error));
  g_assert_no_error (error);
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (png, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, 8);
  g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  cairo_surface_t *back = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (back), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (back), ==, 400);
  g_assert_cmpint (cairo_image_surface_get_height (back), ==, 250);
  g_assert_cmpint (count_non_white (back), >, 1000);
  cairo_surface_destroy (back);

  /* SVG (upper-case extension too): an XML declaration, an <svg> element, and it parses. */
  g_autofree char *svg = g_build_filename (dir, "plot.SVG", NULL);
  g_assert_true (pl_plot_export (&data, svg, 1000, 600, &error));
  g_assert_no_error (error);
  g_clear_pointer (&bytes, g_free);
  g_assert_true (g_file_get_contents (svg, &bytes, &len, NULL));
  g_assert_true (g_str_has_prefix (bytes, "<?xml"));
  g_assert_nonnull (strstr (bytes, "<svg"));
  g_assert_nonnull (strstr (bytes, "width=\"1000px\""));
  const GMarkupParser parser = { NULL };
  g_autoptr (GMarkupParseContext) ctx = g_markup_parse_context_new (&parser, 0, NULL, NULL);
  g_assert_true (g_markup_parse_context_parse (ctx, bytes, (gssize) len, &error));
  g_assert_true (g_markup_parse_context_end_parse (ctx, &error));
  g_assert_no_error (error);

  /* Exporting again replaces the file; no temporary files are left. */
  g_assert_true (pl_plot_export (&data, png, 200, 120, &error));
  back = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_image_surface_get_width (back), ==, 200);
  cairo_surface_destroy (back);
  g_assert_cmpuint (count_entries (dir), ==, 2);
  remove_tree (dir);
}

/* Panels side by side: each half of the file is exactly what pl_plot_draw makes of its
 * panel alone at that size. */
static void
test_export_panels (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-plot-XXXXXX", &error);
  g_assert_no_error (error);
  PlPlotSeries series, other_series;
  PlPlotMarker marker;
  PlPlotData left = example_data (&series, &marker), right = left;
  other_series = series;
  other_series.rgba[0] = 0.9;
  right.series = &other_series;
  right.title = "Against time";
  right.n_markers = 0;
  const PlPlotData *panels[] = { &left, &right };

  g_autofree char *png = g_build_filename (dir, "panels.png", NULL);
  g_assert_true (pl_plot_export_panels (panels, 2, png, 800, 250, &error));
  g_assert_no_error (error);
  cairo_surface_t *back = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_image_surface_get_width (back), ==, 800);
  for (int p = 0; p < 2; p++)
    {
      cairo_surface_t *alone = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 250);
      cairo_t *cr = cairo_create (alone);
      pl_plot_draw (cr, panels[p], 400, 250);
      cairo_destroy (cr);
      cairo_surface_flush (alone);
      int differ = 0;
      for (int y = 0; y < 250; y++)
        for (int x = 0; x < 400; x++)
          {
            int r1, g1, b1, r2, g2, b2;
            pixel (alone, x, y, &r1, &g1, &b1);
            pixel (back, 400 * p + x, y, &r2, &g2, &b2);
            differ += r1 != r2 || g1 != g2 || b1 != b2;
          }
      g_assert_cmpint (differ, ==, 0);
      g_assert_cmpint (count_non_white (alone), >, 1000);
      cairo_surface_destroy (alone);
    }
  cairo_surface_destroy (back);

  g_autofree char *svg = g_build_filename (dir, "panels.svg", NULL);
  g_assert_true (pl_plot_export_panels (panels, 2, svg, 1200, 400, &error));
  g_autofree char *bytes = NULL;
  g_assert_true (g_file_get_contents (svg, &bytes, NULL, NULL));
  g_assert_nonnull (strstr (bytes, "width=\"1200px\""));
  g_autofree char *bad = g_build_filename (dir, "panels.gif", NULL);
  g_assert_false (pl_plot_export_panels (panels, 2, bad, 800, 250, &error));
  g_assert_error (error, PL_PLOT_ERROR, PL_PLOT_ERROR_FORMAT);
  g_assert_cmpuint (count_entries (dir), ==, 2);
  remove_tree (dir);
}

static void
test_export_errors (void)
{
  g_autoptr (GError) tmp_error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-plot-XXXXXX", &tmp_error);
  g_assert_no_error (tmp_error);
  PlPlotSeries series;
  PlPlotMarker marker;
  PlPlotData data = example_data (&series, &marker);
  g_autofree char *bad_ext = g_build_filename (dir, "plot.bmp", NULL);
  g_autofree char *no_ext = g_build_filename (dir, "plot", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", "plot.png", NULL);
  g_autofree char *is_dir = g_build_filename (dir, "folder.png", NULL);
  g_autofree char *kept = g_build_filename (dir, "kept.png", NULL);
  g_autofree char *inside = g_build_filename (is_dir, "file", NULL);

  /* A folder where the file should go (rename fails after the temporary file exists),
   * and an existing file the failed exports must not touch. */
  g_assert_cmpint (g_mkdir (is_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (inside, "x", -1, NULL));
  g_assert_true (g_file_set_contents (kept, "old", -1, NULL));

  const struct { const char *path; int width, height, code; } cases[] = {
    { bad_ext, 400, 250, PL_PLOT_ERROR_FORMAT },
    { no_ext, 400, 250, PL_PLOT_ERROR_FORMAT },
    { missing, 400, 250, PL_PLOT_ERROR_IO },
    { is_dir, 400, 250, PL_PLOT_ERROR_IO },
    { kept, 0, 250, PL_PLOT_ERROR_SIZE },
    { kept, 400, PL_PLOT_MAX_EXPORT_SIDE + 1, PL_PLOT_ERROR_SIZE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = pl_plot_export (&data, cases[i].path, cases[i].width, cases[i].height,
                                    &error);
      g_test_message ("%s -> %s", cases[i].path, error ? error->message : "(written)");
      g_assert_false (ok);
      g_assert_error (error, PL_PLOT_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].path));
    }
  /* Nothing new: the folder, its file, and the untouched old file. */
  g_assert_cmpuint (count_entries (dir), ==, 2);
  g_assert_cmpuint (count_entries (is_dir), ==, 1);
  g_autofree char *old = NULL;
  g_assert_true (g_file_get_contents (kept, &old, NULL, NULL));
  g_assert_cmpstr (old, ==, "old");
  remove_tree (dir);
}

/* ---------------------------------------------------------------------------------- */
/* Copies                                                                             */

static void
test_copy (void)
{
  double x[] = { 1, 2, 3 }, y[] = { 4, 5, 6 };
  char label[] = "train", mlabel[] = "knob";
  PlPlotSeries series[] = {
    { label, { 1, 0, 0, 1 }, x, y, 3, TRUE, 2.5 },
    { NULL, { 0, 0, 1, 0.5 }, NULL, NULL, 0, FALSE, 0 },
  };
  PlPlotMarker marker = { 2, mlabel };
  PlPlotData data = { .title = "T", .x_label = NULL, .y_label = "y", .log_y = TRUE,
                      .y_min = 0.1, .y_max = NAN, .series = series, .n_series = 2,
                      .markers = &marker, .n_markers = 1 };

  g_autoptr (PlPlotData) copy = pl_plot_data_copy (&data);
  x[1] = 99;
  y[2] = 99;
  label[0] = 'X';
  mlabel[0] = 'X';
  g_assert_true (copy->series != series && copy->markers != &marker);
  g_assert_cmpstr (copy->title, ==, "T");
  g_assert_null (copy->x_label);
  g_assert_cmpstr (copy->y_label, ==, "y");
  g_assert_true (copy->log_y);
  g_assert_cmpfloat (copy->y_min, ==, 0.1);
  g_assert_true (isnan (copy->y_max));
  g_assert_cmpuint (copy->n_series, ==, 2);
  g_assert_cmpstr (copy->series[0].label, ==, "train");
  g_assert_cmpfloat (copy->series[0].x[1], ==, 2);
  g_assert_cmpfloat (copy->series[0].y[2], ==, 6);
  g_assert_cmpuint (copy->series[0].n, ==, 3);
  g_assert_true (copy->series[0].dashed);
  g_assert_cmpfloat (copy->series[0].line_width, ==, 2.5);
  g_assert_cmpfloat (copy->series[1].rgba[3], ==, 0.5);
  g_assert_null (copy->series[1].label);
  g_assert_null (copy->series[1].x);
  g_assert_cmpuint (copy->n_markers, ==, 1);
  g_assert_cmpstr (copy->markers[0].label, ==, "knob");
  g_assert_cmpfloat (copy->markers[0].x, ==, 2);
  /* The copy draws. */
  cairo_surface_t *s = render (copy, 320, 200);
  cairo_surface_destroy (s);

  const PlPlotData empty = { .y_min = NAN, .y_max = NAN };
  g_autoptr (PlPlotData) empty_copy = pl_plot_data_copy (&empty);
  g_assert_null (empty_copy->series);
  g_assert_null (empty_copy->title);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot/ticks/linear-invariants", test_nice_ticks_linear);
  g_test_add_func ("/plot/ticks/linear-exact", test_nice_ticks_exact);
  g_test_add_func ("/plot/ticks/log", test_nice_ticks_log);
  g_test_add_func ("/plot/ticks/format", test_format_tick);
  g_test_add_func ("/plot/draw/series-and-gap", test_draw_series_and_gap);
  g_test_add_func ("/plot/draw/marker", test_draw_marker);
  g_test_add_func ("/plot/draw/spike", test_draw_spike);
  g_test_add_func ("/plot/draw/degenerate", test_draw_degenerate);
  g_test_add_func ("/plot/draw/timing", test_draw_timing);
  g_test_add_func ("/plot/export/files", test_export_files);
  g_test_add_func ("/plot/export/panels", test_export_panels);
  g_test_add_func ("/plot/export/errors", test_export_errors);
  g_test_add_func ("/plot/copy", test_copy);
  return g_test_run ();
}
