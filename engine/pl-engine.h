/* pl-engine.h — PatchLab's engine: a small convolutional-net library for
 * segmentation, written to make one idea measurable (FCN, §4.4, Fig. 5):
 * patchwise training and whole-image training compute the same gradient.
 *
 * Concepts
 *   PlNetSpec     the net as text ("c3x16 c3x16 p2 … c1xK"), parsed with errors.
 *   PlReceptiveField  R and J of a spec; windows and centres of output cells.
 *   PlNet         parameters in one arena (+ gradients, SGD velocity); He init.
 *   PlWorkspace   the buffers of one pass for one batch shape; one per thread.
 *   pl-layers.h   the kernels: conv (im2col + sgemm), ReLU, max pool,
 *                 softmax cross-entropy with ignore label and keep mask, SGD.
 *   pl-cost.h     FLOPs per layer and the memory a pass will allocate.
 *   pl-checkpoint.h  a net, its velocity and its knobs as one .safetensors file.
 *
 * Ownership: _new returns ownership (free with _free or g_autoptr); _get_ borrows.
 * Threading: a PlNet and a PlWorkspace belong to one thread at a time; nothing
 * here has global state except OpenBLAS's thread count (pl_engine_set_threads) and
 * a checkpoint test hook.
 * Determinism: for a given seed and thread count, results are bit-identical.
 * Dependencies: GLib, json-glib (checkpoint headers) and OpenBLAS only; never GTK.
 */
#pragma once

#include "pl-checkpoint.h"
#include "pl-cost.h"
#include "pl-layers.h"
#include "pl-net.h"
#include "pl-receptive.h"
#include "pl-rng.h"
#include "pl-spec.h"
#include "pl-workspace.h"
