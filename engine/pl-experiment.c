/* pl-experiment.c — the arms of the lesson's experiments, their runs one at a time on
 * the trainer, and the numbers and curves that compare them (see pl-experiment.h). */
#include "pl-experiment.h"

#include "pl-receptive.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (pl-experiment-error-quark, pl_experiment_error)

/* Figure 5: images per step at p = 1 (round(B / p) at the other ratios). */
#define FIG5_IMAGES 2
/* patch-vs-fcn: crops per patchwise step, whole images per fully convolutional step.
 * At the default 96×96 scenes both push the same number of input pixels per step. */
#define PATCHWISE_CROPS 64
#define FCN_IMAGES 4

struct _PlExperiment {
  char *name, *title;
  PlNetSpec *spec;
  GArray *arms;          /* PlExperimentArm */
  guint n_seeds;
  guint64 first_seed;
  gint64 steps;
  PlSnapshot **runs;     /* [n_arms · n_seeds], arm-major; NULL until run */
};

static const char *const names[] = { "fig5", "patch-vs-fcn", NULL };

gboolean
pl_experiment_check_name (const char *name, GError **error)
{
  if (g_strv_contains (names, name))
    return TRUE;
  g_autofree char *known = g_strjoinv (", ", (char **) names);
  g_set_error (error, PL_EXPERIMENT_ERROR, PL_EXPERIMENT_ERROR_NAME,
               "no experiment named “%s” (known: %s)", name, known);
  return FALSE;
}

void
pl_experiment_options_init (PlExperimentOptions *o)
{
  *o = (PlExperimentOptions) {
    .steps = 400,
    .n_seeds = 3,
    .first_seed = 1,
  };
}

static void
add_arm (PlExperiment *e, const char *id, const char *label, const PlKnobs *knobs)
{
  PlExperimentArm arm = { .knobs = *knobs };
  g_strlcpy (arm.id, id, sizeof arm.id);
  g_strlcpy (arm.label, label, sizeof arm.label);
  g_array_append_val (e->arms, arm);
}

PlExperiment *
pl_experiment_new (const char *name, const PlNetSpec *spec, GError **error)
{
  g_return_val_if_fail (name != NULL && spec != NULL, NULL);
  if (!pl_experiment_check_name (name, error))
    return NULL;
  g_autoptr (PlExperiment) e = g_new0 (PlExperiment, 1);
  e->name = g_strdup (name);
  e->spec = pl_net_spec_copy (spec);
  e->arms = g_array_new (FALSE, FALSE, sizeof (PlExperimentArm));
  PlKnobs k;
  pl_knobs_init_default (&k);
  if (strcmp (name, "fig5") == 0)
    {
      e->title = g_strdup ("Loss sampling on whole images (FCN Fig. 5)");
      static const double ps[] = { 1.0, 0.5, 0.25 };
      for (gsize i = 0; i < G_N_ELEMENTS (ps); i++)
        {
          k.batch = FIG5_IMAGES;
          k.sampling = ps[i];
          k.fixed_terms = TRUE;
          char id[32], label[64];
          g_snprintf (id, sizeof id, "p%g", ps[i]);
          g_snprintf (label, sizeof label, "p = %g (%d images)", ps[i],
                      (int) lround (FIG5_IMAGES / ps[i]));
          add_arm (e, id, label, &k);
        }
    }
  else if (strcmp (name, "patch-vs-fcn") == 0)
    {
      e->title = g_strdup ("Patchwise vs fully convolutional training");
      PlReceptiveField rf = pl_receptive_field (spec);
      char label[64];
      k.patch = rf.R;
      k.batch = PATCHWISE_CROPS;
      g_snprintf (label, sizeof label, "patchwise (%d crops of %d×%d)", PATCHWISE_CROPS, rf.R,
                  rf.R);
      add_arm (e, "patchwise", label, &k);
      k.patch = 0;
      k.batch = FCN_IMAGES;
      g_snprintf (label, sizeof label, "fully convolutional (%d whole images)", FCN_IMAGES);
      add_arm (e, "fcn", label, &k);
    }
  else
    g_assert_not_reached ();  /* a name in names[] without arms */
  return g_steal_pointer (&e);
}

static void
clear_runs (PlExperiment *e)
{
  if (e->runs == NULL)
    return;
  for (guint i = 0; i < e->arms->len * e->n_seeds; i++)
    if (e->runs[i] != NULL)
      pl_snapshot_unref (e->runs[i]);
  g_clear_pointer (&e->runs, g_free);
}

void
pl_experiment_free (PlExperiment *e)
{
  if (e == NULL)
    return;
  clear_runs (e);
  g_array_unref (e->arms);
  pl_net_spec_free (e->spec);
  g_free (e->name);
  g_free (e->title);
  g_free (e);
}

const char *
pl_experiment_get_name (const PlExperiment *e)
{
  return e->name;
}

const char *
pl_experiment_get_title (const PlExperiment *e)
{
  return e->title;
}

guint
pl_experiment_get_n_arms (const PlExperiment *e)
{
  return e->arms->len;
}

const PlExperimentArm *
pl_experiment_get_arm (const PlExperiment *e, guint arm)
{
  g_return_val_if_fail (arm < e->arms->len, NULL);
  return &g_array_index (e->arms, PlExperimentArm, arm);
}

guint
pl_experiment_get_n_seeds (const PlExperiment *e)
{
  return e->n_seeds;
}

guint64
pl_experiment_get_seed (const PlExperiment *e, guint seed)
{
  return e->first_seed + seed;
}

PlSnapshot *
pl_experiment_get_run (const PlExperiment *e, guint arm, guint seed)
{
  g_return_val_if_fail (arm < e->arms->len && seed < e->n_seeds, NULL);
  return e->runs != NULL ? e->runs[arm * e->n_seeds + seed] : NULL;
}

/* ---- running ---- */

/* One run on a trainer of its own, polled until it stops; its last snapshot. */
static PlSnapshot *
run_one (PlExperiment *e, guint arm, guint seed, const PlDataset *dataset,
         const PlExperimentOptions *o, GError **error)
{
  const PlExperimentArm *a = pl_experiment_get_arm (e, arm);
  PlTrainerOptions to;
  pl_trainer_options_init (&to);
  to.seed = pl_experiment_get_seed (e, seed);
  to.threads = o->threads > 0 ? o->threads : (int) g_get_num_processors ();
  to.max_steps = o->steps;
  to.validate_every = (int) MIN (o->steps, G_MAXINT);  /* once, after the last step */
  to.validate_images = o->validate_images;
  to.preview_interval = -1;
  to.publish_interval = 0.2;
  PlTrainer *trainer = pl_trainer_new (pl_dataset_copy (dataset), e->spec, &a->knobs, &to, error);
  if (trainer == NULL)
    {
      g_prefix_error (error, "%s, arm %s: ", e->name, a->id);
      return NULL;
    }
  pl_trainer_start (trainer);
  PlSnapshot *last = NULL;
  for (;;)
    {
      g_usleep (G_USEC_PER_SEC / 50);
      PlSnapshot *s = pl_trainer_dup_snapshot (trainer);
      PlTrainerState state = pl_snapshot_get_state (s);
      if (o->progress != NULL)
        o->progress (e, arm, seed, s, o->progress_data);
      if (state == PL_TRAINER_STOPPED)
        {
          last = s;
          break;
        }
      if (state == PL_TRAINER_PAUSED)  /* only divergence pauses a run nobody steers */
        {
          g_set_error (error, PL_EXPERIMENT_ERROR, PL_EXPERIMENT_ERROR_DIVERGED,
                       "%s, arm %s, seed %" G_GUINT64_FORMAT ": %s", e->name, a->id, to.seed,
                       pl_snapshot_get_message (s, NULL));
          pl_snapshot_unref (s);
          break;
        }
      pl_snapshot_unref (s);
    }
  pl_trainer_free (trainer);
  return last;
}

gboolean
pl_experiment_run (PlExperiment *e, const PlDataset *dataset, const PlExperimentOptions *o,
                   GError **error)
{
  g_return_val_if_fail (e != NULL && dataset != NULL && o != NULL, FALSE);
  g_return_val_if_fail (o->steps >= 1 && o->n_seeds >= 1, FALSE);
  clear_runs (e);
  e->n_seeds = o->n_seeds;
  e->first_seed = o->first_seed;
  e->steps = o->steps;
  e->runs = g_new0 (PlSnapshot *, e->arms->len * e->n_seeds);
  /* Seed after seed, every arm within a seed: drift of the machine's speed over the
   * experiment touches every arm alike. */
  for (guint seed = 0; seed < e->n_seeds; seed++)
    for (guint arm = 0; arm < e->arms->len; arm++)
      {
        PlSnapshot *s = run_one (e, arm, seed, dataset, o, error);
        if (s == NULL)
          return FALSE;
        e->runs[arm * e->n_seeds + seed] = s;
      }
  return TRUE;
}

/* ---- what to compare ---- */

void
pl_run_summary_compute (const PlSnapshot *s, PlRunSummary *r)
{
  guint n = pl_snapshot_get_history_length (s);
  *r = (PlRunSummary) { .steps = n, .final_loss = NAN, .val_accuracy = NAN, .val_miou = NAN,
                        .step_seconds = NAN, .flops_per_step = NAN, .redundancy = NAN,
                        .terms_per_step = NAN };
  if (n == 0)
    return;
  guint tail = MAX (1, n / 10), counted = 0;
  double loss = 0.0, flops = 0.0, terms = 0.0, pushed = 0.0, covered = 0.0;
  for (guint i = 0; i < n; i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, i);
      if (i >= n - tail && !isnan (m->loss))
        {
          loss += m->loss;
          counted++;
        }
      flops += m->flops_forward + m->flops_backward;
      terms += (double) m->terms;
      pushed += (double) m->pixels_pushed;
      covered += (double) m->pixels_covered;
      if (!isnan (m->val_accuracy))
        {
          r->val_accuracy = m->val_accuracy;
          r->val_miou = m->val_miou;
        }
    }
  const PlStepMetrics *last = pl_snapshot_get_metrics (s, n - 1);
  r->final_loss = counted > 0 ? loss / counted : NAN;
  r->total_seconds = last->elapsed;
  r->step_seconds = last->elapsed / n;
  r->flops_per_step = flops / n;
  r->terms_per_step = terms / n;
  r->redundancy = pushed / MAX (covered, 1.0);
}

guint
pl_experiment_smoothing (const PlExperiment *e)
{
  return (guint) MAX (1, e->steps / 20);
}

/* Mean and standard deviation of the finite values among v[0..n). */
static void
mean_sd (const double *v, guint n, double *mean, double *sd)
{
  double sum = 0.0, sum2 = 0.0;
  guint k = 0;
  for (guint i = 0; i < n; i++)
    if (isfinite (v[i]))
      {
        sum += v[i];
        k++;
      }
  *mean = k > 0 ? sum / k : NAN;
  for (guint i = 0; i < n; i++)
    if (isfinite (v[i]))
      sum2 += (v[i] - *mean) * (v[i] - *mean);
  if (sd != NULL)
    *sd = k > 1 ? sqrt (sum2 / (k - 1)) : 0.0;
}

/* The arm's summary without the threshold columns. */
static void
summarize_arm (const PlExperiment *e, guint arm, PlArmSummary *out)
{
  guint n = e->n_seeds;
  g_autofree double *v = g_new (double, 6 * (gsize) n);
  double *loss = v, *acc = v + n, *miou = v + 2 * n, *step = v + 3 * n, *total = v + 4 * n;
  for (guint k = 0; k < n; k++)
    {
      PlRunSummary r;
      pl_run_summary_compute (pl_experiment_get_run (e, arm, k), &r);
      loss[k] = r.final_loss;
      acc[k] = r.val_accuracy;
      miou[k] = r.val_miou;
      step[k] = r.step_seconds;
      total[k] = r.total_seconds;
    }
  *out = (PlArmSummary) { .time_to_threshold = NAN, .speedup = NAN };
  mean_sd (loss, n, &out->final_loss, &out->final_loss_sd);
  mean_sd (acc, n, &out->val_accuracy, NULL);
  mean_sd (miou, n, &out->val_miou, NULL);
  mean_sd (step, n, &out->step_seconds, NULL);
  mean_sd (total, n, &out->total_seconds, NULL);
}

double
pl_experiment_threshold (const PlExperiment *e)
{
  g_return_val_if_fail (e->runs != NULL, NAN);
  double worst = -INFINITY;
  for (guint arm = 0; arm < e->arms->len; arm++)
    {
      PlArmSummary s;
      summarize_arm (e, arm, &s);
      if (isfinite (s.final_loss))
        worst = MAX (worst, s.final_loss);
    }
  return isfinite (worst) ? 1.05 * worst : NAN;
}

/* Training seconds at which the arm's smoothed mean curve first reaches threshold. */
static double
time_to (const PlExperiment *e, guint arm, double threshold)
{
  g_autoptr (PlCurve) c = pl_experiment_dup_curve (e, arm, -1, pl_experiment_smoothing (e));
  for (guint i = 0; c != NULL && i < c->n; i++)
    if (c->loss[i] <= threshold)
      return c->seconds[i];
  return NAN;
}

void
pl_experiment_summarize_arm (const PlExperiment *e, guint arm, double threshold,
                             PlArmSummary *summary)
{
  g_return_if_fail (e->runs != NULL && arm < e->arms->len);
  summarize_arm (e, arm, summary);
  summary->time_to_threshold = time_to (e, arm, threshold);
  summary->speedup = time_to (e, 0, threshold) / summary->time_to_threshold;
}

/* Trailing mean, NaN skipped (NaN where the window has none). The window at value i
 * is min(window, ⌈(i + 1)/4⌉): short at the start, so that the fast early drop of a loss
 * curve is not smeared, the full width from 4 × window on. */
static void
smooth (double *v, guint n, guint window)
{
  if (window <= 1)
    return;
  g_autofree double *sum = g_new (double, n + 1);   /* prefix sums of the finite values */
  g_autofree guint *count = g_new (guint, n + 1);   /* and of their number */
  sum[0] = 0.0;
  count[0] = 0;
  for (guint i = 0; i < n; i++)
    {
      gboolean ok = !isnan (v[i]);
      sum[i + 1] = sum[i] + (ok ? v[i] : 0.0);
      count[i + 1] = count[i] + ok;
    }
  for (guint i = 0; i < n; i++)
    {
      guint w = MIN (window, (i + 4) / 4), from = i + 1 - w;
      guint k = count[i + 1] - count[from];
      v[i] = k > 0 ? (sum[i + 1] - sum[from]) / k : NAN;
    }
}

PlCurve *
pl_experiment_dup_curve (const PlExperiment *e, guint arm, int seed, guint window)
{
  g_return_val_if_fail (arm < e->arms->len && seed < (int) e->n_seeds, NULL);
  if (e->runs == NULL)
    return NULL;
  guint first = seed >= 0 ? (guint) seed : 0, last = seed >= 0 ? (guint) seed + 1 : e->n_seeds;
  guint n = G_MAXUINT;
  for (guint k = first; k < last; k++)
    {
      const PlSnapshot *s = pl_experiment_get_run (e, arm, k);
      if (s == NULL)
        return NULL;
      n = MIN (n, pl_snapshot_get_history_length (s));
    }
  PlCurve *c = g_new0 (PlCurve, 1);
  c->n = n;
  c->step = g_new (double, n);
  c->loss = g_new (double, n);
  c->seconds = g_new (double, n);
  for (guint i = 0; i < n; i++)
    {
      double loss = 0.0, seconds = 0.0;
      guint with_loss = 0;
      for (guint k = first; k < last; k++)
        {
          const PlStepMetrics *m = pl_snapshot_get_metrics (pl_experiment_get_run (e, arm, k), i);
          if (!isnan (m->loss))
            {
              loss += m->loss;
              with_loss++;
            }
          seconds += m->elapsed;
          c->step[i] = (double) m->step;
        }
      c->loss[i] = with_loss > 0 ? loss / with_loss : NAN;
      c->seconds[i] = seconds / (last - first);
    }
  smooth (c->loss, n, window);
  return c;
}

void
pl_curve_free (PlCurve *c)
{
  if (c == NULL)
    return;
  g_free (c->step);
  g_free (c->loss);
  g_free (c->seconds);
  g_free (c);
}

gboolean
pl_experiment_write_csv (const PlExperiment *e, const char *dir, GError **error)
{
  g_return_val_if_fail (e->runs != NULL, FALSE);
  g_autoptr (GString) csv = g_string_new ("arm,seed,steps,final_loss,val_accuracy,val_miou,"
                                          "mean_step_seconds,total_seconds,flops_per_step,"
                                          "redundancy,terms_per_step\n");
  for (guint arm = 0; arm < e->arms->len; arm++)
    for (guint k = 0; k < e->n_seeds; k++)
      {
        const PlExperimentArm *a = pl_experiment_get_arm (e, arm);
        guint64 seed = pl_experiment_get_seed (e, k);
        PlSnapshot *s = pl_experiment_get_run (e, arm, k);
        g_autofree char *name = g_strdup_printf ("%s-%s-seed%" G_GUINT64_FORMAT ".csv", e->name,
                                                 a->id, seed);
        g_autofree char *path = g_build_filename (dir, name, NULL);
        if (!pl_snapshot_write_csv (s, path, error))
          return FALSE;
        PlRunSummary r;
        pl_run_summary_compute (s, &r);
        g_string_append_printf (csv, "%s,%" G_GUINT64_FORMAT ",%" G_GINT64_FORMAT ",%.9g,%.6g,"
                                "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", a->id, seed, r.steps,
                                r.final_loss, r.val_accuracy, r.val_miou, r.step_seconds,
                                r.total_seconds, r.flops_per_step, r.redundancy,
                                r.terms_per_step);
      }
  g_autofree char *name = g_strdup_printf ("%s-summary.csv", e->name);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  /* g_file_set_contents writes a temporary file and renames it: never half-written. */
  return g_file_set_contents (path, csv->str, (gssize) csv->len, error);
}
