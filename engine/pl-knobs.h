/* pl-knobs.h — everything about a run that may change while it goes on: the three
 * knobs of DESIGN.md §1 (patch size N, batch size B, sampling ratio p), how they
 * are applied, and the optimiser's settings. Also their text forms:
 *
 *   assignment   "patch=64", "sampling=0.25", "lr=0.01", "fixed-terms=1" …
 *   knob line    assignments joined by commas (the edit log and checkpoints use it)
 *   schedule     "200:patch=64,batch=4,400:sampling=0.25": at step 200 set patch
 *                and batch, at step 400 set the sampling ratio (patchlab-cli train).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_KNOBS_ERROR (pl_knobs_error_quark ())
GQuark pl_knobs_error_quark (void);

typedef enum {
  PL_KNOBS_ERROR_SYNTAX,
  PL_KNOBS_ERROR_RANGE,
} PlKnobsError;

#define PL_KNOBS_MAX_BATCH 4096
#define PL_KNOBS_MAX_PATCH 8192

typedef struct {
  int patch;            /* N: crop side in pixels; 0 = whole images (fully convolutional) */
  int batch;            /* B: crops per step (patches) or images per step (whole images) */
  double sampling;      /* p ∈ (0, 1]: probability that an output cell's loss term is kept */
  gboolean fixed_terms; /* draw round(B / p) crops or images, keeping E[terms] fixed (Fig. 5) */
  gboolean free_origin; /* crop origins anywhere, not on the J grid (breaks the equivalence) */
  double lr, momentum, weight_decay;
} PlKnobs;

typedef struct {
  gint64 step;  /* applied before this step runs */
  PlKnobs knobs;
} PlKnobEdit;

typedef struct {
  gint64 step;
  char *assignments;  /* a knob line */
} PlScheduleEntry;

void     pl_knobs_init_default (PlKnobs *knobs);
gboolean pl_knobs_validate     (const PlKnobs *knobs, GError **error);
gboolean pl_knobs_equal        (const PlKnobs *a, const PlKnobs *b);
/* Applies a knob line ("patch=64,lr=0.01") to *knobs; on error *knobs is unchanged. */
gboolean pl_knobs_apply        (PlKnobs *knobs, const char *line, GError **error);
/* The full knob line, from which pl_knobs_apply restores every field exactly. */
char    *pl_knobs_to_string    (const PlKnobs *knobs);

/* Parses a schedule into a GArray of PlScheduleEntry (steps strictly increasing;
 * each entry's assignments validated against defaults). Free with
 * pl_schedule_free. */
GArray  *pl_schedule_parse     (const char *text, GError **error);
/* Applies the entries in turn to *start (unchanged): FALSE, with the step named, when one
 * would give invalid knobs. Entries that are valid alone can fail together (fixed-terms
 * at one step, a small sampling ratio at a later one), and the run's own starting knobs
 * matter: check a schedule against them before a run. */
gboolean pl_schedule_validate  (const GArray *schedule, const PlKnobs *start, GError **error);
/* An empty schedule that frees its entries' text. */
GArray  *pl_schedule_new       (void);
void     pl_schedule_free      (GArray *schedule);

G_END_DECLS
