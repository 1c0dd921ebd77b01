/* pl-layers.h — the numerical kernels, as forward/backward pairs.
 *
 * Layout: every activation is channel-major, [C, B, H, W]: channel, image in the
 * batch, row, column. With the batch inside the channel plane, one convolution over
 * the whole batch is one GEMM whose output is already in this layout (no
 * transposes), and a batch of tiny patches costs as few GEMM calls as one image.
 * The net's public entry points take and give the usual NCHW ([B, C, H, W]).
 *
 * Conventions (as in llm.c): outputs first, then inputs and weights, then sizes.
 * Backward functions ADD into gradient buffers; zeroing them is the caller's job.
 * Kernels have no failure path; sizes are trusted (the net checks them).
 */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/* ---- valid k×k convolution, stride 1: im2col + sgemm, in bands of output rows ---- */

/* Scratch floats a band of `rows` output rows needs (≥ 1 row always works). */
size_t pl_conv_scratch_floats (int C, int k, int Wo, int rows);

void pl_conv_forward (float *out,          /* [F, B, Ho, Wo], overwritten */
                      const float *in,     /* [C, B, H, W] */
                      const float *weight, /* [F, C, k, k] */
                      const float *bias,   /* [F] */
                      float *scratch, size_t scratch_floats,
                      int B, int C, int H, int W, int F, int k);

void pl_conv_backward (float *din,          /* [C, B, H, W], accumulated; NULL to skip */
                       float *dweight,      /* [F, C, k, k], accumulated */
                       float *dbias,        /* [F], accumulated */
                       const float *dout,   /* [F, B, Ho, Wo] */
                       const float *in,     /* [C, B, H, W] */
                       const float *weight, /* [F, C, k, k] */
                       float *scratch, size_t scratch_floats,
                       int B, int C, int H, int W, int F, int k);

/* Plain loops, the reference the fast path is tested against. */
void pl_conv_forward_naive (float *out, const float *in, const float *weight,
                            const float *bias, int B, int C, int H, int W, int F, int k);
void pl_conv_backward_naive (float *din, float *dweight, float *dbias, const float *dout,
                             const float *in, const float *weight,
                             int B, int C, int H, int W, int F, int k);

/* ---- ReLU, in place ---- */

void pl_relu_forward (float *x, size_t n);                /* x = max(x, 0) */
/* d holds dL/dy on entry and dL/dx on return; y is the forward output. */
void pl_relu_backward (float *d, const float *y, size_t n);

/* ---- k×k max pool, stride k, over P = C·B planes ---- */

void pl_maxpool_forward (float *out,      /* [P, Ho, Wo], Ho = H / k, Wo = W / k */
                         guint8 *argmax,  /* [P, Ho, Wo]: ki·k + kj of the maximum */
                         const float *in, /* [P, H, W] */
                         int P, int H, int W, int k);
void pl_maxpool_backward (float *din,           /* [P, H, W], accumulated */
                          const float *dout,    /* [P, Ho, Wo] */
                          const guint8 *argmax, /* [P, Ho, Wo] */
                          int P, int H, int W, int k);

/* ---- per-cell softmax cross-entropy ---- */

#define PL_LABEL_IGNORE 255

typedef enum {
  /* Loss and gradient divided by the number of kept, labelled cells: the loss
   * scale does not depend on patch size, batch size or sampling ratio, so one
   * learning rate serves every setting of the three knobs. The default. */
  PL_LOSS_MEAN,
  /* Plain sum over kept, labelled cells: the form in which whole-image loss on a
   * set S of cells equals the sum of the R×R patch losses at S, term by term. */
  PL_LOSS_SUM,
} PlLossNorm;

typedef struct {
  double loss;      /* as normalised */
  double loss_sum;  /* the unnormalised sum, whatever the norm */
  gint64 n_terms;   /* kept cells with a label (not 255) */
  gint64 n_correct; /* of those, cells whose argmax equals the label */
} PlLossStats;

/* logits [K, M] (class-major; M cells), labels [M], keep [M] (NULL: keep all).
 * Writes dlogits [K, M] (NULL to skip): (softmax − onehot)/norm on kept cells, 0
 * elsewhere. A cell is a term when kept and its label is not PL_LABEL_IGNORE;
 * labels ≥ K are the caller's bug (the datasets reject them). */
void pl_softmax_xent (float *dlogits, PlLossStats *stats, const float *logits,
                      const guint8 *labels, const guint8 *keep, int K, size_t M,
                      PlLossNorm norm);

/* ---- SGD with momentum and L2 weight decay (PyTorch's form) ----
 * v ← μ·v + (g + λ·w);   w ← w − η·v                                          */
void pl_sgd_step (float *params, float *velocity, const float *grads, size_t n,
                  float lr, float momentum, float weight_decay);

G_END_DECLS
