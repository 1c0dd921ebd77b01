/* pl-spec.h — a net described as text, e.g. "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK".
 *
 * Tokens, separated by white space:
 *   cKxN   k×k valid convolution (stride 1) with N filters, followed by ReLU;
 *   pK     K×K max pool with stride K.
 * The last token must be a convolution: it is the classifier (no ReLU) and its
 * filter count is the number of classes. It may be written "K", meaning "as many
 * as the dataset has". Parsing errors name the token, its column and the reason.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PL_SPEC_ERROR (pl_spec_error_quark ())
GQuark pl_spec_error_quark (void);

typedef enum {
  PL_SPEC_ERROR_SYNTAX,   /* a token that is not cKxN or pK */
  PL_SPEC_ERROR_RANGE,    /* a number outside its documented limit */
  PL_SPEC_ERROR_STRUCTURE /* empty, too deep, receptive field too large, no classifier,
                             class count mismatch */
} PlSpecError;

/* Documented limits; they keep memory estimates meaningful and reject typos. */
#define PL_SPEC_MAX_LAYERS   64
#define PL_SPEC_MAX_KERNEL   31
#define PL_SPEC_MAX_POOL     8
#define PL_SPEC_MAX_FILTERS  4096
#define PL_SPEC_MAX_CLASSES  255   /* label 255 means "ignore" */
/* Largest receptive field: a net that sees more than the largest image side
 * (PL_IMAGE_MAX_SIDE) can never produce an output cell. It also bounds the jump J. */
#define PL_SPEC_MAX_RECEPTIVE 8192

typedef enum {
  PL_LAYER_CONV,
  PL_LAYER_MAXPOOL,
} PlLayerKind;

typedef struct {
  PlLayerKind kind;
  int k;         /* kernel side */
  int stride;    /* 1 for conv, k for pool */
  int n_out;     /* output channels (conv); equal to the input's for pool */
  gboolean relu; /* conv followed by ReLU (every conv but the classifier) */
} PlLayerSpec;

typedef struct {
  int n_layers;
  PlLayerSpec *layers;  /* [n_layers] */
  int in_channels;
  int n_classes;
  char *text;           /* canonical text, with K resolved */
} PlNetSpec;

#define PL_DEFAULT_SPEC "c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1xK"

/* n_classes > 0 resolves "K" and must agree with an explicit classifier count;
 * n_classes <= 0 requires an explicit count. */
PlNetSpec *pl_net_spec_parse (const char *text,
                              int         in_channels,
                              int         n_classes,
                              GError    **error);
PlNetSpec *pl_net_spec_copy  (const PlNetSpec *spec);
void       pl_net_spec_free  (PlNetSpec *spec);
/* Channel count entering layer l (l = n_layers gives the classes). */
int        pl_net_spec_channels_in (const PlNetSpec *spec, int l);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlNetSpec, pl_net_spec_free)

G_END_DECLS
