/* pl-ema.h — an exponential moving average with Adam's bias correction, for smoothing
 * noisy per-step curves without dragging the first steps towards the very first value.
 * NaN inputs are skipped. */
#pragma once

#include <math.h>

typedef struct {
  double beta, sum, weight;
} PlEma;

static inline double
pl_ema_add (PlEma *e, double v)
{
  if (isfinite (v))
    {
      e->sum = e->beta * e->sum + (1 - e->beta) * v;
      e->weight = e->beta * e->weight + (1 - e->beta);
    }
  return e->weight > 0 ? e->sum / e->weight : NAN;
}
