/* pl-relu.c — ReLU in place. Backward uses the output: y > 0 exactly when x > 0. */
#include "pl-layers.h"

void
pl_relu_forward (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void
pl_relu_backward (float *d, const float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    d[i] = y[i] > 0.0f ? d[i] : 0.0f;
}
