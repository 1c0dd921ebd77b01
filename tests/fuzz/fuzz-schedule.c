/* fuzz-schedule.c — libFuzzer target: the text forms of the knobs (pl-knobs.h), as
 * `patchlab-cli train --schedule` and the edit log use them. The input is parsed as a
 * schedule and also applied as one knob line. A schedule that parses has strictly
 * increasing steps and entries that each apply to the defaults; one that also validates
 * against the defaults applies entry after entry; knobs that apply are valid and survive
 * pl_knobs_to_string → pl_knobs_apply exactly. */
#include "fuzz-util.h"

#include "pl-knobs.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_round_trip (const PlKnobs *knobs)
{
  PL_FUZZ_CHECK (pl_knobs_validate (knobs, NULL));
  g_autofree char *line = pl_knobs_to_string (knobs);
  PlKnobs back;
  pl_knobs_init_default (&back);
  back.batch = 1;  /* differs from whatever the line must restore */
  PL_FUZZ_CHECK (pl_knobs_apply (&back, line, NULL));
  PL_FUZZ_CHECK (pl_knobs_equal (&back, knobs));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) error = NULL;
  GArray *schedule = pl_schedule_parse (text, &error);

  if (schedule == NULL)
    pl_fuzz_check_error (error, PL_KNOBS_ERROR, NULL);
  else
    {
      PlKnobs defaults, knobs;
      pl_knobs_init_default (&defaults);
      gboolean valid = pl_schedule_validate (schedule, &defaults, &error);
      if (!valid)
        pl_fuzz_check_error (error, PL_KNOBS_ERROR, "schedule at step ");
      PL_FUZZ_CHECK (schedule->len > 0);
      knobs = defaults;
      for (guint i = 0; i < schedule->len; i++)
        {
          const PlScheduleEntry *e = &g_array_index (schedule, PlScheduleEntry, i);
          PlKnobs alone = defaults;
          PL_FUZZ_CHECK (e->step >= 0);
          PL_FUZZ_CHECK (i == 0 || e->step > g_array_index (schedule, PlScheduleEntry, i - 1).step);
          PL_FUZZ_CHECK (pl_knobs_apply (&alone, e->assignments, NULL));
          check_round_trip (&alone);
          if (valid)
            {
              PL_FUZZ_CHECK (pl_knobs_apply (&knobs, e->assignments, NULL));
              check_round_trip (&knobs);
            }
        }
      pl_schedule_free (schedule);
    }
  g_clear_error (&error);

  PlKnobs line;
  pl_knobs_init_default (&line);
  PlKnobs before = line;
  if (pl_knobs_apply (&line, text, &error))
    check_round_trip (&line);
  else
    {
      pl_fuzz_check_error (error, PL_KNOBS_ERROR, NULL);
      PL_FUZZ_CHECK (pl_knobs_equal (&line, &before));  /* unchanged on error */
    }
  return 0;
}
