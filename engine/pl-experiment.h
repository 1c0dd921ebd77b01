/* pl-experiment.h — training runs compared side by side: the lesson's experiments.
 *
 * An experiment is a few arms (knob settings), each trained with the same seeds:
 *
 *   fig5          the paper's Figure 5: whole images, loss-sampling ratio p = 1, 0.5,
 *                 0.25, with round(B / p) images per step so that the expected number
 *                 of loss terms per step stays fixed (the knobs' fixed_terms);
 *   patch-vs-fcn  patchwise training (R×R crops, 64 per step) against fully
 *                 convolutional training (whole images, 4 per step).
 *
 * Runs of one seed start from the same weights and see the same sequence of images
 * (the sampler's image stream; see pl-sampler.h). Runs go one at a time, seed after
 * seed and arm after arm within a seed, so each has the machine to itself and slow
 * drift of the machine's speed touches every arm alike: wall times compare honestly.
 *
 * What it gives: each run's final snapshot (its per-step history), a summary per run
 * and per arm, loss curves (per seed or their mean, optionally smoothed) against step
 * and against training time, and CSV files. Not for drawing: patchlab-cli draws the
 * figure from these curves (app/cli-experiment-figure.c).
 */
#pragma once

#include "pl-dataset.h"
#include "pl-knobs.h"
#include "pl-spec.h"
#include "pl-trainer.h"

G_BEGIN_DECLS

#define PL_EXPERIMENT_ERROR (pl_experiment_error_quark ())
GQuark pl_experiment_error_quark (void);

typedef enum {
  PL_EXPERIMENT_ERROR_NAME,      /* no experiment of that name */
  PL_EXPERIMENT_ERROR_DIVERGED,  /* a run's loss or gradient stopped being finite */
} PlExperimentError;

typedef struct {
  char id[32];      /* in file names: "p1", "p0.5", "patchwise", "fcn" */
  char label[64];   /* in legends and tables: "p = 0.5 (4 images)" */
  PlKnobs knobs;
} PlExperimentArm;

typedef struct _PlExperiment PlExperiment;

/* Called while a run goes on (about every 0.2 s) and once when it ends. */
typedef void (*PlExperimentProgress) (const PlExperiment *experiment, guint arm, guint seed,
                                      const PlSnapshot *snapshot, gpointer user_data);

typedef struct {
  gint64 steps;             /* per run */
  guint n_seeds;
  guint64 first_seed;       /* seeds first_seed, first_seed + 1, … */
  int threads;              /* OpenBLAS threads; 0 = every core (a run has the machine) */
  int validate_images;      /* val images evaluated after the last step; 0 all */
  PlExperimentProgress progress;
  gpointer progress_data;
} PlExperimentOptions;

void pl_experiment_options_init (PlExperimentOptions *options);

/* TRUE when pl_experiment_new knows the name; otherwise an error that lists those it
 * knows. */
gboolean pl_experiment_check_name (const char *name, GError **error);

/* The arms of a named experiment for this net (copied: the runs train it, so its class
 * count must be the dataset's; its receptive field sets the patchwise crop side). An
 * error naming the experiment when there is none of that name. */
PlExperiment *pl_experiment_new  (const char *name, const PlNetSpec *spec, GError **error);
void          pl_experiment_free (PlExperiment *experiment);

const char            *pl_experiment_get_name   (const PlExperiment *experiment);
const char            *pl_experiment_get_title  (const PlExperiment *experiment);
guint                  pl_experiment_get_n_arms (const PlExperiment *experiment);
const PlExperimentArm *pl_experiment_get_arm    (const PlExperiment *experiment, guint arm);

/* Trains every arm with every seed on copies of dataset, one run at a time, and keeps
 * the runs' final snapshots (replacing those of an earlier call). Blocks until done.
 * Fails (keeping the runs finished so far) when a trainer refuses the knobs or a run
 * diverges; the message names the arm and the seed. */
gboolean pl_experiment_run (PlExperiment              *experiment,
                            const PlDataset           *dataset,
                            const PlExperimentOptions *options,
                            GError                   **error);

guint       pl_experiment_get_n_seeds (const PlExperiment *experiment);
guint64     pl_experiment_get_seed    (const PlExperiment *experiment, guint seed);
/* The final snapshot of (arm, seed index); NULL before that run finished. Borrowed. */
PlSnapshot *pl_experiment_get_run     (const PlExperiment *experiment, guint arm, guint seed);

/* ---- what to compare ---- */

typedef struct {
  gint64 steps;
  double final_loss;         /* mean loss of the last 10% of steps (at least one) */
  double val_accuracy;       /* after the last step; NaN without a val split */
  double val_miou;
  double step_seconds;       /* mean training time per step (validation excluded) */
  double total_seconds;      /* training time of the run */
  double flops_per_step;     /* forward + backward, mean over steps */
  double redundancy;         /* input pixels pushed ÷ distinct pixels covered, over the run */
  double terms_per_step;     /* loss terms, mean over steps */
} PlRunSummary;

void pl_run_summary_compute (const PlSnapshot *snapshot, PlRunSummary *summary);

typedef struct {
  double final_loss, final_loss_sd;  /* mean and standard deviation over seeds */
  double val_accuracy, val_miou;     /* means over seeds */
  double step_seconds;               /* mean over seeds */
  double total_seconds;              /* mean over seeds */
  double time_to_threshold;          /* training seconds until the arm's mean curve
                                      * (smoothed) first reaches the threshold; NaN never */
  double speedup;                    /* the first arm's time_to_threshold ÷ this arm's */
} PlArmSummary;

/* The trailing window the curves of summaries and figures are smoothed with: steps / 20,
 * at least 1. */
guint  pl_experiment_smoothing (const PlExperiment *experiment);
/* A loss every arm reaches: 1.05 × the highest of the arms' mean final losses. */
double pl_experiment_threshold (const PlExperiment *experiment);
void   pl_experiment_summarize_arm (const PlExperiment *experiment, guint arm, double threshold,
                                    PlArmSummary *summary);

typedef struct {
  guint n;          /* steps */
  double *step;     /* [n] 1, 2, … n */
  double *loss;     /* [n] NaN where no run had a loss term */
  double *seconds;  /* [n] training time at the end of the step */
} PlCurve;

/* Loss against step and training time of one run (seed index), or with seed = -1 the
 * mean over seeds (step by step; steps all runs have). The loss is smoothed by a trailing
 * mean over `window` steps (1: as recorded), fewer at the start: a quarter of the steps
 * so far, so that the fast early drop is not smeared. NULL before the runs finished. */
PlCurve *pl_experiment_dup_curve (const PlExperiment *experiment, guint arm, int seed,
                                  guint window);
void     pl_curve_free (PlCurve *curve);

/* Writes DIR/<name>-<arm id>-seed<k>.csv (each run's history, pl_snapshot_write_csv) and
 * DIR/<name>-summary.csv (one row per run: arm, seed, final loss, val accuracy and mIoU,
 * mean step seconds, FLOPs per step, redundancy, loss terms per step), each atomically. */
gboolean pl_experiment_write_csv (const PlExperiment *experiment, const char *dir,
                                  GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlExperiment, pl_experiment_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlCurve, pl_curve_free)

G_END_DECLS
