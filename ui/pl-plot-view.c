/* pl-plot-view.c — PlPlotView: a GtkWidget whose snapshot only hands its copy of the plot
 * data to pl_plot_draw through gtk_snapshot_append_cairo. Not for: computing curves,
 * zooming or hover read-outs. */
#include "pl-plot-view.h"

#define MIN_WIDTH      320
#define MIN_HEIGHT     200
#define NATURAL_WIDTH  640
#define NATURAL_HEIGHT 400

struct _PlPlotView
{
  GtkWidget parent_instance;

  /* Owned */
  PlPlotData *data;   /* a pl_plot_data_copy; never NULL */
};

G_DEFINE_FINAL_TYPE (PlPlotView, pl_plot_view, GTK_TYPE_WIDGET)

static void
pl_plot_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  PlPlotView *self = PL_PLOT_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  if (width <= 0 || height <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  pl_plot_draw (cr, self->data, width, height);
  cairo_destroy (cr);
}

static void
pl_plot_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                      int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MIN_WIDTH;
      *natural = NATURAL_WIDTH;
    }
  else
    {
      *minimum = MIN_HEIGHT;
      *natural = NATURAL_HEIGHT;
    }
}

static void
update_accessible_label (PlPlotView *self)
{
  const char *title = self->data->title;
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  title != NULL && title[0] != '\0' ? title : "Plot", -1);
}

static void
pl_plot_view_finalize (GObject *object)
{
  PlPlotView *self = PL_PLOT_VIEW (object);

  g_clear_pointer (&self->data, pl_plot_data_free);

  G_OBJECT_CLASS (pl_plot_view_parent_class)->finalize (object);
}

static void
pl_plot_view_class_init (PlPlotViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = pl_plot_view_finalize;
  widget_class->snapshot = pl_plot_view_snapshot;
  widget_class->measure = pl_plot_view_measure;

  gtk_widget_class_set_css_name (widget_class, "plotview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
pl_plot_view_init (PlPlotView *self)
{
  const PlPlotData empty = { .y_min = NAN, .y_max = NAN };

  self->data = pl_plot_data_copy (&empty);
  update_accessible_label (self);
}

GtkWidget *
pl_plot_view_new (void)
{
  return g_object_new (PL_TYPE_PLOT_VIEW, NULL);
}

void
pl_plot_view_set_data (PlPlotView *self, const PlPlotData *data)
{
  const PlPlotData empty = { .y_min = NAN, .y_max = NAN };

  g_return_if_fail (PL_IS_PLOT_VIEW (self));

  g_clear_pointer (&self->data, pl_plot_data_free);
  self->data = pl_plot_data_copy (data != NULL ? data : &empty);
  update_accessible_label (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
