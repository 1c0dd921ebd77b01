/* pl-image-io.h — reading PNG/JPEG images and label masks, writing label maps as palette PNGs.
 *
 * libpng and libjpeg are used directly (not gdk-pixbuf) for two reasons: a palette mask must
 * give its palette *indices*, which every convenience loader turns into colours, and the
 * engine must not depend on GTK's stack. Files are recognised by content, not by extension.
 *
 * Errors are in PL_DATASET_ERROR (pl-dataset.h); messages start with the file's path:
 *   IO      cannot open, read or write;
 *   FORMAT  not a PNG/JPEG, corrupt or truncated, a mask that is not palette or grey;
 *   LIMIT   a side above PL_IMAGE_MAX_SIDE (checked from the header, before allocating).
 * Not for: colour management, alpha (dropped), 16-bit precision (reduced to 8 bits).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Largest width or height accepted, in pixels. 8192² RGB is 192 MiB: large enough for
 * any photograph a segmentation dataset holds, small enough that a forged header cannot
 * make us allocate gigabytes. */
#define PL_IMAGE_MAX_SIDE 8192

/* Reads only the header: the size a decode would give. */
gboolean pl_image_read_size  (const char *path,
                              int        *width,
                              int        *height,
                              GError    **error);

/* Any PNG or JPEG as 8-bit RGB. *rgb [H, W, 3] is newly allocated (g_free). */
gboolean pl_image_load_rgb   (const char *path,
                              int        *width,
                              int        *height,
                              guint8    **rgb,
                              GError    **error);

/* A mask PNG as class ids: palette PNGs give the palette index, grey PNGs (1–8 bits) the
 * grey value. RGB, grey+alpha and 16-bit masks are refused. *labels [H, W] is newly
 * allocated (g_free). */
gboolean pl_image_load_mask  (const char *path,
                              int        *width,
                              int        *height,
                              guint8    **labels,
                              GError    **error);

/* Writes labels [H, W] as an 8-bit palette PNG (PASCAL VOC colours; 255 is the VOC "void"
 * colour), so that pl_image_load_mask gives the labels back. Atomic: the data goes to a
 * temporary file in the same folder, renamed over path only when complete; on failure the
 * temporary file is removed and path is untouched. */
gboolean pl_image_save_labels (const char   *path,
                               int           width,
                               int           height,
                               const guint8 *labels,
                               GError      **error);

/* The colour pl_image_save_labels uses for a label (PASCAL VOC colour map). */
void     pl_image_label_colour (guint8 label,
                                guint8 rgb[3]);

G_END_DECLS
