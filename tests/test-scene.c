/* test-scene.c — the scene drawing on Cairo image surfaces, no display: crops, keep
 * marks, the receptive field, cells at their centres, and the pointer → cell mapping. */
#include "pl-scene.h"

#include <math.h>
#include <string.h>

#define SIDE 96

typedef struct {
  guint8 rgb[SIDE * SIDE * 3];
  guint8 labels[SIDE * SIDE];
} Image;

static PlScene
scene_of (const Image *im)
{
  PlScene s = {
    .mode = PL_SCENE_INPUT,
    .width = SIDE,
    .height = SIDE,
    .rgb = im->rgb,
    .labels = im->labels,
    .rf = { 24, 4 },
    .n_classes = 4,
    .grid_h = 19,
    .grid_w = 19,
    .hover_i = -1,
    .hover_j = -1,
  };
  return s;
}

/* Draws at 1 screen pixel per image pixel and returns the pixel at (x, y) as 0xRRGGBB. */
static guint32
pixel (cairo_surface_t *surface, int x, int y)
{
  cairo_surface_flush (surface);
  const guint32 *row = (const guint32 *) (cairo_image_surface_get_data (surface)
                                          + (gsize) y * cairo_image_surface_get_stride (surface));
  return row[x] & 0xffffff;
}

static gboolean
is_white (guint32 p)
{
  return (p >> 16 & 0xff) > 0xe0 && (p >> 8 & 0xff) > 0xe0 && (p & 0xff) > 0xe0;
}

static cairo_surface_t *
render (const PlScene *s)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, SIDE, SIDE);
  cairo_t *cr = cairo_create (surface);
  pl_scene_draw (cr, s, SIDE, SIDE);
  cairo_destroy (cr);
  return surface;
}

static void
test_image_is_drawn_pixel_exact (void)
{
  static Image im;
  for (int i = 0; i < SIDE * SIDE; i++)
    {
      im.rgb[3 * i] = (guint8) (i % SIDE);       /* red = column */
      im.rgb[3 * i + 1] = (guint8) (i / SIDE);   /* green = row */
      im.rgb[3 * i + 2] = 7;
    }
  PlScene s = scene_of (&im);
  cairo_surface_t *surface = render (&s);
  g_assert_cmphex (pixel (surface, 10, 20), ==, (10u << 16) | (20u << 8) | 7);
  g_assert_cmphex (pixel (surface, 95, 0), ==, (95u << 16) | 7);
  cairo_surface_destroy (surface);
}

static void
test_crops_and_keep_marks (void)
{
  static Image im;  /* black */
  PlScene s = scene_of (&im);
  PlCrop crop = { 0, 8, 12, 28, 28 };  /* 2×2 output cells */
  guint8 keep[4] = { 1, 0, 0, 1 };
  PlSceneCrop sc = { &crop, 2, 2, keep };
  s.crops = &sc;
  s.n_crops = 1;
  s.overlays = PL_OVERLAY_CROPS;
  cairo_surface_t *surface = render (&s);
  /* The outline runs along the crop's edges, and not inside it. */
  g_assert_cmphex (pixel (surface, 12, 20) & 0xff0000, >, 0x800000);
  g_assert_cmphex (pixel (surface, 20, 8) & 0xff0000, >, 0x800000);
  g_assert_cmphex (pixel (surface, 26, 22), ==, 0);
  cairo_surface_destroy (surface);

  s.overlays = PL_OVERLAY_KEEP;
  surface = render (&s);
  /* Kept cells get a white mark at their centre: cell (0, 0) is centred at
   * (8 + 12, 12 + 12) = row 20, column 24; cell (0, 1) at column 28 is dropped. */
  g_assert_true (is_white (pixel (surface, 24, 20)));
  g_assert_false (is_white (pixel (surface, 28, 20)));
  g_assert_true (is_white (pixel (surface, 28, 24)));
  cairo_surface_destroy (surface);
}

static void
test_receptive_field_of_hovered_cell (void)
{
  static Image im;
  memset (im.rgb, 200, sizeof im.rgb);
  PlScene s = scene_of (&im);
  s.overlays = PL_OVERLAY_FIELD;
  s.hover_i = 3;
  s.hover_j = 5;  /* window rows 12–35, columns 20–43 */
  cairo_surface_t *surface = render (&s);
  guint32 inside = pixel (surface, 30, 25), outside = pixel (surface, 60, 60);
  g_assert_cmphex (inside, ==, 0xc8c8c8);            /* untouched inside */
  g_assert_cmphex (outside & 0xff, <, 0xc8);        /* dimmed outside */
  g_assert_cmphex (pixel (surface, 20, 25) & 0xff, >, 0xe0);  /* the frame, in cyan */
  guint32 centre = pixel (surface, 32, 24);  /* the labelled pixel, in cyan */
  g_assert_cmphex (centre >> 16, <, 0x40);
  g_assert_cmphex (centre >> 8 & 0xff, >, 0xd0);
  cairo_surface_destroy (surface);
}

static void
test_cells_at_their_centres (void)
{
  static Image im;
  PlScene s = scene_of (&im);
  s.mode = PL_SCENE_ARGMAX;
  guint8 argmax[19 * 19];
  memset (argmax, 0, sizeof argmax);
  argmax[2 * 19 + 7] = 1;  /* disc at cell (2, 7): centre (20, 40) */
  s.argmax = argmax;
  cairo_surface_t *surface = render (&s);
  double disc[3];
  pl_scene_class_colour (1, disc);
  guint32 p = pixel (surface, 40, 20);
  g_assert_cmpint ((int) (p >> 16), >, (int) (disc[0] * 255 * 0.7));
  g_assert_cmphex (pixel (surface, 40, 28) >> 16, <, 0x20);  /* the next cell down */
  cairo_surface_destroy (surface);
}

static void
test_pointer_to_cell (void)
{
  static Image im;
  PlScene s = scene_of (&im);
  int i, j;
  /* At twice the size (fit into 192×192): centre of cell (4, 9) is at image
   * (4·4 + 12 + 0.5, 9·4 + 12 + 0.5) → widget (2·48.5, 2·28.5). */
  g_assert_true (pl_scene_cell_at (&s, 192, 192, 97, 57, &i, &j));
  g_assert_cmpint (i, ==, 4);
  g_assert_cmpint (j, ==, 9);
  g_assert_true (pl_scene_cell_at (&s, 192, 192, 2 * 12.5, 2 * 12.5, &i, &j));
  g_assert_cmpint (i, ==, 0);
  g_assert_cmpint (j, ==, 0);
  g_assert_false (pl_scene_cell_at (&s, 192, 192, 2, 2, &i, &j));      /* in the border */
  g_assert_false (pl_scene_cell_at (&s, 192, 192, 190, 190, &i, &j));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scene/image-is-drawn-pixel-exact", test_image_is_drawn_pixel_exact);
  g_test_add_func ("/scene/crops-and-keep-marks", test_crops_and_keep_marks);
  g_test_add_func ("/scene/receptive-field-of-hovered-cell", test_receptive_field_of_hovered_cell);
  g_test_add_func ("/scene/cells-at-their-centres", test_cells_at_their_centres);
  g_test_add_func ("/scene/pointer-to-cell", test_pointer_to_cell);
  return g_test_run ();
}
