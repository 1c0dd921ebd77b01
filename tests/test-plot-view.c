/* test-plot-view.c — smoke test of PlPlotView under Xvfb: a window shows the view, its
 * rendering (through the widget paintable and the window's GSK renderer) is saved as a PNG
 * and has the series' pixels; new data replaces the old; the view keeps its own copy of
 * the data; its minimum size. Run with GSK_RENDERER=cairo GTK_A11Y=none (tests/meson.build). */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pl-plot-view.h"

typedef struct {
  int n_non_white, n_red, n_blue;
} Census;

/* Renders the view like a screenshot would and counts pixels; saves a PNG when path. */
static Census
render_view (GtkWidget *view, const char *png_path)
{
  Census census = { 0 };
  int w = gtk_widget_get_width (view), h = gtk_widget_get_height (view);
  g_assert_cmpint (w, >=, 320);
  g_assert_cmpint (h, >=, 200);

  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (view);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  GskRenderNode *node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (view));
  g_assert_nonnull (renderer);
  g_autoptr (GdkTexture) texture
    = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gsk_render_node_unref (node);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, w);

  if (png_path != NULL)
    g_assert_true (gdk_texture_save_to_png (texture, png_path));

  /* gdk_texture_download gives premultiplied BGRA in memory (CAIRO_FORMAT_ARGB32). */
  gsize stride = (gsize) w * 4;
  g_autofree guint8 *pixels = g_malloc (stride * h);
  gdk_texture_download (texture, pixels, stride);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = pixels + y * stride + x * 4;
        int b = p[0], g = p[1], r = p[2];
        census.n_non_white += r != 255 || g != 255 || b != 255;
        census.n_red += r > 180 && g < 120 && b < 120;
        census.n_blue += b > 180 && r < 120 && g < 120;
      }
  return census;
}

/* Data in heap blocks the test frees right after handing it to the view. */
static void
set_heap_data (PlPlotView *view, const double rgba[4], const char *title)
{
  const gsize n = 500;
  double *x = g_new (double, n), *y = g_new (double, n);
  char *label = g_strdup ("train loss"), *t = g_strdup (title);
  char *mlabel = g_strdup ("patch 24→whole");
  for (gsize i = 0; i < n; i++)
    {
      x[i] = i;
      y[i] = (i >= 200 && i < 230) ? NAN : 2 * exp (-(double) i / 150) + 0.1;
    }
  PlPlotSeries *series = g_new0 (PlPlotSeries, 1);
  *series = (PlPlotSeries) { label, { rgba[0], rgba[1], rgba[2], rgba[3] }, x, y, n, FALSE, 2 };
  PlPlotMarker *marker = g_new0 (PlPlotMarker, 1);
  *marker = (PlPlotMarker) { 300, mlabel };
  PlPlotData data = { .title = t, .x_label = "step", .y_label = "loss", .y_min = NAN,
                      .y_max = NAN, .series = series, .n_series = 1, .markers = marker,
                      .n_markers = 1 };
  pl_plot_view_set_data (view, &data);
  /* Scribble over everything before freeing: the view must not look at it again. */
  memset (x, 0xff, n * sizeof *x);
  memset (y, 0xff, n * sizeof *y);
  memset (label, 'X', strlen (label));
  g_free (x);
  g_free (y);
  g_free (label);
  g_free (t);
  g_free (mlabel);
  g_free (series);
  g_free (marker);
}

static void
wait_for_draw (GtkWidget *window)
{
  gtk_test_widget_wait_for_draw (window);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_render (void)
{
  static const double red[4] = { 1, 0, 0, 1 }, blue[4] = { 0, 0, 1, 1 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pl-plot-view-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *png = g_build_filename (dir, "view.png", NULL);

  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = pl_plot_view_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 400);
  gtk_window_set_child (GTK_WINDOW (window), view);
  set_heap_data (PL_PLOT_VIEW (view), red, "Loss");
  gtk_window_present (GTK_WINDOW (window));
  wait_for_draw (window);

  Census c = render_view (view, png);
  g_test_message ("first render %d×%d: %d non-white, %d red, %d blue pixels",
                  gtk_widget_get_width (view), gtk_widget_get_height (view), c.n_non_white,
                  c.n_red, c.n_blue);
  g_assert_cmpint (c.n_non_white, >, 2000);
  g_assert_cmpint (c.n_red, >, 300);
  g_assert_cmpint (c.n_blue, ==, 0);

  /* The PNG on disk is a PNG. */
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (png, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, 8);
  g_assert_cmpmem (bytes, 8, "\x89PNG\r\n\x1a\n", 8);
  if (g_getenv ("PL_TEST_OUTPUT") != NULL)
    {
      g_autofree char *keep = g_build_filename (g_getenv ("PL_TEST_OUTPUT"), "plot-view.png",
                                                NULL);
      g_file_set_contents (keep, bytes, (gssize) len, NULL);
    }

  /* New data replaces the old one on the next frame. */
  set_heap_data (PL_PLOT_VIEW (view), blue, "Accuracy");
  wait_for_draw (window);
  c = render_view (view, NULL);
  g_assert_cmpint (c.n_red, ==, 0);
  g_assert_cmpint (c.n_blue, >, 300);

  /* NULL: an empty plot, still drawn. */
  pl_plot_view_set_data (PL_PLOT_VIEW (view), NULL);
  wait_for_draw (window);
  c = render_view (view, NULL);
  g_assert_cmpint (c.n_blue, ==, 0);
  g_assert_cmpint (c.n_non_white, >, 500);

  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_cmpint (g_unlink (png), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_size_and_role (void)
{
  GtkWidget *view = g_object_ref_sink (pl_plot_view_new ());
  int min = 0, nat = 0;

  gtk_widget_measure (view, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
  g_assert_cmpint (min, ==, 320);
  g_assert_cmpint (nat, >=, min);
  gtk_widget_measure (view, GTK_ORIENTATION_VERTICAL, -1, &min, &nat, NULL, NULL);
  g_assert_cmpint (min, ==, 200);
  g_assert_cmpint (nat, >=, min);
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (view)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
  g_object_unref (view);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plot-view/render", test_render);
  g_test_add_func ("/plot-view/size-and-role", test_size_and_role);
  return g_test_run ();
}
