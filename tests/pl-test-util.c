/* pl-test-util.c — helpers shared by the engine tests. */
#include "pl-test-util.h"

#include <glib/gstdio.h>

#include <math.h>
#include <string.h>
#include <sys/wait.h>

void
pl_test_fill_uniform (float *x, gsize n, float lo, float hi, PlRng *rng)
{
  for (gsize i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * pl_rng_uniform (rng);
}

void
pl_test_fill_labels (guint8 *labels, gsize n, int n_classes, float p_ignore, PlRng *rng)
{
  for (gsize i = 0; i < n; i++)
    labels[i] = pl_rng_uniform (rng) < p_ignore ? PL_LABEL_IGNORE
                                                : (guint8) pl_rng_below (rng, (guint32) n_classes);
}

double
pl_test_max_abs (const float *x, gsize n)
{
  double m = 0.0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) x[i]));
  return m;
}

double
pl_test_max_abs_diff (const float *a, const float *b, gsize n)
{
  double m = 0.0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs ((double) a[i] - (double) b[i]));
  return m;
}

guint64
pl_test_branch_signature (const PlNet *net, const PlWorkspace *ws)
{
  guint64 h = 1469598103934665603ull;
  for (int l = 0; l < net->spec->n_layers; l++)
    {
      PlShape s = ws->shapes[l + 1];
      gsize n = (gsize) s.channels * ws->B * s.height * s.width;
      const PlLayerSpec *layer = &net->spec->layers[l];
      for (gsize i = 0; i < n; i++)
        {
          guint64 v = layer->kind == PL_LAYER_MAXPOOL ? ws->argmax[l][i]
                                                      : (layer->relu && ws->acts[l][i] > 0.0f);
          h = (h ^ v) * 1099511628211ull;
        }
    }
  return h;
}

PlNetSpec *
pl_test_spec (const char *text, int in_channels)
{
  g_autoptr (GError) error = NULL;
  PlNetSpec *spec = pl_net_spec_parse (text, in_channels, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (spec);
  return spec;
}

int
pl_test_check_gradient (const char *what, float *x, const float *grad, gsize n, int n_checks,
                        float eps, double rtol, double atol, PlTestLossFn loss, gpointer ctx,
                        PlRng *rng)
{
  guint64 sig0, sig_plus, sig_minus;
  loss (ctx, &sig0);
  int compared = 0, skipped = 0;
  int kinks_agreeing = 0;
  double worst = 0.0;  /* over points with no branch change */

  for (int t = 0; t < n_checks; t++)
    {
      gsize i = n <= (gsize) n_checks ? (gsize) t % n : pl_rng_below (rng, (guint32) n);
      float saved = x[i];
      x[i] = saved + eps;
      double plus = loss (ctx, &sig_plus);
      x[i] = saved - eps;
      double minus = loss (ctx, &sig_minus);
      x[i] = saved;
      /* The perturbation as float actually applied, for a fair quotient. */
      double h = (double) (saved + eps) - (double) (saved - eps);
      double numeric = (plus - minus) / h, analytic = grad[i];
      double err = fabs (numeric - analytic);
      double bound = atol + rtol * MAX (fabs (numeric), fabs (analytic));
      gboolean at_kink = sig_plus != sig0 || sig_minus != sig0;
      if (err > bound && at_kink)
        {
          /* The difference quotient straddles a kink: it measures nothing. */
          skipped++;
          continue;
        }
      if (err > bound)
        g_error ("%s: gradient mismatch at %" G_GSIZE_FORMAT ": analytic %.6g, numeric %.6g "
                 "(|diff| %.3g > %.3g)", what, i, analytic, numeric, err, bound);
      if (at_kink)
        kinks_agreeing++;
      else
        worst = MAX (worst, err / bound);
      compared++;
    }
  loss (ctx, &sig0);  /* leave the state as it was computed from x */
  g_test_message ("%s: %d points compared (%d across a kink but agreeing), %d skipped at "
                  "kinks; worst clean error %.2f of the bound", what, compared, kinks_agreeing,
                  skipped, worst);
  if (compared < n_checks / 2)
    g_error ("%s: only %d of %d points could be compared", what, compared, n_checks);
  return compared;
}

int
pl_test_run_cli (char **out, char **err, ...)
{
  const char *cli = g_getenv ("PATCHLAB_CLI");
  g_assert_nonnull (cli);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (gpointer) cli);
  va_list args;
  va_start (args, err);
  for (const char *a; (a = va_arg (args, const char *)) != NULL;)
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  int status;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

/* PNG fixtures */

static guint32
crc32_of (const guint8 *data, gsize n)
{
  guint32 crc = 0xffffffffu;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
  return crc ^ 0xffffffffu;
}

static void
append_chunk (GByteArray *out, const char *type, const guint8 *data, guint32 length)
{
  guint32 be = GUINT32_TO_BE (length);
  GByteArray *body = g_byte_array_new ();
  g_byte_array_append (body, (const guint8 *) type, 4);
  if (length > 0)
    g_byte_array_append (body, data, length);
  g_byte_array_append (out, (const guint8 *) &be, 4);
  g_byte_array_append (out, body->data, body->len);
  be = GUINT32_TO_BE (crc32_of (body->data, body->len));
  g_byte_array_append (out, (const guint8 *) &be, 4);
  g_byte_array_unref (body);
}

/* A PNG that is only a header claiming width×height (valid CRCs, a token IDAT): what a
 * forged or damaged file looks like before any pixel is decoded. colour 0 grey, 2 RGB. */
void
pl_test_write_forged_png (const char *path, guint32 width, guint32 height, guint8 colour)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const guint8 idat[] = { 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  guint8 ihdr[13];
  guint32 w = GUINT32_TO_BE (width), h = GUINT32_TO_BE (height);

  memcpy (ihdr, &w, 4);
  memcpy (ihdr + 4, &h, 4);
  ihdr[8] = 8;       /* bit depth */
  ihdr[9] = colour;
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  g_byte_array_append (out, signature, 8);
  append_chunk (out, "IHDR", ihdr, 13);
  append_chunk (out, "IDAT", idat, sizeof idat);
  append_chunk (out, "IEND", NULL, 0);
  g_file_set_contents (path, (const char *) out->data, out->len, &error);
  g_assert_no_error (error);
}


/* Files and folders */

char *
pl_test_make_temp_dir (const char *template)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp (template, &error);
  g_assert_no_error (error);
  return dir;
}

void
pl_test_remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          pl_test_remove_tree (child);
        }
    }
  g_remove (path);
}

guint
pl_test_count_entries (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  guint n = 0;
  g_assert_nonnull (handle);
  while (g_dir_read_name (handle) != NULL)
    n++;
  return n;
}

GBytes *
pl_test_read_bytes (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;
  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}
