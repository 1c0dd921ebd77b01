/* test-receptive.c — receptive-field arithmetic, checked by formula and empirically:
 * backpropagating a one-hot gradient from one output cell must light up exactly the
 * computed input window. */
#include "pl-test-util.h"

#include <math.h>
#include <string.h>

static void
test_default_numbers (void)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4", 3);
  PlReceptiveField rf = pl_receptive_field (spec);
  g_assert_cmpint (rf.R, ==, 24);
  g_assert_cmpint (rf.J, ==, 4);

  int oh, ow;
  g_assert_true (pl_net_spec_output_size (spec, 24, 24, &oh, &ow));
  g_assert_cmpint (oh, ==, 1);
  g_assert_cmpint (ow, ==, 1);
  g_assert_true (pl_net_spec_output_size (spec, 512, 128, &oh, &ow));
  g_assert_cmpint (oh, ==, 123);  /* 510 508 254 252 250 125 123 123 */
  g_assert_cmpint (ow, ==, 27);   /* 126 124 62 60 58 29 27 27 */
  g_assert_false (pl_net_spec_output_size (spec, 23, 100, &oh, &ow));
  g_assert_cmpint (oh, ==, 0);

  int y, x;
  pl_receptive_field_window (rf, 2, 3, &y, &x);
  g_assert_cmpint (y, ==, 8);
  g_assert_cmpint (x, ==, 12);
  pl_receptive_field_centre (rf, 2, 3, &y, &x);
  g_assert_cmpint (y, ==, 20);
  g_assert_cmpint (x, ==, 24);

  g_assert_cmpint (pl_receptive_field_snap (rf, 10), ==, 24);
  g_assert_cmpint (pl_receptive_field_snap (rf, 24), ==, 24);
  g_assert_cmpint (pl_receptive_field_snap (rf, 27), ==, 24);
  g_assert_cmpint (pl_receptive_field_snap (rf, 28), ==, 28);
  g_assert_cmpint (pl_receptive_field_snap (rf, 100), ==, 100);
  g_assert_cmpint (pl_receptive_field_snap (rf, 101), ==, 100);
}

static void
test_partial_fields (void)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec ("c5x4 p3 c3x4 p2 c1x2", 3);
  const int R[] = { 1, 5, 7, 13, 16, 16 }, J[] = { 1, 1, 3, 3, 6, 6 };
  for (int n = 0; n <= spec->n_layers; n++)
    {
      PlReceptiveField rf = pl_receptive_field_at (spec, n);
      g_assert_cmpint (rf.R, ==, R[n]);
      g_assert_cmpint (rf.J, ==, J[n]);
    }
}

/* For one spec: over many random positive inputs, the input pixels with a nonzero
 * gradient from output cell (i, j) never leave the window, and together fill it. */
static void
check_empirical_window (const char *text, int H, int W, int i, int j)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec (text, 2);
  g_autoptr (PlNet) net = pl_net_new (spec, 7);
  g_autoptr (PlWorkspace) ws = pl_workspace_new ();
  PlReceptiveField rf = pl_receptive_field (spec);
  PlRng rng;
  pl_rng_init (&rng, 99);

  /* Positive weights and inputs keep every ReLU open, so no path cancels. */
  for (gsize p = 0; p < net->n_params; p++)
    net->params[p] = 0.01f + (float) fabs (net->params[p]);

  int oh, ow, C = spec->in_channels;
  g_assert_true (pl_net_spec_output_size (spec, H, W, &oh, &ow));
  g_assert_cmpint (i, <, oh);
  g_assert_cmpint (j, <, ow);
  gsize n_in = (gsize) C * H * W;
  g_autofree float *input = g_new (float, n_in);
  g_autofree float *dinput = g_new (float, n_in);
  g_autofree guint8 *seen = g_new0 (guint8, (gsize) H * W);
  int y0, x0;
  pl_receptive_field_window (rf, i, j, &y0, &x0);

  for (int trial = 0; trial < 200; trial++)
    {
      pl_test_fill_uniform (input, n_in, 0.1f, 1.0f, &rng);
      g_assert_true (pl_net_forward (net, ws, input, 1, H, W));
      gsize n_out = (gsize) spec->n_classes * oh * ow;
      memset (ws->dlogits, 0, sizeof (float) * n_out);
      ws->dlogits[(gsize) i * ow + j] = 1.0f;  /* class 0, cell (i, j) */
      pl_net_backward (net, ws, dinput);
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          {
            gboolean nonzero = FALSE;
            for (int c = 0; c < C; c++)
              nonzero |= dinput[((gsize) c * H + y) * W + x] != 0.0f;
            gboolean inside = y >= y0 && y < y0 + rf.R && x >= x0 && x < x0 + rf.R;
            if (nonzero && !inside)
              g_error ("%s: gradient at (%d, %d) outside window [%d,%d)x[%d,%d)", text, y, x,
                       y0, y0 + rf.R, x0, x0 + rf.R);
            seen[(gsize) y * W + x] |= nonzero;
          }
    }
  for (int y = y0; y < y0 + rf.R; y++)
    for (int x = x0; x < x0 + rf.R; x++)
      if (!seen[(gsize) y * W + x])
        g_error ("%s: window pixel (%d, %d) never received a gradient", text, y, x);
}

static void
test_empirical_windows (void)
{
  check_empirical_window ("c3x3 c3x3 c1x2", 11, 13, 2, 4);            /* R 5, J 1 */
  check_empirical_window ("c5x3 p2 c3x4 c1x2", 20, 17, 1, 0);         /* R 10, J 2 */
  check_empirical_window ("c3x4 p3 c3x4 p2 c1x2", 40, 33, 1, 1);      /* R 14, J 6 */
  check_empirical_window ("c3x4 c3x4 p2 c3x4 c3x4 p2 c3x4 c1x3", 44, 36, 2, 1); /* R 24, J 4 */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/receptive/default-numbers", test_default_numbers);
  g_test_add_func ("/receptive/partial-fields", test_partial_fields);
  g_test_add_func ("/receptive/empirical-windows", test_empirical_windows);
  return g_test_run ();
}
