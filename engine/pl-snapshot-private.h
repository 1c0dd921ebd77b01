/* pl-snapshot-private.h — the inside of a snapshot, for the trainer that builds
 * them. Everything a snapshot points to is immutable once published. */
#pragma once

#include "pl-trainer.h"

G_BEGIN_DECLS

/* Metrics are kept in chunks of PL_HISTORY_CHUNK entries. A full chunk never
 * changes again, so snapshots share it (a GBytes reference) instead of copying
 * the whole history each time; only the unfinished chunk is copied. */
#define PL_HISTORY_CHUNK 512

typedef struct {
  int image;
  gint64 step;
  int out_h, out_w, n_classes;
  float *probabilities; /* [K, out_h, out_w] */
  guint8 *argmax;       /* [out_h, out_w] */
} PlPreview;

struct _PlSnapshot {
  PlTrainerState state;
  gint64 step;
  PlKnobs knobs;
  GPtrArray *chunks;       /* GBytes of full chunks, shared */
  GBytes *tail;            /* the unfinished chunk */
  guint history_length;
  GArray *edits;           /* PlKnobEdit */
  GArray *crops;           /* PlCrop */
  GArray *crop_shapes;     /* int[3] per crop: out_h, out_w, offset into keep */
  GBytes *keep;
  PlPreview *preview;      /* shared through an atomic rc box; NULL before the first */
  char *message;
  guint message_serial;
};

PlPreview *_pl_preview_new (int image, gint64 step, int out_h, int out_w, int n_classes);
PlPreview *_pl_preview_ref (PlPreview *preview);
void       _pl_preview_unref (PlPreview *preview);

G_END_DECLS
