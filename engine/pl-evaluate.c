/* pl-evaluate.c — whole-image inference, confusion counts and their metrics. */
#include "pl-evaluate.h"

#include "pl-receptive.h"

#include <math.h>

void
pl_confusion_init (PlConfusion *c, int n_classes)
{
  c->n_classes = n_classes;
  c->confusion = g_new0 (gint64, (gsize) n_classes * n_classes);
}

void
pl_confusion_clear (PlConfusion *c)
{
  g_clear_pointer (&c->confusion, g_free);
}

double
pl_confusion_accuracy (const PlConfusion *c)
{
  gint64 total = 0, right = 0;
  for (int t = 0; t < c->n_classes; t++)
    for (int p = 0; p < c->n_classes; p++)
      {
        total += c->confusion[t * c->n_classes + p];
        right += t == p ? c->confusion[t * c->n_classes + p] : 0;
      }
  return total > 0 ? (double) right / (double) total : NAN;
}

double
pl_confusion_mean_iou (const PlConfusion *c)
{
  int K = c->n_classes, present = 0;
  double sum = 0.0;
  for (int k = 0; k < K; k++)
    {
      gint64 tp = c->confusion[k * K + k], fp = 0, fn = 0;
      for (int o = 0; o < K; o++)
        if (o != k)
          {
            fn += c->confusion[k * K + o];
            fp += c->confusion[o * K + k];
          }
      if (tp + fp + fn == 0)
        continue;
      sum += (double) tp / (double) (tp + fp + fn);
      present++;
    }
  return present > 0 ? sum / present : NAN;
}

gboolean
pl_evaluate_sample (PlNet *net, PlWorkspace *ws, const PlSample *sample, float *probabilities,
                    guint8 *argmax, PlConfusion *confusion)
{
  const PlNetSpec *spec = net->spec;
  int oh, ow, K = spec->n_classes;
  if (!pl_net_spec_output_size (spec, sample->height, sample->width, &oh, &ow))
    return FALSE;
  g_autofree float *input = g_new (float, 3 * (gsize) sample->height * sample->width);
  pl_sample_to_input (sample, 0, 0, sample->height, sample->width, input);
  if (!pl_net_forward (net, ws, input, 1, sample->height, sample->width))
    return FALSE;
  if (probabilities != NULL)
    pl_net_get_probabilities (ws, probabilities);

  /* With B = 1 the logits [K, 1, oh, ow] are already in NCHW order. */
  const float *logits = ws->acts[spec->n_layers - 1];
  PlReceptiveField rf = pl_receptive_field (spec);
  gsize plane = (gsize) oh * ow;
  for (int i = 0; i < oh; i++)
    for (int j = 0; j < ow; j++)
      {
        gsize m = (gsize) i * ow + j;
        int best = 0;
        for (int k = 1; k < K; k++)
          if (logits[k * plane + m] > logits[best * plane + m])
            best = k;
        if (argmax != NULL)
          argmax[m] = (guint8) best;
        if (confusion != NULL)
          {
            int y, x;
            pl_receptive_field_centre (rf, i, j, &y, &x);
            guint8 truth = sample->labels[(gsize) y * sample->width + x];
            if (truth != PL_LABEL_IGNORE && truth < K)
              confusion->confusion[truth * K + best]++;
          }
      }
  return TRUE;
}

double
pl_evaluate_majority_baseline (const PlNetSpec *spec, GPtrArray *samples)
{
  PlReceptiveField rf = pl_receptive_field (spec);
  int K = spec->n_classes;
  g_autofree gint64 *counts = g_new0 (gint64, K);
  gint64 total = 0;
  for (guint s = 0; s < samples->len; s++)
    {
      const PlSample *sample = samples->pdata[s];
      int oh, ow;
      if (!pl_net_spec_output_size (spec, sample->height, sample->width, &oh, &ow))
        continue;
      for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
          {
            int y, x;
            pl_receptive_field_centre (rf, i, j, &y, &x);
            guint8 label = sample->labels[(gsize) y * sample->width + x];
            if (label < K)
              {
                counts[label]++;
                total++;
              }
          }
    }
  gint64 best = 0;
  for (int k = 0; k < K; k++)
    best = MAX (best, counts[k]);
  return total > 0 ? (double) best / (double) total : NAN;
}

void
pl_evaluate_samples (PlNet *net, PlWorkspace *ws, GPtrArray *samples, guint max_samples,
                     double *accuracy, double *mean_iou)
{
  PlConfusion confusion;
  pl_confusion_init (&confusion, net->spec->n_classes);
  guint n = max_samples > 0 ? MIN (max_samples, samples->len) : samples->len;
  for (guint i = 0; i < n; i++)
    pl_evaluate_sample (net, ws, samples->pdata[i], NULL, NULL, &confusion);
  *accuracy = pl_confusion_accuracy (&confusion);
  *mean_iou = pl_confusion_mean_iou (&confusion);
  pl_confusion_clear (&confusion);
}
