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

/* col [C·k·k, nrows·Wo] ← the input windows of output rows [g0, g0 + nrows). */
static void
im2col_band (float *col, const float *in, int g0, int nrows,
             int B, int C, int H, int W, int k, int Ho, int Wo)
{
  size_t nb = (size_t) nrows * Wo;
  for (int c = 0; c < C; c++)
    for (int ki = 0; ki < k; ki++)
      for (int kj = 0; kj < k; kj++)
        {
          float *dst = col + ((size_t) (c * k + ki) * k + kj) * nb;
          for (int r = 0; r < nrows; r++)
            {
              int g = g0 + r, b = g / Ho, y = g % Ho;
              const float *src = in + (((size_t) c * B + b) * H + y + ki) * W + kj;
              memcpy (dst + (size_t) r * Wo, src, sizeof (float) * (size_t) Wo);
            }
        }
}

/* din += col2im (dcol), the adjoint of im2col_band. */
static void
col2im_band_add (float *din, const float *dcol, int g0, int nrows,
                 int B, int C, int H, int W, int k, int Ho, int Wo)
{
  size_t nb = (size_t) nrows * Wo;
  for (int c = 0; c < C; c++)
    for (int ki = 0; ki < k; ki++)
      for (int kj = 0; kj < k; kj++)
        {
          const float *src_row = dcol + ((size_t) (c * k + ki) * k + kj) * nb;
          for (int r = 0; r < nrows; r++)
            {
              int g = g0 + r, b = g / Ho, y = g % Ho;
              float *dst = din + (((size_t) c * B + b) * H + y + ki) * W + kj;
              const float *src = src_row + (size_t) r * Wo;
              for (int x = 0; x < Wo; x++)
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
      im2col_band (scratch, in, g0, n, B, C, H, W, k, Ho, Wo);
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
    {
      const float *d = dout + (size_t) f * plane;
      double sum = 0.0;
      for (size_t i = 0; i < plane; i++)
        sum += d[i];
      dbias[f] += (float) sum;
    }

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
      im2col_band (scratch, in, g0, n, B, C, H, W, k, Ho, Wo);
      /* dW [F, Ckk] += dout [F, nb] · col^T [nb, Ckk] */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, F, Ckk, nb,
                   1.0f, dband, (int) plane, scratch, nb, 1.0f, dweight, Ckk);
      if (din == NULL)
        continue;
      /* dcol [Ckk, nb] = W^T [Ckk, F] · dout [F, nb], reusing the scratch */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, Ckk, nb, F,
                   1.0f, weight, Ckk, dband, (int) plane, 0.0f, scratch, nb);
      col2im_band_add (din, scratch, g0, n, B, C, H, W, k, Ho, Wo);
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
