/* pl-receptive.c — receptive fields, output sizes and windows. */
#include "pl-receptive.h"

PlReceptiveField
pl_receptive_field_at (const PlNetSpec *spec, int n)
{
  PlReceptiveField rf = { 1, 1 };
  g_return_val_if_fail (n >= 0 && n <= spec->n_layers, rf);
  for (int l = 0; l < n; l++)
    {
      rf.R += (spec->layers[l].k - 1) * rf.J;
      rf.J *= spec->layers[l].stride;
    }
  return rf;
}

PlReceptiveField
pl_receptive_field (const PlNetSpec *spec)
{
  return pl_receptive_field_at (spec, spec->n_layers);
}

gboolean
pl_net_spec_shapes (const PlNetSpec *spec, int height, int width, PlShape *shapes)
{
  shapes[0] = (PlShape) { spec->in_channels, height, width };
  gboolean ok = height > 0 && width > 0;
  for (int l = 0; l < spec->n_layers; l++)
    {
      const PlLayerSpec *layer = &spec->layers[l];
      PlShape in = shapes[l], out = { layer->n_out, 0, 0 };
      if (ok && in.height >= layer->k && in.width >= layer->k)
        {
          out.height = (in.height - layer->k) / layer->stride + 1;
          out.width = (in.width - layer->k) / layer->stride + 1;
        }
      else
        ok = FALSE;
      shapes[l + 1] = out;
    }
  return ok;
}

gboolean
pl_net_spec_output_size (const PlNetSpec *spec, int height, int width, int *out_height,
                         int *out_width)
{
  PlShape shapes[PL_SPEC_MAX_LAYERS + 1];
  gboolean ok = pl_net_spec_shapes (spec, height, width, shapes);
  *out_height = ok ? shapes[spec->n_layers].height : 0;
  *out_width = ok ? shapes[spec->n_layers].width : 0;
  return ok;
}

void
pl_receptive_field_window (PlReceptiveField rf, int i, int j, int *y0, int *x0)
{
  *y0 = i * rf.J;
  *x0 = j * rf.J;
}

void
pl_receptive_field_centre (PlReceptiveField rf, int i, int j, int *y, int *x)
{
  *y = i * rf.J + rf.R / 2;
  *x = j * rf.J + rf.R / 2;
}

int
pl_receptive_field_snap (PlReceptiveField rf, int n)
{
  if (n <= rf.R)
    return rf.R;
  return rf.R + ((n - rf.R) / rf.J) * rf.J;
}
