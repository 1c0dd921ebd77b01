/* pl-sampler.h — turns the three knobs into the passes of one training step.
 *
 * Patches (knobs.patch = N > 0): B crops of side N, snapped so that N − R is a
 * multiple of J and clamped to the smallest image; origins on the J grid (or
 * anywhere, with free_origin). All crops go through the net as one batch.
 * Whole images (knobs.patch = 0): B images, one pass each, so that images of
 * different sizes can share a step; their gradients are accumulated.
 *
 * Every output cell is labelled with the ground truth at its receptive-field
 * centre and kept in the loss with probability p. With fixed_terms the number of
 * crops or images is round(B / p), keeping the expected number of loss terms per
 * step fixed (the paper's Figure 5 set-up).
 *
 * Randomness comes only from the two streams the caller gives, so a seed fixes the
 * data order. Which image each crop (or whole-image pass) comes from is drawn from
 * image_rng, exactly one value per crop or image; origins and keep masks come from
 * rng. Two runs whose image streams start alike therefore see the same sequence of
 * images whatever their knobs (each consumes it at its own rate), so runs compared
 * side by side differ only in what they were meant to differ in.
 */
#pragma once

#include "pl-cost.h"
#include "pl-dataset.h"
#include "pl-knobs.h"
#include "pl-rng.h"

G_BEGIN_DECLS

typedef struct {
  int image;       /* index in the sampler's sample list */
  int y0, x0;      /* crop origin in that image */
  int height, width;
} PlCrop;

typedef struct {
  int B, H, W;     /* the pass's batch shape */
  int out_h, out_w;
  float *input;    /* [B, 3, H, W], normalised */
  guint8 *labels;  /* [B, out_h, out_w] */
  guint8 *keep;    /* [B, out_h, out_w] */
  PlCrop *crops;   /* [B] */
} PlPass;

typedef struct {
  PlPass *passes;
  int n_passes;
  int n_crops;              /* crops or images in the step */
  gint64 pixels_pushed;     /* input pixels through the net (Σ crop areas) */
  gint64 pixels_covered;    /* distinct input pixels covered */
  gint64 cells;             /* output cells computed */
  gint64 terms;             /* kept cells with a label: the loss terms */
} PlBatch;

typedef struct _PlSampler PlSampler;

/* samples: PlSample* (borrowed; must outlive the sampler). Fails when a sample is
 * smaller than the receptive field or the list is empty. */
PlSampler *pl_sampler_new  (const PlNetSpec *spec, GPtrArray *samples, GError **error);
void       pl_sampler_free (PlSampler *sampler);

/* The crop side these knobs give (0 for whole images). */
int  pl_sampler_patch_side (const PlSampler *sampler, const PlKnobs *knobs);
/* Crops or images per step: B, or round(B / p) with fixed_terms. */
int  pl_sampler_count      (const PlSampler *sampler, const PlKnobs *knobs);
/* What a step with these knobs allocates: the net's largest pass plus the batch. */
void pl_sampler_memory     (const PlSampler *sampler, const PlKnobs *knobs,
                            PlMemoryEstimate *estimate);

/* Draws one step: image choices from image_rng (one value per crop or image), crop
 * origins and keep draws from rng. The batch belongs to the sampler and stays valid
 * until the next draw (its buffers are reused). */
const PlBatch *pl_sampler_draw (PlSampler *sampler, const PlKnobs *knobs, PlRng *image_rng,
                                PlRng *rng);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSampler, pl_sampler_free)

G_END_DECLS
