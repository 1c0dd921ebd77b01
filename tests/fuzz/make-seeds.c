/* make-seeds.c — writes the seed corpora of the fuzz targets into tests/fuzz/corpus/:
 * a few tiny valid inputs per target, made with the engine's own writers
 * (pl_image_save_labels, pl_checkpoint_save) and with libpng/libjpeg for the kinds the
 * engine only reads. Run it after a format changes: make-seeds tests/fuzz/corpus
 * Not a test; the corpora it wrote are committed. */
#include "pl-engine.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

static const char *root;

static char *
seed_path (const char *target, const char *name)
{
  g_autofree char *dir = g_build_filename (root, target, NULL);
  g_mkdir_with_parents (dir, 0755);
  return g_build_filename (dir, name, NULL);
}

static void
save (const char *target, const char *name, const void *data, gsize size)
{
  g_autofree char *path = seed_path (target, name);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, data, (gssize) size, &error))
    g_error ("%s", error->message);
}

static GBytes *
read_back (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *data;
  gsize size;
  if (!g_file_get_contents (path, &data, &size, &error))
    g_error ("%s", error->message);
  return g_bytes_new_take (data, size);
}

/* An 8-bit PNG with libpng: RGB (3 bytes a pixel) or grey (1), optionally interlaced. */
static GBytes *
png_bytes (int width, int height, int colour, int depth, gboolean interlace)
{
  g_autofree char *path = seed_path ("image", ".tmp.png");
  FILE *file = fopen (path, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  int channels = colour == PNG_COLOR_TYPE_RGB ? 3 : 1;
  g_autofree guint8 *pixels = g_new (guint8, (gsize) width * height * channels);

  for (int i = 0; i < width * height * channels; i++)
    pixels[i] = (guint8) (depth == 1 ? i & 1 : i * 37);
  if (setjmp (png_jmpbuf (png)))
    g_error ("libpng failed");
  png_init_io (png, file);
  png_set_IHDR (png, info, width, height, depth, colour,
                interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  if (depth < 8)
    png_set_packing (png);
  int passes = png_set_interlace_handling (png);
  for (int p = 0; p < passes; p++)
    for (int y = 0; y < height; y++)
      png_write_row (png, pixels + (gsize) y * width * channels);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  fclose (file);
  GBytes *bytes = read_back (path);
  g_remove (path);
  return bytes;
}

static GBytes *
jpeg_bytes (int width, int height, gboolean grey)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr err;
  unsigned char *out = NULL;
  unsigned long size = 0;
  int channels = grey ? 1 : 3;
  g_autofree guint8 *pixels = g_new (guint8, (gsize) width * height * channels);

  for (int i = 0; i < width * height * channels; i++)
    pixels[i] = (guint8) (i * 11);
  cinfo.err = jpeg_std_error (&err);
  jpeg_create_compress (&cinfo);
  jpeg_mem_dest (&cinfo, &out, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = channels;
  cinfo.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 50, TRUE);
  jpeg_start_compress (&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPROW row = pixels + (gsize) cinfo.next_scanline * width * channels;
      jpeg_write_scanlines (&cinfo, &row, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  GBytes *bytes = g_bytes_new (out, size);
  free (out);
  return bytes;
}

static GBytes *
palette_mask_bytes (int width, int height, int n_classes)
{
  g_autofree char *path = seed_path ("image", ".tmp-mask.png");
  g_autofree guint8 *labels = g_new (guint8, (gsize) width * height);
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < width * height; i++)
    labels[i] = i == 0 ? PL_LABEL_IGNORE : (guint8) (i % n_classes);
  if (!pl_image_save_labels (path, width, height, labels, &error))
    g_error ("%s", error->message);
  GBytes *bytes = read_back (path);
  g_remove (path);
  return bytes;
}

static void
save_bytes (const char *target, const char *name, GBytes *bytes)
{
  save (target, name, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* fuzz-folder.c's record: where, name, content (NULL content makes a folder). */
static void
add_record (GByteArray *out, guint8 where, const char *name, GBytes *content)
{
  guint8 head[2] = { where, (guint8) strlen (name) };
  gsize size = content ? g_bytes_get_size (content) : 0xffff;
  guint8 length[2] = { (guint8) (size & 0xff), (guint8) (size >> 8) };
  g_byte_array_append (out, head, 2);
  g_byte_array_append (out, (const guint8 *) name, (guint) strlen (name));
  g_byte_array_append (out, length, 2);
  if (content)
    g_byte_array_append (out, g_bytes_get_data (content, NULL), (guint) g_bytes_get_size (content));
}

static void
image_and_folder_seeds (void)
{
  g_autoptr (GBytes) rgb = png_bytes (6, 5, PNG_COLOR_TYPE_RGB, 8, FALSE);
  g_autoptr (GBytes) rgb_interlaced = png_bytes (9, 7, PNG_COLOR_TYPE_RGB, 8, TRUE);
  g_autoptr (GBytes) grey = png_bytes (6, 5, PNG_COLOR_TYPE_GRAY, 8, FALSE);
  g_autoptr (GBytes) grey1 = png_bytes (6, 5, PNG_COLOR_TYPE_GRAY, 1, FALSE);
  g_autoptr (GBytes) jpeg = jpeg_bytes (6, 5, FALSE);
  g_autoptr (GBytes) jpeg_grey = jpeg_bytes (8, 8, TRUE);
  g_autoptr (GBytes) mask = palette_mask_bytes (6, 5, 3);
  g_autoptr (GBytes) classes = g_bytes_new_static ("background\nthing\nother\n", 23);

  save_bytes ("image", "rgb.png", rgb);
  save_bytes ("image", "rgb-interlaced.png", rgb_interlaced);
  save_bytes ("image", "grey.png", grey);
  save_bytes ("image", "grey-1bit.png", grey1);
  save_bytes ("image", "rgb.jpg", jpeg);
  save_bytes ("image", "grey.jpg", jpeg_grey);
  save_bytes ("image", "palette-mask.png", mask);

  /* Two good pairs (PNG and JPEG), classes.txt. */
  g_autoptr (GByteArray) a = g_byte_array_new ();
  guint8 flags = 0x18;  /* images/ and masks/ */
  g_byte_array_append (a, &flags, 1);
  add_record (a, 0, "a.png", rgb);
  add_record (a, 1, "a.png", mask);
  add_record (a, 0, "b.jpg", jpeg);
  add_record (a, 1, "b.png", grey1);
  add_record (a, 4, "classes.txt", classes);
  save ("folder", "two-pairs", a->data, a->len);

  /* A val/ split, a sub-folder to ignore, and a hidden file. */
  g_autoptr (GByteArray) b = g_byte_array_new ();
  flags = 0x78 | 1;  /* every folder, skip_bad */
  g_byte_array_append (b, &flags, 1);
  add_record (b, 0, "x.png", rgb);
  add_record (b, 1, "x.png", mask);
  add_record (b, 2, "y.png", rgb);
  add_record (b, 3, "y.png", grey);
  add_record (b, 0, "sub", NULL);
  add_record (b, 1, ".hidden", rgb);
  save ("folder", "val-split", b->data, b->len);

  /* Held-out split of three pairs. */
  g_autoptr (GByteArray) c = g_byte_array_new ();
  flags = 0x18 | 2;  /* val fraction 0.1 */
  g_byte_array_append (c, &flags, 1);
  g_autoptr (GBytes) mask_9x7 = palette_mask_bytes (9, 7, 2);
  const char *stems[] = { "p.png", "q.png", "r.png" };
  for (int i = 0; i < 3; i++)
    {
      add_record (c, 0, stems[i], i == 1 ? rgb_interlaced : rgb);
      add_record (c, 1, stems[i], i == 1 ? mask_9x7 : mask);
    }
  save ("folder", "held-out", c->data, c->len);
}

/* An IDX file of unsigned bytes: magic, dims, data. */
static GBytes *
idx_bytes (guint32 magic, int n_dims, const guint32 *dims)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize n = 1;
  guint32 be = GUINT32_TO_BE (magic);
  g_byte_array_append (out, (const guint8 *) &be, 4);
  for (int d = 0; d < n_dims; d++)
    {
      be = GUINT32_TO_BE (dims[d]);
      g_byte_array_append (out, (const guint8 *) &be, 4);
      n *= dims[d];
    }
  for (gsize i = 0; i < n; i++)
    {
      guint8 v = n_dims == 1 ? (guint8) (i % 10) : (guint8) ((i * 7) % 256);
      g_byte_array_append (out, &v, 1);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
fmnist_seeds (void)
{
  guint32 label_dims[1] = { 2 }, image_dims[3] = { 2, 28, 28 };
  g_autoptr (GBytes) labels = idx_bytes (0x801, 1, label_dims);
  g_autoptr (GBytes) images = idx_bytes (0x803, 3, image_dims);
  for (guint8 flags = 0; flags < 2; flags++)
    {
      g_autoptr (GByteArray) out = g_byte_array_new ();
      gsize n = g_bytes_get_size (labels);
      guint8 head[3] = { flags, (guint8) (n & 0xff), (guint8) (n >> 8) };
      g_byte_array_append (out, head, 3);
      g_byte_array_append (out, g_bytes_get_data (labels, NULL), (guint) n);
      g_byte_array_append (out, g_bytes_get_data (images, NULL), (guint) g_bytes_get_size (images));
      g_autofree char *name = g_strdup_printf ("two-items-%s", flags ? "raw-labels" : "gzip");
      save ("fmnist", name, out->data, out->len);
    }
}

static void
checkpoint_seed (const char *name, const char *spec_text, gboolean with_velocity,
                 const char *history)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (spec_text, 3, 0, &error);
  g_assert_no_error (error);
  g_autoptr (PlNet) net = pl_net_new (spec, 3);
  for (gsize i = 0; i < net->n_params; i++)
    net->velocity[i] = 0.5f * net->params[i];
  g_auto (PlCheckpointMeta) meta = { 0 };
  meta.class_names = g_new0 (char *, spec->n_classes + 1);
  for (int i = 0; i < spec->n_classes; i++)
    meta.class_names[i] = g_strdup_printf ("c%d", i);
  meta.dataset = g_strdup ("seed");
  meta.step = 12;
  meta.seed = 3;
  meta.patch_size = 0;
  meta.batch_size = 2;
  meta.sampling = 0.5;
  meta.lr = 0.01;
  meta.momentum = 0.9;
  meta.weight_decay = 1e-4;
  meta.history = g_strdup (history);
  g_autofree char *path = seed_path ("checkpoint", name);
  if (!pl_checkpoint_save (path, net, &meta, with_velocity, &error))
    g_error ("%s", error->message);
}

static void
text_seeds (void)
{
  /* fuzz-spec: the first byte is the class count (0: the spec gives it). */
  const struct { guint8 n_classes; const char *text; } specs[] = {
    { 4, PL_DEFAULT_SPEC }, { 0, "c3x8 p2 c1x3" }, { 2, "c5x4 p3 c1xK" }, { 0, "C1X2" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autofree char *name = g_strdup_printf ("spec-%" G_GSIZE_FORMAT, i);
      g_autofree char *data = g_strdup_printf ("%c%s", specs[i].n_classes, specs[i].text);
      save ("spec", name, data, 1 + strlen (specs[i].text));
    }
  const char *schedules[] = {
    "200:patch=64,400:sampling=0.25",
    ("1:patch=0,batch=4,sampling=1,fixed-terms=0,free-origin=0,lr=0.01,momentum=0.9,"
     "weight-decay=0.0001,120:patch=48"),
    "0:fixed-terms=yes,sampling=0.5,batch=8, 10:free-origin=true,lr=1e-3",
    "patch=24,batch=64",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (schedules); i++)
    {
      g_autofree char *name = g_strdup_printf ("schedule-%" G_GSIZE_FORMAT, i);
      save ("schedule", name, schedules[i], strlen (schedules[i]));
    }
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s CORPUS-FOLDER\n", argv[0]);
      return 2;
    }
  root = argv[1];
  image_and_folder_seeds ();
  fmnist_seeds ();
  checkpoint_seed ("tiny.safetensors", "c1x2", TRUE, "1:patch=0,batch=2");
  checkpoint_seed ("pool.safetensors", "c2x2 p2 c1x3", FALSE, NULL);
  text_seeds ();
  return 0;
}
