/* pl-workspace.h — the buffers one forward/backward pass needs, for a batch shape.
 *
 * All of them live in one arena laid out from a size table (pl_workspace_layout),
 * and the memory estimate is computed from that same table, so what the engine
 * predicts is what it allocates. The arena grows when a larger shape comes along
 * and shrinks when the shape becomes much smaller.
 */
#pragma once

#include "pl-receptive.h"

G_BEGIN_DECLS

/* Bytes of each kind for B inputs of H×W (plus the net's parameters). */
typedef struct {
  gsize params;       /* weights, their gradients and SGD velocity: 3 × n_params floats */
  gsize input;        /* the batch in the net's layout */
  gsize activations;  /* every layer's output */
  gsize argmax;       /* max-pool winners */
  gsize gradients;    /* two ping-pong activation-gradient buffers + dlogits */
  gsize scratch;      /* im2col band (reused for its gradient) */
  gsize workspace;    /* input + activations + argmax + gradients + scratch */
  gsize total;        /* workspace + params */
} PlMemoryEstimate;

/* im2col scratch aims at this many floats (whole rows; at least one row). */
#define PL_CONV_SCRATCH_TARGET_FLOATS ((gsize) 1 << 21)

typedef struct {
  int B, H, W;                             /* the shape laid out for; B = 0 before any */
  int n_layers;
  PlShape shapes[PL_SPEC_MAX_LAYERS + 1];  /* [0] input, [l + 1] output of layer l */
  float *input;                            /* [C0, B, H, W] */
  float *acts[PL_SPEC_MAX_LAYERS];         /* layer l output [C, B, H_l, W_l]; ReLU applied */
  guint8 *argmax[PL_SPEC_MAX_LAYERS];      /* pool layers only */
  float *dlogits;                          /* [K, B, Ho, Wo] */
  float *grad_a, *grad_b;                  /* ping-pong dL/d(activation) */
  float *scratch;
  gsize scratch_floats;
  /* wall time of each layer in the last forward and backward pass, in seconds */
  double forward_seconds[PL_SPEC_MAX_LAYERS];
  double backward_seconds[PL_SPEC_MAX_LAYERS];
  /* owned */
  void *arena;
  gsize arena_bytes;
} PlWorkspace;

PlWorkspace *pl_workspace_new (void);
void         pl_workspace_free (PlWorkspace *ws);

/* Computes the byte table for (spec, B, H, W); FALSE when the input is too small. */
gboolean pl_workspace_layout (const PlNetSpec *spec, int B, int H, int W,
                              PlMemoryEstimate *estimate);
/* Lays the workspace out for the shape, growing the arena if needed. */
gboolean pl_workspace_prepare (PlWorkspace *ws, const PlNetSpec *spec, int B, int H, int W);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlWorkspace, pl_workspace_free)

G_END_DECLS
