/* pl-engine.h — PatchLab's engine: a small convolutional-net library for
 * segmentation, written to make one idea measurable (FCN, §4.4, Fig. 5):
 * patchwise training and whole-image training compute the same gradient.
 *
 * Concepts, from the bottom up
 *   PlNetSpec        the net as text ("c3x16 c3x16 p2 … c1xK"), parsed with errors.
 *   PlReceptiveField R and J of a spec; windows and centres of output cells.
 *   pl-layers.h      the kernels: conv (im2col + sgemm), ReLU, max pool, softmax
 *                    cross-entropy with ignore label and keep mask, SGD.
 *   PlNet            parameters in one arena (+ gradients, SGD velocity); He init.
 *   PlWorkspace      the buffers of one pass for one batch shape; one per thread.
 *   pl-cost.h        FLOPs per layer and the memory a pass will allocate.
 *   PlDataset        images + per-pixel labels: built-in scenes, a folder, or
 *                    Fashion-MNIST scenes (pl-dataset.h; PNG/JPEG in pl-image-io.h).
 *   PlKnobs          patch size N, batch size B, sampling ratio p, optimiser settings;
 *                    schedules of knob changes (pl-knobs.h).
 *   PlSampler        one step's crops or whole images, labels at receptive-field
 *                    centres, keep masks, redundancy counts.
 *   PlTrainer        a run on a worker thread: commands in, PlSnapshot out.
 *   PlStepGate       runs compared side by side take turns, one step each.
 *   pl-evaluate.h    whole-image inference, pixel accuracy and mean IoU.
 *   PlExperiment     arms of knobs trained side by side with the same seeds (Figure 5,
 *                    patchwise against fully convolutional), one run at a time.
 *   pl-equivalence.h the FCN property on a net's current weights: whole-image
 *                    gradient against the summed gradients of its R×R patches.
 *   pl-checkpoint.h  a net, its velocity and its knobs as one .safetensors file.
 *
 * Ownership: _new returns ownership (free with _free or g_autoptr); _get_ borrows;
 * _dup_ and _ref return a new reference.
 * Threading: a PlNet and a PlWorkspace belong to one thread at a time; a PlTrainer
 * may be driven from any thread and its snapshots read from any thread. Global
 * state: OpenBLAS's thread count (pl_engine_set_threads) and two test hooks (checkpoint
 * write failures, folder decoding).
 * Determinism: for a given seed and thread count, results are bit-identical.
 * Dependencies: GLib (+ GIO, json-glib), libpng, libjpeg and OpenBLAS; never GTK.
 */
#pragma once

#include "pl-checkpoint.h"
#include "pl-cost.h"
#include "pl-dataset.h"
#include "pl-equivalence.h"
#include "pl-evaluate.h"
#include "pl-experiment.h"
#include "pl-image-io.h"
#include "pl-knobs.h"
#include "pl-layers.h"
#include "pl-net.h"
#include "pl-receptive.h"
#include "pl-rng.h"
#include "pl-sampler.h"
#include "pl-spec.h"
#include "pl-step-gate.h"
#include "pl-trainer.h"
#include "pl-workspace.h"
