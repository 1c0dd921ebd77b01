/* fuzz-main.c — a main() for the fuzz targets without libFuzzer: replays every file
 * of the folders (or files) given on the command line through LLVMFuzzerTestOneInput,
 * once each, and reports one TAP line per file. Every build runs the seed corpora and
 * the saved crashes (tests/fuzz/regressions) this way, so a fixed crash stays fixed
 * even where clang is not the compiler. A file that crashes the target ends the run
 * (the test fails); a file that passes prints "ok". */
#include "fuzz-util.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
collect (const char *path, GPtrArray *files)
{
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return;
    }
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        collect (child, files);
      }
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  pl_fuzz_init ();
  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_EXISTS))
        {
          printf ("Bail out! %s does not exist\n", argv[i]);
          return 1;
        }
      collect (argv[i], files);
    }
  g_ptr_array_sort (files, compare_paths);
  printf ("1..%u\n", files->len);
  if (files->len == 0)
    printf ("# no inputs: nothing was checked\n");
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];
      g_autofree char *data = NULL;
      gsize size;
      g_autoptr (GError) error = NULL;

      printf ("# %s\n", path);
      fflush (stdout);
      if (!g_file_get_contents (path, &data, &size, &error))
        {
          printf ("not ok %u - %s: %s\n", i + 1, path, error->message);
          continue;
        }
      LLVMFuzzerTestOneInput ((const guint8 *) data, size);
      printf ("ok %u - %s\n", i + 1, path);
    }
  return files->len > 0 ? 0 : 1;
}
