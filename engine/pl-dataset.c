/* pl-dataset.c — the types shared by all dataset loaders: samples, datasets, the error
 * domain, and the conversion of a window of a sample into the net's float input.
 * The loaders themselves live in pl-dataset-{builtin,folder,fmnist}.c. */
#include "pl-dataset.h"

#include "pl-image-io.h"

#include <string.h>

G_DEFINE_QUARK (pl-dataset-error-quark, pl_dataset_error)

PlSample *
pl_sample_new (const char *name, int width, int height)
{
  PlSample *sample;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (width >= 1 && width <= PL_IMAGE_MAX_SIDE, NULL);
  g_return_val_if_fail (height >= 1 && height <= PL_IMAGE_MAX_SIDE, NULL);

  sample = g_new0 (PlSample, 1);
  sample->name = g_strdup (name);
  sample->width = width;
  sample->height = height;
  sample->rgb = g_malloc0 ((gsize) width * height * 3);
  sample->labels = g_malloc0 ((gsize) width * height);
  return sample;
}

void
pl_sample_free (PlSample *sample)
{
  if (sample == NULL)
    return;
  g_free (sample->name);
  g_free (sample->rgb);
  g_free (sample->labels);
  g_free (sample);
}

PlDataset *
pl_dataset_new (const char *const *class_names)
{
  PlDataset *dataset;

  g_return_val_if_fail (class_names != NULL, NULL);

  dataset = g_new0 (PlDataset, 1);
  dataset->class_names = g_strdupv ((char **) class_names);
  dataset->n_classes = (int) g_strv_length (dataset->class_names);
  dataset->train = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_sample_free);
  dataset->val = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_sample_free);
  return dataset;
}

void
pl_dataset_free (PlDataset *dataset)
{
  if (dataset == NULL)
    return;
  g_free (dataset->description);
  g_strfreev (dataset->class_names);
  g_clear_pointer (&dataset->train, g_ptr_array_unref);
  g_clear_pointer (&dataset->val, g_ptr_array_unref);
  g_free (dataset);
}

static void
copy_samples (GPtrArray *dst, GPtrArray *src)
{
  for (guint i = 0; i < src->len; i++)
    {
      const PlSample *s = src->pdata[i];
      PlSample *copy = pl_sample_new (s->name, s->width, s->height);
      memcpy (copy->rgb, s->rgb, (gsize) s->width * s->height * 3);
      memcpy (copy->labels, s->labels, (gsize) s->width * s->height);
      g_ptr_array_add (dst, copy);
    }
}

PlDataset *
pl_dataset_copy (const PlDataset *dataset)
{
  g_return_val_if_fail (dataset != NULL, NULL);
  PlDataset *copy = pl_dataset_new ((const char *const *) dataset->class_names);
  copy->description = g_strdup (dataset->description);
  copy_samples (copy->train, dataset->train);
  copy_samples (copy->val, dataset->val);
  return copy;
}

void
pl_sample_to_input (const PlSample *s, int y0, int x0, int h, int w, float *dst)
{
  g_return_if_fail (s != NULL && dst != NULL);
  g_return_if_fail (h >= 1 && w >= 1 && y0 >= 0 && x0 >= 0);
  g_return_if_fail (y0 <= s->height - h && x0 <= s->width - w);

  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      {
        const guint8 *src = s->rgb + ((gsize) (y0 + y) * s->width + x0) * 3 + c; /* stride 3 */
        float *out = dst + ((gsize) c * h + y) * w;                             /* [w] */
        for (int x = 0; x < w; x++)
          out[x] = ((float) src[3 * x] / 255.0f - 0.5f) / 0.25f;
      }
}

void
pl_dataset_generate (PlDataset *dataset, guint64 seed, int n_train, int n_val, PlSceneFunc make,
                     gpointer data)
{
  PlRng root, train_rng, val_rng;
  pl_rng_init (&root, seed);
  train_rng = pl_rng_split (&root);
  val_rng = pl_rng_split (&root);
  for (int i = 0; i < n_train + n_val; i++)
    {
      gboolean train = i < n_train;
      g_autofree char *name = g_strdup_printf ("%s-%04d", train ? "train" : "val",
                                               train ? i : i - n_train);
      PlRng rng = pl_rng_split (train ? &train_rng : &val_rng);
      g_ptr_array_add (train ? dataset->train : dataset->val, make (name, train, &rng, data));
    }
}
