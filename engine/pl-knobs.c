/* pl-knobs.c — defaults, validation and the text forms of the knobs. */
#include "pl-knobs.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (pl-knobs-error-quark, pl_knobs_error)

void
pl_knobs_init_default (PlKnobs *knobs)
{
  *knobs = (PlKnobs) {
    .patch = 0,
    .batch = 4,
    .sampling = 1.0,
    .fixed_terms = FALSE,
    .free_origin = FALSE,
    .lr = 0.01,
    .momentum = 0.9,
    .weight_decay = 1e-4,
  };
}

gboolean
pl_knobs_validate (const PlKnobs *k, GError **error)
{
  const char *why = NULL;
  if (k->patch < 0 || k->patch > PL_KNOBS_MAX_PATCH)
    why = "patch must be 0 (whole images) or a side of at most " G_STRINGIFY (PL_KNOBS_MAX_PATCH);
  else if (k->batch < 1 || k->batch > PL_KNOBS_MAX_BATCH)
    why = "batch must be between 1 and " G_STRINGIFY (PL_KNOBS_MAX_BATCH);
  else if (!(k->sampling > 0.0 && k->sampling <= 1.0))
    why = "sampling must be in (0, 1]";
  else if (k->fixed_terms && ceil (k->batch / k->sampling) > PL_KNOBS_MAX_BATCH)
    why = "batch / sampling must stay at most " G_STRINGIFY (PL_KNOBS_MAX_BATCH);
  else if (!(k->lr >= 0.0 && k->lr <= 10.0))
    why = "lr must be in [0, 10]";
  else if (!(k->momentum >= 0.0 && k->momentum < 1.0))
    why = "momentum must be in [0, 1)";
  else if (!(k->weight_decay >= 0.0 && k->weight_decay <= 1.0))
    why = "weight-decay must be in [0, 1]";
  if (why != NULL)
    {
      g_set_error (error, PL_KNOBS_ERROR, PL_KNOBS_ERROR_RANGE, "%s", why);
      return FALSE;
    }
  return TRUE;
}

gboolean
pl_knobs_equal (const PlKnobs *a, const PlKnobs *b)
{
  return a->patch == b->patch && a->batch == b->batch && a->sampling == b->sampling
         && !a->fixed_terms == !b->fixed_terms && !a->free_origin == !b->free_origin
         && a->lr == b->lr && a->momentum == b->momentum && a->weight_decay == b->weight_decay;
}

static gboolean
parse_int (const char *text, int *out)
{
  char *end;
  errno = 0;
  long v = strtol (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < G_MININT || v > G_MAXINT)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static gboolean
parse_double (const char *text, double *out)
{
  char *end;
  errno = 0;
  double v = g_ascii_strtod (text, &end);
  if (errno != 0 || end == text || *end != '\0' || !isfinite (v))
    return FALSE;
  *out = v;
  return TRUE;
}

static gboolean
parse_bool (const char *text, gboolean *out)
{
  if (g_str_equal (text, "1") || g_str_equal (text, "true") || g_str_equal (text, "yes"))
    *out = TRUE;
  else if (g_str_equal (text, "0") || g_str_equal (text, "false") || g_str_equal (text, "no"))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

/* One "key=value" into *k; FALSE with an error naming the assignment. */
static gboolean
apply_one (PlKnobs *k, const char *assignment, GError **error)
{
  const char *eq = strchr (assignment, '=');
  if (eq == NULL || eq == assignment)
    {
      g_set_error (error, PL_KNOBS_ERROR, PL_KNOBS_ERROR_SYNTAX,
                   "'%s': expected key=value (keys: patch, batch, sampling, fixed-terms, "
                   "free-origin, lr, momentum, weight-decay)", assignment);
      return FALSE;
    }
  g_autofree char *key = g_strndup (assignment, (gsize) (eq - assignment));
  const char *value = eq + 1;
  gboolean ok;
  if (g_str_equal (key, "patch"))
    ok = parse_int (value, &k->patch);
  else if (g_str_equal (key, "batch"))
    ok = parse_int (value, &k->batch);
  else if (g_str_equal (key, "sampling"))
    ok = parse_double (value, &k->sampling);
  else if (g_str_equal (key, "fixed-terms"))
    ok = parse_bool (value, &k->fixed_terms);
  else if (g_str_equal (key, "free-origin"))
    ok = parse_bool (value, &k->free_origin);
  else if (g_str_equal (key, "lr"))
    ok = parse_double (value, &k->lr);
  else if (g_str_equal (key, "momentum"))
    ok = parse_double (value, &k->momentum);
  else if (g_str_equal (key, "weight-decay"))
    ok = parse_double (value, &k->weight_decay);
  else
    {
      g_set_error (error, PL_KNOBS_ERROR, PL_KNOBS_ERROR_SYNTAX,
                   "'%s': unknown knob '%s' (keys: patch, batch, sampling, fixed-terms, "
                   "free-origin, lr, momentum, weight-decay)", assignment, key);
      return FALSE;
    }
  if (!ok)
    {
      g_set_error (error, PL_KNOBS_ERROR, PL_KNOBS_ERROR_SYNTAX, "'%s': '%s' is not a valid %s",
                   assignment, value,
                   g_str_equal (key, "patch") || g_str_equal (key, "batch") ? "integer"
                   : g_str_has_suffix (key, "-terms") || g_str_has_suffix (key, "-origin")
                     ? "boolean (0 or 1)" : "number");
      return FALSE;
    }
  return TRUE;
}

gboolean
pl_knobs_apply (PlKnobs *knobs, const char *line, GError **error)
{
  PlKnobs k = *knobs;
  g_auto (GStrv) parts = g_strsplit (line, ",", -1);
  for (int i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        continue;
      if (!apply_one (&k, parts[i], error))
        return FALSE;
    }
  if (!pl_knobs_validate (&k, error))
    return FALSE;
  *knobs = k;
  return TRUE;
}

char *
pl_knobs_to_string (const PlKnobs *k)
{
  char sampling[G_ASCII_DTOSTR_BUF_SIZE], lr[G_ASCII_DTOSTR_BUF_SIZE];
  char momentum[G_ASCII_DTOSTR_BUF_SIZE], wd[G_ASCII_DTOSTR_BUF_SIZE];
  /* %.17g round-trips every double exactly. */
  return g_strdup_printf ("patch=%d,batch=%d,sampling=%s,fixed-terms=%d,free-origin=%d,lr=%s,"
                          "momentum=%s,weight-decay=%s", k->patch, k->batch,
                          g_ascii_formatd (sampling, sizeof sampling, "%.17g", k->sampling),
                          !!k->fixed_terms, !!k->free_origin,
                          g_ascii_formatd (lr, sizeof lr, "%.17g", k->lr),
                          g_ascii_formatd (momentum, sizeof momentum, "%.17g", k->momentum),
                          g_ascii_formatd (wd, sizeof wd, "%.17g", k->weight_decay));
}

static void
clear_entry (gpointer data)
{
  g_free (((PlScheduleEntry *) data)->assignments);
}

void
pl_schedule_free (GArray *schedule)
{
  if (schedule != NULL)
    g_array_unref (schedule);
}

GArray *
pl_schedule_new (void)
{
  GArray *schedule = g_array_new (FALSE, TRUE, sizeof (PlScheduleEntry));
  g_array_set_clear_func (schedule, clear_entry);
  return schedule;
}

/* Applies one schedule entry to *knobs; the error names its step. */
static gboolean
apply_entry (PlKnobs *knobs, const PlScheduleEntry *entry, GError **error)
{
  g_autoptr (GError) local = NULL;
  if (pl_knobs_apply (knobs, entry->assignments, &local))
    return TRUE;
  g_set_error (error, PL_KNOBS_ERROR, local->code, "schedule at step %" G_GINT64_FORMAT ": %s",
               entry->step, local->message);
  return FALSE;
}

gboolean
pl_schedule_validate (const GArray *schedule, const PlKnobs *start, GError **error)
{
  PlKnobs knobs = *start;
  for (guint i = 0; i < schedule->len; i++)
    if (!apply_entry (&knobs, &g_array_index (schedule, PlScheduleEntry, i), error))
      return FALSE;
  return TRUE;
}

GArray *
pl_schedule_parse (const char *text, GError **error)
{
  GArray *schedule = pl_schedule_new ();
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  GString *current = NULL;
  gint64 step = -1;

  for (int i = 0; ; i++)
    {
      char *part = parts[i] != NULL ? g_strstrip (parts[i]) : NULL;
      const char *colon = part != NULL ? strchr (part, ':') : NULL;
      if (part != NULL && part[0] == '\0')
        continue;
      /* A new step (or the end) closes the entry being collected. */
      if ((part == NULL || colon != NULL) && current != NULL)
        {
          PlScheduleEntry entry = { step, g_string_free (current, FALSE) };
          current = NULL;
          PlKnobs probe;
          pl_knobs_init_default (&probe);
          g_array_append_val (schedule, entry);
          if (!apply_entry (&probe, &entry, error))
            {
              g_array_unref (schedule);
              return NULL;
            }
        }
      if (part == NULL)
        break;
      const char *assignment = part;
      if (colon != NULL)
        {
          g_autofree char *number = g_strndup (part, (gsize) (colon - part));
          char *end;
          errno = 0;
          gint64 s = g_ascii_strtoll (number, &end, 10);
          if (errno != 0 || end == number || *end != '\0' || s < 0 || s <= step)
            {
              g_set_error (error, PL_KNOBS_ERROR, PL_KNOBS_ERROR_SYNTAX,
                           "schedule: '%s': expected STEP:key=value with steps increasing", part);
              g_array_unref (schedule);
              return NULL;
            }
          step = s;
          current = g_string_new (NULL);
          assignment = colon + 1;
        }
      else if (current == NULL)
        {
          g_set_error (error, PL_KNOBS_ERROR, PL_KNOBS_ERROR_SYNTAX,
                       "schedule: '%s' has no step; write STEP:key=value, e.g. 200:patch=64",
                       part);
          g_array_unref (schedule);
          return NULL;
        }
      if (current->len > 0)
        g_string_append_c (current, ',');
      g_string_append (current, assignment);
    }
  if (schedule->len == 0)
    {
      g_set_error (error, PL_KNOBS_ERROR, PL_KNOBS_ERROR_SYNTAX, "schedule: it is empty");
      g_array_unref (schedule);
      return NULL;
    }
  return schedule;
}
