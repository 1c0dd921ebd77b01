/* pl-trainer.h — one training run on its own worker thread.
 *
 * The worker owns the net, the optimiser state, the sampler and its two random
 * streams, both derived from the seed: one picks the images (the same sequence for
 * a seed whatever the knobs, so runs compared side by side see the same data), the
 * other the crop origins and keep masks. Callers send commands (start, pause, step
 * once, stop, reset, set knobs, preview) that take effect at the next step boundary;
 * knob changes are recorded with the index of the step they first apply to, so a
 * run's seed plus that edit log replays it exactly (pass the log back as a schedule).
 *
 * The worker publishes immutable, ref-counted snapshots (PlSnapshot) and, when
 * given a GMainContext, schedules one notification there — never more than one
 * pending, so a slow consumer never queues work up. It never waits for its
 * consumer and never calls GTK. pl_trainer_free stops it from any state.
 */
#pragma once

#include "pl-knobs.h"
#include "pl-net.h"
#include "pl-sampler.h"
#include "pl-step-gate.h"

G_BEGIN_DECLS

#define PL_TRAINER_ERROR (pl_trainer_error_quark ())
GQuark pl_trainer_error_quark (void);

typedef enum {
  PL_TRAINER_ERROR_MEMORY,  /* the knobs need more memory than the budget */
  PL_TRAINER_ERROR_KNOBS,   /* invalid knobs */
  PL_TRAINER_ERROR_DATA,    /* the dataset cannot be trained on */
} PlTrainerError;

typedef enum {
  PL_TRAINER_READY,    /* initialised (or reset), no step taken yet */
  PL_TRAINER_RUNNING,
  PL_TRAINER_PAUSED,
  PL_TRAINER_STOPPED,  /* the run ended; reset to train again */
} PlTrainerState;

typedef struct {
  gint64 step;             /* 1 for the first step */
  double loss;             /* mean over the step's loss terms (NaN when it had none) */
  double accuracy;         /* of the loss terms, the share whose argmax is right */
  double flops_forward, flops_backward;
  gint64 pixels_pushed;    /* input pixels through the net */
  gint64 pixels_covered;   /* distinct input pixels among them */
  gint64 cells, terms;     /* output cells computed; loss terms kept */
  int patch_side;          /* effective crop side (0 = whole images) */
  int n_crops;
  double seconds;          /* wall time of the step: sampling, passes, update */
  double net_seconds;      /* of which forward + loss + backward + update */
  double elapsed;          /* training time since the run began (pauses excluded) */
  double started;          /* when the step began, on the monotonic clock (s) */
  gsize memory;            /* estimated bytes for this step's knobs */
  double val_accuracy;     /* NaN unless the run was validated after this step */
  double val_miou;
  double side_seconds;     /* preview and validation done after this step */
} PlStepMetrics;

typedef struct _PlSnapshot PlSnapshot;
typedef struct _PlTrainer PlTrainer;

typedef void (*PlTrainerNotify) (PlTrainer *trainer, gpointer user_data);

typedef struct {
  guint64 seed;
  int threads;              /* OpenBLAS threads; 0 = one fewer than the cores (at least 1) */
  gsize memory_budget;      /* bytes; 0 = half the physical memory */
  int preview_image;        /* index in the train split */
  double preview_interval;  /* seconds between preview maps; < 0 never */
  int validate_every;       /* steps between validations; 0 never */
  int validate_images;      /* val images per validation; 0 all */
  const GArray *schedule;   /* PlScheduleEntry, copied; NULL none */
  gint64 max_steps;         /* the run stops after this step; 0 no limit */
  double publish_interval;  /* seconds between snapshots while running (default 1/30) */
  PlStepGate *gate;         /* shared with runs compared side by side; NULL: none */
  GMainContext *context;    /* where notify runs; NULL: no notifications */
  PlTrainerNotify notify;
  gpointer notify_data;
} PlTrainerOptions;

void pl_trainer_options_init (PlTrainerOptions *options);

/* Takes ownership of dataset. Fails (and frees it) when the knobs are invalid,
 * need more memory than the budget, or the images are smaller than the net's
 * receptive field. The worker starts READY. */
PlTrainer *pl_trainer_new (PlDataset *dataset, const PlNetSpec *spec, const PlKnobs *knobs,
                           const PlTrainerOptions *options, GError **error);
/* Stops the worker and frees everything; call it from the notify context's thread. */
void pl_trainer_free (PlTrainer *trainer);

void pl_trainer_start (PlTrainer *trainer);     /* READY or PAUSED → RUNNING */
void pl_trainer_pause (PlTrainer *trainer);     /* RUNNING → PAUSED */
void pl_trainer_step  (PlTrainer *trainer);     /* one step, then PAUSED */
void pl_trainer_stop  (PlTrainer *trainer);     /* → STOPPED */
void pl_trainer_reset (PlTrainer *trainer);     /* weights and streams from the seed; → READY */
void pl_trainer_set_preview (PlTrainer *trainer, int image);
/* Checks knobs and the memory they need now; on success they apply at the next
 * step boundary. A refusal's message carries the numbers. */
gboolean pl_trainer_set_knobs (PlTrainer *trainer, const PlKnobs *knobs, GError **error);
/* Memory the knobs would need (what set_knobs checks against the budget). */
gsize pl_trainer_estimate_memory (PlTrainer *trainer, const PlKnobs *knobs);
gsize pl_trainer_get_memory_budget (PlTrainer *trainer);

/* Runs func (net, data) on the worker between steps and waits for it: a consistent
 * view of the weights, to save a checkpoint or to load one (func may change the
 * parameters and velocity in place; the preview is refreshed afterwards). Blocks the
 * caller; from a UI, call it in a GTask thread. */
void pl_trainer_call (PlTrainer *trainer, void (*func) (PlNet *net, gpointer data),
                      gpointer data);

/* Blocks until the worker has handled every command sent so far and published. */
void pl_trainer_sync (PlTrainer *trainer);

const PlDataset *pl_trainer_get_dataset (PlTrainer *trainer);
const PlNetSpec *pl_trainer_get_spec    (PlTrainer *trainer);
/* The newest snapshot; never NULL. */
PlSnapshot *pl_trainer_dup_snapshot (PlTrainer *trainer);

/* ---- snapshots (immutable; any thread) ---- */

PlSnapshot *pl_snapshot_ref   (PlSnapshot *snapshot);
void        pl_snapshot_unref (PlSnapshot *snapshot);

PlTrainerState pl_snapshot_get_state (const PlSnapshot *snapshot);
gint64         pl_snapshot_get_step  (const PlSnapshot *snapshot);
const PlKnobs *pl_snapshot_get_knobs (const PlSnapshot *snapshot);
guint          pl_snapshot_get_history_length (const PlSnapshot *snapshot);
const PlStepMetrics *pl_snapshot_get_metrics (const PlSnapshot *snapshot, guint i);
/* Knob edits: [0] holds the knobs the run began with (step 1). */
guint             pl_snapshot_get_n_edits (const PlSnapshot *snapshot);
const PlKnobEdit *pl_snapshot_get_edit    (const PlSnapshot *snapshot, guint i);
/* The last step's crops; keep masks are [out_h, out_w] per crop. */
guint         pl_snapshot_get_n_crops (const PlSnapshot *snapshot);
const PlCrop *pl_snapshot_get_crop    (const PlSnapshot *snapshot, guint i,
                                       int *out_h, int *out_w, const guint8 **keep);
/* The preview image's maps: probabilities [K, out_h, out_w] and argmax [out_h, out_w];
 * FALSE before the first preview. */
gboolean pl_snapshot_get_preview (const PlSnapshot *snapshot, int *image, gint64 *step,
                                  int *out_h, int *out_w, const float **probabilities,
                                  const guint8 **argmax);
/* The last event worth telling the user (divergence, refused schedule entry), with
 * a serial number that grows with each new message; NULL when none. */
const char *pl_snapshot_get_message (const PlSnapshot *snapshot, guint *serial);

/* The edit log as a schedule (the first entry's knobs are the run's start). */
GArray *pl_snapshot_dup_schedule (const PlSnapshot *snapshot);
/* The edit log as text: "1:patch=0,batch=4,…,120:patch=48,…" (a valid schedule). */
char   *pl_snapshot_dup_edit_log (const PlSnapshot *snapshot);
/* Writes the per-step history as CSV (header + one line per step), atomically. */
gboolean pl_snapshot_write_csv (const PlSnapshot *snapshot, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSnapshot, pl_snapshot_unref)

G_END_DECLS
