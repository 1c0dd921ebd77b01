/* pl-scene.c — drawing a scene with Cairo. Image pixels are drawn with nearest-
 * neighbour filtering so that large zooms stay pixel-exact. */
#include "pl-scene.h"

#include "pl-image-io.h"

#include <math.h>

void
pl_scene_class_colour (int label, double rgb[3])
{
  guint8 c[3];
  pl_image_label_colour ((guint8) label, c);
  for (int i = 0; i < 3; i++)
    rgb[i] = c[i] / 255.0;
}

void
pl_scene_heat_colour (double v, double rgb[3])
{
  /* Five stops of viridis, linearly interpolated. */
  static const double stops[5][3] = {
    { 0.267, 0.005, 0.329 }, { 0.231, 0.322, 0.545 }, { 0.129, 0.569, 0.549 },
    { 0.369, 0.788, 0.384 }, { 0.993, 0.906, 0.144 },
  };
  v = CLAMP (isnan (v) ? 0.0 : v, 0.0, 1.0) * 4.0;
  int k = MIN ((int) v, 3);
  double f = v - k;
  for (int i = 0; i < 3; i++)
    rgb[i] = stops[k][i] * (1 - f) + stops[k + 1][i] * f;
}

PlSceneTransform
pl_scene_transform (const PlScene *s, double width, double height)
{
  PlSceneTransform t = { 1.0, 0.0, 0.0 };
  if (s->width <= 0 || s->height <= 0)
    return t;
  t.scale = s->zoom > 0 ? s->zoom : MIN (width / s->width, height / s->height);
  t.x = floor ((width - s->width * t.scale) / 2);
  t.y = floor ((height - s->height * t.scale) / 2);
  return t;
}

/* An ARGB32 surface of the image, or of per-pixel colours from fill (x, y). */
typedef void (*PixelFunc) (const PlScene *s, int x, int y, guint8 rgba[4]);

static cairo_surface_t *
make_surface (const PlScene *s, int width, int height, PixelFunc fill)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_surface_flush (surface);
  guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < height; y++)
    {
      guint32 *row = (guint32 *) (data + (gsize) y * stride);
      for (int x = 0; x < width; x++)
        {
          guint8 c[4];
          fill (s, x, y, c);
          /* premultiplied ARGB */
          row[x] = ((guint32) c[3] << 24) | ((guint32) (c[0] * c[3] / 255) << 16)
                   | ((guint32) (c[1] * c[3] / 255) << 8) | (guint32) (c[2] * c[3] / 255);
        }
    }
  cairo_surface_mark_dirty (surface);
  return surface;
}

static void
image_pixel (const PlScene *s, int x, int y, guint8 c[4])
{
  const guint8 *p = s->rgb + ((gsize) y * s->width + x) * 3;
  c[0] = p[0];
  c[1] = p[1];
  c[2] = p[2];
  c[3] = 255;
}

static void
truth_pixel (const PlScene *s, int x, int y, guint8 c[4])
{
  guint8 label = s->labels[(gsize) y * s->width + x];
  pl_image_label_colour (label, c);
  c[3] = label == 255 ? 0 : 255;
}

static void
coverage_pixel (const PlScene *s, int x, int y, guint8 c[4])
{
  guint16 n = s->coverage[(gsize) y * s->width + x];
  double rgb[3];
  pl_scene_heat_colour (s->max_coverage > 1 ? (n - 1.0) / (s->max_coverage - 1.0) : 1.0, rgb);
  for (int i = 0; i < 3; i++)
    c[i] = (guint8) (rgb[i] * 255);
  c[3] = n > 0 ? 255 : 0;
}

cairo_surface_t *
pl_scene_make_surface (const PlScene *s, PlSceneLayer layer)
{
  switch (layer)
    {
    case PL_SCENE_LAYER_IMAGE:
      return s->rgb != NULL ? make_surface (s, s->width, s->height, image_pixel) : NULL;
    case PL_SCENE_LAYER_TRUTH:
      return s->labels != NULL ? make_surface (s, s->width, s->height, truth_pixel) : NULL;
    case PL_SCENE_LAYER_COVERAGE:
      return s->coverage != NULL ? make_surface (s, s->width, s->height, coverage_pixel) : NULL;
    }
  return NULL;
}

/* The prepared surface, or a new one when the scene brings none; release with
 * cairo_surface_destroy either way. */
static cairo_surface_t *
layer_surface (const PlScene *s, PlSceneLayer layer)
{
  cairo_surface_t *prepared = layer == PL_SCENE_LAYER_IMAGE ? s->image_surface
                              : layer == PL_SCENE_LAYER_TRUTH ? s->truth_surface
                                                              : s->coverage_surface;
  return prepared != NULL ? cairo_surface_reference (prepared) : pl_scene_make_surface (s, layer);
}

/* Paints a surface of image size at the transform, nearest-neighbour, with alpha. */
static void
paint_image_sized (cairo_t *cr, cairo_surface_t *surface, PlSceneTransform t, double alpha)
{
  cairo_save (cr);
  cairo_translate (cr, t.x, t.y);
  cairo_scale (cr, t.scale, t.scale);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint_with_alpha (cr, alpha);
  cairo_restore (cr);
}

/* A J×J square centred on cell (i, j)'s receptive-field centre, in image units. */
static void
cell_rect (const PlScene *s, int i, int j, double *x, double *y, double *side)
{
  int cy, cx;
  pl_receptive_field_centre (s->rf, i, j, &cy, &cx);
  *side = s->rf.J;
  *x = cx - s->rf.J / 2.0;
  *y = cy - s->rf.J / 2.0;
}

static void
draw_cells (cairo_t *cr, const PlScene *s, PlSceneTransform t)
{
  gsize plane = (gsize) s->grid_h * s->grid_w;
  cairo_save (cr);
  cairo_translate (cr, t.x, t.y);
  cairo_scale (cr, t.scale, t.scale);
  for (int i = 0; i < s->grid_h; i++)
    for (int j = 0; j < s->grid_w; j++)
      {
        double rgb[3], x, y, side;
        gsize m = (gsize) i * s->grid_w + j;
        if (s->mode == PL_SCENE_PROBABILITY)
          pl_scene_heat_colour (s->probabilities[(gsize) s->class_index * plane + m], rgb);
        else
          pl_scene_class_colour (s->argmax[m], rgb);
        cell_rect (s, i, j, &x, &y, &side);
        cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], 0.85);
        cairo_rectangle (cr, x, y, side, side);
        cairo_fill (cr);
      }
  cairo_restore (cr);
}

static void
draw_crops (cairo_t *cr, const PlScene *s, PlSceneTransform t)
{
  cairo_save (cr);
  cairo_set_line_width (cr, 1.5);
  for (guint c = 0; c < s->n_crops; c++)
    {
      const PlCrop *crop = s->crops[c].crop;
      cairo_set_source_rgba (cr, 1.0, 0.55, 0.0, 0.9);
      cairo_rectangle (cr, t.x + crop->x0 * t.scale + 0.75, t.y + crop->y0 * t.scale + 0.75,
                       crop->width * t.scale - 1.5, crop->height * t.scale - 1.5);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

static void
draw_keep_marks (cairo_t *cr, const PlScene *s, PlSceneTransform t)
{
  double r = MAX (1.5, MIN (4.0, s->rf.J * t.scale * 0.25));
  cairo_save (cr);
  for (guint c = 0; c < s->n_crops; c++)
    {
      const PlSceneCrop *sc = &s->crops[c];
      for (int i = 0; i < sc->out_h; i++)
        for (int j = 0; j < sc->out_w; j++)
          {
            int cy, cx;
            pl_receptive_field_centre (s->rf, i, j, &cy, &cx);
            double x = t.x + (sc->crop->x0 + cx + 0.5) * t.scale;
            double y = t.y + (sc->crop->y0 + cy + 0.5) * t.scale;
            gboolean kept = sc->keep[(gsize) i * sc->out_w + j];
            cairo_arc (cr, x, y, r, 0, 2 * G_PI);
            if (kept)
              {
                cairo_set_source_rgba (cr, 1, 1, 1, 0.95);
                cairo_fill_preserve (cr);
                cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
                cairo_set_line_width (cr, 1);
                cairo_stroke (cr);
              }
            else
              {
                cairo_set_source_rgba (cr, 0, 0, 0, 0.45);
                cairo_set_line_width (cr, 1);
                cairo_stroke (cr);
              }
          }
    }
  cairo_restore (cr);
}

static void
draw_field (cairo_t *cr, const PlScene *s, PlSceneTransform t)
{
  int y0, x0, cy, cx;
  pl_receptive_field_window (s->rf, s->hover_i, s->hover_j, &y0, &x0);
  pl_receptive_field_centre (s->rf, s->hover_i, s->hover_j, &cy, &cx);
  cairo_save (cr);
  /* Dim everything outside the window so that the field stands out. */
  cairo_rectangle (cr, t.x, t.y, s->width * t.scale, s->height * t.scale);
  cairo_rectangle (cr, t.x + x0 * t.scale, t.y + y0 * t.scale, s->rf.R * t.scale,
                   s->rf.R * t.scale);
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.35);
  cairo_fill (cr);
  cairo_set_line_width (cr, 2);
  cairo_set_source_rgba (cr, 0.1, 0.9, 1.0, 1.0);
  cairo_rectangle (cr, t.x + x0 * t.scale, t.y + y0 * t.scale, s->rf.R * t.scale,
                   s->rf.R * t.scale);
  cairo_stroke (cr);
  /* The centre pixel, whose label the cell learns. */
  cairo_rectangle (cr, t.x + cx * t.scale, t.y + cy * t.scale, MAX (t.scale, 2),
                   MAX (t.scale, 2));
  cairo_fill (cr);
  /* What the window is: cell, R and J, on a dark tag above it (below at the top edge). */
  char text[96];
  g_snprintf (text, sizeof text, "cell (%d, %d)  R = %d px  J = %d px", s->hover_i, s->hover_j,
              s->rf.R, s->rf.J);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  cairo_text_extents_t ext;
  cairo_text_extents (cr, text, &ext);
  double tx = CLAMP (t.x + x0 * t.scale, t.x, t.x + MAX (0, s->width * t.scale - ext.width - 8));
  double ty = t.y + y0 * t.scale - 6;
  if (ty - ext.height - 4 < t.y)
    ty = t.y + (y0 + s->rf.R) * t.scale + ext.height + 6;
  cairo_set_source_rgba (cr, 0, 0, 0, 0.75);
  cairo_rectangle (cr, tx, ty - ext.height - 4, ext.width + 8, ext.height + 8);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.1, 0.9, 1.0);
  cairo_move_to (cr, tx + 4 - ext.x_bearing, ty);
  cairo_show_text (cr, text);
  cairo_restore (cr);
}

static void
draw_hover_cell (cairo_t *cr, const PlScene *s, PlSceneTransform t)
{
  double x, y, side;
  cell_rect (s, s->hover_i, s->hover_j, &x, &y, &side);
  cairo_save (cr);
  cairo_set_line_width (cr, 2);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, t.x + x * t.scale - 1, t.y + y * t.scale - 1, side * t.scale + 2,
                   side * t.scale + 2);
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, t.x + x * t.scale - 2.5, t.y + y * t.scale - 2.5, side * t.scale + 5,
                   side * t.scale + 5);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
pl_scene_draw (cairo_t *cr, const PlScene *s, double width, double height)
{
  if (s->rgb == NULL || s->width <= 0 || s->height <= 0)
    return;
  PlSceneTransform t = pl_scene_transform (s, width, height);
  gboolean has_grid = s->grid_h > 0 && s->grid_w > 0;
  gboolean hover = s->hover_i >= 0 && s->hover_j >= 0 && has_grid && s->hover_i < s->grid_h
                   && s->hover_j < s->grid_w;

  cairo_surface_t *image = layer_surface (s, PL_SCENE_LAYER_IMAGE);
  gboolean dim = s->mode != PL_SCENE_INPUT || (s->overlays & PL_OVERLAY_REDUNDANCY);
  paint_image_sized (cr, image, t, 1.0);
  if (dim)
    {
      /* Outputs and heat read better over a faded image. */
      cairo_save (cr);
      cairo_rectangle (cr, t.x, t.y, s->width * t.scale, s->height * t.scale);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.55);
      cairo_fill (cr);
      cairo_restore (cr);
    }
  cairo_surface_destroy (image);

  switch (s->mode)
    {
    case PL_SCENE_INPUT:
      if ((s->overlays & PL_OVERLAY_TRUTH) && s->labels != NULL)
        {
          cairo_surface_t *truth = layer_surface (s, PL_SCENE_LAYER_TRUTH);
          paint_image_sized (cr, truth, t, 0.45);
          cairo_surface_destroy (truth);
        }
      if ((s->overlays & PL_OVERLAY_REDUNDANCY) && s->coverage != NULL)
        {
          cairo_surface_t *heat = layer_surface (s, PL_SCENE_LAYER_COVERAGE);
          paint_image_sized (cr, heat, t, 0.75);
          cairo_surface_destroy (heat);
        }
      if (s->overlays & PL_OVERLAY_CROPS)
        draw_crops (cr, s, t);
      if (s->overlays & PL_OVERLAY_KEEP)
        draw_keep_marks (cr, s, t);
      if ((s->overlays & PL_OVERLAY_FIELD) && hover)
        draw_field (cr, s, t);
      else if (hover)
        draw_hover_cell (cr, s, t);
      break;
    case PL_SCENE_PROBABILITY:
      if (has_grid && s->probabilities != NULL)
        draw_cells (cr, s, t);
      break;
    case PL_SCENE_ARGMAX:
      if (has_grid && s->argmax != NULL)
        draw_cells (cr, s, t);
      break;
    case PL_SCENE_TRUTH:
      if (s->labels != NULL)
        {
          cairo_surface_t *truth = layer_surface (s, PL_SCENE_LAYER_TRUTH);
          paint_image_sized (cr, truth, t, 0.85);
          cairo_surface_destroy (truth);
        }
      break;
    }
  if (hover && s->mode != PL_SCENE_INPUT)
    draw_hover_cell (cr, s, t);
}

gboolean
pl_scene_cell_at (const PlScene *s, double width, double height, double x, double y, int *i,
                  int *j)
{
  if (s->grid_h <= 0 || s->grid_w <= 0)
    return FALSE;
  PlSceneTransform t = pl_scene_transform (s, width, height);
  double ix = (x - t.x) / t.scale, iy = (y - t.y) / t.scale;
  /* Centres sit at i·J + R/2 (+ 0.5 for the pixel's middle). */
  double fi = (iy - s->rf.R / 2 - 0.5) / s->rf.J, fj = (ix - s->rf.R / 2 - 0.5) / s->rf.J;
  int ci = (int) lround (fi), cj = (int) lround (fj);
  if (ci < 0 || cj < 0 || ci >= s->grid_h || cj >= s->grid_w)
    return FALSE;
  *i = ci;
  *j = cj;
  return TRUE;
}
