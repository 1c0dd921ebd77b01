/* test-spec.c — the text form of a net: valid specs, K, and every error path. */
#include "pl-test-util.h"

#include <string.h>

static void
test_default_spec (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (PL_DEFAULT_SPEC, 3, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpint (spec->n_layers, ==, 8);
  g_assert_cmpint (spec->n_classes, ==, 4);
  g_assert_cmpstr (spec->text, ==, "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4");
  g_assert_true (spec->layers[0].relu);
  g_assert_false (spec->layers[7].relu);  /* the classifier */
  g_assert_cmpint (spec->layers[2].kind, ==, PL_LAYER_MAXPOOL);
  g_assert_cmpint (spec->layers[2].n_out, ==, 16);  /* pool keeps channels */
  g_assert_cmpint (pl_net_spec_channels_in (spec, 7), ==, 64);
}

static void
test_whitespace_and_explicit_count (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse ("  c5x8\tp3\n c1x3 ", 1, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (spec->n_layers, ==, 3);
  g_assert_cmpint (spec->n_classes, ==, 3);
  g_assert_cmpstr (spec->text, ==, "c5x8 p3 c1x3");

  /* The same text with a matching class count also parses. */
  g_autoptr (PlNetSpec) again = pl_net_spec_parse (spec->text, 1, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->text, ==, spec->text);
}

typedef struct {
  const char *text;
  int n_classes;
  int code;
  const char *must_contain;  /* a fragment of the message */
} BadSpec;

static void
test_bad_specs (void)
{
  const BadSpec cases[] = {
    { "", 4, PL_SPEC_ERROR_STRUCTURE, "empty" },
    { "   ", 4, PL_SPEC_ERROR_STRUCTURE, "empty" },
    { "c3x16 q2 c1xK", 4, PL_SPEC_ERROR_SYNTAX, "'q2' at column 7" },
    { "c3x16 c3 c1xK", 4, PL_SPEC_ERROR_SYNTAX, "'c3' at column 7" },
    { "c3x c1xK", 4, PL_SPEC_ERROR_SYNTAX, "'c3x' at column 1" },
    { "c3x16x2 c1xK", 4, PL_SPEC_ERROR_SYNTAX, "column 1" },
    { "c0x16 c1xK", 4, PL_SPEC_ERROR_RANGE, "kernel size" },
    { "c99x16 c1xK", 4, PL_SPEC_ERROR_RANGE, "kernel size" },
    { "c3x0 c1xK", 4, PL_SPEC_ERROR_RANGE, "filter count" },
    { "c3x9999999 c1xK", 4, PL_SPEC_ERROR_SYNTAX, "column 1" },
    { "c3x5000 c1xK", 4, PL_SPEC_ERROR_RANGE, "filter count" },
    { "c3x16 p1 c1xK", 4, PL_SPEC_ERROR_RANGE, "pool size" },
    { "c3x16 p9 c1xK", 4, PL_SPEC_ERROR_RANGE, "pool size" },
    { "c3x16 p2", 4, PL_SPEC_ERROR_STRUCTURE, "last layer must be a convolution" },
    { "c3xK c1xK", 4, PL_SPEC_ERROR_STRUCTURE, "only stand in the last layer" },
    { "c3x16 c1xK", 0, PL_SPEC_ERROR_STRUCTURE, "not known" },
    { "c3x16 c1x5", 4, PL_SPEC_ERROR_STRUCTURE, "5 outputs but the data has 4 classes" },
    { "c3x16 c1x1", 0, PL_SPEC_ERROR_RANGE, "between 2 and 255 classes" },
    { "c3x16 c1x300", 0, PL_SPEC_ERROR_RANGE, "between 2 and 255 classes" },
    /* Found by fuzzing: 22 pools overflowed R and J (tests/fuzz/regressions/spec). */
    { "p8 p8 p8 p8 p8 c1x2", 0, PL_SPEC_ERROR_STRUCTURE,
      "'p8' at column 13: the receptive field grows past 8192 px" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PlNetSpec) spec = pl_net_spec_parse (cases[i].text, 3, cases[i].n_classes,
                                                      &error);
      g_test_message ("spec '%s' → %s", cases[i].text, error ? error->message : "(parsed)");
      g_assert_null (spec);
      g_assert_error (error, PL_SPEC_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].must_contain));
    }
}

static void
test_too_deep (void)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (int i = 0; i < PL_SPEC_MAX_LAYERS; i++)
    g_string_append (text, "c1x2 ");
  g_string_append (text, "c1x2");
  g_autoptr (GError) error = NULL;
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (text->str, 3, 0, &error);
  g_assert_null (spec);
  g_assert_error (error, PL_SPEC_ERROR, PL_SPEC_ERROR_STRUCTURE);
  g_assert_nonnull (strstr (error->message, "too many layers"));

  /* PL_SPEC_MAX_LAYERS layers exactly are fine. */
  g_string_truncate (text, 0);
  for (int i = 1; i < PL_SPEC_MAX_LAYERS; i++)
    g_string_append (text, "c1x2 ");
  g_string_append (text, "c1x2");
  g_clear_error (&error);
  g_autoptr (PlNetSpec) deepest = pl_net_spec_parse (text->str, 3, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (deepest->n_layers, ==, PL_SPEC_MAX_LAYERS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/spec/default", test_default_spec);
  g_test_add_func ("/spec/whitespace-and-explicit-count", test_whitespace_and_explicit_count);
  g_test_add_func ("/spec/bad-specs", test_bad_specs);
  g_test_add_func ("/spec/too-deep", test_too_deep);
  return g_test_run ();
}
