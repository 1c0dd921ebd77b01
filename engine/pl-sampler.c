/* pl-sampler.c — crops, labels at receptive-field centres, keep masks, and the
 * redundancy count (pixels pushed through the net versus distinct pixels). */
#include "pl-sampler.h"

#include <math.h>
#include <string.h>

struct _PlSampler {
  PlNetSpec *spec;
  PlReceptiveField rf;
  GPtrArray *samples;          /* borrowed PlSample* */
  int min_side;                /* smallest height or width in the list */
  int max_h, max_w;            /* of the largest image (by area) */
  PlBatch batch;
  int passes_allocated;
  gsize *pass_capacity;        /* floats of input each pass can hold */
  guint8 *coverage;            /* [max area] scratch for distinct-pixel counts */
  gsize coverage_size;
  int *order;                  /* crop indices sorted by image */
  gsize order_capacity;
};

PlSampler *
pl_sampler_new (const PlNetSpec *spec, GPtrArray *samples, GError **error)
{
  g_return_val_if_fail (spec != NULL && samples != NULL, NULL);
  PlReceptiveField rf = pl_receptive_field (spec);
  if (samples->len == 0)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_EMPTY, "no images to sample from");
      return NULL;
    }
  int min_side = G_MAXINT, max_h = 0, max_w = 0;
  for (guint i = 0; i < samples->len; i++)
    {
      const PlSample *s = samples->pdata[i];
      if (s->height < rf.R || s->width < rf.R)
        {
          g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                       "%s: %d×%d is smaller than the net's receptive field (%d px)", s->name,
                       s->width, s->height, rf.R);
          return NULL;
        }
      min_side = MIN (min_side, MIN (s->height, s->width));
      if ((gint64) s->height * s->width > (gint64) max_h * max_w)
        {
          max_h = s->height;
          max_w = s->width;
        }
    }
  PlSampler *sampler = g_new0 (PlSampler, 1);
  sampler->spec = pl_net_spec_copy (spec);
  sampler->rf = rf;
  sampler->samples = g_ptr_array_ref (samples);
  sampler->min_side = min_side;
  sampler->max_h = max_h;
  sampler->max_w = max_w;
  sampler->coverage_size = (gsize) max_h * max_w;
  sampler->coverage = g_new0 (guint8, sampler->coverage_size);
  return sampler;
}

void
pl_sampler_free (PlSampler *sampler)
{
  if (sampler == NULL)
    return;
  for (int p = 0; p < sampler->passes_allocated; p++)
    {
      PlPass *pass = &sampler->batch.passes[p];
      g_free (pass->input);
      g_free (pass->labels);
      g_free (pass->keep);
      g_free (pass->crops);
    }
  g_free (sampler->batch.passes);
  g_free (sampler->pass_capacity);
  g_free (sampler->coverage);
  g_free (sampler->order);
  g_ptr_array_unref (sampler->samples);
  pl_net_spec_free (sampler->spec);
  g_free (sampler);
}

int
pl_sampler_patch_side (const PlSampler *sampler, const PlKnobs *knobs)
{
  if (knobs->patch <= 0)
    return 0;
  return pl_receptive_field_snap (sampler->rf, MIN (knobs->patch, sampler->min_side));
}

int
pl_sampler_count (const PlSampler *sampler, const PlKnobs *knobs)
{
  if (!knobs->fixed_terms)
    return knobs->batch;
  return MAX (1, (int) lround (knobs->batch / knobs->sampling));
}

void
pl_sampler_memory (const PlSampler *sampler, const PlKnobs *knobs, PlMemoryEstimate *estimate)
{
  int n = pl_sampler_count (sampler, knobs), side = pl_sampler_patch_side (sampler, knobs);
  int B = side > 0 ? n : 1, H = side > 0 ? side : sampler->max_h, W = side > 0 ? side : sampler->max_w;
  int oh, ow;
  pl_net_spec_memory (sampler->spec, B, H, W, estimate);
  pl_net_spec_output_size (sampler->spec, H, W, &oh, &ow);
  /* The sampler's own buffers: float input, labels and keep mask per pass. */
  gsize batch_bytes = (gsize) B * (3 * sizeof (float) * (gsize) H * W + 2 * (gsize) oh * ow);
  if (side == 0)
    batch_bytes *= (gsize) n;  /* one pass per image, all drawn before the step runs */
  estimate->input += batch_bytes;
  estimate->workspace += batch_bytes;
  estimate->total += batch_bytes + sampler->coverage_size;
}

/* Makes room for pass p with a batch of B inputs of H×W (buffers only grow). */
static PlPass *
reserve_pass (PlSampler *s, int p, int B, int H, int W, int out_h, int out_w)
{
  if (p >= s->passes_allocated)
    {
      int n = MAX (p + 1, 2 * s->passes_allocated);
      s->batch.passes = g_renew (PlPass, s->batch.passes, n);
      s->pass_capacity = g_renew (gsize, s->pass_capacity, n);
      memset (s->batch.passes + s->passes_allocated, 0, sizeof (PlPass) * (gsize) (n - s->passes_allocated));
      memset (s->pass_capacity + s->passes_allocated, 0, sizeof (gsize) * (gsize) (n - s->passes_allocated));
      s->passes_allocated = n;
    }
  PlPass *pass = &s->batch.passes[p];
  gsize floats = (gsize) B * 3 * H * W;
  /* Capacity is tracked in input floats; labels, keep and crops grow with it. */
  if (floats > s->pass_capacity[p])
    {
      gsize cap = floats;
      g_free (pass->input);
      g_free (pass->labels);
      g_free (pass->keep);
      g_free (pass->crops);
      pass->input = g_new (float, cap);
      /* output cells never outnumber input pixels */
      pass->labels = g_new (guint8, cap / 3 + 1);
      pass->keep = g_new (guint8, cap / 3 + 1);
      pass->crops = g_new (PlCrop, cap / 3 + 1);
      s->pass_capacity[p] = cap;
    }
  pass->B = B;
  pass->H = H;
  pass->W = W;
  pass->out_h = out_h;
  pass->out_w = out_w;
  return pass;
}

/* Labels at the centres of crop c's output cells, and the keep draws. */
static void
label_and_keep (PlSampler *s, PlPass *pass, int c, double p, PlRng *rng, gint64 *terms)
{
  const PlCrop *crop = &pass->crops[c];
  const PlSample *sample = s->samples->pdata[crop->image];
  gsize base = (gsize) c * pass->out_h * pass->out_w;
  for (int i = 0; i < pass->out_h; i++)
    for (int j = 0; j < pass->out_w; j++)
      {
        int y, x;
        pl_receptive_field_centre (s->rf, i, j, &y, &x);
        guint8 label = sample->labels[(gsize) (crop->y0 + y) * sample->width + crop->x0 + x];
        gboolean keep = p >= 1.0 || pl_rng_uniform (rng) < p;
        pass->labels[base + (gsize) i * pass->out_w + j] = label;
        pass->keep[base + (gsize) i * pass->out_w + j] = (guint8) keep;
        *terms += keep && label != PL_LABEL_IGNORE;
      }
}

static int
compare_crop_image (gconstpointer a, gconstpointer b, gpointer data)
{
  const PlCrop *crops = data;
  int ia = crops[*(const int *) a].image, ib = crops[*(const int *) b].image;
  if (ia != ib)
    return ia < ib ? -1 : 1;
  return *(const int *) a - *(const int *) b;
}

/* Distinct pixels under the crops of one pass, image by image. */
static gint64
count_covered (PlSampler *s, const PlPass *pass)
{
  if ((gsize) pass->B > s->order_capacity)
    {
      s->order_capacity = (gsize) pass->B;
      s->order = g_renew (int, s->order, s->order_capacity);
    }
  for (int c = 0; c < pass->B; c++)
    s->order[c] = c;
  g_qsort_with_data (s->order, pass->B, sizeof (int), compare_crop_image, pass->crops);

  gint64 covered = 0;
  for (int a = 0; a < pass->B;)
    {
      int image = pass->crops[s->order[a]].image, b = a;
      const PlSample *sample = s->samples->pdata[image];
      memset (s->coverage, 0, (gsize) sample->height * sample->width);
      for (; b < pass->B && pass->crops[s->order[b]].image == image; b++)
        {
          const PlCrop *crop = &pass->crops[s->order[b]];
          for (int y = crop->y0; y < crop->y0 + crop->height; y++)
            {
              guint8 *row = s->coverage + (gsize) y * sample->width + crop->x0;
              for (int x = 0; x < crop->width; x++)
                {
                  covered += row[x] == 0;
                  row[x] = 1;
                }
            }
        }
      a = b;
    }
  return covered;
}

const PlBatch *
pl_sampler_draw (PlSampler *s, const PlKnobs *knobs, PlRng *image_rng, PlRng *rng)
{
  PlBatch *batch = &s->batch;
  PlReceptiveField rf = s->rf;
  int n = pl_sampler_count (s, knobs), side = pl_sampler_patch_side (s, knobs);
  guint32 n_images = s->samples->len;

  batch->n_crops = n;
  batch->pixels_pushed = batch->pixels_covered = batch->cells = batch->terms = 0;

  if (side > 0)
    {
      int oh, ow;
      pl_net_spec_output_size (s->spec, side, side, &oh, &ow);
      PlPass *pass = reserve_pass (s, 0, n, side, side, oh, ow);
      batch->n_passes = 1;
      for (int c = 0; c < n; c++)
        {
          int image = (int) pl_rng_below (image_rng, n_images);
          const PlSample *sample = s->samples->pdata[image];
          int y0, x0;
          if (knobs->free_origin)
            {
              y0 = (int) pl_rng_below (rng, (guint32) (sample->height - side + 1));
              x0 = (int) pl_rng_below (rng, (guint32) (sample->width - side + 1));
            }
          else
            {
              y0 = rf.J * (int) pl_rng_below (rng, (guint32) ((sample->height - side) / rf.J + 1));
              x0 = rf.J * (int) pl_rng_below (rng, (guint32) ((sample->width - side) / rf.J + 1));
            }
          pass->crops[c] = (PlCrop) { image, y0, x0, side, side };
          pl_sample_to_input (sample, y0, x0, side, side,
                              pass->input + (gsize) c * 3 * side * side);
          label_and_keep (s, pass, c, knobs->sampling, rng, &batch->terms);
        }
      batch->pixels_pushed = (gint64) n * side * side;
      batch->cells = (gint64) n * oh * ow;
      batch->pixels_covered = count_covered (s, pass);
      return batch;
    }

  /* Whole images: one pass per image. */
  batch->n_passes = n;
  for (int c = 0; c < n; c++)
    {
      int image = (int) pl_rng_below (image_rng, n_images);
      const PlSample *sample = s->samples->pdata[image];
      int oh, ow;
      pl_net_spec_output_size (s->spec, sample->height, sample->width, &oh, &ow);
      PlPass *pass = reserve_pass (s, c, 1, sample->height, sample->width, oh, ow);
      pass->crops[0] = (PlCrop) { image, 0, 0, sample->height, sample->width };
      pl_sample_to_input (sample, 0, 0, sample->height, sample->width, pass->input);
      label_and_keep (s, pass, 0, knobs->sampling, rng, &batch->terms);
      batch->pixels_pushed += (gint64) sample->height * sample->width;
      batch->cells += (gint64) oh * ow;
    }
  /* An image drawn twice in one step is covered once. */
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  for (int c = 0; c < n; c++)
    {
      int image = batch->passes[c].crops[0].image;
      const PlSample *sample = s->samples->pdata[image];
      if (g_hash_table_add (seen, GINT_TO_POINTER (image + 1)))
        batch->pixels_covered += (gint64) sample->height * sample->width;
    }
  return batch;
}
