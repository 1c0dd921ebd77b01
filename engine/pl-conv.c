/* pl-conv.c — valid convolution as im2col + sgemm, processed in bands of output rows.
 *
 * Why bands: the full im2col matrix of a 980×980 image under a 3×3×16 layer is
 * over half a gigabyte. A band of output rows keeps the column matrix (and its
 * gradient, which reuses the same scratch) small, so memory stays bounded and
 * the GEMMs read it from cache rather than DRAM.
 *
 * Rows of the batch are numbered g = b·Ho + y; because activations are [C, B, H, W]
 * the output of rows [g0, g0 + n) is one contiguous run in every filter's plane.
 */
#include "pl-layers.h"

#include <cblas.h>
#include <string.h>

size_t
pl_conv_scratch_floats (int C, int k, int Wo, int rows)
{
  return (size_t) C * k * k * (size_t) Wo * (size_t) rows;
}

/* One band of output rows of one layer. */
typedef struct {
  float *col;          /* scratch: [nb, Ckk] (forward) or [Ckk, nb] (backward) */
  const float *in;     /* [C, B, H, W] */
  float *din;          /* [C, B, H, W], backward only */
  int g0, nrows, B, C, H, W, k, Ho, Wo;
} Band;

static inline const float *
input_row (const Band *j, const float *base, int c, int g, int ki)
{
  int b = g / j->Ho, y = g % j->Ho;
  return base + (((size_t) c * j->B + b) * j->H + y + ki) * j->W;
}

/* col [Ckk, nb] ← the input windows of output rows [g0, g0 + nrows): one memcpy per
 * (channel, kernel offset, row). A pixel-major [nb, Ckk] layout lets OpenBLAS run the
 * forward GEMM faster, but gathering it costs more than it saves (measured: layer 1 at
 * 512² took 85 ms instead of 21). */
static void
im2col (const Band *j)
{
  int k = j->k;
  gsize nb = (gsize) j->nrows * j->Wo;
  for (gsize c = 0; c < (gsize) j->C; c++)
    for (int ki = 0; ki < k; ki++)
      for (int kj = 0; kj < k; kj++)
        {
          float *dst = j->col + ((c * k + ki) * k + kj) * nb;
          for (int r = 0; r < j->nrows; r++)
            memcpy (dst + (gsize) r * j->Wo, input_row (j, j->in, (int) c, j->g0 + r, ki) + kj,
                    sizeof (float) * (gsize) j->Wo);
        }
}

/* din += col2im (dcol [Ckk, nb]), the adjoint of im2col. */
static void
col2im_add (const Band *j)
{
  int k = j->k;
  gsize nb = (gsize) j->nrows * j->Wo;
  for (gsize c = 0; c < (gsize) j->C; c++)
    for (int ki = 0; ki < k; ki++)
      for (int kj = 0; kj < k; kj++)
        {
          const float *src_row = j->col + ((c * k + ki) * k + kj) * nb;
          for (int r = 0; r < j->nrows; r++)
            {
              float *dst = (float *) input_row (j, j->din, (int) c, j->g0 + r, ki) + kj;
              const float *src = src_row + (gsize) r * j->Wo;
              for (int x = 0; x < j->Wo; x++)
                dst[x] += src[x];
            }
        }
}

static int
band_rows (size_t scratch_floats, int C, int k, int Wo, int total_rows)
{
  size_t per_row = pl_conv_scratch_floats (C, k, Wo, 1);
  size_t rows = scratch_floats / per_row;
  g_assert (rows >= 1); /* the workspace always provides at least one row */
  return (int) MIN (rows, (size_t) total_rows);
}

/* Sum of n floats: sixteen independent float lanes (which the compiler
 * vectorises without reordering anything), then a double total. */
static double
sum_floats (const float *d, gsize n)
{
  float lanes[16] = { 0 };
  gsize i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++)
      lanes[l] += d[i + l];
  double sum = 0.0;
  for (; i < n; i++)
    sum += d[i];
  for (int l = 0; l < 16; l++)
    sum += lanes[l];
  return sum;
}

void
pl_conv_forward (float *out, const float *in, const float *weight, const float *bias,
                 float *scratch, size_t scratch_floats,
                 int B, int C, int H, int W, int F, int k)
{
  int Ho = H - k + 1, Wo = W - k + 1, Ckk = C * k * k;
  size_t plane = (size_t) B * Ho * Wo; /* leading dimension of out */

  for (int f = 0; f < F; f++)
    {
      float *o = out + (size_t) f * plane;
      for (size_t i = 0; i < plane; i++)
        o[i] = bias[f];
    }

  if (k == 1)
    {
      /* The input is its own column matrix: [C, B·H·W]. */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, F, (int) plane, C,
                   1.0f, weight, C, in, (int) plane, 1.0f, out, (int) plane);
      return;
    }

  int total = B * Ho, rows = band_rows (scratch_floats, C, k, Wo, total);
  for (int g0 = 0; g0 < total; g0 += rows)
    {
      int n = MIN (rows, total - g0), nb = n * Wo;
      Band band = { scratch, in, NULL, g0, n, B, C, H, W, k, Ho, Wo };
      im2col (&band);
      /* out[:, band] += W [F, Ckk] · col [Ckk, nb] */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, F, nb, Ckk,
                   1.0f, weight, Ckk, scratch, nb, 1.0f, out + (size_t) g0 * Wo, (int) plane);
    }
}

void
pl_conv_backward (float *din, float *dweight, float *dbias, const float *dout,
                  const float *in, const float *weight, float *scratch, size_t scratch_floats,
                  int B, int C, int H, int W, int F, int k)
{
  int Ho = H - k + 1, Wo = W - k + 1, Ckk = C * k * k;
  size_t plane = (size_t) B * Ho * Wo;

  for (int f = 0; f < F; f++)
    dbias[f] += (float) sum_floats (dout + (size_t) f * plane, plane);

  if (k == 1)
    {
      /* dW [F, C] += dout [F, N] · in^T [N, C] */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, F, C, (int) plane,
                   1.0f, dout, (int) plane, in, (int) plane, 1.0f, dweight, C);
      /* din [C, N] += W^T [C, F] · dout [F, N] */
      if (din != NULL)
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, C, (int) plane, F,
                     1.0f, weight, C, dout, (int) plane, 1.0f, din, (int) plane);
      return;
    }

  int total = B * Ho, rows = band_rows (scratch_floats, C, k, Wo, total);
  for (int g0 = 0; g0 < total; g0 += rows)
    {
      int n = MIN (rows, total - g0), nb = n * Wo;
      const float *dband = dout + (size_t) g0 * Wo;
      Band band = { scratch, in, din, g0, n, B, C, H, W, k, Ho, Wo };
      im2col (&band);
      /* dW [F, Ckk] += dout [F, nb] · col^T [nb, Ckk] */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, F, Ckk, nb,
                   1.0f, dband, (int) plane, scratch, nb, 1.0f, dweight, Ckk);
      if (din == NULL)
        continue;
      /* dcol [Ckk, nb] = W^T [Ckk, F] · dout [F, nb], reusing the scratch */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, Ckk, nb, F,
                   1.0f, weight, Ckk, dband, (int) plane, 0.0f, scratch, nb);
      col2im_add (&band);
    }
}

/* ---- reference loops ---- */

#define AT(p, C_, B_, H_, W_, c, b, y, x) \
  (p)[((((size_t) (c) * (B_) + (b)) * (H_) + (y)) * (W_)) + (x)]

void
pl_conv_forward_naive (float *out, const float *in, const float *weight, const float *bias,
                       int B, int C, int H, int W, int F, int k)
{
  int Ho = H - k + 1, Wo = W - k + 1;
  for (int f = 0; f < F; f++)
    for (int b = 0; b < B; b++)
      for (int y = 0; y < Ho; y++)
        for (int x = 0; x < Wo; x++)
          {
            double acc = bias[f];
            for (int c = 0; c < C; c++)
              for (int ki = 0; ki < k; ki++)
                for (int kj = 0; kj < k; kj++)
                  acc += (double) weight[((f * C + c) * k + ki) * k + kj]
                         * AT (in, C, B, H, W, c, b, y + ki, x + kj);
            AT (out, F, B, Ho, Wo, f, b, y, x) = (float) acc;
          }
}

void
pl_conv_backward_naive (float *din, float *dweight, float *dbias, const float *dout,
                        const float *in, const float *weight,
                        int B, int C, int H, int W, int F, int k)
{
  int Ho = H - k + 1, Wo = W - k + 1;
  for (int f = 0; f < F; f++)
    for (int b = 0; b < B; b++)
      for (int y = 0; y < Ho; y++)
        for (int x = 0; x < Wo; x++)
          {
            float d = AT (dout, F, B, Ho, Wo, f, b, y, x);
            dbias[f] += d;
            for (int c = 0; c < C; c++)
              for (int ki = 0; ki < k; ki++)
                for (int kj = 0; kj < k; kj++)
                  {
                    size_t wi = ((size_t) (f * C + c) * k + ki) * k + kj;
                    dweight[wi] += d * AT (in, C, B, H, W, c, b, y + ki, x + kj);
                    if (din != NULL)
                      AT (din, C, B, H, W, c, b, y + ki, x + kj) += d * weight[wi];
                  }
          }
}
