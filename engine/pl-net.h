/* pl-net.h — a net's parameters and its forward, loss and backward passes.
 *
 * Parameters live in one arena (weights then bias, layer after layer), with a
 * gradient arena and an SGD-velocity arena of the same layout, so the optimiser
 * is one flat loop and a checkpoint is a list of slices. The activations of a
 * pass live in a PlWorkspace the caller owns (one per thread).
 *
 * Public tensors are NCHW ([B, C, H, W]); inside, activations are [C, B, H, W]
 * (see pl-layers.h for why). Cells of the output are numbered (b·Ho + i)·Wo + j,
 * which is the row-major order of a [B, Ho, Wo] label or mask array.
 */
#pragma once

#include "pl-layers.h"
#include "pl-workspace.h"

G_BEGIN_DECLS

typedef struct {
  gsize weight;  /* offset of [F, C, k, k] in the arena */
  gsize bias;    /* offset of [F] */
  gsize n_weight;
} PlParamSlot;

typedef struct {
  PlNetSpec *spec;
  gsize n_params;
  float *params;     /* [n_params] */
  float *grads;      /* [n_params] */
  float *velocity;   /* [n_params] */
  PlParamSlot *slots; /* [n_layers]; pool layers have n_weight = 0 */
} PlNet;

typedef struct {
  float lr, momentum, weight_decay;
} PlSgdParams;

/* A new net with He-initialised weights (normal, std √(2 / fan-in)), zero biases,
 * zero gradients and velocity. The same seed gives the same bits. */
PlNet *pl_net_new  (const PlNetSpec *spec, guint64 seed);
void   pl_net_free (PlNet *net);
void   pl_net_init (PlNet *net, guint64 seed);

/* Runs the net on input [B, C0, H, W]. FALSE (and nothing done) when the input is
 * smaller than the receptive field. */
gboolean pl_net_forward (PlNet *net, PlWorkspace *ws, const float *input, int B, int H, int W);

/* Loss of the last forward pass against labels [B, Ho, Wo] with an optional keep
 * mask [B, Ho, Wo] (NULL keeps every cell); leaves dL/dlogits in the workspace. */
void pl_net_loss (PlNet *net, PlWorkspace *ws, const guint8 *labels, const guint8 *keep,
                  PlLossNorm norm, PlLossStats *stats);

/* Backpropagates ws->dlogits, adding into net->grads. When dinput is not NULL the
 * gradient with respect to the input is written there as [B, C0, H, W]. */
void pl_net_backward (PlNet *net, PlWorkspace *ws, float *dinput);

void pl_net_zero_grad (PlNet *net);
void pl_net_sgd_step  (PlNet *net, const PlSgdParams *sgd);

/* Copies of the last pass's output, as [B, K, Ho, Wo]. */
void pl_net_get_logits        (const PlWorkspace *ws, float *logits);
void pl_net_get_probabilities (const PlWorkspace *ws, float *probabilities);

/* Sets OpenBLAS's thread count (the engine's own loops are single-threaded). */
void pl_engine_set_threads (int n_threads);
int  pl_engine_get_threads (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlNet, pl_net_free)

G_END_DECLS
