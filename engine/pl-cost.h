/* pl-cost.h — what a step costs before it runs: FLOPs per layer and memory.
 *
 * FLOPs count every arithmetic operation the engine performs in that layer:
 * convolution multiply-adds as 2, bias adds, ReLU and pool comparisons. Backward
 * has the weight gradient and, except in the first layer, the input gradient.
 * The memory estimate is the workspace's own layout (pl-workspace.h) plus the
 * parameters, so it is what a pass allocates, not a guess.
 */
#pragma once

#include "pl-workspace.h"

G_BEGIN_DECLS

typedef struct {
  double forward;
  double backward;
} PlLayerFlops;

/* Totals for B inputs of H×W; per_layer [n_layers] may be NULL. FALSE when the
 * input is smaller than the receptive field. */
gboolean pl_net_spec_flops (const PlNetSpec *spec, int B, int H, int W,
                            PlLayerFlops *per_layer, PlLayerFlops *total);

/* Forward FLOPs of the convolutions' multiply-adds alone: the count other tools
 * (and the "backward = 2 × forward" convention) use, for comparing speeds. */
double pl_net_spec_conv_forward_flops (const PlNetSpec *spec, int B, int H, int W);

gboolean pl_net_spec_memory (const PlNetSpec *spec, int B, int H, int W,
                             PlMemoryEstimate *estimate);

G_END_DECLS
