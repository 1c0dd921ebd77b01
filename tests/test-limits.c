/* test-limits.c — every documented limit (README, "Limits"), at its boundary: the value
 * at the limit is accepted and the next one refused with a message that gives the limit.
 * Image side, classes, batch size, spec depth and receptive field, and total memory (the
 * trainer's budget, and what a dataset may decode). */
#include "pl-test-util.h"

#include <glib/gstdio.h>
#include <string.h>

static void
assert_message (const GError *error, GQuark domain, const char *fragment)
{
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (error->domain == domain);
  if (strstr (error->message, fragment) == NULL)
    g_error ("'%s' does not contain '%s'", error->message, fragment);
}

static void
test_image_side (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-limits-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "big.png", NULL);
  g_autoptr (GError) error = NULL;
  int w, h;

  pl_test_write_forged_png (path, PL_IMAGE_MAX_SIDE, 7, 2);
  g_assert_true (pl_image_read_size (path, &w, &h, &error));
  g_assert_cmpint (w, ==, PL_IMAGE_MAX_SIDE);
  pl_test_write_forged_png (path, 7, PL_IMAGE_MAX_SIDE + 1, 2);
  g_assert_false (pl_image_read_size (path, &w, &h, &error));
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT);
  assert_message (error, PL_DATASET_ERROR, "the limit is 8192 pixels per side");
  g_remove (path);
  g_rmdir (dir);
}

static void
test_classes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) most = pl_net_spec_parse ("c3x8 c1x255", 3, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (most->n_classes, ==, PL_SPEC_MAX_CLASSES);
  g_autoptr (PlNetSpec) over = pl_net_spec_parse ("c3x8 c1x256", 3, 0, &error);
  g_assert_null (over);
  assert_message (error, PL_SPEC_ERROR, "between 2 and 255 classes");

  /* classes.txt: 255 names are the most (label 255 means "ignore"). */
  g_autofree char *dir = pl_test_make_temp_dir ("pl-limits-XXXXXX");
  g_autofree char *images = g_build_filename (dir, "images", NULL);
  g_autofree char *masks = g_build_filename (dir, "masks", NULL);
  g_autofree char *classes = g_build_filename (dir, "classes.txt", NULL);
  g_autofree char *mask = g_build_filename (masks, "a.png", NULL);
  g_autofree char *image = g_build_filename (images, "a.png", NULL);
  guint8 labels[4] = { 0, 1, 254, 255 };
  g_mkdir (images, 0755);
  g_mkdir (masks, 0755);
  g_assert_true (pl_image_save_labels (mask, 2, 2, labels, NULL));
  g_assert_true (pl_image_save_labels (image, 2, 2, labels, NULL));
  for (int n = 255; n <= 256; n++)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      for (int i = 0; i < n; i++)
        g_string_append_printf (text, "class %d\n", i);
      g_assert_true (g_file_set_contents (classes, text->str, -1, NULL));
      g_autoptr (GError) folder_error = NULL;
      g_autoptr (PlDataset) dataset = pl_dataset_load_folder (dir, NULL, &folder_error);
      if (n == 255)
        {
          g_assert_no_error (folder_error);
          g_assert_cmpint (dataset->n_classes, ==, 255);
        }
      else
        assert_message (folder_error, PL_DATASET_ERROR, "more than 255 classes");
    }
  g_remove (classes);
  g_remove (mask);
  g_remove (image);
  g_rmdir (images);
  g_rmdir (masks);
  g_rmdir (dir);
}

static void
test_batch (void)
{
  PlKnobs knobs;
  g_autoptr (GError) error = NULL;
  pl_knobs_init_default (&knobs);
  knobs.batch = PL_KNOBS_MAX_BATCH;
  g_assert_true (pl_knobs_validate (&knobs, &error));
  knobs.batch++;
  g_assert_false (pl_knobs_validate (&knobs, &error));
  assert_message (error, PL_KNOBS_ERROR, "batch must be between 1 and 4096");
  g_clear_error (&error);

  /* With fixed terms the batch drawn is B/p, and that is what must stay within it. */
  knobs.batch = 1024;
  knobs.sampling = 0.25;
  knobs.fixed_terms = TRUE;
  g_assert_true (pl_knobs_validate (&knobs, &error));
  knobs.sampling = 0.2499;
  g_assert_false (pl_knobs_validate (&knobs, &error));
  assert_message (error, PL_KNOBS_ERROR, "batch / sampling must stay at most 4096");
}

static void
test_spec_depth_and_receptive_field (void)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  for (int i = 1; i < PL_SPEC_MAX_LAYERS; i++)
    g_string_append (text, "c1x2 ");
  g_string_append (text, "c1x2");
  g_autoptr (PlNetSpec) deepest = pl_net_spec_parse (text->str, 3, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (deepest->n_layers, ==, PL_SPEC_MAX_LAYERS);
  g_string_prepend (text, "c1x2 ");
  g_autoptr (PlNetSpec) too_deep = pl_net_spec_parse (text->str, 3, 0, &error);
  g_assert_null (too_deep);
  assert_message (error, PL_SPEC_ERROR, "too many layers (at most 64)");
  g_clear_error (&error);

  /* R = 4096 after four 8×8 pools; a 2×2 pool doubles it to exactly 8192. */
  g_autoptr (PlNetSpec) widest = pl_net_spec_parse ("p8 p8 p8 p8 p2 c1x2", 3, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pl_receptive_field (widest).R, ==, PL_SPEC_MAX_RECEPTIVE);
  g_autoptr (PlNetSpec) wider = pl_net_spec_parse ("p8 p8 p8 p8 p2 c2x2", 3, 0, &error);
  g_assert_null (wider);
  assert_message (error, PL_SPEC_ERROR, "receptive field grows past 8192 px");
}

static void
test_trainer_memory_budget (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x8 p2 c3x8 c1x4", 3);
  PlKnobs knobs;
  pl_knobs_init_default (&knobs);
  knobs.patch = 32;
  knobs.batch = 16;
  PlTrainerOptions options;
  pl_trainer_options_init (&options);
  options.threads = 1;
  options.preview_interval = -1;

  /* The estimate is the limit: a budget of exactly that is enough, one byte less is not. */
  PlDataset *dataset = pl_dataset_new_builtin (1, 2, 0, 64, &error);
  g_assert_no_error (error);
  options.memory_budget = 1 << 30;
  PlTrainer *probe = pl_trainer_new (dataset, spec, &knobs, &options, &error);
  g_assert_no_error (error);
  gsize need = pl_trainer_estimate_memory (probe, &knobs);
  pl_trainer_free (probe);

  options.memory_budget = need;
  dataset = pl_dataset_new_builtin (1, 2, 0, 64, &error);
  PlTrainer *fits = pl_trainer_new (dataset, spec, &knobs, &options, &error);
  g_assert_no_error (error);
  PlKnobs more = knobs;
  more.batch++;
  g_assert_false (pl_trainer_set_knobs (fits, &more, &error));
  g_assert_error (error, PL_TRAINER_ERROR, PL_TRAINER_ERROR_MEMORY);
  assert_message (error, PL_TRAINER_ERROR, "17 crops of 32×32 px would need");
  pl_trainer_free (fits);
  g_clear_error (&error);

  options.memory_budget = need - 1;
  dataset = pl_dataset_new_builtin (1, 2, 0, 64, &error);
  g_assert_null (pl_trainer_new (dataset, spec, &knobs, &options, &error));
  assert_message (error, PL_TRAINER_ERROR, "more than the memory budget of");
}

static void
test_dataset_bytes (void)
{
  g_autoptr (GError) error = NULL;

  /* Generated scenes are checked from their count and side before anything is made. */
  g_autoptr (PlDataset) builtin = pl_dataset_new_builtin (1, PL_DATASET_MAX_SCENES, 0,
                                                          PL_DATASET_MAX_SIDE, &error);
  g_assert_null (builtin);
  assert_message (error, PL_DATASET_ERROR, "more than 8 GiB");
  g_clear_error (&error);

  /* A folder: from the headers, before decoding: 33 pairs of 8192² are 8.25 GiB. */
  g_autofree char *dir = pl_test_make_temp_dir ("pl-limits-XXXXXX");
  g_autofree char *images = g_build_filename (dir, "images", NULL);
  g_autofree char *masks = g_build_filename (dir, "masks", NULL);
  g_mkdir (images, 0755);
  g_mkdir (masks, 0755);
  for (int i = 0; i < 33; i++)
    {
      g_autofree char *name = g_strdup_printf ("big%02d.png", i);
      g_autofree char *image = g_build_filename (images, name, NULL);
      g_autofree char *mask = g_build_filename (masks, name, NULL);
      pl_test_write_forged_png (image, PL_IMAGE_MAX_SIDE, PL_IMAGE_MAX_SIDE, 2);
      pl_test_write_forged_png (mask, PL_IMAGE_MAX_SIDE, PL_IMAGE_MAX_SIDE, 0);
    }
  g_assert_null (pl_dataset_load_folder (dir, NULL, &error));
  g_assert_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT);
  assert_message (error, PL_DATASET_ERROR, "8.2 GiB in memory; the limit is 8 GiB");
  for (int i = 0; i < 33; i++)
    {
      g_autofree char *name = g_strdup_printf ("big%02d.png", i);
      g_autofree char *image = g_build_filename (images, name, NULL);
      g_autofree char *mask = g_build_filename (masks, name, NULL);
      g_remove (image);
      g_remove (mask);
    }
  g_rmdir (images);
  g_rmdir (masks);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/limits/image-side", test_image_side);
  g_test_add_func ("/limits/classes", test_classes);
  g_test_add_func ("/limits/batch", test_batch);
  g_test_add_func ("/limits/spec-depth-and-receptive-field", test_spec_depth_and_receptive_field);
  g_test_add_func ("/limits/trainer-memory-budget", test_trainer_memory_budget);
  g_test_add_func ("/limits/dataset-bytes", test_dataset_bytes);
  return g_test_run ();
}
