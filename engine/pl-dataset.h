/* pl-dataset.h — the images and per-pixel labels a net trains on, and the loaders that make them.
 *
 * A PlDataset is two lists of PlSample (train and val): an 8-bit RGB image and a label map of
 * the same size, where each label is a class id in [0, n_classes) or 255 ("ignore", the
 * PASCAL VOC convention; the loss skips those pixels). Three sources:
 *
 *   pl_dataset_new_builtin          procedural scenes (discs, squares, triangles) that differ
 *                                   in shape, not colour; no files needed (pl-dataset-builtin.c);
 *   pl_dataset_load_folder          images/ + masks/ pairs on disk (pl-dataset-folder.c);
 *   pl_dataset_load_fashion_mnist   Fashion-MNIST items composited onto a canvas, from Debian's
 *                                   dataset-fashion-mnist package (pl-dataset-fmnist.c).
 *
 * Errors: every loader reports bad input through GError in PL_DATASET_ERROR, and the message
 * names the file (full path) and the reason. Nothing here aborts on bad input.
 * Ownership: loaders return a new PlDataset that owns all its samples; free it with
 * pl_dataset_free or g_autoptr (PlDataset). Loading is synchronous and touches no global
 * state, so it may run in a worker thread (GTask).
 * Not for: augmentation or batching; the trainer draws windows with pl_sample_to_input.
 */
#pragma once

#include <glib.h>

#include "pl-rng.h"

G_BEGIN_DECLS

#define PL_DATASET_ERROR (pl_dataset_error_quark ())
GQuark pl_dataset_error_quark (void);

typedef enum {
  PL_DATASET_ERROR_IO,       /* a file or folder cannot be read or written */
  PL_DATASET_ERROR_FORMAT,   /* not a PNG/JPEG/IDX file, corrupt or truncated, wrong kind */
  PL_DATASET_ERROR_MISMATCH, /* image and mask sizes differ */
  PL_DATASET_ERROR_LABEL,    /* a label >= n_classes that is not 255 */
  PL_DATASET_ERROR_EMPTY,    /* no samples */
  PL_DATASET_ERROR_LIMIT,    /* a documented limit exceeded, or an argument out of range */
  PL_DATASET_ERROR_MISSING,  /* a folder or file that should exist does not */
} PlDatasetError;

/* The label that the loss ignores (and that never counts as a class). */
#define PL_LABEL_IGNORE 255

/* Total decoded size (RGB + labels) a dataset may take in memory: 8 GiB. */
#define PL_DATASET_MAX_BYTES (G_GUINT64_CONSTANT (8) << 30)

/* Scene side of the generated datasets (built-in and Fashion-MNIST) when 0 is passed, and
 * the sides they accept. */
#define PL_DATASET_DEFAULT_SIDE 96
#define PL_DATASET_MIN_SIDE     32
#define PL_DATASET_MAX_SIDE     1024
/* Largest number of scenes per split the generated datasets make. */
#define PL_DATASET_MAX_SCENES   100000

typedef struct {
  char *name;      /* file stem or "train-0007"; for messages and the UI */
  int width, height;
  guint8 *rgb;     /* [H, W, 3] */
  guint8 *labels;  /* [H, W]; class id or 255 = ignore */
} PlSample;

typedef struct {
  char *description;  /* one line for the UI: source, counts, anything skipped */
  int n_classes;
  char **class_names; /* [n_classes], NULL-terminated */
  GPtrArray *train;   /* of PlSample*, owned */
  GPtrArray *val;     /* of PlSample*, owned */
} PlDataset;

/* A sample with zeroed buffers of the given size (both sides in [1, 8192]). */
PlSample  *pl_sample_new      (const char *name,
                               int         width,
                               int         height);
void       pl_sample_free     (PlSample *sample);

/* An empty dataset with the given class names (copied); used by the loaders. */
PlDataset *pl_dataset_new     (const char *const *class_names);
void       pl_dataset_free    (PlDataset *dataset);
/* A deep copy, every sample included: for consumers that take ownership (a trainer). */
PlDataset *pl_dataset_copy    (const PlDataset *dataset);

/* Makes one generated scene; split says which ("train" or "val"). */
typedef PlSample *(*PlSceneFunc) (const char *name, gboolean train, PlRng *rng, gpointer data);

/* Fills dataset with n_train + n_val generated scenes named "train-0000", "val-0000"…,
 * each drawn from its own stream split off the seed, train and val streams apart, so a
 * val scene does not change when n_train does. */
void pl_dataset_generate (PlDataset *dataset, guint64 seed, int n_train, int n_val,
                          PlSceneFunc make, gpointer data);

/* Normalised float input for the net, NCHW for one image: dst [3, h, w] from the window at
 * (y0, x0); values (v/255 − 0.5)/0.25. The window must lie inside the sample. */
void       pl_sample_to_input (const PlSample *s,
                               int             y0,
                               int             x0,
                               int             h,
                               int             w,
                               float          *dst);

/* Built-in scenes, deterministic from the seed: 4 classes ("background", "disc", "square",
 * "triangle") whose colours and textures come from one distribution, so only shape tells
 * them apart. Shapes are 10–40 px across whatever the side, so the number of shapes grows
 * with the area. side 0 means PL_DATASET_DEFAULT_SIDE; otherwise 32–1024. n_train >= 1,
 * n_val >= 0, each at most PL_DATASET_MAX_SCENES. Val scenes do not depend on n_train. */
PlDataset *pl_dataset_new_builtin (guint64  seed,
                                   int      n_train,
                                   int      n_val,
                                   int      side,
                                   GError **error);

typedef struct {
  gboolean skip_bad;    /* skip bad pairs (and say how many) instead of refusing the folder */
  double val_fraction;  /* held out when there is no val/ folder; in [0, 1) */
  guint64 seed;         /* which pairs are held out */
} PlFolderOptions;

/* path/images/<stem>.{png,jpg,jpeg} + path/masks/<stem>.png, matched by stem, in name order.
 * Masks are palette PNGs (the palette index is the class) or 8-bit grey PNGs (the grey value
 * is the class); 255 = ignore. Optional path/classes.txt: one class name per line, giving
 * n_classes (2–255); without it n_classes = max label + 1 (at least 2). Optional
 * path/val/images + path/val/masks give the val split; otherwise opt->val_fraction of the
 * pairs (at least one when there are two or more) is held out, chosen from opt->seed.
 * opt NULL means { FALSE, 0.1, 0 }. A folder with bad pairs is refused with every problem
 * listed, one line each, unless opt->skip_bad. At most PL_DATASET_MAX_BYTES decoded.
 * A folder that changes while it loads gives a dataset of the pairs as they were read, or
 * the problems it caused (a vanished, truncated or resized file, by name); never a pair
 * made of two different stems or of an image and mask of different sizes. */
PlDataset *pl_dataset_load_folder (const char            *path,
                                   const PlFolderOptions *opt,
                                   GError               **error);

/* For tests only (global, not thread-safe): hook runs with the image and mask paths just
 * before each pair of a folder is decoded, so a test can change the folder at the worst
 * moment. NULL turns it off. */
void pl_dataset_set_decode_hook_for_testing (void (*hook) (const char *image, const char *mask,
                                                           gpointer data),
                                             gpointer data);

/* Fashion-MNIST scenes: several 28×28 items (scaled ×1 or ×2) placed at random on a black
 * side×side canvas; a pixel brighter than a threshold takes its item's class + 1, the rest
 * is background (0): 11 classes. Train scenes use the train files, val scenes t10k.
 * dir NULL means /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
 * side, n_train and n_val as for pl_dataset_new_builtin. */
PlDataset *pl_dataset_load_fashion_mnist (const char *dir,
                                          guint64     seed,
                                          int         n_train,
                                          int         n_val,
                                          int         side,
                                          GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSample, pl_sample_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlDataset, pl_dataset_free)

G_END_DECLS
