/* pl-rng.c — splitmix64 and the few distributions the engine draws from. */
#include "pl-rng.h"

#include <math.h>

void
pl_rng_init (PlRng *rng, guint64 seed)
{
  rng->state = seed;
}

guint64
pl_rng_next_u64 (PlRng *rng)
{
  guint64 z = (rng->state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

float
pl_rng_uniform (PlRng *rng)
{
  return (float) (pl_rng_next_u64 (rng) >> 40) * (1.0f / 16777216.0f);
}

guint32
pl_rng_below (PlRng *rng, guint32 n)
{
  /* Multiply-shift: the bias is below 2^-32 and it never loops. */
  return (guint32) (((pl_rng_next_u64 (rng) >> 32) * (guint64) n) >> 32);
}

float
pl_rng_normal (PlRng *rng)
{
  /* 1 - u keeps the logarithm's argument in (0, 1]. */
  double u1 = 1.0 - (double) (pl_rng_next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
  double u2 = (double) (pl_rng_next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2));
}

PlRng
pl_rng_split (PlRng *rng)
{
  PlRng child;
  pl_rng_init (&child, pl_rng_next_u64 (rng) ^ G_GUINT64_CONSTANT (0x5851f42d4c957f2d));
  return child;
}
