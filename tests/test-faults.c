/* test-faults.c — faults from outside the program: a full disk and a read-only folder
 * while a checkpoint is saved, and a dataset folder that changes while it loads (at chosen
 * moments through the loader's decode hook, and at random under another thread).
 *
 * Disk full and read-only are real where the test may make a private mount namespace
 * (root with CAP_SYS_ADMIN, as in CI): a small tmpfs over a temporary folder, remounted
 * read-only for the second case; the mounts vanish with the subprocess. Elsewhere the
 * same checks run on injected failures (a file-size limit, a write-protected folder or
 * the checkpoint's write-failure hook), and the test says which it used.
 * (SIGKILL during `patchlab-cli train --save` is in test-cli.c.)
 */
#define _GNU_SOURCE  /* unshare */
#include "pl-test-util.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Checkpoints on a full disk or in a read-only folder ---- */

/* GTest runs subprocesses quietly: what a subprocess did goes to stderr, which the test
 * log keeps. */
static void G_GNUC_PRINTF (1, 2)
say (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("# %s\n", text);
}

/* In a private mount namespace (this process only), a tmpfs of `bytes` over dir. */
static gboolean
mount_small_tmpfs (const char *dir, gsize bytes)
{
  g_autofree char *options = g_strdup_printf ("size=%" G_GSIZE_FORMAT, bytes);
  if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
      || mount ("tmpfs", dir, "tmpfs", 0, options) != 0)
    {
      say ("no private tmpfs here (%s)", g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* The "old" checkpoint, about 1 KiB, at dir/net.safetensors. */
static void
save_small (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x4 c1x2", 3);
  g_autoptr (PlNet) net = pl_net_new (spec, 1);
  g_auto (PlCheckpointMeta) meta = { 0 };
  g_autoptr (GError) error = NULL;
  meta.class_names = g_strsplit ("background,thing", ",", -1);
  meta.sampling = 1.0;
  g_assert_true (pl_checkpoint_save (path, net, &meta, TRUE, &error));
  g_assert_no_error (error);
}

/* Saving `big` over a saved `small` fails; the old file and nothing else remains. */
static void
expect_save_fails_keeping_old (const char *dir, const char *must_contain)
{
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autoptr (PlNetSpec) big_spec = pl_test_spec ("c3x32 c3x32 c1x2", 3);
  g_autoptr (PlNet) big = pl_net_new (big_spec, 2);
  g_autoptr (GBytes) before = pl_test_read_bytes (path);
  g_auto (PlCheckpointMeta) meta = { 0 };
  g_autoptr (GError) error = NULL;

  meta.class_names = g_strsplit ("background,thing", ",", -1);
  meta.sampling = 1.0;
  g_assert_false (pl_checkpoint_save (path, big, &meta, TRUE, &error));
  say ("%s", error->message);
  g_assert_error (error, PL_CHECKPOINT_ERROR, PL_CHECKPOINT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, must_contain));
  g_autoptr (GBytes) after = pl_test_read_bytes (path);
  g_assert_true (g_bytes_equal (before, after));
  g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);  /* no temporary file left */
  g_autoptr (GError) load_error = NULL;
  g_autoptr (PlNet) back = pl_checkpoint_load (path, NULL, &load_error);
  g_assert_no_error (load_error);
  g_assert_nonnull (back);
}

/* Runs body in a subprocess (mounts and limits die with it), on a new folder. */
static void
run_in_subprocess (void (*body) (const char *dir))
{
  if (g_test_subprocess ())
    {
      body (g_getenv ("PL_TEST_DIR"));
      return;
    }
  g_autofree char *dir = pl_test_make_temp_dir ("pl-faults-XXXXXX");
  g_setenv ("PL_TEST_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT
                                   | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("PL_TEST_DIR");
  g_test_trap_assert_passed ();
  pl_test_remove_tree (dir);
}

/* The new checkpoint (about 80 KiB) does not fit where the old one (1 KiB) did. */
static void
disk_full (const char *dir)
{
  if (mount_small_tmpfs (dir, 64 << 10))
    {
      say ("a 64 KiB tmpfs in a private mount namespace");
      save_small (dir);
      expect_save_fails_keeping_old (dir, "No space left on device");
      return;
    }
  struct rlimit limit = { 32 << 10, 32 << 10 };
  say ("injecting: a 32 KiB file-size limit (RLIMIT_FSIZE)");
  save_small (dir);
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  expect_save_fails_keeping_old (dir, "File too large");
}

static void
read_only_folder (const char *dir)
{
  if (mount_small_tmpfs (dir, 1 << 20))
    {
      say ("a tmpfs in a private mount namespace, remounted read-only");
      save_small (dir);
      g_assert_cmpint (mount (NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL), ==, 0);
      expect_save_fails_keeping_old (dir, "Read-only file system");
    }
  else if (geteuid () != 0)
    {
      say ("injecting: the folder's write permission removed");
      save_small (dir);
      g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
      expect_save_fails_keeping_old (dir, "Permission denied");
      g_chmod (dir, 0755);
    }
  else
    {
      /* Root ignores permission bits; fail the first write instead. */
      say ("injecting: the first write fails (checkpoint test hook)");
      save_small (dir);
      pl_checkpoint_set_fail_after_bytes_for_testing (0);
      expect_save_fails_keeping_old (dir, "writing failed");
      pl_checkpoint_set_fail_after_bytes_for_testing (-1);
    }
}

static void
test_checkpoint_disk_full (void)
{
  run_in_subprocess (disk_full);
}

static void
test_checkpoint_read_only_folder (void)
{
  run_in_subprocess (read_only_folder);
}

/* ---- A dataset folder that changes while it loads ---- */

/* Pair files of "version" v: (8 + v)² palette PNGs whose every label is v, used as the
 * image (its pixels are then the colour of v) and as the mask. Image and mask of different
 * versions differ in size, so a mixed pair can be recognised. */
#define MAX_VERSION 5

typedef struct {
  GBytes *png[MAX_VERSION + 1];
} Versions;

static void
versions_init (Versions *versions, const char *dir)
{
  g_autofree char *path = g_build_filename (dir, ".scratch.png", NULL);
  for (int v = 0; v <= MAX_VERSION; v++)
    {
      int side = 8 + v;
      g_autofree guint8 *labels = g_new (guint8, side * side);
      g_autoptr (GError) error = NULL;
      memset (labels, v, (gsize) side * side);
      g_assert_true (pl_image_save_labels (path, side, side, labels, &error));
      versions->png[v] = pl_test_read_bytes (path);
    }
  g_remove (path);
}

static void
versions_clear (Versions *versions)
{
  for (int v = 0; v <= MAX_VERSION; v++)
    g_bytes_unref (versions->png[v]);
}

static void
write_version (const char *path, const Versions *versions, int v)
{
  g_autoptr (GError) error = NULL;
  GBytes *png = versions->png[v];
  g_file_set_contents (path, g_bytes_get_data (png, NULL), (gssize) g_bytes_get_size (png),
                       &error);
  g_assert_no_error (error);
}

static char *
pair_path (const char *root, const char *kind, int i)
{
  g_autofree char *name = g_strdup_printf ("p%02d.png", i);
  return g_build_filename (root, kind, name, NULL);
}

static char *
make_folder (const Versions *versions, int n_pairs)
{
  char *root = pl_test_make_temp_dir ("pl-faults-XXXXXX");
  const char *kinds[] = { "images", "masks" };
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *dir = g_build_filename (root, kinds[k], NULL);
      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      for (int i = 0; i < n_pairs; i++)
        {
          g_autofree char *path = pair_path (root, kinds[k], i);
          write_version (path, versions, 1 + i % MAX_VERSION);
        }
    }
  return root;
}

/* Every sample is one version throughout: image and labels read from files that agree. */
static void
assert_consistent (const PlDataset *dataset)
{
  GPtrArray *splits[] = { dataset->train, dataset->val };
  for (int k = 0; k < 2; k++)
    for (guint i = 0; i < splits[k]->len; i++)
      {
        const PlSample *s = splits[k]->pdata[i];
        int v = s->labels[0];
        guint8 colour[3];
        pl_image_label_colour ((guint8) v, colour);
        g_assert_cmpint (s->width, ==, 8 + v);
        g_assert_cmpint (s->height, ==, 8 + v);
        for (gsize p = 0; p < (gsize) s->width * s->height; p++)
          {
            g_assert_cmpint (s->labels[p], ==, v);
            g_assert_cmpmem (s->rgb + 3 * p, 3, colour, 3);
          }
      }
}

typedef enum {
  CHANGE_DELETE_IMAGE,
  CHANGE_TRUNCATE_MASK,
  CHANGE_RESIZE_PAIR,
  CHANGE_RESIZE_IMAGE,
  CHANGE_IMAGE_TO_FIFO,
  CHANGE_MASK_TO_FOLDER,
  CHANGE_ADD_PAIR,
} Change;

typedef struct {
  Change change;
  const Versions *versions;
  const char *root;
  gboolean done;
} ChangeJob;

/* The decode hook: changes pair 1 just before it is decoded. */
static void
change_pair (const char *image, const char *mask, gpointer data)
{
  ChangeJob *job = data;
  if (job->done || !g_str_has_suffix (image, "p01.png"))
    return;
  job->done = TRUE;
  switch (job->change)
    {
    case CHANGE_DELETE_IMAGE:
      g_assert_cmpint (g_remove (image), ==, 0);
      break;
    case CHANGE_TRUNCATE_MASK:
      g_assert_cmpint (truncate (mask, 40), ==, 0);
      break;
    case CHANGE_RESIZE_PAIR:
      write_version (image, job->versions, MAX_VERSION);
      write_version (mask, job->versions, MAX_VERSION);
      break;
    case CHANGE_RESIZE_IMAGE:
      write_version (image, job->versions, MAX_VERSION);
      break;
    case CHANGE_IMAGE_TO_FIFO:
      g_assert_cmpint (g_remove (image), ==, 0);
      g_assert_cmpint (mkfifo (image, 0644), ==, 0);
      break;
    case CHANGE_MASK_TO_FOLDER:
      g_assert_cmpint (g_remove (mask), ==, 0);
      g_assert_cmpint (g_mkdir (mask, 0755), ==, 0);
      break;
    case CHANGE_ADD_PAIR:
      {
        g_autofree char *new_image = pair_path (job->root, "images", 9);
        g_autofree char *new_mask = pair_path (job->root, "masks", 9);
        write_version (new_image, job->versions, 1);
        write_version (new_mask, job->versions, 2);  /* a mismatch, were it seen */
      }
      break;
    }
}

/* Pair 1 changes just before it is decoded: refused with the file named, or skipped
 * (skip_bad) leaving a consistent dataset of the others. */
static void
test_folder_changes_before_decoding (void)
{
  static const struct {
    Change change;
    const char *file;     /* the file the message names */
    const char *reason;
    guint n_left;         /* pairs loaded with skip_bad */
  } cases[] = {
    { CHANGE_DELETE_IMAGE, "images/p01.png", "No such file", 2 },
    { CHANGE_TRUNCATE_MASK, "masks/p01.png", "PNG", 2 },
    { CHANGE_RESIZE_PAIR, "images/p01.png", "changed while the folder was loading", 2 },
    { CHANGE_RESIZE_IMAGE, "masks/p01.png", "mask is 10×10 but image is 13×13", 2 },
    { CHANGE_IMAGE_TO_FIFO, "images/p01.png", "not a regular file", 2 },
    { CHANGE_MASK_TO_FOLDER, "masks/p01.png", "not a regular file", 2 },
    { CHANGE_ADD_PAIR, NULL, NULL, 3 },
  };
  Versions versions;
  g_autofree char *scratch = pl_test_make_temp_dir ("pl-faults-XXXXXX");
  versions_init (&versions, scratch);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int skip_bad = 0; skip_bad < 2; skip_bad++)
      {
        g_autofree char *root = make_folder (&versions, 3);
        ChangeJob job = { cases[i].change, &versions, root, FALSE };
        PlFolderOptions options = { skip_bad, 0.0, 0 };
        g_autoptr (GError) error = NULL;
        pl_dataset_set_decode_hook_for_testing (change_pair, &job);
        g_autoptr (PlDataset) dataset = pl_dataset_load_folder (root, &options, &error);
        pl_dataset_set_decode_hook_for_testing (NULL, NULL);
        g_assert_true (job.done);
        if (cases[i].file != NULL && !skip_bad)
          {
            g_autofree char *file = g_build_filename (root, cases[i].file, NULL);
            g_assert_null (dataset);
            g_test_message ("%s", error->message);
            g_assert_error (error, PL_DATASET_ERROR, error->code);
            g_assert_nonnull (strstr (error->message, file));
            g_assert_nonnull (strstr (error->message, cases[i].reason));
          }
        else
          {
            g_assert_no_error (error);
            g_assert_cmpuint (dataset->train->len, ==, cases[i].n_left);
            assert_consistent (dataset);
          }
        pl_test_remove_tree (root);
      }
  versions_clear (&versions);
  pl_test_remove_tree (scratch);
}

typedef struct {
  const Versions *versions;
  const char *root;
  int n_pairs;
  gint stop;
  guint changes;
} Mutator;

/* Rewrites, truncates, deletes and restores files of the folder at random, some of them
 * in place and slowly (half, pause, the rest), until told to stop. */
static gpointer
mutate (gpointer data)
{
  Mutator *m = data;
  const char *kinds[] = { "images", "masks" };
  PlRng rng;
  pl_rng_init (&rng, 31);
  while (!g_atomic_int_get (&m->stop))
    {
      g_autofree char *path = pair_path (m->root, kinds[pl_rng_below (&rng, 2)],
                                         (int) pl_rng_below (&rng, (guint32) m->n_pairs));
      GBytes *png = m->versions->png[1 + pl_rng_below (&rng, MAX_VERSION)];
      gsize size;
      const guint8 *bytes = g_bytes_get_data (png, &size);
      switch (pl_rng_below (&rng, 4))
        {
        case 0:  /* atomic replacement (rename) */
          write_version (path, m->versions, 1 + (int) pl_rng_below (&rng, MAX_VERSION));
          break;
        case 1:  /* in place, slowly */
          {
            FILE *file = fopen (path, "wb");
            g_assert_nonnull (file);
            fwrite (bytes, 1, size / 2, file);
            fflush (file);
            g_usleep (200);
            fwrite (bytes + size / 2, 1, size - size / 2, file);
            fclose (file);
          }
          break;
        case 2:
          g_assert_cmpint (truncate (path, (off_t) pl_rng_below (&rng, (guint32) size)), ==, 0);
          break;
        case 3:  /* gone for a moment */
          g_remove (path);
          g_usleep (100);
          write_version (path, m->versions, 1 + (int) pl_rng_below (&rng, MAX_VERSION));
          break;
        }
      m->changes++;
      g_usleep (50);
    }
  return NULL;
}

/* Another thread changes the folder all the time while it is loaded again and again:
 * each load gives a consistent dataset or an error that names a file of the folder. */
static void
test_folder_changing_under_a_thread (void)
{
  Versions versions;
  g_autofree char *scratch = pl_test_make_temp_dir ("pl-faults-XXXXXX");
  versions_init (&versions, scratch);
  g_autofree char *root = make_folder (&versions, 12);
  Mutator m = { &versions, root, 12, 0, 0 };
  guint loaded = 0, refused = 0;

  GThread *thread = g_thread_new ("mutator", mutate, &m);
  for (int i = 0; i < 200; i++)
    {
      PlFolderOptions options = { i % 2, 0.2, (guint64) i };
      g_autoptr (GError) error = NULL;
      g_autoptr (PlDataset) dataset = pl_dataset_load_folder (root, &options, &error);
      if (dataset != NULL)
        {
          assert_consistent (dataset);
          loaded++;
        }
      else
        {
          g_assert_true (error->domain == PL_DATASET_ERROR);
          g_assert_nonnull (strstr (error->message, root));
          refused++;
        }
    }
  g_atomic_int_set (&m.stop, 1);
  g_thread_join (thread);
  g_test_message ("200 loads during %u changes: %u datasets, %u refusals", m.changes, loaded,
                  refused);
  g_assert_cmpuint (loaded, >, 0);
  versions_clear (&versions);
  pl_test_remove_tree (root);
  pl_test_remove_tree (scratch);
}

static void
drop_debug (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  /* The folder loader logs every skipped pair; hundreds of loads would flood the log. */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_handler (NULL, G_LOG_LEVEL_DEBUG, drop_debug, NULL);
  g_test_add_func ("/faults/checkpoint/disk-full", test_checkpoint_disk_full);
  g_test_add_func ("/faults/checkpoint/read-only-folder", test_checkpoint_read_only_folder);
  g_test_add_func ("/faults/folder/changes-before-decoding", test_folder_changes_before_decoding);
  g_test_add_func ("/faults/folder/changing-under-a-thread", test_folder_changing_under_a_thread);
  return g_test_run ();
}
