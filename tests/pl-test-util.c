/* pl-test-util.c — helpers shared by the engine tests. */
#include "pl-test-util.h"

#include <math.h>
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
