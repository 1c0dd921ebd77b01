/* fuzz-fmnist.c — libFuzzer target: the Fashion-MNIST IDX reader
 * (pl_dataset_load_fashion_mnist). The input holds the two files of the train split:
 *
 *   byte 0       flags: bit 0 writes the labels as given (else gzips them), bit 1 the same
 *                for the images; so the fuzzer reaches the IDX parser through valid gzip
 *                and the gzip reader through raw bytes
 *   bytes 1–2    length L of the labels part, little-endian (clamped to what is left)
 *   L bytes      train-labels-idx1-ubyte
 *   the rest     train-images-idx3-ubyte
 *
 * One 32×32 scene is made from them. Loading succeeds with 11 classes and labels in
 * range, or fails with a PL_DATASET_ERROR naming the folder or the file. */
#include "fuzz-util.h"

#include "pl-dataset.h"

#include <gio/gio.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
write_part (const char *dir, const char *name, const guint8 *data, gsize size, gboolean raw)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (raw)
    bytes = g_bytes_new (data, size);
  else
    {
      g_autoptr (GZlibCompressor) gzip = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
      g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
      g_autoptr (GOutputStream) out = g_converter_output_stream_new (memory, G_CONVERTER (gzip));
      if (!g_output_stream_write_all (out, data, size, NULL, NULL, &error)
          || !g_output_stream_close (out, NULL, &error))
        pl_fuzz_fail ("gzip: %s", error->message);
      bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
    }
  if (!g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                            (gssize) g_bytes_get_size (bytes), &error))
    pl_fuzz_fail ("%s", error->message);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 3)
    return 0;
  guint flags = data[0];
  gsize labels_size = MIN ((gsize) data[1] | (gsize) data[2] << 8, size - 3);
  const guint8 *labels = data + 3, *images = labels + labels_size;
  gsize images_size = size - 3 - labels_size;
  g_autofree char *dir = g_build_filename (pl_fuzz_dir (), "fmnist", NULL);

  g_mkdir_with_parents (dir, 0700);
  write_part (dir, "train-labels-idx1-ubyte.gz", labels, labels_size, flags & 1);
  write_part (dir, "train-images-idx3-ubyte.gz", images, images_size, flags & 2);

  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) dataset = pl_dataset_load_fashion_mnist (dir, 1, 1, 0, 32, &error);
  if (dataset == NULL)
    pl_fuzz_check_error (error, PL_DATASET_ERROR, dir);
  else
    {
      PL_FUZZ_CHECK (dataset->n_classes == 11 && dataset->train->len == 1);
      const PlSample *s = dataset->train->pdata[0];
      for (gsize i = 0; i < (gsize) s->width * s->height; i++)
        PL_FUZZ_CHECK (s->labels[i] < 11);
    }
  pl_fuzz_remove_tree (dir);
  return 0;
}
