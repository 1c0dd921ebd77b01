/* pl-net.c — parameter arena, He initialisation, and the passes over the layers. */
#include "pl-net.h"

#include "pl-rng.h"

#include <cblas.h>
#include <math.h>
#include <string.h>
#include <time.h>

static double
now_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

PlNet *
pl_net_new (const PlNetSpec *spec, guint64 seed)
{
  g_return_val_if_fail (spec != NULL, NULL);

  PlNet *net = g_new0 (PlNet, 1);
  net->spec = pl_net_spec_copy (spec);
  net->slots = g_new0 (PlParamSlot, spec->n_layers);
  gsize offset = 0;
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      if (layer->kind != PL_LAYER_CONV)
        continue;
      gsize fan_in = (gsize) pl_net_spec_channels_in (spec, l) * layer->k * layer->k;
      net->slots[l].weight = offset;
      net->slots[l].n_weight = (gsize) layer->n_out * fan_in;
      offset += net->slots[l].n_weight;
      net->slots[l].bias = offset;
      offset += (gsize) layer->n_out;
    }
  net->n_params = offset;
  net->params = g_new (float, offset);
  net->grads = g_new0 (float, offset);
  net->velocity = g_new0 (float, offset);
  pl_net_init (net, seed);
  return net;
}

void
pl_net_free (PlNet *net)
{
  if (net == NULL)
    return;
  pl_net_spec_free (net->spec);
  g_free (net->slots);
  g_free (net->params);
  g_free (net->grads);
  g_free (net->velocity);
  g_free (net);
}

void
pl_net_init (PlNet *net, guint64 seed)
{
  PlRng rng;
  pl_rng_init (&rng, seed);
  const PlNetSpec *spec = net->spec;
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      if (layer->kind != PL_LAYER_CONV)
        continue;
      const PlParamSlot *slot = &net->slots[l];
      float fan_in = (float) (slot->n_weight / (gsize) layer->n_out);
      float std = sqrtf (2.0f / fan_in);
      for (gsize i = 0; i < slot->n_weight; i++)
        net->params[slot->weight + i] = std * pl_rng_normal (&rng);
      memset (net->params + slot->bias, 0, sizeof (float) * (gsize) layer->n_out);
    }
  pl_net_zero_grad (net);
  memset (net->velocity, 0, sizeof (float) * net->n_params);
}

/* [B, C, H, W] → [C, B, H, W] and back; the identity copy when B = 1 or C = 1. */
static void
swap_batch_and_channel (float *dst, const float *src, int B, int C, gsize plane)
{
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      memcpy (dst + ((gsize) c * B + b) * plane, src + ((gsize) b * C + c) * plane,
              sizeof (float) * plane);
}

gboolean
pl_net_forward (PlNet *net, PlWorkspace *ws, const float *input, int B, int H, int W)
{
  g_return_val_if_fail (net != NULL && ws != NULL && input != NULL, FALSE);
  const PlNetSpec *spec = net->spec;
  if (!pl_workspace_prepare (ws, spec, B, H, W))
    return FALSE;

  swap_batch_and_channel (ws->input, input, B, spec->in_channels, (gsize) H * W);
  const float *x = ws->input;
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      PlShape in = ws->shapes[l], out = ws->shapes[l + 1];
      float *y = ws->acts[l];
      double start = now_seconds ();
      if (layer->kind == PL_LAYER_CONV)
        {
          const PlParamSlot *slot = &net->slots[l];
          pl_conv_forward (y, x, net->params + slot->weight, net->params + slot->bias,
                           ws->scratch, ws->scratch_floats,
                           B, in.channels, in.height, in.width, out.channels, layer->k);
          if (layer->relu)
            pl_relu_forward (y, (gsize) out.channels * B * out.height * out.width);
        }
      else
        pl_maxpool_forward (y, ws->argmax[l], x, in.channels * B, in.height, in.width, layer->k);
      ws->forward_seconds[l] = now_seconds () - start;
      x = y;
    }
  return TRUE;
}

void
pl_net_loss (PlNet *net, PlWorkspace *ws, const guint8 *labels, const guint8 *keep,
             PlLossNorm norm, PlLossStats *stats)
{
  g_return_if_fail (ws->B > 0);
  const PlNetSpec *spec = net->spec;
  PlShape out = ws->shapes[spec->n_layers];
  gsize M = (gsize) ws->B * out.height * out.width;
  pl_softmax_xent (ws->dlogits, stats, ws->acts[spec->n_layers - 1], labels, keep,
                   out.channels, M, norm);
}

void
pl_net_backward (PlNet *net, PlWorkspace *ws, float *dinput)
{
  g_return_if_fail (ws->B > 0);
  const PlNetSpec *spec = net->spec;
  int B = ws->B;
  float *d = ws->dlogits;

  for (int l = spec->n_layers - 1; l >= 0; l--)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      PlShape in = ws->shapes[l], out = ws->shapes[l + 1];
      const float *x = l == 0 ? ws->input : ws->acts[l - 1];
      float *dx = NULL;
      double start = now_seconds ();
      if (l > 0 || dinput != NULL)
        {
          dx = d == ws->grad_a ? ws->grad_b : ws->grad_a;
          memset (dx, 0, sizeof (float) * (gsize) in.channels * B * in.height * in.width);
        }
      if (layer->kind == PL_LAYER_CONV)
        {
          const PlParamSlot *slot = &net->slots[l];
          if (layer->relu)
            pl_relu_backward (d, ws->acts[l], (gsize) out.channels * B * out.height * out.width);
          pl_conv_backward (dx, net->grads + slot->weight, net->grads + slot->bias, d, x,
                            net->params + slot->weight, ws->scratch, ws->scratch_floats,
                            B, in.channels, in.height, in.width, out.channels, layer->k);
        }
      else
        pl_maxpool_backward (dx, d, ws->argmax[l], in.channels * B, in.height, in.width,
                             layer->k);
      ws->backward_seconds[l] = now_seconds () - start;
      d = dx;
    }
  if (dinput != NULL)
    swap_batch_and_channel (dinput, d, spec->in_channels, B, (gsize) ws->H * ws->W);
}

void
pl_net_zero_grad (PlNet *net)
{
  memset (net->grads, 0, sizeof (float) * net->n_params);
}

void
pl_net_sgd_step (PlNet *net, const PlSgdParams *sgd)
{
  pl_sgd_step (net->params, net->velocity, net->grads, net->n_params,
               sgd->lr, sgd->momentum, sgd->weight_decay);
}

void
pl_net_get_logits (const PlWorkspace *ws, float *logits)
{
  g_return_if_fail (ws->B > 0);
  PlShape out = ws->shapes[ws->n_layers];
  swap_batch_and_channel (logits, ws->acts[ws->n_layers - 1], out.channels, ws->B,
                          (gsize) out.height * out.width);
}

void
pl_net_get_probabilities (const PlWorkspace *ws, float *probabilities)
{
  g_return_if_fail (ws->B > 0);
  PlShape out = ws->shapes[ws->n_layers];
  int K = out.channels;
  gsize plane = (gsize) out.height * out.width;
  pl_net_get_logits (ws, probabilities);
  for (int b = 0; b < ws->B; b++)
    for (gsize m = 0; m < plane; m++)
      {
        float *p = probabilities + (gsize) b * K * plane + m;
        float max = p[0];
        for (int c = 1; c < K; c++)
          max = MAX (max, p[c * plane]);
        double z = 0.0;
        for (int c = 0; c < K; c++)
          z += exp ((double) (p[c * plane] - max));
        for (int c = 0; c < K; c++)
          p[c * plane] = (float) (exp ((double) (p[c * plane] - max)) / z);
      }
}

void
pl_engine_set_threads (int n_threads)
{
  openblas_set_num_threads (MAX (1, n_threads));
}

int
pl_engine_get_threads (void)
{
  return openblas_get_num_threads ();
}
