/* pl-widget-png.h — a shown widget rendered to a PNG file, as the screen would show it. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The widget must be mapped and drawn once. Written beside and renamed into place, so
 * a failure never leaves half a file at path. */
gboolean pl_widget_save_png (GtkWidget *widget, const char *path, GError **error);

G_END_DECLS
