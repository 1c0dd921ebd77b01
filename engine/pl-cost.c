/* pl-cost.c — FLOP counts and the memory estimate. */
#include "pl-cost.h"

gboolean
pl_net_spec_flops (const PlNetSpec *spec, int B, int H, int W, PlLayerFlops *per_layer,
                   PlLayerFlops *total)
{
  PlShape shapes[PL_SPEC_MAX_LAYERS + 1];
  PlLayerFlops sum = { 0, 0 };
  gboolean ok = pl_net_spec_shapes (spec, H, W, shapes) && B > 0;

  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      PlShape in = shapes[l], out = shapes[l + 1];
      double outputs = ok ? (double) B * out.channels * out.height * out.width : 0.0;
      PlLayerFlops f = { 0, 0 };
      if (layer->kind == PL_LAYER_CONV)
        {
          double macs = outputs * in.channels * layer->k * layer->k;
          f.forward = 2.0 * macs + outputs;                 /* GEMM + bias */
          f.backward = 2.0 * macs + outputs;                /* dW + dbias */
          if (l > 0)
            f.backward += 2.0 * macs;                       /* dX */
          if (layer->relu)
            {
              f.forward += outputs;
              f.backward += outputs;
            }
        }
      else
        {
          f.forward = outputs * (layer->k * layer->k - 1);  /* comparisons */
          f.backward = outputs;                             /* scatter-add */
        }
      if (per_layer != NULL)
        per_layer[l] = f;
      sum.forward += f.forward;
      sum.backward += f.backward;
    }
  if (total != NULL)
    *total = sum;
  return ok;
}

double
pl_net_spec_conv_forward_flops (const PlNetSpec *spec, int B, int H, int W)
{
  PlShape shapes[PL_SPEC_MAX_LAYERS + 1];
  if (!pl_net_spec_shapes (spec, H, W, shapes))
    return 0.0;
  double flops = 0.0;
  for (int l = 0; l < spec->n_layers; l++)
    if (spec->layers[l].kind == PL_LAYER_CONV)
      {
        PlShape in = shapes[l], out = shapes[l + 1];
        flops += 2.0 * B * out.channels * out.height * out.width * in.channels
                 * spec->layers[l].k * spec->layers[l].k;
      }
  return flops;
}

gboolean
pl_net_spec_memory (const PlNetSpec *spec, int B, int H, int W, PlMemoryEstimate *estimate)
{
  return pl_workspace_layout (spec, B, H, W, estimate);
}
