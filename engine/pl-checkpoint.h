/* pl-checkpoint.h — a net and its training state saved as one .safetensors file.
 *
 * Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of UTF-8 JSON padded with spaces to a multiple of 8, then the data
 * buffer. The JSON maps each tensor name to {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]} (offsets into the buffer; tensors little-endian,
 * contiguous, covering the buffer exactly) and "__metadata__" to string → string.
 *
 * Tensors, l being the layer's index in the spec (pool layers leave gaps):
 *   conv{l}.weight            [F, C, k, k]  (PyTorch's Conv2d layout)
 *   conv{l}.bias              [F]
 *   velocity.conv{l}.weight   [F, C, k, k]  SGD momentum; all or none of them
 *   velocity.conv{l}.bias     [F]
 *
 * Metadata, every value a string (numbers in decimal; doubles with 17 significant
 * digits, so they read back bit-identical):
 *   patchlab_format  "1"
 *   spec             canonical spec text with the class count, e.g. "… c1x4"
 *   in_channels      "3"
 *   class_names      a JSON array of strings, e.g. "[\"background\", \"cell\"]"
 *   dataset          one line of text
 *   step, seed       integers (seed unsigned 64-bit)
 *   patch_size, batch_size, sampling, lr, momentum, weight_decay   the knobs
 *   history          optional: the knob-edit log
 * Other metadata keys are ignored on load, so other tools may add theirs.
 *
 * Not for: datasets, UI state, or reading safetensors files of other shapes.
 * Loading reads the file with pread(), validates the header and every size against
 * the spec before allocating anything, then reads each tensor into a new net. The
 * header must be strict JSON (json-glib alone would accept comments).
 * tools/safetensors-check.py checks a file without this code.
 */
#pragma once

#include "pl-net.h"

G_BEGIN_DECLS

#define PL_CHECKPOINT_ERROR (pl_checkpoint_error_quark ())
GQuark pl_checkpoint_error_quark (void);

typedef enum {
  PL_CHECKPOINT_ERROR_IO,       /* open, read, write, fsync or rename failed */
  PL_CHECKPOINT_ERROR_FORMAT,   /* not a valid safetensors file or PatchLab checkpoint */
  PL_CHECKPOINT_ERROR_MISMATCH, /* tensors or class names that do not fit the spec */
  PL_CHECKPOINT_ERROR_LIMIT     /* header over PL_CHECKPOINT_MAX_HEADER, or JSON nested
                                   deeper than 32 levels */
} PlCheckpointError;

/* The reference implementation's limit on the JSON header. */
#define PL_CHECKPOINT_MAX_HEADER (100 * 1024 * 1024)

typedef struct {
  char *spec;           /* canonical net spec text, e.g. "c3x16 … c1x4" */
  int in_channels;      /* 3 */
  char **class_names;   /* NULL-terminated; count = the classifier's outputs */
  char *dataset;        /* one-line description; NULL is saved as "" */
  gint64 step;
  guint64 seed;
  int patch_size, batch_size;
  double sampling, lr, momentum, weight_decay;
  char *history;        /* optional: the knob-edit log as text, may be NULL */
} PlCheckpointMeta;

/* Frees the strings and zeroes *meta. */
void pl_checkpoint_meta_clear (PlCheckpointMeta *meta);

/* Writes net (weights, biases and, if with_velocity, the SGD velocity) and meta to
 * path atomically: a temporary file "<path>.tmp-XXXXXX" in the same folder, fsync,
 * rename. On failure (disk full, read-only folder, …) the temporary file is removed and
 * whatever was at path is untouched. A process killed mid-save leaves its temporary
 * file behind (path itself is the old file or the new one, never partial); the next
 * save to path removes such leftovers, and loading never reads them.
 * The spec and channel count written are the net's; meta->spec and meta->in_channels
 * are ignored. Fails (without writing) when the class names do not match the
 * classifier, a knob or parameter is NaN or infinite, or a string is not UTF-8. */
gboolean pl_checkpoint_save (const char       *path,
                             const PlNet      *net,
                             const PlCheckpointMeta *meta,
                             gboolean          with_velocity,
                             GError          **error);

/* Reads a checkpoint into a new net (velocity zero when the file has none) and, when
 * meta is not NULL, fills *meta (overwritten: clear it first if it holds anything;
 * left zeroed on failure). Every error names the file and the reason. */
PlNet *pl_checkpoint_load (const char       *path,
                           PlCheckpointMeta *meta,
                           GError          **error);

/* For tests only (global, not thread-safe): makes every later save fail with
 * PL_CHECKPOINT_ERROR_IO once n bytes have been written; n < 0 turns it off. */
void pl_checkpoint_set_fail_after_bytes_for_testing (gssize n);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlCheckpointMeta, pl_checkpoint_meta_clear)

G_END_DECLS
