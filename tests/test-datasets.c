/* test-datasets.c — the dataset loaders and image I/O: built-in scenes, folders of
 * images/ + masks/, Fashion-MNIST scenes, and every error path of each.
 *
 * Fixtures are written at run time into a fresh temporary folder (removed afterwards) with
 * libpng and libjpeg directly, so that the files are exactly what each case needs: palette
 * masks whose colours differ from their indices, truncated and corrupt files, forged
 * headers. The Fashion-MNIST cases need the Debian package dataset-fashion-mnist and fail
 * (rather than skip) without it.
 */
#include "pl-test-util.h"

#include "pl-dataset.h"
#include "pl-image-io.h"
#include "pl-rng.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <png.h>

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Helpers */

static void
assert_contains_impl (const char *file, int line, const char *func, const char *text,
                      const char *needle)
{
  if (text == NULL || strstr (text, needle) == NULL)
    {
      g_autofree char *message = g_strdup_printf ("'%s' does not contain '%s'",
                                                  text ? text : "(null)", needle);
      g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
    }
}
#define assert_contains(text, needle) \
  assert_contains_impl (__FILE__, __LINE__, G_STRFUNC, (text), (needle))

static char *
make_subdir (const char *parent, const char *name)
{
  char *path = g_build_filename (parent, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (path, 0755), ==, 0);
  return path;
}

static void
write_text (const char *path, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static char *
read_all (const char *path, gsize *length)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  g_file_get_contents (path, &data, length, &error);
  g_assert_no_error (error);
  return data;
}

/* Keeps the first `keep` bytes of a file. */
static void
truncate_file (const char *path, gsize keep)
{
  gsize length;
  g_autofree char *data = read_all (path, &length);
  g_autoptr (GError) error = NULL;
  g_assert_cmpuint (keep, <, length);
  g_file_set_contents (path, data, (gssize) keep, &error);
  g_assert_no_error (error);
}

/* Writes a PNG with libpng. data has one byte per sample (bit depths below 8 are packed
 * by libpng); palette_rgb [n_palette, 3] for palette images. */
static void
write_png (const char *path, int width, int height, int colour_type, int depth,
           const guint8 *data, const guint8 *palette_rgb, int n_palette)
{
  FILE *file = fopen (path, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  int channels = colour_type == PNG_COLOR_TYPE_RGB ? 3 : 1;
  png_bytep *rows = g_new (png_bytep, height);
  png_color palette[256];

  g_assert_nonnull (file);
  g_assert_nonnull (info);
  if (setjmp (png_jmpbuf (png)))
    g_error ("%s: libpng failed while writing a fixture", path);
  png_init_io (png, file);
  png_set_IHDR (png, info, width, height, depth, colour_type, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (colour_type == PNG_COLOR_TYPE_PALETTE)
    {
      for (int i = 0; i < n_palette; i++)
        {
          palette[i].red = palette_rgb[3 * i];
          palette[i].green = palette_rgb[3 * i + 1];
          palette[i].blue = palette_rgb[3 * i + 2];
        }
      png_set_PLTE (png, info, palette, n_palette);
    }
  png_write_info (png, info);
  if (depth < 8)
    png_set_packing (png);
  for (int y = 0; y < height; y++)
    rows[y] = (png_bytep) data + (gsize) y * width * channels;
  png_write_image (png, rows);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  fclose (file);
  g_free (rows);
}

static void
write_rgb_png (const char *path, int width, int height, const guint8 *rgb)
{
  write_png (path, width, height, PNG_COLOR_TYPE_RGB, 8, rgb, NULL, 0);
}

static void
write_grey_mask (const char *path, int width, int height, const guint8 *labels)
{
  write_png (path, width, height, PNG_COLOR_TYPE_GRAY, 8, labels, NULL, 0);
}

static void
write_jpeg (const char *path, int width, int height, const guint8 *rgb)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  FILE *file = fopen (path, "wb");

  g_assert_nonnull (file);
  cinfo.err = jpeg_std_error (&err);
  jpeg_create_compress (&cinfo);
  jpeg_stdio_dest (&cinfo, file);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 100, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPROW row = (JSAMPROW) rgb + (gsize) cinfo.next_scanline * width * 3;
      jpeg_write_scanlines (&cinfo, &row, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  fclose (file);
}

/* A smooth, distinctive image: pixel (x, y) = (x * 20 + seed, y * 20, (x + y) * 10). */
static guint8 *
make_rgb (int width, int height, int seed)
{
  guint8 *rgb = g_new (guint8, (gsize) width * height * 3);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = rgb + ((gsize) y * width + x) * 3;
        p[0] = (guint8) (x * 20 + seed);
        p[1] = (guint8) (y * 20);
        p[2] = (guint8) ((x + y) * 10);
      }
  return rgb;
}

/* Labels (x + y) % n_classes, with the top-left pixel 255 (ignore). */
static guint8 *
make_labels (int width, int height, int n_classes)
{
  guint8 *labels = g_new (guint8, (gsize) width * height);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      labels[(gsize) y * width + x] = (guint8) ((x + y) % n_classes);
  labels[0] = PL_LABEL_IGNORE;
  return labels;
}

/* Writes images/<stem>.png and masks/<stem>.png (grey) under root. */
static void
write_pair (const char *root, const char *stem, int width, int height, int n_classes)
{
  g_autofree char *images = make_subdir (root, "images");
  g_autofree char *masks = make_subdir (root, "masks");
  g_autofree char *image_name = g_strconcat (stem, ".png", NULL);
  g_autofree char *image_path = g_build_filename (images, image_name, NULL);
  g_autofree char *mask_path = g_build_filename (masks, image_name, NULL);
  g_autofree guint8 *rgb = make_rgb (width, height, stem[0]);
  g_autofree guint8 *labels = make_labels (width, height, n_classes);

  write_rgb_png (image_path, width, height, rgb);
  write_grey_mask (mask_path, width, height, labels);
}

static const PlSample *
find_sample (GPtrArray *samples, const char *name)
{
  for (guint i = 0; i < samples->len; i++)
    if (strcmp (((PlSample *) samples->pdata[i])->name, name) == 0)
      return samples->pdata[i];
  return NULL;
}

static gboolean
samples_equal (const PlSample *a, const PlSample *b)
{
  gsize n = (gsize) a->width * a->height;
  return a->width == b->width && a->height == b->height && strcmp (a->name, b->name) == 0
         && memcmp (a->rgb, b->rgb, 3 * n) == 0 && memcmp (a->labels, b->labels, n) == 0;
}

static gboolean
datasets_equal (const PlDataset *a, const PlDataset *b)
{
  if (a->train->len != b->train->len || a->val->len != b->val->len)
    return FALSE;
  for (guint i = 0; i < a->train->len; i++)
    if (!samples_equal (a->train->pdata[i], b->train->pdata[i]))
      return FALSE;
  for (guint i = 0; i < a->val->len; i++)
    if (!samples_equal (a->val->pdata[i], b->val->pdata[i]))
      return FALSE;
  return TRUE;
}

/* Counts pixels per label over a list of samples; counts [256]. */
static void
count_labels (GPtrArray *samples, guint64 *counts)
{
  for (guint i = 0; i < samples->len; i++)
    {
      const PlSample *s = samples->pdata[i];
      for (gsize k = 0; k < (gsize) s->width * s->height; k++)
        counts[s->labels[k]]++;
    }
}

/* Loads a folder expecting failure; returns the message (owned). */
static char *
expect_folder_error (const char *path, const PlFolderOptions *opt, PlDatasetError code)
{
  GError *error = NULL;
  g_autoptr (PlDataset) dataset = pl_dataset_load_folder (path, opt, &error);
  char *message;

  g_assert_null (dataset);
  g_assert_error (error, PL_DATASET_ERROR, (gint) code);
  g_test_message ("error: %s", error->message);
  message = g_strdup (error->message);
  g_error_free (error);
  return message;
}

/* Built-in scenes */

static void
test_builtin_determinism (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) a = pl_dataset_new_builtin (7, 6, 3, 0, &error);
  g_assert_no_error (error);
  g_autoptr (PlDataset) b = pl_dataset_new_builtin (7, 6, 3, 0, &error);
  g_assert_no_error (error);
  g_autoptr (PlDataset) c = pl_dataset_new_builtin (8, 6, 3, 0, &error);
  g_assert_no_error (error);
  g_autoptr (PlDataset) more_train = pl_dataset_new_builtin (7, 9, 3, 0, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (a->train->len, ==, 6);
  g_assert_cmpuint (a->val->len, ==, 3);
  g_assert_cmpint (((PlSample *) a->train->pdata[0])->width, ==, PL_DATASET_DEFAULT_SIDE);
  g_assert_true (datasets_equal (a, b));
  for (guint i = 0; i < a->train->len; i++)
    g_assert_false (samples_equal (a->train->pdata[i], c->train->pdata[i]));
  /* Val scenes do not depend on how many train scenes there are. */
  for (guint i = 0; i < a->val->len; i++)
    g_assert_true (samples_equal (a->val->pdata[i], more_train->val->pdata[i]));
  /* Scenes differ from one another. */
  g_assert_cmpstr (((PlSample *) a->train->pdata[0])->name, ==, "train-0000");
  g_assert_cmpstr (((PlSample *) a->val->pdata[2])->name, ==, "val-0002");
  g_assert_false (memcmp (((PlSample *) a->train->pdata[0])->rgb,
                          ((PlSample *) a->train->pdata[1])->rgb, 96 * 96 * 3) == 0);
}

static void
test_builtin_classes (void)
{
  g_autoptr (GError) error = NULL;
  /* Enough scenes (about 500 shapes per class) for the colour means below to be tight. */
  g_autoptr (PlDataset) dataset = pl_dataset_new_builtin (3, 400, 8, 96, &error);
  guint64 counts[256] = { 0 };
  double sums[4][3] = { { 0 } };
  guint64 total = 0;

  g_assert_no_error (error);
  g_assert_cmpint (dataset->n_classes, ==, 4);
  g_assert_cmpstr (dataset->class_names[0], ==, "background");
  g_assert_cmpstr (dataset->class_names[1], ==, "disc");
  g_assert_cmpstr (dataset->class_names[2], ==, "square");
  g_assert_cmpstr (dataset->class_names[3], ==, "triangle");
  g_assert_null (dataset->class_names[4]);
  count_labels (dataset->train, counts);
  for (int c = 0; c < 4; c++)
    {
      g_test_message ("class %d: %" G_GUINT64_FORMAT " px", c, counts[c]);
      g_assert_cmpuint (counts[c], >, 1000);
      total += counts[c];
    }
  g_assert_cmpuint (total, ==, 400 * 96 * 96);  /* nothing outside 0–3 */

  /* Colour does not name the object: discs, squares and triangles draw from one colour
   * distribution (their means agree within a few levels, near the middle of the
   * objects' range), while backgrounds are darker (finding objects is the easy part). */
  for (guint i = 0; i < dataset->train->len; i++)
    {
      const PlSample *s = dataset->train->pdata[i];
      for (gsize k = 0; k < (gsize) s->width * s->height; k++)
        for (int ch = 0; ch < 3; ch++)
          sums[s->labels[k]][ch] += s->rgb[3 * k + ch];
    }
  for (int ch = 0; ch < 3; ch++)
    {
      double background = sums[0][ch] / (double) counts[0];
      double disc = sums[1][ch] / (double) counts[1];
      g_test_message ("channel %d: background mean %.1f", ch, background);
      g_assert_cmpfloat (background, <, 80.0);
      for (int c = 1; c < 4; c++)
        {
          double mean = sums[c][ch] / (double) counts[c];
          g_test_message ("class %d channel %d: mean %.1f", c, ch, mean);
          g_assert_cmpfloat (fabs (mean - 192.5), <, 15.0);
          g_assert_cmpfloat (fabs (mean - disc), <, 8.0);
        }
    }

  /* Other sides work, including the extremes. */
  {
    g_autoptr (PlDataset) small = pl_dataset_new_builtin (1, 2, 0, PL_DATASET_MIN_SIDE, &error);
    g_assert_no_error (error);
    g_assert_cmpint (((PlSample *) small->train->pdata[0])->height, ==, 32);
    g_assert_cmpuint (small->val->len, ==, 0);
  }
  {
    g_autoptr (PlDataset) big = pl_dataset_new_builtin (1, 1, 1, PL_DATASET_MAX_SIDE, &error);
    guint64 big_counts[256] = { 0 };
    g_assert_no_error (error);
    count_labels (big->train, big_counts);
    for (int c = 1; c < 4; c++)
      g_assert_cmpuint (big_counts[c], >, 0);
  }
}

static void
test_builtin_bad_arguments (void)
{
  const struct { int n_train, n_val, side; } cases[] = {
    { 4, 1, 31 }, { 4, 1, 1025 }, { 4, 1, -5 }, { 0, 1, 96 }, { 4, -1, 96 },
    { PL_DATASET_MAX_SCENES + 1, 0, 96 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PlDataset) dataset =
        pl_dataset_new_builtin (1, cases[i].n_train, cases[i].n_val, cases[i].side, &error);
      g_assert_null (dataset);
      g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT);
      assert_contains (error->message, "built-in dataset");
    }
}

static void
test_sample_to_input (void)
{
  g_autoptr (PlSample) s = pl_sample_new ("s", 5, 4);
  float dst[3 * 2 * 3];

  for (gsize k = 0; k < 5 * 4 * 3; k++)
    s->rgb[k] = (guint8) (k * 4);
  s->rgb[(1 * 5 + 2) * 3 + 0] = 0;
  s->rgb[(1 * 5 + 2) * 3 + 1] = 255;
  pl_sample_to_input (s, 1, 2, 2, 3, dst);  /* rows 1–2, columns 2–4 */
  g_assert_cmpfloat_with_epsilon (dst[0], -2.0f, 1e-6);            /* c 0, (1, 2) */
  g_assert_cmpfloat_with_epsilon (dst[6], 2.0f, 1e-6);             /* c 1, (1, 2) */
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 3; x++)
        {
          guint8 v = s->rgb[((gsize) (1 + y) * 5 + 2 + x) * 3 + c];
          g_assert_cmpfloat_with_epsilon (dst[(c * 2 + y) * 3 + x], (v / 255.0f - 0.5f) / 0.25f,
                                          1e-6);
        }
}

/* Image I/O */

static void
test_labels_round_trip (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "pred.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *labels = g_new (guint8, 37 * 23);
  g_autofree guint8 *back = NULL;
  g_autofree guint8 *rgb = NULL;
  PlRng rng;
  int w = 0, h = 0;

  pl_rng_init (&rng, 5);
  for (gsize k = 0; k < 37 * 23; k++)
    labels[k] = (guint8) pl_rng_below (&rng, 256);
  labels[0] = 255;
  g_assert_true (pl_image_save_labels (path, 37, 23, labels, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);  /* no temporary left behind */

  g_assert_true (pl_image_load_mask (path, &w, &h, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, 37);
  g_assert_cmpint (h, ==, 23);
  g_assert_cmpmem (back, 37 * 23, labels, 37 * 23);

  /* As an image, the same file shows the VOC colours. */
  g_assert_true (pl_image_load_rgb (path, &w, &h, &rgb, &error));
  g_assert_no_error (error);
  for (gsize k = 0; k < 37 * 23; k++)
    {
      guint8 colour[3];
      pl_image_label_colour (labels[k], colour);
      g_assert_cmpmem (rgb + 3 * k, 3, colour, 3);
    }
  {
    guint8 colour[3];
    pl_image_label_colour (255, colour);
    g_assert_cmpint (colour[0], ==, 224);
    g_assert_cmpint (colour[1], ==, 224);
    g_assert_cmpint (colour[2], ==, 192);
    pl_image_label_colour (1, colour);
    g_assert_cmpint (colour[0], ==, 128);
    g_assert_cmpint (colour[1], ==, 0);
  }
  pl_test_remove_tree (dir);
}

static void
test_atomic_write_missing_dir (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "no-such-dir", "pred.png", NULL);
  g_autoptr (GError) error = NULL;
  guint8 labels[4] = { 0, 1, 2, 3 };

  g_assert_false (pl_image_save_labels (path, 2, 2, labels, &error));
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING);
  assert_contains (error->message, path);
  g_assert_cmpuint (pl_test_count_entries (dir), ==, 0);
  pl_test_remove_tree (dir);
}

/* Runs in a subprocess: a file size limit makes the write fail halfway. */
static void
test_atomic_write_failure_keeps_target (void)
{
  if (g_test_subprocess ())
    {
      const char *dir = g_getenv ("PL_TEST_DIR");
      g_autofree char *path = g_build_filename (dir, "pred.png", NULL);
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *labels = g_new (guint8, 300 * 300);
      struct rlimit limit = { 200, 200 };
      gsize length;
      g_autofree char *after = NULL;
      PlRng rng;

      pl_rng_init (&rng, 9);
      for (gsize k = 0; k < 300 * 300; k++)
        labels[k] = (guint8) pl_rng_below (&rng, 256);  /* incompressible */
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      g_assert_false (pl_image_save_labels (path, 300, 300, labels, &error));
      g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO);
      assert_contains (error->message, path);
      g_test_message ("error: %s", error->message);
      after = read_all (path, &length);
      g_assert_cmpstr (after, ==, "the previous prediction, which must survive");
      g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);
      return;
    }
  {
    g_autofree char *dir = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
    g_autofree char *path = g_build_filename (dir, "pred.png", NULL);
    g_autofree char *before = NULL;
    gsize length;
    guint8 labels[4] = { 0, 1, 2, 3 };
    g_autoptr (GError) error = NULL;
    g_autofree guint8 *back = NULL;
    int w, h;

    write_text (path, "the previous prediction, which must survive");
    g_setenv ("PL_TEST_DIR", dir, TRUE);
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed ();
    g_unsetenv ("PL_TEST_DIR");
    before = read_all (path, &length);
    g_assert_cmpstr (before, ==, "the previous prediction, which must survive");

    /* Without the limit the same call replaces the target. */
    g_assert_true (pl_image_save_labels (path, 2, 2, labels, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);
    g_assert_true (pl_image_load_mask (path, &w, &h, &back, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (back, 4, labels, 4);
    pl_test_remove_tree (dir);
  }
}

static void
test_absurd_png_header (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "huge.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *rgb = NULL;
  int w, h;

  pl_test_write_forged_png (path, 100000, 100000, 2);
  g_assert_false (pl_image_load_rgb (path, &w, &h, &rgb, &error));
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT);
  assert_contains (error->message, path);
  assert_contains (error->message, "100000×100000");
  g_assert_null (rgb);
  g_clear_error (&error);

  /* Just above the documented limit is refused too; at the limit the header is fine. */
  pl_test_write_forged_png (path, PL_IMAGE_MAX_SIDE + 1, 16, 2);
  g_assert_false (pl_image_read_size (path, &w, &h, &error));
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT);
  g_clear_error (&error);
  pl_test_write_forged_png (path, PL_IMAGE_MAX_SIDE, 16, 2);
  g_assert_true (pl_image_read_size (path, &w, &h, &error));
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, PL_IMAGE_MAX_SIDE);
  /* …but its pixel data is missing: decoding fails cleanly. */
  g_assert_false (pl_image_load_rgb (path, &w, &h, &rgb, &error));
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT);
  assert_contains (error->message, path);
  pl_test_remove_tree (dir);
}

static void
test_image_formats (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "x.png", NULL);
  g_autoptr (GError) error = NULL;
  static const guint8 grey[6] = { 0, 1, 2, 3, 15, 255 };
  static const guint8 packed[6] = { 0, 1, 2, 3, 15, 7 };
  guint8 palette[16 * 3];
  int w, h;

  /* A 4-bit palette mask gives indices, not colours. */
  for (int i = 0; i < 16; i++)
    palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = (guint8) (200 - i);
  write_png (path, 3, 2, PNG_COLOR_TYPE_PALETTE, 4, packed, palette, 16);
  {
    g_autofree guint8 *labels = NULL;
    g_assert_true (pl_image_load_mask (path, &w, &h, &labels, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (labels, 6, packed, 6);
  }
  /* A grey mask gives grey values. */
  write_png (path, 3, 2, PNG_COLOR_TYPE_GRAY, 8, grey, NULL, 0);
  {
    g_autofree guint8 *labels = NULL;
    g_autofree guint8 *rgb = NULL;
    g_assert_true (pl_image_load_mask (path, &w, &h, &labels, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (labels, 6, grey, 6);
    /* And as an image, grey is replicated to RGB. */
    g_assert_true (pl_image_load_rgb (path, &w, &h, &rgb, &error));
    g_assert_no_error (error);
    for (int k = 0; k < 6; k++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpint (rgb[3 * k + c], ==, grey[k]);
  }
  /* A JPEG given as a mask is refused. */
  {
    g_autofree char *jpg = g_build_filename (dir, "x.jpg", NULL);
    g_autofree guint8 *rgb = make_rgb (8, 8, 0);
    g_autofree guint8 *labels = NULL;
    write_jpeg (jpg, 8, 8, rgb);
    g_assert_false (pl_image_load_mask (jpg, &w, &h, &labels, &error));
    g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT);
    assert_contains (error->message, jpg);
    g_clear_error (&error);
  }
  /* A missing file, given by a relative path: the message has the absolute one. */
  {
    g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
    g_autofree char *cwd = g_get_current_dir ();
    g_autofree guint8 *rgb = NULL;
    g_assert_cmpint (g_chdir (dir), ==, 0);
    g_assert_false (pl_image_load_rgb ("./missing.png", &w, &h, &rgb, &error));
    g_assert_cmpint (g_chdir (cwd), ==, 0);
    g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING);
    assert_contains (error->message, missing);
    g_clear_error (&error);
  }
  pl_test_remove_tree (dir);
}

/* Folders */

static void
test_folder_good (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *images = make_subdir (root, "images");
  g_autofree char *masks = make_subdir (root, "masks");
  g_autofree guint8 *rgb_a = make_rgb (6, 5, 0);
  guint8 flat[16 * 16 * 3];
  guint8 labels_a[30], labels_b[256], labels_c[6 * 5];
  guint8 palette[8 * 3];
  PlFolderOptions opt = { FALSE, 0.0, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) dataset = NULL;
  const PlSample *a, *b, *c;

  /* a: RGB PNG + palette mask whose palette colours are unrelated to the indices. */
  for (int i = 0; i < 8; i++)
    {
      palette[3 * i + 0] = (guint8) (255 - 30 * i);
      palette[3 * i + 1] = (guint8) (17 * i);
      palette[3 * i + 2] = 99;
    }
  for (int k = 0; k < 30; k++)
    labels_a[k] = (guint8) (k % 6);
  {
    g_autofree char *p = g_build_filename (images, "a.png", NULL);
    g_autofree char *m = g_build_filename (masks, "a.png", NULL);
    write_rgb_png (p, 6, 5, rgb_a);
    write_png (m, 6, 5, PNG_COLOR_TYPE_PALETTE, 8, labels_a, palette, 8);
  }
  /* b: JPEG (flat colour, so it decodes almost exactly) + grey mask with ignore pixels. */
  for (int k = 0; k < 16 * 16; k++)
    {
      flat[3 * k + 0] = 200;
      flat[3 * k + 1] = 40;
      flat[3 * k + 2] = 90;
      labels_b[k] = k < 128 ? 2 : PL_LABEL_IGNORE;
    }
  {
    g_autofree char *p = g_build_filename (images, "b.jpg", NULL);
    g_autofree char *m = g_build_filename (masks, "b.png", NULL);
    write_jpeg (p, 16, 16, flat);
    write_grey_mask (m, 16, 16, labels_b);
  }
  /* c: .JPEG (upper case) with a mask; a hidden file is ignored. */
  memset (labels_c, 1, sizeof labels_c);
  {
    g_autofree char *p = g_build_filename (images, "c.JPEG", NULL);
    g_autofree char *m = g_build_filename (masks, "c.png", NULL);
    g_autofree char *hidden = g_build_filename (images, ".DS_Store", NULL);
    write_jpeg (p, 6, 5, rgb_a);
    write_grey_mask (m, 6, 5, labels_c);
    write_text (hidden, "junk");
  }

  dataset = pl_dataset_load_folder (root, &opt, &error);
  g_assert_no_error (error);
  g_test_message ("%s", dataset->description);
  g_assert_cmpuint (dataset->train->len, ==, 3);
  g_assert_cmpuint (dataset->val->len, ==, 0);
  g_assert_cmpint (dataset->n_classes, ==, 6);  /* max label 5 + 1 */
  g_assert_cmpuint (g_strv_length (dataset->class_names), ==, 6);
  a = dataset->train->pdata[0];
  b = dataset->train->pdata[1];
  c = dataset->train->pdata[2];
  g_assert_cmpstr (a->name, ==, "a");
  g_assert_cmpstr (b->name, ==, "b");
  g_assert_cmpstr (c->name, ==, "c");
  g_assert_cmpint (a->width, ==, 6);
  g_assert_cmpint (a->height, ==, 5);
  g_assert_cmpmem (a->rgb, 6 * 5 * 3, rgb_a, 6 * 5 * 3);
  g_assert_cmpmem (a->labels, 30, labels_a, 30);
  g_assert_cmpmem (b->labels, 256, labels_b, 256);
  for (int k = 0; k < 16 * 16 * 3; k++)
    g_assert_cmpint (ABS ((int) b->rgb[k] - (int) flat[k]), <=, 3);
  g_assert_cmpint (c->width, ==, 6);
  assert_contains (dataset->description, root);
  g_assert_null (strstr (dataset->description, "skipped"));
  pl_test_remove_tree (root);
}

static void
test_folder_classes_txt (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *classes = g_build_filename (root, "classes.txt", NULL);
  g_autoptr (GError) error = NULL;
  PlFolderOptions opt = { FALSE, 0.0, 0 };

  write_pair (root, "one", 8, 6, 3);
  write_text (classes, "sky\r\ngrass\r\ncow\r\nsheep\r\n\r\n");
  {
    g_autoptr (PlDataset) dataset = pl_dataset_load_folder (root, &opt, &error);
    g_assert_no_error (error);
    g_assert_cmpint (dataset->n_classes, ==, 4);
    g_assert_cmpstr (dataset->class_names[0], ==, "sky");
    g_assert_cmpstr (dataset->class_names[3], ==, "sheep");
    g_assert_null (dataset->class_names[4]);
    assert_contains (dataset->description, "classes.txt");
  }
  /* Bad classes.txt files. */
  {
    const struct { const char *text; PlDatasetError code; const char *fragment; } cases[] = {
      { "only\n", PL_DATASET_ERROR_FORMAT, "at least 2" },
      { "a\n\nb\n", PL_DATASET_ERROR_FORMAT, "line 2 is empty" },
      { "a\nb\na\n", PL_DATASET_ERROR_FORMAT, "repeats" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *message = NULL;
        write_text (classes, cases[i].text);
        message = expect_folder_error (root, &opt, cases[i].code);
        assert_contains (message, classes);
        assert_contains (message, cases[i].fragment);
      }
  }
  /* More than 255 classes. */
  {
    GString *text = g_string_new (NULL);
    g_autofree char *message = NULL;
    for (int i = 0; i < 256; i++)
      g_string_append_printf (text, "class-%d\n", i);
    write_text (classes, text->str);
    g_string_free (text, TRUE);
    message = expect_folder_error (root, &opt, PL_DATASET_ERROR_LIMIT);
    assert_contains (message, classes);
    assert_contains (message, "255");
  }
  pl_test_remove_tree (root);
}

static void
test_folder_val_dir (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *val = make_subdir (root, "val");
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) dataset = NULL;

  write_pair (root, "t1", 8, 6, 3);
  write_pair (root, "t2", 8, 6, 3);
  write_pair (val, "v1", 5, 7, 3);
  dataset = pl_dataset_load_folder (root, NULL, &error);  /* default options */
  g_assert_no_error (error);
  g_assert_cmpuint (dataset->train->len, ==, 2);
  g_assert_cmpuint (dataset->val->len, ==, 1);
  g_assert_cmpstr (((PlSample *) dataset->val->pdata[0])->name, ==, "v1");
  g_assert_cmpint (((PlSample *) dataset->val->pdata[0])->height, ==, 7);
  assert_contains (dataset->description, "val/");
  pl_test_remove_tree (root);
}

static void
test_folder_val_fraction (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autoptr (GError) error = NULL;
  PlFolderOptions opt = { FALSE, 0.3, 11 };
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (int i = 0; i < 10; i++)
    {
      g_autofree char *stem = g_strdup_printf ("p%02d", i);
      write_pair (root, stem, 4, 4, 2);
    }
  g_autoptr (PlDataset) a = pl_dataset_load_folder (root, &opt, &error);
  g_assert_no_error (error);
  g_autoptr (PlDataset) b = pl_dataset_load_folder (root, &opt, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->train->len, ==, 7);
  g_assert_cmpuint (a->val->len, ==, 3);
  g_assert_true (datasets_equal (a, b));
  /* Each pair is in exactly one split, and each split is in name order. */
  for (guint i = 0; i < a->train->len; i++)
    g_hash_table_add (seen, ((PlSample *) a->train->pdata[i])->name);
  for (guint i = 0; i < a->val->len; i++)
    g_hash_table_add (seen, ((PlSample *) a->val->pdata[i])->name);
  g_assert_cmpuint (g_hash_table_size (seen), ==, 10);
  for (guint i = 1; i < a->train->len; i++)
    g_assert_cmpstr (((PlSample *) a->train->pdata[i - 1])->name, <,
                     ((PlSample *) a->train->pdata[i])->name);

  /* Some other seed holds out other pairs. */
  {
    gboolean differs = FALSE;
    for (guint64 seed = 12; seed < 20 && !differs; seed++)
      {
        PlFolderOptions other_opt = { FALSE, 0.3, seed };
        g_autoptr (PlDataset) c = pl_dataset_load_folder (root, &other_opt, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (c->val->len, ==, 3);
        for (guint i = 0; i < 3; i++)
          if (find_sample (a->val, ((PlSample *) c->val->pdata[i])->name) == NULL)
            differs = TRUE;
      }
    g_assert_true (differs);
  }
  /* Default fraction 0.1 of 10 pairs: one held out. */
  {
    g_autoptr (PlDataset) d = pl_dataset_load_folder (root, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (d->val->len, ==, 1);
  }
  /* A fraction outside [0, 1) is refused. */
  {
    PlFolderOptions bad = { FALSE, 1.0, 0 };
    g_autofree char *message = expect_folder_error (root, &bad, PL_DATASET_ERROR_LIMIT);
    assert_contains (message, "fraction");
  }
  pl_test_remove_tree (root);
}

typedef enum {
  BAD_TRUNCATED_PNG,
  BAD_TRUNCATED_MASK,
  BAD_CORRUPT_JPEG,
  BAD_TRUNCATED_JPEG,
  BAD_SIZE_MISMATCH,
  BAD_LABEL,
  BAD_NOT_AN_IMAGE,
  BAD_MISSING_MASK,
  BAD_LONE_MASK,
  BAD_RGB_MASK,
  BAD_ABSURD_SIZE,
  BAD_TEXT_FILE,
  N_BAD_KINDS,
} BadKind;

/* Adds one bad pair of the given kind under root (stem "bad-<kind>"); returns the path the
 * error must name (owned), and the code and a fragment of the reason. */
static char *
add_bad_pair (const char *root, BadKind kind, PlDatasetError *code, const char **reason)
{
  g_autofree char *images = make_subdir (root, "images");
  g_autofree char *masks = make_subdir (root, "masks");
  g_autofree char *stem = g_strdup_printf ("bad-%02d", (int) kind);
  g_autofree char *png_name = g_strconcat (stem, ".png", NULL);
  g_autofree char *jpg_name = g_strconcat (stem, ".jpg", NULL);
  char *image_png = g_build_filename (images, png_name, NULL);
  char *image_jpg = g_build_filename (images, jpg_name, NULL);
  char *mask = g_build_filename (masks, png_name, NULL);
  g_autofree guint8 *rgb = make_rgb (12, 10, 1);
  g_autofree guint8 *labels = make_labels (12, 10, 3);
  char *named = NULL;
  gsize length;

  *code = PL_DATASET_ERROR_FORMAT;
  switch (kind)
    {
    case BAD_TRUNCATED_PNG:
      write_rgb_png (image_png, 12, 10, rgb);
      write_grey_mask (mask, 12, 10, labels);
      g_free (read_all (image_png, &length));
      truncate_file (image_png, length / 2);
      named = g_strdup (image_png);
      *reason = "truncated";
      break;
    case BAD_TRUNCATED_MASK:
      write_rgb_png (image_png, 12, 10, rgb);
      write_grey_mask (mask, 12, 10, labels);
      g_free (read_all (mask, &length));
      truncate_file (mask, length - 20);  /* cuts IEND and part of IDAT */
      named = g_strdup (mask);
      *reason = "truncated";
      break;
    case BAD_CORRUPT_JPEG:
      {
        g_autofree char *data = NULL;
        g_autoptr (GError) error = NULL;
        write_jpeg (image_jpg, 12, 10, rgb);
        data = read_all (image_jpg, &length);
        memset (data + 20, 0x42, 40);  /* garbage where the tables should be */
        g_file_set_contents (image_jpg, data, (gssize) length, &error);
        g_assert_no_error (error);
        write_grey_mask (mask, 12, 10, labels);
        named = g_strdup (image_jpg);
        *reason = "JPEG";
      }
      break;
    case BAD_TRUNCATED_JPEG:
      write_jpeg (image_jpg, 12, 10, rgb);
      write_grey_mask (mask, 12, 10, labels);
      g_free (read_all (image_jpg, &length));
      truncate_file (image_jpg, length - 60);
      named = g_strdup (image_jpg);
      *reason = "Premature end of JPEG file";
      break;
    case BAD_SIZE_MISMATCH:
      write_rgb_png (image_png, 12, 10, rgb);
      write_grey_mask (mask, 12, 9, labels);
      named = g_strdup (mask);
      *code = PL_DATASET_ERROR_MISMATCH;
      *reason = "mask is 12×9 but image is 12×10";
      break;
    case BAD_LABEL:
      labels[5] = 7;
      write_rgb_png (image_png, 12, 10, rgb);
      write_grey_mask (mask, 12, 10, labels);
      named = g_strdup (mask);
      *code = PL_DATASET_ERROR_LABEL;
      *reason = "label 7 at (x 5, y 0)";
      break;
    case BAD_NOT_AN_IMAGE:
      write_text (image_png, "this is a text file with a .png name\n");
      write_grey_mask (mask, 12, 10, labels);
      named = g_strdup (image_png);
      *reason = "not a PNG or JPEG";
      break;
    case BAD_MISSING_MASK:
      write_rgb_png (image_png, 12, 10, rgb);
      named = g_strdup (image_png);
      *code = PL_DATASET_ERROR_MISSING;
      *reason = "no mask";
      break;
    case BAD_LONE_MASK:
      write_grey_mask (mask, 12, 10, labels);
      named = g_strdup (mask);
      *code = PL_DATASET_ERROR_MISSING;
      *reason = "mask without an image";
      break;
    case BAD_RGB_MASK:
      write_rgb_png (image_png, 12, 10, rgb);
      write_rgb_png (mask, 12, 10, rgb);
      named = g_strdup (mask);
      *reason = "RGB";
      break;
    case BAD_ABSURD_SIZE:
      pl_test_write_forged_png (image_png, 100000, 100000, 2);
      write_grey_mask (mask, 12, 10, labels);
      named = g_strdup (image_png);
      *code = PL_DATASET_ERROR_LIMIT;
      *reason = "100000×100000";
      break;
    case BAD_TEXT_FILE:
      {
        g_autofree char *txt = g_build_filename (images, "notes.txt", NULL);
        write_text (txt, "not an image\n");
        named = g_steal_pointer (&txt);
        *reason = "not an image";
      }
      break;
    case N_BAD_KINDS:
    default:
      g_assert_not_reached ();
    }
  g_free (image_png);
  g_free (image_jpg);
  g_free (mask);
  return named;
}

static void
test_folder_each_bad_kind (void)
{
  for (int kind = 0; kind < N_BAD_KINDS; kind++)
    {
      g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
      g_autofree char *named = NULL;
      g_autofree char *message = NULL;
      g_autofree char *classes = g_build_filename (root, "classes.txt", NULL);
      PlDatasetError code;
      const char *reason;

      g_test_message ("bad kind %d", kind);
      write_pair (root, "good", 12, 10, 3);
      write_text (classes, "a\nb\nc\n");
      named = add_bad_pair (root, (BadKind) kind, &code, &reason);
      message = expect_folder_error (root, NULL, code);
      assert_contains (message, named);
      assert_contains (message, reason);
      /* The good pair is not blamed. */
      g_assert_null (strstr (message, "good.png"));
      pl_test_remove_tree (root);
    }
}

static void
test_folder_missing_and_empty (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *missing = g_build_filename (root, "nope", NULL);
  g_autofree char *message = NULL;

  message = expect_folder_error (missing, NULL, PL_DATASET_ERROR_MISSING);
  assert_contains (message, missing);
  g_clear_pointer (&message, g_free);

  message = expect_folder_error (root, NULL, PL_DATASET_ERROR_EMPTY);
  assert_contains (message, root);
  assert_contains (message, "empty");
  g_clear_pointer (&message, g_free);

  /* images/ and masks/ present but with nothing in them. */
  {
    g_autofree char *images = make_subdir (root, "images");
    g_free (make_subdir (root, "masks"));
    message = expect_folder_error (root, NULL, PL_DATASET_ERROR_EMPTY);
    assert_contains (message, images);
    g_clear_pointer (&message, g_free);
  }
  /* images/ without masks/. */
  {
    g_autofree char *masks = g_build_filename (root, "masks", NULL);
    write_pair (root, "x", 4, 4, 2);
    pl_test_remove_tree (masks);
    message = expect_folder_error (root, NULL, PL_DATASET_ERROR_MISSING);
    assert_contains (message, masks);
  }
  pl_test_remove_tree (root);
}

static void
test_folder_lists_every_problem (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *message = NULL;
  g_auto (GStrv) lines = NULL;
  PlDatasetError code;
  const char *reason;

  write_pair (root, "good", 12, 10, 3);
  first = add_bad_pair (root, BAD_TRUNCATED_PNG, &code, &reason);
  second = add_bad_pair (root, BAD_SIZE_MISMATCH, &code, &reason);
  message = expect_folder_error (root, NULL, PL_DATASET_ERROR_FORMAT);
  assert_contains (message, first);
  assert_contains (message, second);
  assert_contains (message, "mask is 12×9 but image is 12×10");
  lines = g_strsplit (message, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);  /* a summary and one line each */
  assert_contains (lines[0], "2 bad");
  pl_test_remove_tree (root);
}

static void
test_folder_skip_bad (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  PlFolderOptions opt = { TRUE, 0.0, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) dataset = NULL;
  PlDatasetError code;
  const char *reason;

  write_pair (root, "good1", 12, 10, 3);
  write_pair (root, "good2", 12, 10, 3);
  first = add_bad_pair (root, BAD_RGB_MASK, &code, &reason);
  second = add_bad_pair (root, BAD_MISSING_MASK, &code, &reason);
  dataset = pl_dataset_load_folder (root, &opt, &error);
  g_assert_no_error (error);
  g_test_message ("%s", dataset->description);
  g_assert_cmpuint (dataset->train->len, ==, 2);
  g_assert_cmpstr (((PlSample *) dataset->train->pdata[0])->name, ==, "good1");
  assert_contains (dataset->description, "skipped 2");

  /* When nothing is left, skipping still fails, and says why. */
  {
    g_autofree char *only_bad = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
    g_autofree char *named = add_bad_pair (only_bad, BAD_TRUNCATED_PNG, &code, &reason);
    g_autofree char *message = expect_folder_error (only_bad, &opt, PL_DATASET_ERROR_EMPTY);
    assert_contains (message, named);
    pl_test_remove_tree (only_bad);
  }
  pl_test_remove_tree (root);
}

/* Fashion-MNIST */

static void
test_fmnist_scenes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) dataset = NULL;
  g_autoptr (PlDataset) again = NULL;
  guint64 counts[256] = { 0 };
  int n_present = 0;

  if (!g_file_test (FMNIST_DIR, G_FILE_TEST_IS_DIR))
    g_test_message ("%s is missing: install the Debian package dataset-fashion-mnist",
                    FMNIST_DIR);
  dataset = pl_dataset_load_fashion_mnist (NULL, 4, 6, 2, 0, &error);
  g_assert_no_error (error);
  g_test_message ("%s", dataset->description);
  g_assert_cmpint (dataset->n_classes, ==, 11);
  g_assert_cmpstr (dataset->class_names[0], ==, "background");
  g_assert_cmpstr (dataset->class_names[1], ==, "T-shirt/top");
  g_assert_cmpstr (dataset->class_names[10], ==, "Ankle boot");
  g_assert_cmpuint (dataset->train->len, ==, 6);
  g_assert_cmpuint (dataset->val->len, ==, 2);
  count_labels (dataset->train, counts);
  count_labels (dataset->val, counts);
  for (int c = 11; c < 256; c++)
    g_assert_cmpuint (counts[c], ==, 0);
  for (int c = 0; c < 11; c++)
    n_present += counts[c] > 0;
  g_assert_cmpint (n_present, >=, 5);
  g_assert_cmpuint (counts[0], >, 0);
  /* Labelled pixels are drawn, background ones are black. */
  for (guint i = 0; i < dataset->train->len; i++)
    {
      const PlSample *s = dataset->train->pdata[i];
      g_assert_cmpint (s->width, ==, PL_DATASET_DEFAULT_SIDE);
      for (gsize k = 0; k < (gsize) s->width * s->height; k++)
        g_assert_true ((s->labels[k] == 0) == (s->rgb[3 * k] == 0));
    }

  again = pl_dataset_load_fashion_mnist (FMNIST_DIR, 4, 6, 2, 96, &error);
  g_assert_no_error (error);
  g_assert_true (datasets_equal (dataset, again));
}

static void
test_fmnist_missing (void)
{
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *missing = g_build_filename (root, "fashion-mnist", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) dataset = NULL;

  dataset = pl_dataset_load_fashion_mnist (missing, 1, 2, 1, 96, &error);
  g_assert_null (dataset);
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING);
  assert_contains (error->message, missing);
  assert_contains (error->message, "dataset-fashion-mnist");
  g_clear_error (&error);

  /* A folder with some of the files missing names the file and gives the same hint. */
  g_assert_cmpint (g_mkdir (missing, 0755), ==, 0);
  dataset = pl_dataset_load_fashion_mnist (missing, 1, 2, 1, 96, &error);
  g_assert_null (dataset);
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_MISSING);
  assert_contains (error->message, "train-labels-idx1-ubyte.gz");
  assert_contains (error->message, "dataset-fashion-mnist");
  pl_test_remove_tree (root);
}

static void
copy_file (const char *from, const char *to)
{
  gsize length;
  g_autofree char *data = read_all (from, &length);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (to, data, (gssize) length, &error);
  g_assert_no_error (error);
}

static void
test_fmnist_bad_files (void)
{
  static const char *const names[] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
  };
  g_autofree char *root = pl_test_make_temp_dir ("pl-test-datasets-XXXXXX");
  g_autofree char *images = g_build_filename (root, names[0], NULL);
  g_autofree char *t10k_images = g_build_filename (root, names[2], NULL);
  g_autofree char *t10k_labels = g_build_filename (root, names[3], NULL);
  g_autofree char *original = g_build_filename (FMNIST_DIR, names[0], NULL);
  g_autoptr (GError) error = NULL;
  gsize length;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *from = g_build_filename (FMNIST_DIR, names[i], NULL);
      g_autofree char *to = g_build_filename (root, names[i], NULL);
      copy_file (from, to);
    }
  {
    g_autoptr (PlDataset) dataset = pl_dataset_load_fashion_mnist (root, 1, 2, 1, 64, &error);
    g_assert_no_error (error);
    g_assert_cmpint (((PlSample *) dataset->train->pdata[0])->width, ==, 64);
  }

  /* Truncated gzip. */
  g_free (read_all (images, &length));
  truncate_file (images, length / 2);
  {
    g_autoptr (PlDataset) dataset = pl_dataset_load_fashion_mnist (root, 1, 2, 1, 96, &error);
    g_assert_null (dataset);
    g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT);
    g_test_message ("error: %s", error->message);
    assert_contains (error->message, images);
    g_clear_error (&error);
  }
  /* Only the gzip trailer missing: the data is complete but unverified. */
  copy_file (original, images);
  truncate_file (images, length - 4);
  {
    g_autoptr (PlDataset) dataset = pl_dataset_load_fashion_mnist (root, 1, 2, 1, 96, &error);
    g_assert_null (dataset);
    g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT);
    g_test_message ("error: %s", error->message);
    assert_contains (error->message, images);
    g_clear_error (&error);
  }
  copy_file (original, images);
  /* Labels where images should be: wrong magic. */
  copy_file (t10k_labels, t10k_images);
  {
    g_autoptr (PlDataset) dataset = pl_dataset_load_fashion_mnist (root, 1, 2, 1, 96, &error);
    g_assert_null (dataset);
    g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT);
    assert_contains (error->message, t10k_images);
    assert_contains (error->message, "magic");
    g_clear_error (&error);
  }
  /* Not gzip at all. */
  write_text (t10k_images, "plain text");
  {
    g_autoptr (PlDataset) dataset = pl_dataset_load_fashion_mnist (root, 1, 2, 1, 96, &error);
    g_assert_null (dataset);
    g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT);
    assert_contains (error->message, t10k_images);
    g_clear_error (&error);
  }
  /* Train scenes alone do not read the t10k files. */
  {
    g_autoptr (PlDataset) dataset = pl_dataset_load_fashion_mnist (root, 1, 2, 0, 96, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (dataset->val->len, ==, 0);
  }
  pl_test_remove_tree (root);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/datasets/builtin/determinism", test_builtin_determinism);
  g_test_add_func ("/datasets/builtin/classes", test_builtin_classes);
  g_test_add_func ("/datasets/builtin/bad-arguments", test_builtin_bad_arguments);
  g_test_add_func ("/datasets/sample-to-input", test_sample_to_input);
  g_test_add_func ("/datasets/image/labels-round-trip", test_labels_round_trip);
  g_test_add_func ("/datasets/image/atomic-write-missing-dir", test_atomic_write_missing_dir);
  g_test_add_func ("/datasets/image/atomic-write-failure-keeps-target",
                   test_atomic_write_failure_keeps_target);
  g_test_add_func ("/datasets/image/absurd-png-header", test_absurd_png_header);
  g_test_add_func ("/datasets/image/formats", test_image_formats);
  g_test_add_func ("/datasets/folder/good", test_folder_good);
  g_test_add_func ("/datasets/folder/classes-txt", test_folder_classes_txt);
  g_test_add_func ("/datasets/folder/val-dir", test_folder_val_dir);
  g_test_add_func ("/datasets/folder/val-fraction", test_folder_val_fraction);
  g_test_add_func ("/datasets/folder/each-bad-kind", test_folder_each_bad_kind);
  g_test_add_func ("/datasets/folder/missing-and-empty", test_folder_missing_and_empty);
  g_test_add_func ("/datasets/folder/lists-every-problem", test_folder_lists_every_problem);
  g_test_add_func ("/datasets/folder/skip-bad", test_folder_skip_bad);
  g_test_add_func ("/datasets/fmnist/scenes", test_fmnist_scenes);
  g_test_add_func ("/datasets/fmnist/missing", test_fmnist_missing);
  g_test_add_func ("/datasets/fmnist/bad-files", test_fmnist_bad_files);

  return g_test_run ();
}
