/* pl-scene.h — what an image view shows, and the Cairo code that draws it.
 *
 * A scene is one dataset image plus what the net says about it: the ground truth,
 * the current step's crops and loss-keep marks, the receptive field of the cell under
 * the pointer, the redundancy map, and the preview's per-class probabilities and
 * argmax. Output cells are drawn where they belong: as J×J squares centred on their
 * receptive-field centres in input coordinates, so input and output views line up.
 *
 * Drawing is plain Cairo (no GTK) so that widgets, tests and PNG export all call
 * pl_scene_draw. Everything is borrowed; the caller keeps it alive while drawing.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "pl-receptive.h"
#include "pl-sampler.h"

G_BEGIN_DECLS

typedef enum {
  PL_SCENE_INPUT,        /* the image with the chosen overlays */
  PL_SCENE_PROBABILITY,  /* one class's probability per output cell */
  PL_SCENE_ARGMAX,       /* the predicted class per output cell */
  PL_SCENE_TRUTH,        /* the ground truth labels */
} PlSceneMode;

typedef enum {
  PL_OVERLAY_TRUTH      = 1 << 0,
  PL_OVERLAY_CROPS      = 1 << 1,
  PL_OVERLAY_KEEP       = 1 << 2,
  PL_OVERLAY_FIELD      = 1 << 3,  /* receptive field of the hovered cell */
  PL_OVERLAY_REDUNDANCY = 1 << 4,
} PlOverlays;

typedef struct {
  const PlCrop *crop;
  int out_h, out_w;
  const guint8 *keep;    /* [out_h, out_w] */
} PlSceneCrop;

typedef struct {
  PlSceneMode mode;
  PlOverlays overlays;
  /* the image */
  int width, height;
  const guint8 *rgb;      /* [H, W, 3] */
  const guint8 *labels;   /* [H, W], may be NULL */
  PlReceptiveField rf;
  int n_classes;
  /* the current step, restricted to this image */
  const PlSceneCrop *crops;
  guint n_crops;
  const guint16 *coverage;  /* [H, W] crops per pixel, may be NULL */
  guint max_coverage;
  /* the preview (whole-image output grid) */
  int grid_h, grid_w;
  const float *probabilities;  /* [K, grid_h, grid_w], may be NULL */
  const guint8 *argmax;        /* [grid_h, grid_w], may be NULL */
  int class_index;             /* for PL_SCENE_PROBABILITY */
  /* interaction */
  int hover_i, hover_j;        /* output cell under the pointer; -1 when none */
  double zoom;                 /* 0 = fit the widget; otherwise screen px per image px */
  /* Prepared surfaces (borrowed, may be NULL: then pl_scene_draw builds them itself, which
   * a widget should not do at every frame). */
  cairo_surface_t *image_surface, *truth_surface, *coverage_surface;
} PlScene;

typedef enum {
  PL_SCENE_LAYER_IMAGE,
  PL_SCENE_LAYER_TRUTH,
  PL_SCENE_LAYER_COVERAGE,
} PlSceneLayer;

/* An image-sized ARGB surface of one layer of the scene (NULL when the scene has no data
 * for it); the caller owns it. */
cairo_surface_t *pl_scene_make_surface (const PlScene *scene, PlSceneLayer layer);

/* Image → widget placement: widget = image · scale + offset. */
typedef struct {
  double scale, x, y;
} PlSceneTransform;

PlSceneTransform pl_scene_transform (const PlScene *scene, double width, double height);
void pl_scene_draw (cairo_t *cr, const PlScene *scene, double width, double height);
/* The output cell whose centre is nearest the widget point, within half a jump of
 * it; FALSE when the point is off the grid. */
gboolean pl_scene_cell_at (const PlScene *scene, double width, double height, double x,
                           double y, int *i, int *j);
/* The colour of a class (the PASCAL VOC map, as in label PNGs). */
void pl_scene_class_colour (int label, double rgb[3]);
/* A perceptual colour map (viridis-like) for v in [0, 1]. */
void pl_scene_heat_colour (double v, double rgb[3]);

G_END_DECLS
