/* pl-softmax-xent.c — per-cell softmax cross-entropy with an ignore label and a
 * keep mask (the paper's "DropConnect between output and loss", §4.4). */
#include "pl-layers.h"

#include <math.h>

void
pl_softmax_xent (float *dlogits, PlLossStats *stats, const float *logits,
                 const guint8 *labels, const guint8 *keep, int K, size_t M, PlLossNorm norm)
{
  double loss_sum = 0.0;
  gint64 n_terms = 0, n_correct = 0;

  for (size_t m = 0; m < M; m++)
    if ((keep == NULL || keep[m]) && labels[m] != PL_LABEL_IGNORE)
      n_terms++;
  float scale = (norm == PL_LOSS_MEAN && n_terms > 0) ? 1.0f / (float) n_terms : 1.0f;

  for (size_t m = 0; m < M; m++)
    {
      gboolean term = (keep == NULL || keep[m]) && labels[m] != PL_LABEL_IGNORE;
      if (!term)
        {
          if (dlogits != NULL)
            for (int c = 0; c < K; c++)
              dlogits[(size_t) c * M + m] = 0.0f;
          continue;
        }
      int label = labels[m], best = 0;
      float max = logits[m];
      for (int c = 1; c < K; c++)
        if (logits[(size_t) c * M + m] > max)
          {
            max = logits[(size_t) c * M + m];
            best = c;
          }
      double z = 0.0;
      for (int c = 0; c < K; c++)
        z += exp ((double) (logits[(size_t) c * M + m] - max));
      double log_z = log (z);
      loss_sum += log_z - (double) (logits[(size_t) label * M + m] - max);
      n_correct += best == label;
      if (dlogits != NULL)
        for (int c = 0; c < K; c++)
          {
            double p = exp ((double) (logits[(size_t) c * M + m] - max) - log_z);
            dlogits[(size_t) c * M + m] = (float) (p - (c == label)) * scale;
          }
    }

  if (stats != NULL)
    {
      stats->loss_sum = loss_sum;
      stats->loss = (norm == PL_LOSS_MEAN && n_terms > 0) ? loss_sum / (double) n_terms : loss_sum;
      stats->n_terms = n_terms;
      stats->n_correct = n_correct;
    }
}
