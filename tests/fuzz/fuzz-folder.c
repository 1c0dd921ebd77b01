/* fuzz-folder.c — libFuzzer target: the folder-dataset index (pl_dataset_load_folder):
 * name matching, classes.txt, the val/ split, headers, the memory total and decoding.
 * The input describes a folder:
 *
 *   byte 0     bit 0 skip_bad; bits 1–2 the val fraction (0, 0.1, 0.5, 0.9); bits 3–6
 *              create images/, masks/, val/images/, val/masks/ even when empty
 *   then records, each:
 *     1 byte   where: 0 images/, 1 masks/, 2 val/images/, 3 val/masks/, 4 the folder itself
 *     1 byte   name length n (at most 24); then n bytes of name ('/' and NUL become '_')
 *     2 bytes  content length, little-endian; 0xffff makes a folder instead of a file
 *     content
 *
 * Loading succeeds with a dataset that keeps the documented promises (2–255 classes,
 * a train split, labels that are classes or 255, image and labels of one size), or
 * fails with a PL_DATASET_ERROR whose message names the folder. */
#include "fuzz-util.h"

#include "pl-dataset.h"

#include <glib/gstdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const char *const places[] = { "images", "masks", "val/images", "val/masks", "." };

static void
make_dir (const char *root, const char *place)
{
  g_autofree char *path = g_build_filename (root, place, NULL);
  g_mkdir_with_parents (path, 0700);
}

static void
check_dataset (const PlDataset *dataset)
{
  PL_FUZZ_CHECK (dataset->n_classes >= 2 && dataset->n_classes <= 255);
  PL_FUZZ_CHECK (g_strv_length (dataset->class_names) == (guint) dataset->n_classes);
  PL_FUZZ_CHECK (dataset->train->len >= 1);
  GPtrArray *splits[] = { dataset->train, dataset->val };
  for (int k = 0; k < 2; k++)
    for (guint i = 0; i < splits[k]->len; i++)
      {
        const PlSample *s = splits[k]->pdata[i];
        PL_FUZZ_CHECK (s->name != NULL && s->width >= 1 && s->height >= 1);
        for (gsize p = 0; p < (gsize) s->width * s->height; p++)
          PL_FUZZ_CHECK (s->labels[p] < dataset->n_classes || s->labels[p] == 255);
        guint sum = 0;
        for (gsize p = 0; p < (gsize) s->width * s->height * 3; p++)
          sum += s->rgb[p];
        (void) sum;
      }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const double fractions[] = { 0.0, 0.1, 0.5, 0.9 };
  static guint serial;
  if (size < 1)
    return 0;
  g_autofree char *leaf = g_strdup_printf ("folder-%u", serial++);
  g_autofree char *root = g_build_filename (pl_fuzz_dir (), leaf, NULL);
  PlFolderOptions options = { data[0] & 1, fractions[(data[0] >> 1) & 3], 7 };

  g_mkdir_with_parents (root, 0700);
  for (int b = 0; b < 4; b++)
    if (data[0] & (8 << b))
      make_dir (root, places[b]);

  gsize at = 1;
  while (at + 2 <= size)
    {
      const char *place = places[data[at] % G_N_ELEMENTS (places)];
      gsize name_len = MIN (data[at + 1] % 25, size - at - 2);
      char name[32];
      memcpy (name, data + at + 2, name_len);
      name[name_len] = '\0';
      for (gsize i = 0; i < name_len; i++)
        if (name[i] == '/' || name[i] == '\0')
          name[i] = '_';
      at += 2 + name_len;
      if (name_len == 0 || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        name[0] = '_', name[1] = '\0';
      gsize content = 0;
      gboolean folder = FALSE;
      if (at + 2 <= size)
        {
          content = (gsize) data[at] | (gsize) data[at + 1] << 8;
          folder = content == 0xffff;
          at += 2;
        }
      content = folder ? 0 : MIN (content, size - at);
      make_dir (root, place);
      g_autofree char *path = g_build_filename (root, place, name, NULL);
      if (folder)
        g_mkdir_with_parents (path, 0700);
      else if (!g_file_test (path, G_FILE_TEST_IS_DIR))
        g_file_set_contents (path, (const char *) data + at, (gssize) content, NULL);
      at += content;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (PlDataset) dataset = pl_dataset_load_folder (root, &options, &error);
  if (dataset == NULL)
    pl_fuzz_check_error (error, PL_DATASET_ERROR, root);
  else
    check_dataset (dataset);
  pl_fuzz_remove_tree (root);
  return 0;
}
