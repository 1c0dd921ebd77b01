/* fuzz-image.c — libFuzzer target: one file read as an image header, an RGB image and a
 * label mask (pl-image-io.h). Every call either succeeds with a size inside the limits,
 * the same size from all three, or fails with a PL_DATASET_ERROR naming the file. */
#include "fuzz-util.h"

#include "pl-dataset.h"
#include "pl-image-io.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static gboolean
size_ok (int width, int height)
{
  return width >= 1 && height >= 1 && width <= PL_IMAGE_MAX_SIDE && height <= PL_IMAGE_MAX_SIDE;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *path = pl_fuzz_write ("input", data, size);
  g_autoptr (GError) size_error = NULL;
  g_autoptr (GError) rgb_error = NULL;
  g_autoptr (GError) mask_error = NULL;
  g_autofree guint8 *rgb = NULL;
  g_autofree guint8 *labels = NULL;
  int hw = 0, hh = 0, rw = 0, rh = 0, mw = 0, mh = 0;

  if (pl_image_read_size (path, &hw, &hh, &size_error))
    PL_FUZZ_CHECK (size_ok (hw, hh));
  else
    pl_fuzz_check_error (size_error, PL_DATASET_ERROR, path);

  if (pl_image_load_rgb (path, &rw, &rh, &rgb, &rgb_error))
    {
      PL_FUZZ_CHECK (size_error == NULL && rw == hw && rh == hh && rgb != NULL);
      /* Touch every byte: ASan and MSan see any the decoder did not write. */
      guint sum = 0;
      for (gsize i = 0; i < (gsize) rw * rh * 3; i++)
        sum += rgb[i];
      (void) sum;
    }
  else
    pl_fuzz_check_error (rgb_error, PL_DATASET_ERROR, path);

  if (pl_image_load_mask (path, &mw, &mh, &labels, &mask_error))
    PL_FUZZ_CHECK (size_error == NULL && mw == hw && mh == hh && labels != NULL);
  else
    pl_fuzz_check_error (mask_error, PL_DATASET_ERROR, path);
  return 0;
}
