/* pl-image-view.c — the scene widget. */
#include "pl-image-view.h"

struct _PlImageView {
  GtkWidget parent_instance;

  PlScene scene;
  gpointer keep_alive;
  GDestroyNotify release;
  /* owned: the scene's surfaces, built when data arrives, never while drawing */
  cairo_surface_t *image_surface, *truth_surface, *coverage_surface;
};

G_DEFINE_FINAL_TYPE (PlImageView, pl_image_view, GTK_TYPE_WIDGET)

enum {
  HOVER_CELL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
release_data (PlImageView *self)
{
  if (self->release != NULL && self->keep_alive != NULL)
    self->release (self->keep_alive);
  self->keep_alive = NULL;
  self->release = NULL;
}

/* Surfaces follow the data: image and truth when the image changes, the redundancy map
 * with every scene. */
static void
prepare_surfaces (PlImageView *self, gboolean new_image)
{
  PlScene *s = &self->scene;
  if (new_image)
    {
      g_clear_pointer (&self->image_surface, cairo_surface_destroy);
      g_clear_pointer (&self->truth_surface, cairo_surface_destroy);
      s->image_surface = s->truth_surface = NULL;
      self->image_surface = pl_scene_make_surface (s, PL_SCENE_LAYER_IMAGE);
      self->truth_surface = pl_scene_make_surface (s, PL_SCENE_LAYER_TRUTH);
    }
  g_clear_pointer (&self->coverage_surface, cairo_surface_destroy);
  s->coverage_surface = NULL;
  if (s->mode == PL_SCENE_INPUT)
    self->coverage_surface = pl_scene_make_surface (s, PL_SCENE_LAYER_COVERAGE);
  s->image_surface = self->image_surface;
  s->truth_surface = self->truth_surface;
  s->coverage_surface = self->coverage_surface;
}

static void
pl_image_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PlImageView *self = PL_IMAGE_VIEW (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  pl_scene_draw (cr, &self->scene, width, height);
  cairo_destroy (cr);
}

static void
pl_image_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                       int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  PlImageView *self = PL_IMAGE_VIEW (widget);
  int side = orientation == GTK_ORIENTATION_HORIZONTAL ? self->scene.width : self->scene.height;
  *minimum = 96;
  *natural = self->scene.zoom > 0 ? (int) (side * self->scene.zoom) : MAX (96, MIN (side * 3, 420));
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, PlImageView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  int i = -1, j = -1;
  if (!pl_scene_cell_at (&self->scene, gtk_widget_get_width (widget),
                         gtk_widget_get_height (widget), x, y, &i, &j))
    i = j = -1;
  if (i != self->scene.hover_i || j != self->scene.hover_j)
    g_signal_emit (self, signals[HOVER_CELL], 0, i, j);
}

static void
on_leave (GtkEventControllerMotion *motion, PlImageView *self)
{
  if (self->scene.hover_i >= 0)
    g_signal_emit (self, signals[HOVER_CELL], 0, -1, -1);
}

static void
pl_image_view_dispose (GObject *object)
{
  PlImageView *self = PL_IMAGE_VIEW (object);
  release_data (self);
  g_clear_pointer (&self->image_surface, cairo_surface_destroy);
  g_clear_pointer (&self->truth_surface, cairo_surface_destroy);
  g_clear_pointer (&self->coverage_surface, cairo_surface_destroy);
  G_OBJECT_CLASS (pl_image_view_parent_class)->dispose (object);
}

static void
pl_image_view_class_init (PlImageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_image_view_dispose;
  widget_class->snapshot = pl_image_view_snapshot;
  widget_class->measure = pl_image_view_measure;

  /* ::hover-cell (i, j): the pointer moved onto output cell (i, j), or off the grid
   * (-1, -1). The view does not highlight it itself: its owner decides. */
  signals[HOVER_CELL] = g_signal_new ("hover-cell", G_TYPE_FROM_CLASS (klass),
                                      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                                      G_TYPE_INT, G_TYPE_INT);
  gtk_widget_class_set_css_name (widget_class, "imageview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pl_image_view_init (PlImageView *self)
{
  self->scene.hover_i = self->scene.hover_j = -1;
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
pl_image_view_new (PlSceneMode mode)
{
  PlImageView *self = g_object_new (PL_TYPE_IMAGE_VIEW, NULL);
  self->scene.mode = mode;
  return GTK_WIDGET (self);
}

void
pl_image_view_set_scene (PlImageView *self, const PlScene *scene, gpointer keep_alive,
                         GDestroyNotify release)
{
  g_return_if_fail (PL_IS_IMAGE_VIEW (self));
  /* The view keeps its own mode, overlays, class, hover and zoom. */
  PlScene next = *scene;
  next.mode = self->scene.mode;
  next.overlays = self->scene.overlays;
  next.class_index = CLAMP (self->scene.class_index, 0, MAX (scene->n_classes - 1, 0));
  next.hover_i = self->scene.hover_i;
  next.hover_j = self->scene.hover_j;
  next.zoom = self->scene.zoom;
  gboolean resized = next.width != self->scene.width || next.height != self->scene.height;
  gboolean new_image = resized || next.rgb != self->scene.rgb || next.labels != self->scene.labels
                       || self->image_surface == NULL;
  release_data (self);
  self->scene = next;
  prepare_surfaces (self, new_image);
  self->keep_alive = keep_alive;
  self->release = release;
  if (resized)
    gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const PlScene *
pl_image_view_get_scene (PlImageView *self)
{
  return &self->scene;
}

void
pl_image_view_set_hover (PlImageView *self, int i, int j)
{
  if (self->scene.hover_i == i && self->scene.hover_j == j)
    return;
  self->scene.hover_i = i;
  self->scene.hover_j = j;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pl_image_view_set_overlays (PlImageView *self, PlOverlays overlays)
{
  self->scene.overlays = overlays;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pl_image_view_set_class (PlImageView *self, int class_index)
{
  self->scene.class_index = class_index;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
pl_image_view_set_zoom (PlImageView *self, double zoom)
{
  self->scene.zoom = zoom;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
pl_image_view_set_mode (PlImageView *self, PlSceneMode mode)
{
  self->scene.mode = mode;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
