/* pl-image-view.h — a widget that draws a PlScene: the input with overlays, a
 * probability heatmap, the argmax, or the ground truth. It only draws what it is
 * given (pl_scene_draw in snapshot); setters queue a redraw. Hovering reports the
 * output cell under the pointer through the "hover-cell" signal, so that a window can
 * highlight the same cell in every view. */
#pragma once

#include <gtk/gtk.h>

#include "pl-scene.h"

G_BEGIN_DECLS

#define PL_TYPE_IMAGE_VIEW (pl_image_view_get_type ())
G_DECLARE_FINAL_TYPE (PlImageView, pl_image_view, PL, IMAGE_VIEW, GtkWidget)

GtkWidget *pl_image_view_new (PlSceneMode mode);

/* Copies the scene (its pointers are borrowed: keep the data alive, e.g. through
 * `keep_alive`, a reference released when the next scene arrives). */
void pl_image_view_set_scene (PlImageView *self, const PlScene *scene, gpointer keep_alive,
                              GDestroyNotify release);
const PlScene *pl_image_view_get_scene (PlImageView *self);
void pl_image_view_set_hover (PlImageView *self, int i, int j);
void pl_image_view_set_overlays (PlImageView *self, PlOverlays overlays);
void pl_image_view_set_class (PlImageView *self, int class_index);
/* 0 fits the widget; otherwise screen pixels per image pixel. */
void pl_image_view_set_zoom (PlImageView *self, double zoom);
void pl_image_view_set_mode (PlImageView *self, PlSceneMode mode);

G_END_DECLS
