/* pl-evaluate.h — running a trained net on whole images: per-class probability
 * maps and argmax for the preview, and the validation metrics (pixel accuracy and
 * mean IoU over output cells, labelled at receptive-field centres). */
#pragma once

#include "pl-dataset.h"
#include "pl-net.h"

G_BEGIN_DECLS

typedef struct {
  int n_classes;
  gint64 *confusion;  /* [truth, predicted] counts, n_classes² */
} PlConfusion;

void   pl_confusion_init  (PlConfusion *c, int n_classes);
void   pl_confusion_clear (PlConfusion *c);
double pl_confusion_accuracy  (const PlConfusion *c);  /* NaN when empty */
/* Mean over classes that occur (in truth or prediction) of TP / (TP + FP + FN). */
double pl_confusion_mean_iou  (const PlConfusion *c);

/* Forward pass over one whole sample. probabilities [K, oh, ow] and argmax [oh, ow]
 * may be NULL; confusion (may be NULL) gains the cells whose label is not 255.
 * FALSE when the sample is smaller than the receptive field. */
gboolean pl_evaluate_sample (PlNet *net, PlWorkspace *ws, const PlSample *sample,
                             float *probabilities, guint8 *argmax, PlConfusion *confusion);

G_END_DECLS

G_BEGIN_DECLS

/* Accuracy of always answering the most frequent class, over the labelled centre
 * cells of whole samples: the baseline a trained net has to beat. */
double pl_evaluate_majority_baseline (const PlNetSpec *spec, GPtrArray *samples);

/* Pixel accuracy and mean IoU of the net over whole samples (at most max_samples; 0
 * all). */
void pl_evaluate_samples (PlNet *net, PlWorkspace *ws, GPtrArray *samples, guint max_samples,
                          double *accuracy, double *mean_iou);

G_END_DECLS
