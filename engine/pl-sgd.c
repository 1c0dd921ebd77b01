/* pl-sgd.c — one flat loop over the parameter arena. */
#include "pl-layers.h"

void
pl_sgd_step (float *params, float *velocity, const float *grads, size_t n,
             float lr, float momentum, float weight_decay)
{
  for (size_t i = 0; i < n; i++)
    {
      velocity[i] = momentum * velocity[i] + grads[i] + weight_decay * params[i];
      params[i] -= lr * velocity[i];
    }
}
