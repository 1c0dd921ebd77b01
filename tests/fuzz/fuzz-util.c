/* fuzz-util.c — temporary files and result checks for the fuzz targets (fuzz-util.h). */
#include "fuzz-util.h"

#include "pl-test-util.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *fuzz_dir;

static void
remove_fuzz_dir (void)
{
  if (fuzz_dir != NULL)
    pl_fuzz_remove_tree (fuzz_dir);
}

const char *
pl_fuzz_dir (void)
{
  if (fuzz_dir == NULL)
    {
      const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm"
                                                                      : g_get_tmp_dir ();
      fuzz_dir = g_build_filename (base, "pl-fuzz-XXXXXX", NULL);
      if (g_mkdtemp (fuzz_dir) == NULL)
        pl_fuzz_fail ("cannot create a temporary folder %s", fuzz_dir);
      atexit (remove_fuzz_dir);
    }
  return fuzz_dir;
}

char *
pl_fuzz_write (const char *name, const guint8 *data, gsize size)
{
  char *path = g_build_filename (pl_fuzz_dir (), name, NULL);
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, (const char *) data, (gssize) size, &error))
    pl_fuzz_fail ("%s", error->message);
  return path;
}

void
pl_fuzz_remove_tree (const char *path)
{
  pl_test_remove_tree (path);
}

void
pl_fuzz_check_error (const GError *error, GQuark domain, const char *needle)
{
  if (error == NULL)
    pl_fuzz_fail ("a loader failed without a GError");
  if (error->domain != domain)
    pl_fuzz_fail ("error in domain %s, expected %s: %s", g_quark_to_string (error->domain),
                  g_quark_to_string (domain), error->message);
  if (needle != NULL && strstr (error->message, needle) == NULL)
    pl_fuzz_fail ("error message does not name '%s': %s", needle, error->message);
}

void
pl_fuzz_fail (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  abort ();
}

static GLogWriterOutput
log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_standard_streams (level, fields, n_fields, data);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

void
pl_fuzz_init (void)
{
  g_log_set_writer_func (log_writer, NULL, NULL);
}

/* libFuzzer calls this once before the first input; fuzz-main.c calls pl_fuzz_init. */
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  pl_fuzz_init ();
  return 0;
}
