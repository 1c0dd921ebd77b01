/* pl-snapshot.c — reading snapshots; they are built by pl-trainer.c. */
#include "pl-snapshot-private.h"
#include "pl-tsan.h"

#include <math.h>

static void
preview_clear (gpointer data)
{
  PlPreview *preview = data;
  PL_TSAN_ACQUIRE (preview);
  g_free (preview->probabilities);
  g_free (preview->argmax);
}

PlPreview *
_pl_preview_new (int image, gint64 step, int out_h, int out_w, int n_classes)
{
  PlPreview *preview = g_atomic_rc_box_new0 (PlPreview);
  preview->image = image;
  preview->step = step;
  preview->out_h = out_h;
  preview->out_w = out_w;
  preview->n_classes = n_classes;
  preview->probabilities = g_new (float, (gsize) n_classes * out_h * out_w);
  preview->argmax = g_new (guint8, (gsize) out_h * out_w);
  return preview;
}

PlPreview *
_pl_preview_ref (PlPreview *preview)
{
  return preview != NULL ? g_atomic_rc_box_acquire (preview) : NULL;
}

void
_pl_preview_unref (PlPreview *preview)
{
  if (preview != NULL)
    {
      PL_TSAN_RELEASE (preview);
      g_atomic_rc_box_release_full (preview, preview_clear);
    }
}

static void
snapshot_clear (gpointer data)
{
  PlSnapshot *s = data;
  PL_TSAN_ACQUIRE (s);  /* every other holder released it (pl-tsan.h) */
  g_clear_pointer (&s->chunks, g_ptr_array_unref);
  g_clear_pointer (&s->tail, g_bytes_unref);
  g_clear_pointer (&s->edits, g_array_unref);
  g_clear_pointer (&s->crops, g_array_unref);
  g_clear_pointer (&s->crop_shapes, g_array_unref);
  g_clear_pointer (&s->keep, g_bytes_unref);
  g_clear_pointer (&s->preview, _pl_preview_unref);
  g_clear_pointer (&s->message, g_free);
}

PlSnapshot *
pl_snapshot_ref (PlSnapshot *snapshot)
{
  return g_atomic_rc_box_acquire (snapshot);
}

void
pl_snapshot_unref (PlSnapshot *snapshot)
{
  if (snapshot != NULL)
    {
      PL_TSAN_RELEASE (snapshot);
      g_atomic_rc_box_release_full (snapshot, snapshot_clear);
    }
}

PlTrainerState
pl_snapshot_get_state (const PlSnapshot *s)
{
  return s->state;
}

gint64
pl_snapshot_get_step (const PlSnapshot *s)
{
  return s->step;
}

const PlKnobs *
pl_snapshot_get_knobs (const PlSnapshot *s)
{
  return &s->knobs;
}

guint
pl_snapshot_get_history_length (const PlSnapshot *s)
{
  return s->history_length;
}

const PlStepMetrics *
pl_snapshot_get_metrics (const PlSnapshot *s, guint i)
{
  g_return_val_if_fail (i < s->history_length, NULL);
  guint chunk = i / PL_HISTORY_CHUNK, at = i % PL_HISTORY_CHUNK;
  GBytes *bytes = chunk < s->chunks->len ? s->chunks->pdata[chunk] : s->tail;
  const PlStepMetrics *entries = g_bytes_get_data (bytes, NULL);
  return &entries[at];
}

guint
pl_snapshot_get_n_edits (const PlSnapshot *s)
{
  return s->edits->len;
}

const PlKnobEdit *
pl_snapshot_get_edit (const PlSnapshot *s, guint i)
{
  g_return_val_if_fail (i < s->edits->len, NULL);
  return &g_array_index (s->edits, PlKnobEdit, i);
}

guint
pl_snapshot_get_n_crops (const PlSnapshot *s)
{
  return s->crops->len;
}

const PlCrop *
pl_snapshot_get_crop (const PlSnapshot *s, guint i, int *out_h, int *out_w, const guint8 **keep)
{
  g_return_val_if_fail (i < s->crops->len, NULL);
  const int *shape = &g_array_index (s->crop_shapes, int, 3 * i);
  if (out_h != NULL)
    *out_h = shape[0];
  if (out_w != NULL)
    *out_w = shape[1];
  if (keep != NULL)
    *keep = (const guint8 *) g_bytes_get_data (s->keep, NULL) + shape[2];
  return &g_array_index (s->crops, PlCrop, i);
}

gboolean
pl_snapshot_get_preview (const PlSnapshot *s, int *image, gint64 *step, int *out_h, int *out_w,
                         const float **probabilities, const guint8 **argmax)
{
  const PlPreview *p = s->preview;
  if (p == NULL)
    return FALSE;
  if (image != NULL)
    *image = p->image;
  if (step != NULL)
    *step = p->step;
  if (out_h != NULL)
    *out_h = p->out_h;
  if (out_w != NULL)
    *out_w = p->out_w;
  if (probabilities != NULL)
    *probabilities = p->probabilities;
  if (argmax != NULL)
    *argmax = p->argmax;
  return TRUE;
}

const char *
pl_snapshot_get_message (const PlSnapshot *s, guint *serial)
{
  if (serial != NULL)
    *serial = s->message_serial;
  return s->message;
}

GArray *
pl_snapshot_dup_schedule (const PlSnapshot *s)
{
  GArray *schedule = pl_schedule_new ();
  for (guint i = 0; i < s->edits->len; i++)
    {
      const PlKnobEdit *edit = &g_array_index (s->edits, PlKnobEdit, i);
      PlScheduleEntry entry = { edit->step, pl_knobs_to_string (&edit->knobs) };
      g_array_append_val (schedule, entry);
    }
  return schedule;
}

char *
pl_snapshot_dup_edit_log (const PlSnapshot *s)
{
  GString *text = g_string_new (NULL);
  for (guint i = 0; i < s->edits->len; i++)
    {
      const PlKnobEdit *edit = &g_array_index (s->edits, PlKnobEdit, i);
      g_autofree char *line = pl_knobs_to_string (&edit->knobs);
      g_string_append_printf (text, "%s%" G_GINT64_FORMAT ":%s", i ? "," : "", edit->step, line);
    }
  return g_string_free (text, FALSE);
}

gboolean
pl_snapshot_write_csv (const PlSnapshot *s, const char *path, GError **error)
{
  g_autoptr (GString) csv = g_string_new ("step,loss,accuracy,val_accuracy,val_miou,seconds,"
                                          "net_seconds,elapsed,flops_forward,flops_backward,"
                                          "pixels_pushed,pixels_covered,redundancy,cells,terms,"
                                          "patch_side,crops,memory_bytes\n");
  for (guint i = 0; i < s->history_length; i++)
    {
      const PlStepMetrics *m = pl_snapshot_get_metrics (s, i);
      g_string_append_printf (csv, "%" G_GINT64_FORMAT ",%.9g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,"
                              "%.6g,%.6g,%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%.6g,"
                              "%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%d,%d,%" G_GSIZE_FORMAT
                              "\n", m->step, m->loss, m->accuracy, m->val_accuracy, m->val_miou,
                              m->seconds, m->net_seconds, m->elapsed, m->flops_forward,
                              m->flops_backward, m->pixels_pushed, m->pixels_covered,
                              (double) m->pixels_pushed / (double) MAX (m->pixels_covered, 1),
                              m->cells, m->terms, m->patch_side, m->n_crops, m->memory);
    }
  /* g_file_set_contents writes a temporary file and renames it: never half-written. */
  return g_file_set_contents (path, csv->str, (gssize) csv->len, error);
}
