/* pl-maxpool.c — k×k max pool with stride k; the argmax is kept for backward.
 * Ties go to the first maximum in row-major order (the gradient checks skip ties). */
#include "pl-layers.h"

/* The 2×2 case, which every default net uses: branch-free selects the compiler
 * can vectorise, same winner as the general loop (first maximum in row-major order). */
static void
maxpool2_forward (float *out, guint8 *argmax, const float *in, int P, int H, int W)
{
  int Ho = H / 2, Wo = W / 2;
  for (int p = 0; p < P; p++)
    for (int y = 0; y < Ho; y++)
      {
        const float *r0 = in + ((gsize) p * H + 2 * y) * W, *r1 = r0 + W;
        float *o = out + ((gsize) p * Ho + y) * Wo;
        guint8 *a = argmax + ((gsize) p * Ho + y) * Wo;
        for (int x = 0; x < Wo; x++)
          {
            float v0 = r0[2 * x], v1 = r0[2 * x + 1], v2 = r1[2 * x], v3 = r1[2 * x + 1];
            float top = v1 > v0 ? v1 : v0, bottom = v3 > v2 ? v3 : v2;
            int top_at = v1 > v0, bottom_at = 2 + (v3 > v2);
            o[x] = bottom > top ? bottom : top;
            a[x] = (guint8) (bottom > top ? bottom_at : top_at);
          }
      }
}

void
pl_maxpool_forward (float *out, guint8 *argmax, const float *in, int P, int H, int W, int k)
{
  if (k == 2)
    {
      maxpool2_forward (out, argmax, in, P, H, W);
      return;
    }
  int Ho = H / k, Wo = W / k;
  for (int p = 0; p < P; p++)
    {
      const float *plane = in + (size_t) p * H * W;
      for (int y = 0; y < Ho; y++)
        for (int x = 0; x < Wo; x++)
          {
            const float *win = plane + (size_t) y * k * W + (size_t) x * k;
            float best = win[0];
            int best_at = 0;
            for (int ki = 0; ki < k; ki++)
              for (int kj = 0; kj < k; kj++)
                if (win[ki * W + kj] > best)
                  {
                    best = win[ki * W + kj];
                    best_at = ki * k + kj;
                  }
            size_t o = ((size_t) p * Ho + y) * Wo + x;
            out[o] = best;
            argmax[o] = (guint8) best_at;
          }
    }
}

void
pl_maxpool_backward (float *din, const float *dout, const guint8 *argmax,
                     int P, int H, int W, int k)
{
  int Ho = H / k, Wo = W / k;
  for (int p = 0; p < P; p++)
    for (int y = 0; y < Ho; y++)
      for (int x = 0; x < Wo; x++)
        {
          size_t o = ((size_t) p * Ho + y) * Wo + x;
          int ki = argmax[o] / k, kj = argmax[o] % k;
          din[((size_t) p * H + (size_t) y * k + ki) * W + (size_t) x * k + kj] += dout[o];
        }
}
