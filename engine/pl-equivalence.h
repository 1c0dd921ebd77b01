/* pl-equivalence.h — the FCN §4.4 property, checked on a net's current weights.
 *
 * The gradient of whole-image training with the loss restricted to a set S of output
 * cells equals the sum of the gradients of the R×R patches at S, when the patches'
 * origins lie on the J grid and the losses are summed (DESIGN.md §2). This module
 * computes both sides for one sample and reports how far apart they are, what each
 * cost in FLOPs and in time. Shifting the patches off the grid shows the property
 * break. The window's "Check equivalence" button, the tests and the patch-vs-fcn
 * benchmark call it.
 *
 * Not for training: nothing is updated. The net's parameters and velocity are left
 * as they were, bit for bit; its gradient arena is used as scratch and left zeroed.
 */
#pragma once

#include "pl-dataset.h"
#include "pl-net.h"

G_BEGIN_DECLS

#define PL_EQUIVALENCE_ERROR (pl_equivalence_error_quark ())
GQuark pl_equivalence_error_quark (void);

typedef enum {
  PL_EQUIVALENCE_ERROR_SIZE,   /* the sample is smaller than the receptive field */
  PL_EQUIVALENCE_ERROR_EMPTY,  /* no cell is kept, labelled and inside the image */
} PlEquivalenceError;

/* Patches go through the net in batches of at most this many, to bound memory. */
#define PL_EQUIVALENCE_CHUNK 256

typedef struct {
  int n_cells;                 /* |S|, the loss terms compared */
  double max_abs_diff;         /* max over parameters |g_whole − g_patches| */
  double max_abs_grad;         /* max |g_whole|, the scale */
  double grad_norm;            /* ‖g_whole‖₂ */
  double output_diff;          /* max |logit of a patch − the whole image's logit at its cell| */
  double seconds_whole, seconds_patches;  /* forward, loss and backward (input copies excluded) */
  double flops_whole, flops_patches;      /* forward + backward, as pl_net_spec_flops counts */
} PlEquivalence;

/* From the net's current weights: the gradient of the whole-image loss of `sample`
 * (summed, not averaged), over the output cells whose keep[i·ow + j] is set — keep is
 * [oh, ow] for the sample's output grid, NULL for every cell — against the summed
 * gradients of the R×R crops at those cells, their origins shifted by (dy, dx) pixels
 * ((0, 0): on the J grid, the exact case). Every cell is labelled at its receptive-field
 * centre, each crop at its own centre; a cell counts when both labels are not 255 and
 * its shifted window lies inside the image (others are skipped on both sides).
 * FALSE with an error when the sample is smaller than R or no cell remains. */
gboolean pl_equivalence_check (PlNet           *net,
                               PlWorkspace     *ws,
                               const PlSample  *sample,
                               const guint8    *keep,
                               int              dy,
                               int              dx,
                               PlEquivalence   *result,
                               GError         **error);

G_END_DECLS
