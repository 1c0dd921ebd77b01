/* pl-rng.h — the engine's one random number generator.
 *
 * A splitmix64 stream: tiny, fast, and bit-identical on every machine, so a
 * seed fully determines weights, data and sampling. Not for cryptography.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 state;
} PlRng;

void    pl_rng_init     (PlRng *rng, guint64 seed);
guint64 pl_rng_next_u64 (PlRng *rng);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float   pl_rng_uniform  (PlRng *rng);
/* Uniform integer in [0, n); n > 0. */
guint32 pl_rng_below    (PlRng *rng, guint32 n);
/* Standard normal (Box–Muller). */
float   pl_rng_normal   (PlRng *rng);
/* An independent stream derived from this one (for per-purpose streams). */
PlRng   pl_rng_split    (PlRng *rng);

G_END_DECLS
