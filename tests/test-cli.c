/* test-cli.c — patchlab-cli end to end: train → save → predict on the built-in
 * data, and bad arguments or files give a message and a non-zero exit. */
#include "pl-test-util.h"

#include "pl-image-io.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static void
test_train_save_predict (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("patchlab-cli-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *ckpt = g_build_filename (dir, "net.safetensors", NULL);
  g_autofree char *csv = g_build_filename (dir, "history.csv", NULL);
  g_autofree char *image = g_build_filename (dir, "in.png", NULL);
  g_autofree char *labels = g_build_filename (dir, "out.png", NULL);
  g_autofree char *npy = g_build_filename (dir, "probs.npy", NULL);
  g_autofree char *out = NULL, *err = NULL;

  int status = pl_test_run_cli (&out, &err, "train", "--steps", "30", "--train-images", "8",
                                "--val-images", "4", "--patch", "48", "--batch", "8", "--schedule",
                                "10:sampling=0.5,20:patch=0", "--validate-every", "15", "--csv",
                                csv, "--save", ckpt, "--quiet", NULL);
  g_test_message ("train: %s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "steps 30"));

  /* The history: a header, then steps 1…30 with finite losses. */
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (g_strchomp (text), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 31);
  g_assert_true (g_str_has_prefix (lines[0], "step,loss,accuracy,"));
  for (int i = 1; i <= 30; i++)
    {
      g_auto (GStrv) cells = g_strsplit (lines[i], ",", -1);
      g_assert_cmpint (g_ascii_strtoll (cells[0], NULL, 10), ==, i);
      g_assert_true (isfinite (g_ascii_strtod (cells[1], NULL)));
      int side = (int) g_ascii_strtoll (cells[15], NULL, 10);
      g_assert_cmpint (side, ==, (i < 20 ? 48 : 0));  /* "20:patch=0" applies from step 20 */
    }

  /* An image to segment: a built-in scene's labels as a palette PNG. */
  g_autoptr (PlDataset) ds = pl_dataset_new_builtin (9, 1, 0, 0, &error);
  g_assert_no_error (error);
  const PlSample *s = ds->train->pdata[0];
  g_assert_true (pl_image_save_labels (image, s->width, s->height, s->labels, &error));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = pl_test_run_cli (&out, &err, "predict", "--checkpoint", ckpt, "--output", labels,
                            "--probabilities", npy, image, NULL);
  g_test_message ("predict: %s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  int w, h;
  g_autofree guint8 *predicted = NULL;
  g_assert_true (pl_image_load_mask (labels, &w, &h, &predicted, &error));
  g_assert_cmpint (w, ==, s->width);
  g_assert_cmpint (h, ==, s->height);
  int labelled = 0;
  for (int i = 0; i < w * h; i++)
    {
      g_assert_true (predicted[i] < 4 || predicted[i] == 255);
      labelled += predicted[i] != 255;
    }
  g_assert_cmpint (labelled, >, w * h / 2);
  gsize npy_len;
  g_autofree char *npy_data = NULL;
  g_assert_true (g_file_get_contents (npy, &npy_data, &npy_len, NULL));
  g_assert_cmpmem (npy_data, 6, "\x93NUMPY", 6);
  /* the dict follows the magic, version and length (which hold NUL bytes) */
  g_assert_nonnull (strstr (npy_data + 10, "'shape': (4, 19, 19)"));  /* 96 px → 19 cells */
  g_assert_cmpuint (npy_len, ==, 128 + 4 * 4 * 19 * 19);

  const char *files[] = { ckpt, csv, image, labels, npy };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    g_assert_cmpint (g_remove (files[i]), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_bad_arguments_and_files (void)
{
  struct {
    int status;
    const char *must_contain;
    const char *args[6];
  } cases[] = {
    { 2, "--steps must be", { "train", "--steps", "0" } },
    { 2, "sampling must be in (0, 1]", { "train", "--sampling", "1.5" } },
    { 2, "schedule: '5' has no step", { "train", "--schedule", "5" } },
    { 2, "unknown knob 'pach'", { "train", "--schedule", "5:pach=3" } },
    { 2, "token 'q2' at column 7", { "info", "--spec", "c3x16 q2 c1xK" } },
    { 1, "/nonexistent/net.safetensors", { "predict", "-c", "/nonexistent/net.safetensors",
                                           "-o", "/tmp/x.png", "/tmp/none.png" } },
    { 1, "/nonexistent/data", { "train", "--data", "/nonexistent/data" } },
    { 2, "unknown command 'trian'", { "trian" } },
    { 2, "which experiment?", { "experiment" } },
    { 2, "no experiment named “fig6” (known: fig5, patch-vs-fcn)", { "experiment", "fig6" } },
    { 2, "--seeds must be", { "experiment", "fig5", "--seeds", "0" } },
    { 1, "cannot create the folder “/proc/patchlab”", { "experiment", "fig5", "--out",
                                                        "/proc/patchlab" } },
    { 2, "--save-every needs --save", { "train", "--save-every", "10" } },
    /* Found by fuzzing: each entry alone is valid, together they break the batch limit. */
    { 2, "schedule at step 20: batch / sampling must stay at most 4096",
      { "train", "--schedule", "10:fixed-terms=1,20:sampling=0.0001" } },
    { 2, "batch must be between 1 and 4096", { "train", "--batch", "4097" } },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL, *err = NULL;
      const char *const *a = cases[i].args;
      int status = pl_test_run_cli (&out, &err, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
      g_test_message ("%s %s → %d: %s", a[0], a[1] ? a[1] : "", status, err);
      g_assert_cmpint (status, ==, cases[i].status);
      g_assert_nonnull (strstr (err, cases[i].must_contain));
    }
}

static guint
count_temporaries (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;
  while ((name = g_dir_read_name (handle)) != NULL)
    n += strstr (name, ".tmp-") != NULL;
  return n;
}

/* SIGKILL at random moments of `train --save-every 1`: the checkpoint is absent or a
 * complete file that loads, never partial. A kill inside a save leaves its temporary
 * file; the next save removes it. */
static void
test_killed_while_saving (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("patchlab-cli-kill-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *ckpt = g_build_filename (dir, "net.safetensors", NULL);
  const char *argv[] = { g_getenv ("PATCHLAB_CLI"), "train", "--steps", "100000", "--save-every", "1", "--save",
                         ckpt, "--train-images", "4", "--val-images", "0", "--side", "48",
                         "--quiet", NULL };
  PlRng rng;
  guint loaded = 0, absent = 0, left_behind = 0;

  pl_rng_init (&rng, 2024);
  for (int round = 0; round < 30; round++)
    {
      GPid pid;
      int status;
      g_assert_true (g_spawn_async (NULL, (char **) argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                    | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &error));
      g_usleep (20000 + pl_rng_below (&rng, 400000));
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_spawn_close_pid (pid);

      if (!g_file_test (ckpt, G_FILE_TEST_EXISTS))
        absent++;
      else
        {
          g_auto (PlCheckpointMeta) meta = { 0 };
          g_autoptr (PlNet) net = pl_checkpoint_load (ckpt, &meta, &error);
          g_assert_no_error (error);
          g_assert_nonnull (net);
          g_assert_cmpint (meta.step, >=, 1);
          loaded++;
        }
      left_behind = MAX (left_behind, count_temporaries (dir));
    }
  g_test_message ("30 kills: checkpoint complete %u times, absent %u times; at most %u "
                  "temporary files left at once", loaded, absent, left_behind);
  g_assert_cmpuint (loaded, >, 0);

  /* One more run that ends normally: its saves remove every leftover. */
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (pl_test_run_cli (&out, &err, "train", "--steps", "3", "--save", ckpt, "--train-images",
                        "4", "--val-images", "0", "--side", "48", "--quiet", NULL), ==, 0);
  g_assert_cmpuint (count_temporaries (dir), ==, 0);
  g_autoptr (PlNet) net = pl_checkpoint_load (ckpt, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (net);
  g_assert_cmpint (g_remove (ckpt), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/train-save-predict", test_train_save_predict);
  g_test_add_func ("/cli/bad-arguments-and-files", test_bad_arguments_and_files);
  g_test_add_func ("/cli/killed-while-saving", test_killed_while_saving);
  return g_test_run ();
}
