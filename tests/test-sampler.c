/* test-sampler.c — the three knobs turned into passes: snapping, alignment, labels
 * at receptive-field centres, keep rate, 1/p scaling, whole images of mixed sizes,
 * redundancy counts, and determinism. */
#include "pl-test-util.h"

#include "pl-sampler.h"

#include <math.h>
#include <string.h>

static PlNetSpec *
default_spec (void)
{
  return pl_test_spec ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4", 3);
}

/* Samples of the given sizes, random pixels and labels (some 255). */
static GPtrArray *
random_samples (const int (*sizes)[2], int n, guint64 seed)
{
  GPtrArray *samples = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_sample_free);
  PlRng rng;
  pl_rng_init (&rng, seed);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%d", i);
      PlSample *s = pl_sample_new (name, sizes[i][1], sizes[i][0]);
      gsize area = (gsize) s->width * s->height;
      for (gsize p = 0; p < 3 * area; p++)
        s->rgb[p] = (guint8) pl_rng_below (&rng, 256);
      pl_test_fill_labels (s->labels, area, 4, 0.05f, &rng);
      g_ptr_array_add (samples, s);
    }
  return samples;
}

static void
test_snapping_and_counts (void)
{
  g_autoptr (PlNetSpec) spec = default_spec ();
  const int sizes[][2] = { { 96, 96 }, { 70, 120 } };
  g_autoptr (GPtrArray) samples = random_samples (sizes, 2, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (PlSampler) sampler = pl_sampler_new (spec, samples, &error);
  g_assert_no_error (error);
  PlKnobs k;
  pl_knobs_init_default (&k);
  k.patch = 50;
  g_assert_cmpint (pl_sampler_patch_side (sampler, &k), ==, 48);  /* 24 + 6·4 */
  k.patch = 1;
  g_assert_cmpint (pl_sampler_patch_side (sampler, &k), ==, 24);  /* never below R */
  k.patch = 500;
  g_assert_cmpint (pl_sampler_patch_side (sampler, &k), ==, 68);  /* the smallest side, snapped */
  k.patch = 0;
  g_assert_cmpint (pl_sampler_patch_side (sampler, &k), ==, 0);
  k.batch = 5;
  k.sampling = 0.25;
  g_assert_cmpint (pl_sampler_count (sampler, &k), ==, 5);
  k.fixed_terms = TRUE;
  g_assert_cmpint (pl_sampler_count (sampler, &k), ==, 20);
  k.sampling = 0.3;
  g_assert_cmpint (pl_sampler_count (sampler, &k), ==, 17);  /* round(16.67) */
}

static void
test_aligned_crops_and_centre_labels (void)
{
  g_autoptr (PlNetSpec) spec = default_spec ();
  PlReceptiveField rf = pl_receptive_field (spec);
  const int sizes[][2] = { { 96, 96 }, { 80, 110 }, { 101, 77 } };
  g_autoptr (GPtrArray) samples = random_samples (sizes, 3, 2);
  g_autoptr (PlSampler) sampler = pl_sampler_new (spec, samples, NULL);
  PlKnobs k;
  pl_knobs_init_default (&k);
  k.patch = 40;
  k.batch = 32;
  PlRng rng, images;
  pl_rng_init (&rng, 3);
  pl_rng_init (&images, 103);
  gboolean saw_unaligned = FALSE;
  for (int round = 0; round < 20; round++)
    {
      k.free_origin = round >= 10;
      const PlBatch *b = pl_sampler_draw (sampler, &k, &images, &rng);
      g_assert_cmpint (b->n_passes, ==, 1);
      const PlPass *pass = &b->passes[0];
      g_assert_cmpint (pass->B, ==, 32);
      g_assert_cmpint (pass->H, ==, 40);
      g_assert_cmpint (pass->out_h, ==, 5);  /* (40 − 24)/4 + 1 */
      for (int c = 0; c < pass->B; c++)
        {
          const PlCrop *crop = &pass->crops[c];
          const PlSample *s = samples->pdata[crop->image];
          g_assert_cmpint (crop->y0 + crop->height, <=, s->height);
          g_assert_cmpint (crop->x0 + crop->width, <=, s->width);
          if (!k.free_origin)
            {
              g_assert_cmpint (crop->y0 % rf.J, ==, 0);
              g_assert_cmpint (crop->x0 % rf.J, ==, 0);
            }
          else
            saw_unaligned |= crop->y0 % rf.J != 0 || crop->x0 % rf.J != 0;
          /* Input is the crop's pixels, normalised; labels are the centres'. */
          float expect = ((float) s->rgb[((gsize) crop->y0 * s->width + crop->x0) * 3] / 255.0f
                          - 0.5f) / 0.25f;
          g_assert_cmpfloat_with_epsilon (pass->input[(gsize) c * 3 * 40 * 40], expect, 1e-6);
          for (int i = 0; i < pass->out_h; i++)
            for (int j = 0; j < pass->out_w; j++)
              {
                int y, x;
                pl_receptive_field_centre (rf, i, j, &y, &x);
                g_assert_cmpuint (pass->labels[((gsize) c * 5 + i) * 5 + j], ==,
                                  s->labels[(gsize) (crop->y0 + y) * s->width + crop->x0 + x]);
                g_assert_true (pass->keep[((gsize) c * 5 + i) * 5 + j]);  /* p = 1 */
              }
        }
    }
  g_assert_true (saw_unaligned);
}

static void
test_keep_rate_and_fixed_terms (void)
{
  g_autoptr (PlNetSpec) spec = default_spec ();
  const int sizes[][2] = { { 120, 120 } };
  g_autoptr (GPtrArray) samples = random_samples (sizes, 1, 4);
  for (gsize i = 0; i < 120 * 120; i++)
    ((PlSample *) samples->pdata[0])->labels[i] = 1;  /* no ignored cells */
  g_autoptr (PlSampler) sampler = pl_sampler_new (spec, samples, NULL);
  PlKnobs k;
  pl_knobs_init_default (&k);
  PlRng rng, images;
  pl_rng_init (&rng, 5);
  pl_rng_init (&images, 105);

  /* Whole image (25×25 cells), p = 0.3: kept share within 4σ of p. */
  k.patch = 0;
  k.batch = 2;
  k.sampling = 0.3;
  gint64 kept = 0, cells = 0;
  for (int r = 0; r < 200; r++)
    {
      const PlBatch *b = pl_sampler_draw (sampler, &k, &images, &rng);
      kept += b->terms;
      cells += b->cells;
    }
  double rate = (double) kept / (double) cells, sigma = sqrt (0.3 * 0.7 / (double) cells);
  g_test_message ("keep rate %.4f over %" G_GINT64_FORMAT " cells (p = 0.3, σ = %.4f)", rate,
                  cells, sigma);
  g_assert_cmpfloat (fabs (rate - 0.3), <, 4 * sigma);

  /* Figure 5: images per step × 1/p keeps the expected number of terms. */
  double mean_terms[2];
  const double ps[2] = { 1.0, 0.25 };
  for (int i = 0; i < 2; i++)
    {
      k.sampling = ps[i];
      k.fixed_terms = TRUE;
      gint64 terms = 0;
      for (int r = 0; r < 200; r++)
        {
          const PlBatch *b = pl_sampler_draw (sampler, &k, &images, &rng);
          g_assert_cmpint (b->n_crops, ==, (int) lround (2 / ps[i]));
          terms += b->terms;
        }
      mean_terms[i] = terms / 200.0;
    }
  g_test_message ("mean terms per step: %.1f at p = 1, %.1f at p = 0.25 (images ×4)",
                  mean_terms[0], mean_terms[1]);
  g_assert_cmpfloat (fabs (mean_terms[1] / mean_terms[0] - 1.0), <, 0.03);
}

static void
test_whole_images_of_mixed_sizes (void)
{
  g_autoptr (PlNetSpec) spec = default_spec ();
  const int sizes[][2] = { { 64, 96 }, { 100, 52 }, { 24, 24 } };
  g_autoptr (GPtrArray) samples = random_samples (sizes, 3, 6);
  g_autoptr (PlSampler) sampler = pl_sampler_new (spec, samples, NULL);
  PlKnobs k;
  pl_knobs_init_default (&k);
  k.patch = 0;
  k.batch = 6;
  PlRng rng, images;
  pl_rng_init (&rng, 7);
  pl_rng_init (&images, 107);
  const PlBatch *b = pl_sampler_draw (sampler, &k, &images, &rng);
  g_assert_cmpint (b->n_passes, ==, 6);
  gint64 pushed = 0;
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  gint64 covered = 0;
  for (int p = 0; p < b->n_passes; p++)
    {
      const PlPass *pass = &b->passes[p];
      const PlSample *s = samples->pdata[pass->crops[0].image];
      g_assert_cmpint (pass->B, ==, 1);
      g_assert_cmpint (pass->H, ==, s->height);
      g_assert_cmpint (pass->W, ==, s->width);
      int oh, ow;
      pl_net_spec_output_size (spec, s->height, s->width, &oh, &ow);
      g_assert_cmpint (pass->out_h, ==, oh);
      g_assert_cmpint (pass->out_w, ==, ow);
      pushed += (gint64) s->height * s->width;
      if (g_hash_table_add (seen, GINT_TO_POINTER (pass->crops[0].image + 1)))
        covered += (gint64) s->height * s->width;
    }
  g_assert_cmpint (b->pixels_pushed, ==, pushed);
  g_assert_cmpint (b->pixels_covered, ==, covered);
  g_assert_cmpint (b->pixels_covered, <, b->pixels_pushed);  /* 6 draws of 3 images */

  /* A sample smaller than the receptive field is refused by name. */
  const int tiny[][2] = { { 23, 80 } };
  g_autoptr (GPtrArray) bad = random_samples (tiny, 1, 8);
  g_autoptr (GError) error = NULL;
  g_autoptr (PlSampler) none = pl_sampler_new (spec, bad, &error);
  g_assert_null (none);
  g_assert_nonnull (strstr (error->message, "s0: 80×23 is smaller than"));
}

static void
test_redundancy_matches_brute_force (void)
{
  g_autoptr (PlNetSpec) spec = default_spec ();
  const int sizes[][2] = { { 60, 60 }, { 64, 72 } };
  g_autoptr (GPtrArray) samples = random_samples (sizes, 2, 9);
  g_autoptr (PlSampler) sampler = pl_sampler_new (spec, samples, NULL);
  PlKnobs k;
  pl_knobs_init_default (&k);
  k.patch = 32;
  k.batch = 40;
  PlRng rng, images;
  pl_rng_init (&rng, 10);
  pl_rng_init (&images, 110);
  for (int round = 0; round < 5; round++)
    {
      const PlBatch *b = pl_sampler_draw (sampler, &k, &images, &rng);
      gint64 covered = 0;
      for (guint image = 0; image < samples->len; image++)
        {
          const PlSample *s = samples->pdata[image];
          for (int y = 0; y < s->height; y++)
            for (int x = 0; x < s->width; x++)
              {
                gboolean in = FALSE;
                for (int c = 0; c < b->passes[0].B && !in; c++)
                  {
                    const PlCrop *crop = &b->passes[0].crops[c];
                    in = crop->image == (int) image && y >= crop->y0 && y < crop->y0 + 32
                         && x >= crop->x0 && x < crop->x0 + 32;
                  }
                covered += in;
              }
        }
      g_assert_cmpint (b->pixels_covered, ==, covered);
      g_assert_cmpint (b->pixels_pushed, ==, 40 * 32 * 32);
    }
}

static void
test_same_seed_same_batch (void)
{
  g_autoptr (PlNetSpec) spec = default_spec ();
  const int sizes[][2] = { { 80, 80 }, { 90, 70 } };
  g_autoptr (GPtrArray) samples = random_samples (sizes, 2, 11);
  g_autoptr (PlSampler) a = pl_sampler_new (spec, samples, NULL);
  g_autoptr (PlSampler) b = pl_sampler_new (spec, samples, NULL);
  PlKnobs k;
  pl_knobs_init_default (&k);
  k.patch = 36;
  k.batch = 8;
  k.sampling = 0.5;
  PlRng ra, rb, ia, ib;
  pl_rng_init (&ra, 12);
  pl_rng_init (&rb, 12);
  pl_rng_init (&ia, 13);
  pl_rng_init (&ib, 13);
  for (int round = 0; round < 5; round++)
    {
      const PlBatch *x = pl_sampler_draw (a, &k, &ia, &ra);
      const PlBatch *y = pl_sampler_draw (b, &k, &ib, &rb);
      gsize cells = (gsize) 8 * x->passes[0].out_h * x->passes[0].out_w;
      g_assert_cmpmem (x->passes[0].crops, 8 * sizeof (PlCrop), y->passes[0].crops,
                       8 * sizeof (PlCrop));
      g_assert_cmpmem (x->passes[0].keep, cells, y->passes[0].keep, cells);
    }
}

/* Appends the images of a step, crop by crop and pass by pass, to seq. */
static void
append_images (GArray *seq, const PlBatch *b)
{
  for (int p = 0; p < b->n_passes; p++)
    for (int c = 0; c < b->passes[p].B; c++)
      g_array_append_val (seq, b->passes[p].crops[c].image);
}

/* Runs compared side by side see the same images: two very different knob settings
 * (and different origin/keep streams) with the same image stream draw the same
 * sequence of images, each at its own rate. */
static void
test_same_images_whatever_the_knobs (void)
{
  g_autoptr (PlNetSpec) spec = default_spec ();
  const int sizes[][2] = { { 80, 80 }, { 90, 70 }, { 64, 64 }, { 72, 96 }, { 100, 60 } };
  g_autoptr (GPtrArray) samples = random_samples (sizes, 5, 14);
  g_autoptr (PlSampler) sampler = pl_sampler_new (spec, samples, NULL);
  PlKnobs patches, whole;
  pl_knobs_init_default (&patches);
  patches.patch = 36;
  patches.batch = 7;
  patches.sampling = 0.5;
  patches.free_origin = TRUE;
  pl_knobs_init_default (&whole);
  whole.batch = 1;
  whole.sampling = 0.25;
  whole.fixed_terms = TRUE;  /* 4 images a step */

  g_autoptr (GArray) seq_a = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) seq_b = g_array_new (FALSE, FALSE, sizeof (int));
  PlRng ia, ib, ra, rb;
  pl_rng_init (&ia, 15);
  pl_rng_init (&ib, 15);
  pl_rng_init (&ra, 16);
  pl_rng_init (&rb, 17);
  while (seq_a->len < 100)
    append_images (seq_a, pl_sampler_draw (sampler, &patches, &ia, &ra));
  while (seq_b->len < 100)
    append_images (seq_b, pl_sampler_draw (sampler, &whole, &ib, &rb));
  g_assert_cmpmem (seq_a->data, 100 * sizeof (int), seq_b->data, 100 * sizeof (int));
  /* …and the sequence is not trivially constant. */
  gboolean varies = FALSE;
  for (guint i = 1; i < 100; i++)
    varies |= g_array_index (seq_a, int, i) != g_array_index (seq_a, int, 0);
  g_assert_true (varies);

  /* A knob change mid-run keeps the sequence going where it was. */
  g_array_set_size (seq_b, 0);
  pl_rng_init (&ib, 15);
  for (int step = 0; seq_b->len < 100; step++)
    append_images (seq_b, pl_sampler_draw (sampler, step % 2 ? &whole : &patches, &ib, &rb));
  g_assert_cmpmem (seq_a->data, 100 * sizeof (int), seq_b->data, 100 * sizeof (int));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sampler/snapping-and-counts", test_snapping_and_counts);
  g_test_add_func ("/sampler/aligned-crops-and-centre-labels", test_aligned_crops_and_centre_labels);
  g_test_add_func ("/sampler/keep-rate-and-fixed-terms", test_keep_rate_and_fixed_terms);
  g_test_add_func ("/sampler/whole-images-of-mixed-sizes", test_whole_images_of_mixed_sizes);
  g_test_add_func ("/sampler/redundancy-matches-brute-force", test_redundancy_matches_brute_force);
  g_test_add_func ("/sampler/same-seed-same-batch", test_same_seed_same_batch);
  g_test_add_func ("/sampler/same-images-whatever-the-knobs", test_same_images_whatever_the_knobs);
  return g_test_run ();
}
