/* pl-receptive.h — receptive-field arithmetic for valid convolutions and pools.
 *
 * For layers l = 1..L with kernel k_l and stride s_l:
 *   J_l = J_{l-1}·s_l,   R_l = R_{l-1} + (k_l − 1)·J_{l-1},   J_0 = R_0 = 1.
 * Output cell (i, j) sees input rows [i·J, i·J + R) and columns [j·J, j·J + R);
 * its label is the input pixel at the window's centre, (i·J + R/2, j·J + R/2)
 * with integer division (the pixel right of the middle when R is even).
 * Sizes go layer by layer: out = ⌊(in − k)/s⌋ + 1.
 */
#pragma once

#include "pl-spec.h"

G_BEGIN_DECLS

typedef struct {
  int R;  /* receptive field side, in input pixels */
  int J;  /* jump: input pixels between neighbouring output cells */
} PlReceptiveField;

typedef struct {
  int channels, height, width;
} PlShape;

PlReceptiveField pl_receptive_field (const PlNetSpec *spec);
/* Receptive field after the first n layers (n = 0 gives R = J = 1). */
PlReceptiveField pl_receptive_field_at (const PlNetSpec *spec, int n);

/* Fills shapes[0..n_layers] (shapes[0] is the input); returns FALSE when the
 * input is too small for some layer (that layer's output would be empty). */
gboolean pl_net_spec_shapes (const PlNetSpec *spec, int height, int width, PlShape *shapes);
/* Output grid for an input; FALSE (and 0×0) when the input is too small. */
gboolean pl_net_spec_output_size (const PlNetSpec *spec, int height, int width,
                                  int *out_height, int *out_width);

/* The input window of output cell (i, j): top-left corner; the side is R. */
void pl_receptive_field_window (PlReceptiveField rf, int i, int j, int *y0, int *x0);
/* The input pixel whose label output cell (i, j) is trained on. */
void pl_receptive_field_centre (PlReceptiveField rf, int i, int j, int *y, int *x);

/* n snapped down to the nearest side whose (side − R) is a multiple of J, and
 * never below R: the crop sides whose output cells tile the crop exactly. */
int pl_receptive_field_snap (PlReceptiveField rf, int n);

G_END_DECLS
