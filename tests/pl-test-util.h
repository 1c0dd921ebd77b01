/* pl-test-util.h — small helpers shared by the engine tests: random fills,
 * comparisons, and the "did any branch flip?" signature gradient checks use to
 * skip points at a ReLU kink or a max-pool tie. */
#pragma once

#include "pl-engine.h"

G_BEGIN_DECLS

void   pl_test_fill_uniform (float *x, gsize n, float lo, float hi, PlRng *rng);
void   pl_test_fill_labels  (guint8 *labels, gsize n, int n_classes, float p_ignore, PlRng *rng);
double pl_test_max_abs      (const float *x, gsize n);
double pl_test_max_abs_diff (const float *a, const float *b, gsize n);
/* Hash of every ReLU sign and max-pool winner of the last forward pass. */
guint64 pl_test_branch_signature (const PlNet *net, const PlWorkspace *ws);
PlNetSpec *pl_test_spec (const char *text, int in_channels);
/* Runs the patchlab-cli named by $PATCHLAB_CLI with the arguments (NULL-terminated),
 * capturing stdout and stderr; returns the exit status (128 when it did not exit). */
int pl_test_run_cli (char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
/* A PNG that is only a header claiming width×height (valid CRCs, a token IDAT): what a
 * forged or damaged file looks like before any pixel is decoded. colour 0 grey, 2 RGB. */
void pl_test_write_forged_png (const char *path, guint32 width, guint32 height, guint8 colour);

/* A new folder from a g_dir_make_tmp template ("name-XXXXXX"); the test removes it. */
char   *pl_test_make_temp_dir (const char *template);
/* Removes a file, or a folder and everything below it (not following symlinks). */
void    pl_test_remove_tree   (const char *path);
/* Entries of a folder, hidden ones included. */
guint   pl_test_count_entries (const char *dir);
GBytes *pl_test_read_bytes    (const char *path);

G_END_DECLS

G_BEGIN_DECLS

/* The scalar a gradient check differentiates: computed from the current state;
 * *signature gets a hash of every branch taken (ReLU signs, pool winners). */
typedef double (*PlTestLossFn) (gpointer ctx, guint64 *signature);

/* Central differences at n_checks random entries of x against grad (the analytic
 * dL/dx): |numeric − analytic| ≤ atol + rtol·max(|numeric|, |analytic|). Points
 * where x ± eps changes a branch (a ReLU kink, a max-pool tie) and the two
 * disagree are skipped; the check fails if more than half are. A point with no
 * branch change must agree. Returns how many points were compared. */
int pl_test_check_gradient (const char *what, float *x, const float *grad, gsize n,
                            int n_checks, float eps, double rtol, double atol,
                            PlTestLossFn loss, gpointer ctx, PlRng *rng);

G_END_DECLS
