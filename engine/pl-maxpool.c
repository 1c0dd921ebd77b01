/* pl-maxpool.c — k×k max pool with stride k; the argmax is kept for backward.
 * Ties go to the first maximum in row-major order (the gradient checks skip ties). */
#include "pl-layers.h"

void
pl_maxpool_forward (float *out, guint8 *argmax, const float *in, int P, int H, int W, int k)
{
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
