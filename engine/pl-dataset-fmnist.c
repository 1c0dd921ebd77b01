/* pl-dataset-fmnist.c — segmentation scenes made of Fashion-MNIST items.
 *
 * Fashion-MNIST (Zalando; Debian package dataset-fashion-mnist) holds 28×28 grey product
 * photos in ten classes, as gzipped IDX files. A scene is a black side×side canvas with a few
 * items pasted at random places, each scaled ×1 or ×2 (nearest neighbour); later items cover
 * earlier ones. A pixel brighter than VISIBLE_THRESHOLD is drawn and labelled with its item's
 * class + 1; darker item pixels are left out entirely (neither drawn nor labelled), so what
 * is visible and what is labelled always agree. Class 0 is the background.
 *
 * The IDX files are validated in full (magic, dimensions, counts, label range, gzip
 * integrity through the trailer) before a scene is made.
 */
#include "pl-dataset.h"

#include "pl-rng.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FMNIST_HINT        "install the Debian package dataset-fashion-mnist " \
                           "(apt-get install dataset-fashion-mnist)"
#define ITEM_SIDE          28
#define N_ITEM_CLASSES     10
#define MAX_ITEMS          1000000   /* the real files hold 60000 and 10000 */
#define VISIBLE_THRESHOLD  32

#define IDX_MAGIC_LABELS 0x00000801u  /* unsigned bytes, 1 dimension */
#define IDX_MAGIC_IMAGES 0x00000803u  /* unsigned bytes, 3 dimensions */

typedef struct {
  guint32 n;
  guint8 *pixels;  /* [n, 28, 28] */
  guint8 *labels;  /* [n] */
} Items;

static void
items_clear (Items *items)
{
  g_clear_pointer (&items->pixels, g_free);
  g_clear_pointer (&items->labels, g_free);
  items->n = 0;
}

/* Reads exactly length bytes from a gzip stream; a short read means the file is truncated. */
static gboolean
read_exact (GInputStream *in, const char *path, const char *what, guint8 *buffer, gsize length,
            GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gsize got = 0;

  if (!g_input_stream_read_all (in, buffer, length, &got, NULL, &local_error))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: corrupt or truncated gzip data while reading the %s: %s", path, what,
                   local_error->message);
      return FALSE;
    }
  if (got < length)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: truncated: the %s need %" G_GSIZE_FORMAT " bytes, the file has %"
                   G_GSIZE_FORMAT, path, what, length, got);
      return FALSE;
    }
  return TRUE;
}

/* Reads exactly length bytes in pieces of READ_PIECE into a buffer that grows with what
 * arrives, so that a header announcing more items than the file holds costs no more memory
 * than the file gives (reading it all at once, GIO's converter stream would also allocate
 * a buffer of the whole length). */
#define READ_PIECE ((gsize) 1 << 20)

static guint8 *
read_growing (GInputStream *in, const char *path, const char *what, gsize length,
              GError **error)
{
  gsize capacity = MIN (length, READ_PIECE), have = 0;
  g_autofree guint8 *data = g_try_malloc (capacity);

  while (data != NULL && have < length)
    {
      g_autoptr (GError) local_error = NULL;
      gsize want = MIN (READ_PIECE, length - have), got = 0;
      if (have + want > capacity)
        {
          capacity = MIN (MAX (2 * capacity, have + want), length);
          guint8 *grown = g_try_realloc (data, capacity);
          if (grown == NULL)
            break;
          data = grown;
        }
      if (!g_input_stream_read_all (in, data + have, want, &got, NULL, &local_error))
        {
          g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                       "%s: corrupt or truncated gzip data while reading the %s: %s", path, what,
                       local_error->message);
          return NULL;
        }
      have += got;
      if (got < want)
        {
          g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                       "%s: truncated: the %s need %" G_GSIZE_FORMAT " bytes, the file has %"
                       G_GSIZE_FORMAT, path, what, length, have);
          return NULL;
        }
    }
  if (have < length)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "%s: not enough memory for %" G_GSIZE_FORMAT " bytes", path, length);
      return NULL;
    }
  return g_steal_pointer (&data);
}

/* Reads one gzipped IDX file of unsigned bytes: the header (magic, then n_dims big-endian
 * sizes into dims) and the data, which must end exactly where the gzip stream ends. */
static guint8 *
read_idx (const char *path, guint32 magic, int n_dims, guint32 *dims, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GFileInputStream) raw = g_file_read (file, NULL, &local_error);
  g_autoptr (GZlibDecompressor) gunzip = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autofree guint8 *data = NULL;
  guint32 header[4];
  guint8 extra;
  gsize length = 1, got;

  if (raw == NULL)
    {
      gboolean missing = g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_set_error (error, PL_DATASET_ERROR,
                   missing ? PL_DATASET_ERROR_MISSING : PL_DATASET_ERROR_IO,
                   missing ? "%s: file not found; %s" : "%s: cannot open: %s", path,
                   missing ? FMNIST_HINT : local_error->message);
      return NULL;
    }
  gunzip = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  in = g_converter_input_stream_new (G_INPUT_STREAM (raw), G_CONVERTER (gunzip));

  if (!read_exact (in, path, "header", (guint8 *) header, 4 * (gsize) (n_dims + 1), error))
    return NULL;
  if (GUINT32_FROM_BE (header[0]) != magic)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: not an IDX %s file (magic 0x%08x, expected 0x%08x)", path,
                   magic == IDX_MAGIC_IMAGES ? "image" : "label", GUINT32_FROM_BE (header[0]),
                   magic);
      return NULL;
    }
  for (int d = 0; d < n_dims; d++)
    {
      dims[d] = GUINT32_FROM_BE (header[d + 1]);
      length *= dims[d];
    }
  if (dims[0] == 0 || dims[0] > MAX_ITEMS)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: %u items; expected 1–%d", path, dims[0], MAX_ITEMS);
      return NULL;
    }
  if (n_dims == 3 && (dims[1] != ITEM_SIDE || dims[2] != ITEM_SIDE))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: items are %u×%u; Fashion-MNIST items are %d×%d", path, dims[2], dims[1],
                   ITEM_SIDE, ITEM_SIDE);
      return NULL;
    }

  data = read_growing (in, path, n_dims == 3 ? "pixels" : "labels", length, error);
  if (data == NULL)
    return NULL;
  /* Read to the end so that the gzip trailer (CRC and length) is checked too. */
  if (!g_input_stream_read_all (in, &extra, 1, &got, NULL, &local_error))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: corrupt or truncated gzip data at the end: %s", path,
                   local_error->message);
      return NULL;
    }
  if (got != 0)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: data after the %" G_GSIZE_FORMAT " bytes the header announces", path,
                   length);
      return NULL;
    }
  return g_steal_pointer (&data);
}

/* Loads <dir>/<prefix>-images-idx3-ubyte.gz and <dir>/<prefix>-labels-idx1-ubyte.gz. */
static gboolean
load_items (const char *dir, const char *prefix, Items *items, GError **error)
{
  g_autofree char *images_name = g_strdup_printf ("%s-images-idx3-ubyte.gz", prefix);
  g_autofree char *labels_name = g_strdup_printf ("%s-labels-idx1-ubyte.gz", prefix);
  g_autofree char *images_path = g_build_filename (dir, images_name, NULL);
  g_autofree char *labels_path = g_build_filename (dir, labels_name, NULL);
  guint32 image_dims[3], label_dims[1];

  items->labels = read_idx (labels_path, IDX_MAGIC_LABELS, 1, label_dims, error);
  if (items->labels == NULL)
    return FALSE;
  items->pixels = read_idx (images_path, IDX_MAGIC_IMAGES, 3, image_dims, error);
  if (items->pixels == NULL)
    {
      items_clear (items);
      return FALSE;
    }
  if (image_dims[0] != label_dims[0])
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISMATCH,
                   "%s: %u images but %s has %u labels", images_path, image_dims[0],
                   labels_path, label_dims[0]);
      items_clear (items);
      return FALSE;
    }
  items->n = image_dims[0];
  for (guint32 i = 0; i < items->n; i++)
    if (items->labels[i] >= N_ITEM_CLASSES)
      {
        g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LABEL,
                     "%s: item %u has label %d; Fashion-MNIST labels are 0–%d", labels_path, i,
                     items->labels[i], N_ITEM_CLASSES - 1);
        items_clear (items);
        return FALSE;
      }
  return TRUE;
}

static PlSample *
make_scene (const char *name, int side, const Items *items, PlRng *rng)
{
  PlSample *sample = pl_sample_new (name, side, side);  /* black, all background */
  double area = (double) side * side / (96.0 * 96.0);
  int n_items = MAX ((int) lround ((3 + pl_rng_below (rng, 3)) * area), 1);

  for (int i = 0; i < n_items; i++)
    {
      guint32 index = pl_rng_below (rng, items->n);
      const guint8 *item = items->pixels + (gsize) index * ITEM_SIDE * ITEM_SIDE; /* [28, 28] */
      guint8 label = (guint8) (items->labels[index] + 1);
      int scale = side >= 2 * ITEM_SIDE ? 1 + (int) pl_rng_below (rng, 2) : 1;
      int extent = ITEM_SIDE * scale;
      int x0 = (int) pl_rng_below (rng, (guint32) (side - extent + 1));
      int y0 = (int) pl_rng_below (rng, (guint32) (side - extent + 1));

      for (int y = 0; y < extent; y++)
        for (int x = 0; x < extent; x++)
          {
            guint8 v = item[(y / scale) * ITEM_SIDE + x / scale];
            gsize at = (gsize) (y0 + y) * side + (x0 + x);
            if (v <= VISIBLE_THRESHOLD)
              continue;
            sample->rgb[3 * at + 0] = v;
            sample->rgb[3 * at + 1] = v;
            sample->rgb[3 * at + 2] = v;
            sample->labels[at] = label;
          }
    }
  return sample;
}

typedef struct {
  int side;
  const Items *train, *val;
} SceneSource;

static PlSample *
generate_scene (const char *name, gboolean train, PlRng *rng, gpointer data)
{
  const SceneSource *source = data;
  return make_scene (name, source->side, train ? source->train : source->val, rng);
}

PlDataset *
pl_dataset_load_fashion_mnist (const char *dir, guint64 seed, int n_train, int n_val, int side,
                               GError **error)
{
  static const char *const names[] = {
    "background", "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
    "Sneaker", "Bag", "Ankle boot", NULL
  };
  Items train_items = { 0 }, val_items = { 0 };
  g_autofree char *absolute_dir = NULL;
  PlDataset *dataset;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Every message names files by absolute path. */
  absolute_dir = g_canonicalize_filename (dir != NULL ? dir : FMNIST_DEFAULT_DIR, NULL);
  dir = absolute_dir;
  if (side == 0)
    side = PL_DATASET_DEFAULT_SIDE;
  if (side < PL_DATASET_MIN_SIDE || side > PL_DATASET_MAX_SIDE)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "%s: scene side %d is outside %d–%d", dir, side, PL_DATASET_MIN_SIDE,
                   PL_DATASET_MAX_SIDE);
      return NULL;
    }
  if (n_train < 1 || n_train > PL_DATASET_MAX_SCENES || n_val < 0
      || n_val > PL_DATASET_MAX_SCENES)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "%s: %d train and %d val scenes; train must be 1–%d and val 0–%d", dir,
                   n_train, n_val, PL_DATASET_MAX_SCENES, PL_DATASET_MAX_SCENES);
      return NULL;
    }
  if ((guint64) (n_train + n_val) * side * side * 4 > PL_DATASET_MAX_BYTES)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "%s: %d scenes of %d×%d would take more than %" G_GUINT64_FORMAT " GiB", dir,
                   n_train + n_val, side, side, PL_DATASET_MAX_BYTES >> 30);
      return NULL;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING,
                   "%s: Fashion-MNIST folder not found; %s", dir, FMNIST_HINT);
      return NULL;
    }
  if (!load_items (dir, "train", &train_items, error))
    return NULL;
  if (n_val > 0 && !load_items (dir, "t10k", &val_items, error))
    {
      items_clear (&train_items);
      return NULL;
    }

  dataset = pl_dataset_new (names);
  SceneSource source = { side, &train_items, &val_items };
  pl_dataset_generate (dataset, seed, n_train, n_val, generate_scene, &source);
  dataset->description = g_strdup_printf ("Fashion-MNIST scenes from %s: %d train + %d val "
                                          "scenes of %d×%d, seed %" G_GUINT64_FORMAT, dir,
                                          n_train, n_val, side, side, seed);
  items_clear (&train_items);
  items_clear (&val_items);
  return dataset;
}
