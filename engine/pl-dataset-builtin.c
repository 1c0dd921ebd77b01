/* pl-dataset-builtin.c — procedurally generated scenes of discs, squares and triangles.
 *
 * The point of this dataset is that receptive-field size matters, and that the default
 * net learns it within a few hundred steps. Backgrounds are darker than objects, so
 * *finding* objects is a local cue any net picks up quickly. *Naming* them is not: discs,
 * squares and triangles draw their colour and texture from one and the same distribution,
 * and a few pixels inside any of them look alike. Only the outline tells them apart
 * (curved rim; four right-angled corners; three sharp corners), which a window of about
 * 24 px sees but a 5 px window does not. The background is cut into a few regions with
 * straight boundaries so that edges alone do not mean "object".
 *
 * Measured with the engine (seed 1, 64 train scenes of 96², whole images, B = 4,
 * lr 0.01): the default 24 px net reaches val accuracy 0.918 against a 0.847 majority
 * baseline and mIoU 0.50 after 500 steps, still rising; a 5 px net ("c5x32 c1x32 c1x32
 * c1xK") stops near mIoU 0.38 — it finds the objects but cannot tell their shapes apart.
 *
 * Shapes are 10–28 px across at any side, so bigger scenes hold more of them. Everything
 * is drawn from PlRng streams split off the seed: one stream per scene, with train and val
 * streams separate, so a val scene does not change when n_train does.
 */
#include "pl-dataset.h"

#include "pl-rng.h"

#include <math.h>

enum {
  CLASS_BACKGROUND,
  CLASS_DISC,
  CLASS_SQUARE,
  CLASS_TRIANGLE,
};

#define MIN_SHAPE 10.0f  /* px across */
#define MAX_SHAPE 28.0f
/* Backgrounds are darker than objects: finding objects is a local, easy cue;
 * naming them (disc, square, triangle) needs their outline. */
#define BACKGROUND_LO 0.0f
#define BACKGROUND_HI 110.0f
#define OBJECT_LO 130.0f
#define OBJECT_HI 255.0f

typedef enum {
  TEXTURE_FLAT,
  TEXTURE_STRIPES,
  TEXTURE_CHECKER,
  N_TEXTURES,
} Texture;

/* A colour plus a texture; background regions and objects both use it. */
typedef struct {
  Texture texture;
  float base[3];   /* 0–255 */
  float second[3]; /* the texture's other colour, within ±60 of base */
  float cos_a, sin_a, period, phase;
} Surface;

/* lo..hi is the range of the base colour's channels. */
static void
surface_init (Surface *s, float lo, float hi, PlRng *rng)
{
  float angle;

  /* Half flat, a quarter stripes, a quarter checks. */
  switch (pl_rng_below (rng, 4))
    {
    case 0:
    case 1: s->texture = TEXTURE_FLAT; break;
    case 2: s->texture = TEXTURE_STRIPES; break;
    default: s->texture = TEXTURE_CHECKER; break;
    }
  for (int c = 0; c < 3; c++)
    {
      s->base[c] = lo + (hi - lo) * pl_rng_uniform (rng);
      s->second[c] = CLAMP (s->base[c] + 60.0f * (2.0f * pl_rng_uniform (rng) - 1.0f), 0.0f,
                            255.0f);
    }
  angle = (float) G_PI * pl_rng_uniform (rng);
  s->cos_a = cosf (angle);
  s->sin_a = sinf (angle);
  s->period = 4.0f + 12.0f * pl_rng_uniform (rng);
  s->phase = s->period * pl_rng_uniform (rng);
}

static void
surface_colour (const Surface *s, int x, int y, float out[3])
{
  float u = (float) x * s->cos_a + (float) y * s->sin_a + s->phase;
  float v = (float) y * s->cos_a - (float) x * s->sin_a;
  float t = 0.0f;

  switch (s->texture)
    {
    case TEXTURE_FLAT:
      break;
    case TEXTURE_STRIPES:
      t = 0.5f + 0.5f * sinf (2.0f * (float) G_PI * u / s->period);
      break;
    case TEXTURE_CHECKER:
      t = (float) (((int) floorf (u / s->period) + (int) floorf (v / s->period)) & 1);
      break;
    case N_TEXTURES:
    default:
      g_assert_not_reached ();
    }
  for (int c = 0; c < 3; c++)
    out[c] = s->base[c] + t * (s->second[c] - s->base[c]);
}

static void
put_pixel (PlSample *sample, float *canvas, int x, int y, const Surface *surface)
{
  surface_colour (surface, x, y, canvas + ((gsize) y * sample->width + x) * 3);
}

/* Background: a jittered-grid Voronoi partition (straight boundaries at all angles), one
 * surface per cell. canvas [H, W, 3]. */
static void
draw_background (PlSample *sample, float *canvas, PlRng *rng)
{
  int side = sample->width;
  int cell = 48 + (int) pl_rng_below (rng, 49);  /* 48–96 px: regions bigger than shapes */
  int n_cells = side / cell + 1;
  float *seeds = g_new (float, (gsize) n_cells * n_cells * 2);     /* [cells, cells, 2] */
  Surface *surfaces = g_new (Surface, (gsize) n_cells * n_cells);  /* [cells, cells] */

  for (int i = 0; i < n_cells * n_cells; i++)
    {
      seeds[2 * i + 0] = ((float) (i % n_cells) + pl_rng_uniform (rng)) * (float) cell;
      seeds[2 * i + 1] = ((float) (i / n_cells) + pl_rng_uniform (rng)) * (float) cell;
      surface_init (&surfaces[i], BACKGROUND_LO, BACKGROUND_HI, rng);
    }
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      {
        int cx = x / cell, cy = y / cell, best = -1;
        float best_d2 = G_MAXFLOAT;
        for (int j = MAX (cy - 1, 0); j <= MIN (cy + 1, n_cells - 1); j++)
          for (int i = MAX (cx - 1, 0); i <= MIN (cx + 1, n_cells - 1); i++)
            {
              int k = j * n_cells + i;
              float dx = (float) x + 0.5f - seeds[2 * k], dy = (float) y + 0.5f - seeds[2 * k + 1];
              float d2 = dx * dx + dy * dy;
              if (d2 < best_d2)
                {
                  best_d2 = d2;
                  best = k;
                }
            }
        put_pixel (sample, canvas, x, y, &surfaces[best]);
      }
  g_free (seeds);
  g_free (surfaces);
}

/* One shape; later shapes cover earlier ones, and labels follow what is visible. */
static void
draw_shape (PlSample *sample, float *canvas, PlRng *rng)
{
  int side = sample->width;
  int klass = CLASS_DISC + (int) pl_rng_below (rng, 3);
  float size = MIN_SHAPE + (MAX_SHAPE - MIN_SHAPE) * pl_rng_uniform (rng);
  float cx = (float) side * pl_rng_uniform (rng);
  float cy = (float) side * pl_rng_uniform (rng);
  float angle = 2.0f * (float) G_PI * pl_rng_uniform (rng);
  float ca = cosf (angle), sa = sinf (angle);
  float vx[3], vy[3];  /* triangle vertices, counter-clockwise */
  Surface surface;
  int x0, x1, y0, y1;

  surface_init (&surface, OBJECT_LO, OBJECT_HI, rng);
  if (klass == CLASS_TRIANGLE)
    {
      /* Roughly equilateral with side `size`; jittered so that corners vary. */
      float radius = size / sqrtf (3.0f);
      for (int k = 0; k < 3; k++)
        {
          float a = angle + (float) k * 2.0f * (float) G_PI / 3.0f
                    + 0.25f * (2.0f * pl_rng_uniform (rng) - 1.0f);
          float r = radius * (0.85f + 0.3f * pl_rng_uniform (rng));
          vx[k] = cx + r * cosf (a);
          vy[k] = cy + r * sinf (a);
        }
    }

  x0 = MAX ((int) floorf (cx - size), 0);
  x1 = MIN ((int) ceilf (cx + size), side - 1);
  y0 = MAX ((int) floorf (cy - size), 0);
  y1 = MIN ((int) ceilf (cy + size), side - 1);
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++)
      {
        float px = (float) x + 0.5f - cx, py = (float) y + 0.5f - cy;
        gboolean inside = FALSE;
        switch (klass)
          {
          case CLASS_DISC:
            inside = px * px + py * py <= 0.25f * size * size;
            break;
          case CLASS_SQUARE:
            inside = fabsf (px * ca + py * sa) <= 0.5f * size
                     && fabsf (py * ca - px * sa) <= 0.5f * size;
            break;
          case CLASS_TRIANGLE:
            inside = TRUE;
            for (int k = 0; k < 3; k++)
              {
                int n = (k + 1) % 3;
                float cross = (vx[n] - vx[k]) * ((float) y + 0.5f - vy[k])
                              - (vy[n] - vy[k]) * ((float) x + 0.5f - vx[k]);
                inside = inside && cross >= 0.0f;
              }
            break;
          default:
            g_assert_not_reached ();
          }
        if (inside)
          {
            put_pixel (sample, canvas, x, y, &surface);
            sample->labels[(gsize) y * side + x] = (guint8) klass;
          }
      }
}

static PlSample *
make_scene (const char *name, int side, PlRng *rng)
{
  PlSample *sample = pl_sample_new (name, side, side);
  float *canvas = g_new (float, (gsize) side * side * 3);  /* [H, W, 3] */
  double area = (double) side * side / (96.0 * 96.0);
  int n_shapes = MAX ((int) lround ((3 + pl_rng_below (rng, 6)) * area), 1);  /* 3–8 at 96² */
  float noise = 4.0f + 8.0f * pl_rng_uniform (rng);

  draw_background (sample, canvas, rng);
  for (int i = 0; i < n_shapes; i++)
    draw_shape (sample, canvas, rng);
  /* Sensor noise shared by every class. */
  for (gsize i = 0; i < (gsize) side * side * 3; i++)
    {
      float v = canvas[i] + noise * pl_rng_normal (rng);
      sample->rgb[i] = (guint8) CLAMP (lrintf (v), 0, 255);
    }
  g_free (canvas);
  return sample;
}

static PlSample *
generate_scene (const char *name, gboolean train, PlRng *rng, gpointer data)
{
  return make_scene (name, *(const int *) data, rng);
}

PlDataset *
pl_dataset_new_builtin (guint64 seed, int n_train, int n_val, int side, GError **error)
{
  static const char *const names[] = { "background", "disc", "square", "triangle", NULL };
  PlDataset *dataset;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (side == 0)
    side = PL_DATASET_DEFAULT_SIDE;
  if (side < PL_DATASET_MIN_SIDE || side > PL_DATASET_MAX_SIDE)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "built-in dataset: side %d is outside %d–%d", side, PL_DATASET_MIN_SIDE,
                   PL_DATASET_MAX_SIDE);
      return NULL;
    }
  if (n_train < 1 || n_train > PL_DATASET_MAX_SCENES || n_val < 0
      || n_val > PL_DATASET_MAX_SCENES)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "built-in dataset: %d train and %d val scenes; train must be 1–%d and val "
                   "0–%d", n_train, n_val, PL_DATASET_MAX_SCENES, PL_DATASET_MAX_SCENES);
      return NULL;
    }
  if ((guint64) (n_train + n_val) * side * side * 4 > PL_DATASET_MAX_BYTES)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "built-in dataset: %d scenes of %d×%d would take more than %" G_GUINT64_FORMAT
                   " GiB", n_train + n_val, side, side, PL_DATASET_MAX_BYTES >> 30);
      return NULL;
    }

  dataset = pl_dataset_new (names);
  pl_dataset_generate (dataset, seed, n_train, n_val, generate_scene, &side);
  dataset->description = g_strdup_printf ("built-in shapes: %d train + %d val scenes of %d×%d, "
                                          "seed %" G_GUINT64_FORMAT, n_train, n_val, side, side,
                                          seed);
  return dataset;
}
