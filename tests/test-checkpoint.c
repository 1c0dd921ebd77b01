/* test-checkpoint.c — safetensors checkpoints: bit-identical round trips, the file as
 * an independent reader sees it, atomic saves that fail cleanly, and every way the
 * loader must reject a hostile file. */
#include "pl-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* ---- Fixtures ---- */

static void
remove_temp_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A net whose every parameter and velocity entry is non-zero and random. */
static PlNet *
make_net (const char *spec_text, int in_channels, guint64 seed)
{
  g_autoptr (PlNetSpec) spec = pl_test_spec (spec_text, in_channels);
  PlNet *net = pl_net_new (spec, seed);
  PlRng rng;
  pl_rng_init (&rng, seed ^ 0x5eed);
  pl_test_fill_uniform (net->params, net->n_params, -2.0f, 2.0f, &rng);
  pl_test_fill_uniform (net->velocity, net->n_params, -0.5f, 0.5f, &rng);
  return net;
}

static void
fill_meta (PlCheckpointMeta *meta, int n_classes, gboolean with_history)
{
  const char *names[] = { "background", "cell \"nucleus\"", "membrane\nline two",
                          "débris ✓", "five", "six" };
  g_assert_cmpint (n_classes, <=, (int) G_N_ELEMENTS (names));
  memset (meta, 0, sizeof *meta);
  meta->class_names = g_new0 (char *, n_classes + 1);
  for (int i = 0; i < n_classes; i++)
    meta->class_names[i] = g_strdup (names[i]);
  meta->dataset = g_strdup ("ISBI 2012 — 30 slices, 512×512, \"train\" split");
  meta->step = G_GINT64_CONSTANT (123456789012);
  meta->seed = G_MAXUINT64;
  meta->patch_size = 65;
  meta->batch_size = 16;
  meta->sampling = 0.3;
  meta->lr = 0.1;
  meta->momentum = 0.9;
  meta->weight_decay = 5e-4;
  if (with_history)
    meta->history = g_strdup ("step 0: lr 0.01\nstep 500: lr 0.1 {\"json\": true}\n");
}

static void
assert_double_bits (double a, double b)
{
  g_assert_cmpmem (&a, sizeof a, &b, sizeof b);
}

static void
assert_meta_equal (const PlCheckpointMeta *got, const PlCheckpointMeta *want,
                   const PlNet *net)
{
  g_assert_cmpstr (got->spec, ==, net->spec->text);
  g_assert_cmpint (got->in_channels, ==, net->spec->in_channels);
  g_assert_cmpstrv (got->class_names, want->class_names);
  g_assert_cmpstr (got->dataset, ==, want->dataset);
  g_assert_cmpint (got->step, ==, want->step);
  g_assert_cmpuint (got->seed, ==, want->seed);
  g_assert_cmpint (got->patch_size, ==, want->patch_size);
  g_assert_cmpint (got->batch_size, ==, want->batch_size);
  assert_double_bits (got->sampling, want->sampling);
  assert_double_bits (got->lr, want->lr);
  assert_double_bits (got->momentum, want->momentum);
  assert_double_bits (got->weight_decay, want->weight_decay);
  g_assert_cmpstr (got->history, ==, want->history);
}

static void
assert_meta_empty (const PlCheckpointMeta *meta)
{
  static const PlCheckpointMeta zero;
  g_assert_cmpmem (meta, sizeof *meta, &zero, sizeof zero);
}

static void
save_ok (const char *path, const PlNet *net, const PlCheckpointMeta *meta, gboolean velocity)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = pl_checkpoint_save (path, net, meta, velocity, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

/* ---- Round trips ---- */

static void
check_round_trip (const char *spec_text, int in_channels, int n_classes, gboolean velocity,
                  gboolean with_history)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autoptr (PlNet) net = make_net (spec_text, in_channels, 42);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, n_classes, with_history);
  save_ok (path, net, &meta, velocity);
  g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);  /* no temporary file left */

  g_autoptr (GError) error = NULL;
  g_auto (PlCheckpointMeta) loaded = { 0 };
  g_autoptr (PlNet) back = pl_checkpoint_load (path, &loaded, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  assert_meta_equal (&loaded, &meta, net);

  g_assert_cmpstr (back->spec->text, ==, net->spec->text);
  g_assert_cmpuint (back->n_params, ==, net->n_params);
  g_assert_cmpmem (back->slots, sizeof (PlParamSlot) * (gsize) net->spec->n_layers, net->slots,
                   sizeof (PlParamSlot) * (gsize) net->spec->n_layers);
  g_assert_cmpmem (back->params, sizeof (float) * back->n_params, net->params,
                   sizeof (float) * net->n_params);
  if (velocity)
    g_assert_cmpmem (back->velocity, sizeof (float) * back->n_params, net->velocity,
                     sizeof (float) * net->n_params);
  else
    g_assert_cmpfloat (pl_test_max_abs (back->velocity, back->n_params), ==, 0.0);
  g_assert_cmpfloat (pl_test_max_abs (back->grads, back->n_params), ==, 0.0);

  /* Saving what was loaded writes the same bytes. */
  g_autofree char *again = g_build_filename (dir, "again.safetensors", NULL);
  save_ok (again, back, &loaded, velocity);
  g_autoptr (GBytes) a = pl_test_read_bytes (path);
  g_autoptr (GBytes) b = pl_test_read_bytes (again);
  g_assert_true (g_bytes_equal (a, b));
  remove_temp_dir (dir);
}

static void
test_round_trip_default (void)
{
  check_round_trip ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4", 3, 4, TRUE, TRUE);
}

static void
test_round_trip_other (void)
{
  check_round_trip ("c5x8 p3 c3x12 p2 c1x3", 1, 3, FALSE, FALSE);
  check_round_trip ("c1x2", 6, 2, TRUE, FALSE);
}

/* ---- A minimal reader of its own: what any other safetensors reader would see ---- */

typedef struct {
  JsonNode *header;   /* the root object */
  GByteArray *data;   /* the data buffer */
  guint64 header_len;
} RawFile;

static void
raw_free (RawFile *raw)
{
  json_node_unref (raw->header);
  g_byte_array_unref (raw->data);
  g_free (raw);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawFile, raw_free)

static JsonObject *
raw_root (RawFile *raw)
{
  return json_node_get_object (raw->header);
}

static JsonObject *
raw_metadata (RawFile *raw)
{
  return json_object_get_object_member (raw_root (raw), "__metadata__");
}

static JsonObject *
raw_tensor (RawFile *raw, const char *name)
{
  g_assert_true (json_object_has_member (raw_root (raw), name));
  return json_object_get_object_member (raw_root (raw), name);
}

static void
raw_offsets (RawFile *raw, const char *name, gint64 *begin, gint64 *end)
{
  JsonArray *o = json_object_get_array_member (raw_tensor (raw, name), "data_offsets");
  *begin = json_array_get_int_element (o, 0);
  *end = json_array_get_int_element (o, 1);
}

static void
raw_set_offsets (RawFile *raw, const char *name, gint64 begin, gint64 end)
{
  JsonArray *o = json_array_new ();
  json_array_add_int_element (o, begin);
  json_array_add_int_element (o, end);
  json_object_set_array_member (raw_tensor (raw, name), "data_offsets", o);
}

static void
raw_set_shape (RawFile *raw, const char *name, int n_dims, const gint64 *dims)
{
  JsonArray *a = json_array_new ();
  for (int d = 0; d < n_dims; d++)
    json_array_add_int_element (a, dims[d]);
  json_object_set_array_member (raw_tensor (raw, name), "shape", a);
}

typedef struct {
  gint64 begin, end;
} Span;

static int
compare_spans (gconstpointer a, gconstpointer b)
{
  const Span *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Reads a file the way the format describes it, asserting what a PatchLab file
 * promises: padded header, string metadata, F32 tensors covering the buffer exactly. */
static RawFile *
raw_read (const char *path)
{
  g_autoptr (GBytes) bytes = pl_test_read_bytes (path);
  gsize size = 0;
  const guint8 *p = g_bytes_get_data (bytes, &size);
  g_assert_cmpuint (size, >=, 8);
  guint64 n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | p[i];
  g_assert_cmpuint (n % 8, ==, 0);
  g_assert_cmpuint (n, <=, size - 8);
  g_assert_cmpint (p[8], ==, '{');

  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (parser, (const char *) p + 8, (gssize) n, &error);
  g_assert_no_error (error);
  JsonNode *root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));

  RawFile *raw = g_new0 (RawFile, 1);
  raw->header = json_node_copy (root);
  raw->header_len = n;
  raw->data = g_byte_array_new ();
  g_byte_array_append (raw->data, p + 8 + n, (guint) (size - 8 - n));

  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  json_object_iter_init (&iter, raw_metadata (raw));
  while (json_object_iter_next (&iter, &key, &value))
    g_assert_cmpint (json_node_get_value_type (value), ==, G_TYPE_STRING);

  /* Offsets, in data order, tile [0, size of the buffer). */
  g_autoptr (GArray) spans = g_array_new (FALSE, FALSE, sizeof (Span));
  json_object_iter_init (&iter, raw_root (raw));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (strcmp (key, "__metadata__") == 0)
        continue;
      JsonObject *t = json_node_get_object (value);
      g_assert_cmpstr (json_object_get_string_member (t, "dtype"), ==, "F32");
      gint64 numel = 1;
      JsonArray *shape = json_object_get_array_member (t, "shape");
      for (guint d = 0; d < json_array_get_length (shape); d++)
        numel *= json_array_get_int_element (shape, d);
      Span span;
      raw_offsets (raw, key, &span.begin, &span.end);
      g_assert_cmpint (span.end - span.begin, ==, 4 * numel);
      g_array_append_val (spans, span);
    }
  g_array_sort (spans, compare_spans);
  gint64 covered = 0;
  for (guint i = 0; i < spans->len; i++)
    {
      g_assert_cmpint (g_array_index (spans, Span, i).begin, ==, covered);
      covered = g_array_index (spans, Span, i).end;
    }
  g_assert_cmpint (covered, ==, raw->data->len);
  return raw;
}

/* Writes raw back; header_len < 0 writes the true length. The header is padded with
 * spaces to a multiple of 8 when pad is set. */
static void
raw_write (RawFile *raw, const char *path, gint64 header_len, gboolean pad)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, raw->header);
  g_autofree char *json = json_generator_to_data (gen, NULL);
  g_autoptr (GString) header = g_string_new (json);
  while (pad && header->len % 8 != 0)
    g_string_append_c (header, ' ');
  guint64 n = header_len < 0 ? header->len : (guint64) header_len;
  g_autoptr (GByteArray) file = g_byte_array_new ();
  for (int i = 0; i < 8; i++)
    {
      guint8 byte = (guint8) (n >> (8 * i));
      g_byte_array_append (file, &byte, 1);
    }
  g_byte_array_append (file, (const guint8 *) header->str, (guint) header->len);
  g_byte_array_append (file, raw->data->data, raw->data->len);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, (const char *) file->data, file->len, &error);
  g_assert_no_error (error);
}

/* Shifts every tensor starting at or after from by delta bytes. */
static void
raw_shift_from (RawFile *raw, gint64 from, gint64 delta)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  json_object_iter_init (&iter, raw_root (raw));
  while (json_object_iter_next (&iter, &key, &value))
    if (strcmp (key, "__metadata__") != 0)
      g_ptr_array_add (names, (gpointer) key);
  for (guint i = 0; i < names->len; i++)
    {
      gint64 b, e;
      raw_offsets (raw, names->pdata[i], &b, &e);
      if (b >= from)
        raw_set_offsets (raw, names->pdata[i], b + delta, e + delta);
    }
}

static void
raw_remove_tensor (RawFile *raw, const char *name)
{
  gint64 b, e;
  raw_offsets (raw, name, &b, &e);
  json_object_remove_member (raw_root (raw), name);
  g_byte_array_remove_range (raw->data, (guint) b, (guint) (e - b));
  raw_shift_from (raw, e, b - e);
}

static float *
raw_floats (RawFile *raw, const char *name)
{
  gint64 b, e;
  raw_offsets (raw, name, &b, &e);
  return (float *) (raw->data->data + b);
}

static void
test_independent_reader (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autoptr (PlNet) net = make_net ("c3x16 c3x16 p2 c3x32 c3x32 p2 c3x64 c1x4", 3, 7);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, 0, FALSE);
  g_strfreev (meta.class_names);
  meta.class_names = g_strsplit ("a b c d", " ", -1);
  save_ok (path, net, &meta, TRUE);

  g_autoptr (RawFile) raw = raw_read (path);
  JsonObject *m = raw_metadata (raw);
  g_assert_cmpstr (json_object_get_string_member (m, "spec"), ==, net->spec->text);
  g_assert_cmpstr (json_object_get_string_member (m, "class_names"), ==,
                   "[\"a\",\"b\",\"c\",\"d\"]");
  g_assert_cmpstr (json_object_get_string_member (m, "seed"), ==, "18446744073709551615");
  g_assert_cmpstr (json_object_get_string_member (m, "lr"), ==, "0.10000000000000001");
  g_assert_false (json_object_has_member (m, "history"));

  /* 6 conv layers × weight, bias × params, velocity; pool layers leave gaps. */
  g_assert_cmpuint (json_object_get_size (raw_root (raw)), ==, 1 + 6 * 2 * 2);
  g_assert_false (json_object_has_member (raw_root (raw), "conv2.weight"));
  JsonArray *shape = json_object_get_array_member (raw_tensor (raw, "conv3.weight"), "shape");
  g_assert_cmpuint (json_array_get_length (shape), ==, 4);
  g_assert_cmpint (json_array_get_int_element (shape, 0), ==, 32);
  g_assert_cmpint (json_array_get_int_element (shape, 1), ==, 16);
  g_assert_cmpint (json_array_get_int_element (shape, 2), ==, 3);
  g_assert_cmpint (json_array_get_int_element (shape, 3), ==, 3);

  /* The bytes are the arena's floats, little-endian ([F, C, k, k] as in PyTorch). */
  const PlParamSlot *slot = &net->slots[3];
  const float *w = raw_floats (raw, "conv3.weight");
  const float *v = raw_floats (raw, "velocity.conv7.bias");
  const guint8 *wb = (const guint8 *) w;
  guint32 first = (guint32) wb[0] | (guint32) wb[1] << 8 | (guint32) wb[2] << 16
                  | (guint32) wb[3] << 24;
  float first_value;
  memcpy (&first_value, &first, sizeof first);
  g_assert_cmpmem (&first_value, 4, net->params + slot->weight, 4);
  g_assert_cmpmem (w, sizeof (float) * slot->n_weight, net->params + slot->weight,
                   sizeof (float) * slot->n_weight);
  g_assert_cmpmem (v, sizeof (float) * 4, net->velocity + net->slots[7].bias,
                   sizeof (float) * 4);
  remove_temp_dir (dir);
}

static int
compare_names_descending (gconstpointer a, gconstpointer b)
{
  return strcmp (b, a);
}

/* Another writer's layout: tensors in reverse name order, no header padding. */
static void
test_foreign_layout_loads (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autofree char *foreign = g_build_filename (dir, "foreign.safetensors", NULL);
  g_autoptr (PlNet) net = make_net ("c3x5 p2 c2x7 c1x3", 2, 3);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, 3, TRUE);
  save_ok (path, net, &meta, TRUE);

  g_autoptr (RawFile) raw = raw_read (path);
  g_autoptr (GByteArray) data = g_byte_array_new ();
  GList *names = json_object_get_members (raw_root (raw));
  names = g_list_sort (names, compare_names_descending);
  guint n_tensors = 0;
  for (GList *n = names; n; n = n->next)
    {
      if (strcmp (n->data, "__metadata__") == 0)
        continue;
      gint64 b, e;
      raw_offsets (raw, n->data, &b, &e);
      g_byte_array_append (data, raw->data->data + b, (guint) (e - b));
      raw_set_offsets (raw, n->data, data->len - (e - b), data->len);
      n_tensors++;
    }
  g_list_free (names);
  g_assert_cmpuint (n_tensors, ==, 12);
  g_byte_array_unref (raw->data);
  raw->data = g_steal_pointer (&data);
  json_object_set_string_member (raw_metadata (raw), "format", "pt");  /* another tool's key */
  raw_write (raw, foreign, -1, FALSE);

  g_autoptr (GError) error = NULL;
  g_auto (PlCheckpointMeta) loaded = { 0 };
  g_autoptr (PlNet) back = pl_checkpoint_load (foreign, &loaded, &error);
  g_assert_no_error (error);
  assert_meta_equal (&loaded, &meta, net);
  g_assert_cmpmem (back->params, sizeof (float) * back->n_params, net->params,
                   sizeof (float) * net->n_params);
  g_assert_cmpmem (back->velocity, sizeof (float) * back->n_params, net->velocity,
                   sizeof (float) * net->n_params);
  remove_temp_dir (dir);
}

/* ---- Saving that fails ---- */

static void
test_save_missing_directory (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *missing = g_build_filename (dir, "no-such-dir", NULL);
  g_autofree char *path = g_build_filename (missing, "net.safetensors", NULL);
  g_autoptr (PlNet) net = make_net ("c3x4 c1x2", 3, 1);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, 2, FALSE);

  g_autoptr (GError) error = NULL;
  g_assert_false (pl_checkpoint_save (path, net, &meta, TRUE, &error));
  g_assert_error (error, PL_CHECKPOINT_ERROR, PL_CHECKPOINT_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "No such file"));
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (pl_test_count_entries (dir), ==, 0);
  remove_temp_dir (dir);
}

static void
test_save_failure_keeps_old_file (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autoptr (PlNet) old_net = make_net ("c3x6 p2 c3x6 c1x2", 3, 1);
  g_autoptr (PlNet) new_net = make_net ("c3x6 p2 c3x6 c1x2", 3, 2);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, 2, TRUE);
  save_ok (path, old_net, &meta, TRUE);
  g_autoptr (GBytes) before = pl_test_read_bytes (path);
  gsize size = g_bytes_get_size (before);
  g_autoptr (RawFile) raw = raw_read (path);

  const gssize fail_at[] = { 0, 3, 8, 9, (gssize) raw->header_len + 8,
                             (gssize) raw->header_len + 8 + 6, (gssize) (size / 2 + 1),
                             (gssize) size - 1 };
  for (gsize i = 0; i < G_N_ELEMENTS (fail_at); i++)
    {
      g_autoptr (GError) error = NULL;
      pl_checkpoint_set_fail_after_bytes_for_testing (fail_at[i]);
      gboolean ok = pl_checkpoint_save (path, new_net, &meta, TRUE, &error);
      pl_checkpoint_set_fail_after_bytes_for_testing (-1);
      g_test_message ("fail after %" G_GSSIZE_FORMAT ": %s", fail_at[i],
                      error ? error->message : "(saved)");
      g_assert_false (ok);
      g_assert_error (error, PL_CHECKPOINT_ERROR, PL_CHECKPOINT_ERROR_IO);
      g_assert_nonnull (strstr (error->message, path));
      g_autoptr (GBytes) after = pl_test_read_bytes (path);
      g_assert_true (g_bytes_equal (before, after));
      g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);
    }

  /* Exactly enough bytes: the save goes through and replaces the file. */
  pl_checkpoint_set_fail_after_bytes_for_testing ((gssize) size);
  save_ok (path, new_net, &meta, TRUE);
  pl_checkpoint_set_fail_after_bytes_for_testing (-1);
  g_autoptr (GBytes) after = pl_test_read_bytes (path);
  g_assert_false (g_bytes_equal (before, after));
  g_autoptr (PlNet) back = pl_checkpoint_load (path, NULL, NULL);
  g_assert_nonnull (back);
  g_assert_cmpmem (back->params, sizeof (float) * back->n_params, new_net->params,
                   sizeof (float) * new_net->n_params);
  g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);
  remove_temp_dir (dir);
}

static void
test_save_rejects_bad_input (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autoptr (PlNet) net = make_net ("c3x4 c1x3", 3, 1);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, 2, FALSE);  /* one class name short */

  g_autoptr (GError) error = NULL;
  g_assert_false (pl_checkpoint_save (path, net, &meta, FALSE, &error));
  g_assert_error (error, PL_CHECKPOINT_ERROR, PL_CHECKPOINT_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "2 class names"));
  g_clear_error (&error);

  pl_checkpoint_meta_clear (&meta);
  fill_meta (&meta, 3, FALSE);
  meta.lr = INFINITY;
  g_assert_false (pl_checkpoint_save (path, net, &meta, FALSE, &error));
  g_assert_error (error, PL_CHECKPOINT_ERROR, PL_CHECKPOINT_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "lr"));
  g_clear_error (&error);

  meta.lr = 0.01;
  net->velocity[5] = NAN;
  save_ok (path, net, &meta, FALSE);  /* velocity not saved: not checked */
  g_assert_false (pl_checkpoint_save (path, net, &meta, TRUE, &error));
  g_assert_error (error, PL_CHECKPOINT_ERROR, PL_CHECKPOINT_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "NaN"));
  g_clear_error (&error);
  g_assert_cmpuint (pl_test_count_entries (dir), ==, 1);
  remove_temp_dir (dir);
}

/* ---- Loading hostile files ---- */

static void
expect_load_error (const char *path, int code, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  PlCheckpointMeta meta;
  memset (&meta, 0xab, sizeof meta);  /* must come back zeroed */
  g_autoptr (PlNet) net = pl_checkpoint_load (path, &meta, &error);
  g_test_message ("%s", error ? error->message : "(loaded)");
  g_assert_null (net);
  assert_meta_empty (&meta);
  g_assert_error (error, PL_CHECKPOINT_ERROR, code);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, fragment));
}

static void
test_load_missing_and_directory (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "absent.safetensors", NULL);
  expect_load_error (path, PL_CHECKPOINT_ERROR_IO, "No such file");
  expect_load_error (dir, PL_CHECKPOINT_ERROR_IO, "not a regular file");
  remove_temp_dir (dir);
}

static void
test_load_truncated (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "net.safetensors", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.safetensors", NULL);
  g_autoptr (PlNet) net = make_net ("c3x6 p2 c3x6 c1x2", 3, 1);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, 2, TRUE);
  save_ok (path, net, &meta, TRUE);
  g_autoptr (GBytes) bytes = pl_test_read_bytes (path);
  gsize size = 0;
  const char *p = g_bytes_get_data (bytes, &size);
  g_autoptr (RawFile) raw = raw_read (path);
  gsize data_start = 8 + raw->header_len;

  const struct { gsize length; const char *fragment; } cases[] = {
    { 0, "0 bytes, fewer than the 8" },
    { 5, "5 bytes, fewer than the 8" },
    { 8, "only 0 follow" },                              /* the header length only */
    { 8 + raw->header_len / 2, "truncated" },            /* mid-header */
    { data_start, "beyond" },                            /* header, no data */
    { data_start + (size - data_start) / 2, "beyond" },  /* mid-data */
    { size - 1, "beyond" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_file_set_contents (cut, p, (gssize) cases[i].length, &error);
      g_assert_no_error (error);
      expect_load_error (cut, PL_CHECKPOINT_ERROR_FORMAT, cases[i].fragment);
    }
  remove_temp_dir (dir);
}

static void
write_header_text (const char *path, const char *json, guint64 header_len)
{
  gsize n = strlen (json);
  g_autofree guint8 *file = g_malloc (8 + n);
  for (int i = 0; i < 8; i++)
    file[i] = (guint8) (header_len >> (8 * i));
  memcpy (file + 8, json, n);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, (const char *) file, (gssize) (8 + n), &error);
  g_assert_no_error (error);
}

static void
test_load_bad_header (void)
{
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "bad.safetensors", NULL);
  const struct {
    const char *json;
    guint64 header_len;  /* 0: the real length */
    int code;
    const char *fragment;
  } cases[] = {
    { "{}      ", G_GUINT64_CONSTANT (1) << 62, PL_CHECKPOINT_ERROR_LIMIT, "over the limit" },
    { "{}      ", PL_CHECKPOINT_MAX_HEADER + 1, PL_CHECKPOINT_ERROR_LIMIT, "over the limit" },
    { "{}      ", 9, PL_CHECKPOINT_ERROR_FORMAT, "only 8 follow" },
    { "{\"__metadata__\": ", 0, PL_CHECKPOINT_ERROR_FORMAT, "not valid JSON" },
    { "[1, 2, 3]", 0, PL_CHECKPOINT_ERROR_FORMAT, "not a JSON object" },
    { "", 0, PL_CHECKPOINT_ERROR_FORMAT, "not a JSON object" },
    { "{\"a\": \"\xff\xfe\"}", 0, PL_CHECKPOINT_ERROR_FORMAT, "not UTF-8" },
    { "{}", 0, PL_CHECKPOINT_ERROR_FORMAT, "no __metadata__" },
    { "{\"__metadata__\": []}", 0, PL_CHECKPOINT_ERROR_FORMAT, "not an object" },
    /* json-glib accepts comments; strict JSON (and this loader) does not. */
    { "/* \" */ {}", 0, PL_CHECKPOINT_ERROR_FORMAT, "unexpected byte 0x2f at offset 0" },
    { "{'a': 1}", 0, PL_CHECKPOINT_ERROR_FORMAT, "unexpected byte 0x27" },
    { "{}]]", 0, PL_CHECKPOINT_ERROR_FORMAT, "unbalanced ']' at offset 2" },
    { "{\"[[[[\": \"\\\" {{\"}", 0, PL_CHECKPOINT_ERROR_FORMAT, "no __metadata__" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_header_text (path, cases[i].json,
                         cases[i].header_len ? cases[i].header_len : strlen (cases[i].json));
      expect_load_error (path, cases[i].code, cases[i].fragment);
    }

  /* A million '[' would overflow json-glib's recursive parser: the depth is bounded
   * before it runs. */
  g_autofree char *opening = g_strnfill (1000000, '[');
  g_autofree char *closing = g_strnfill (1000000, ']');
  g_autofree char *deep = g_strconcat ("{\"a\": ", opening, closing, "}", NULL);
  write_header_text (path, deep, strlen (deep));
  expect_load_error (path, PL_CHECKPOINT_ERROR_LIMIT, "the header nests deeper than 32");
  remove_temp_dir (dir);
}

/* Each case edits a valid file (default-like net, with velocity). */
typedef void (*Mutation) (RawFile *raw);

static void
set_meta (RawFile *raw, const char *key, const char *value)
{
  json_object_set_string_member (raw_metadata (raw), key, value);
}

static void
mut_meta_not_string (RawFile *r)
{
  json_object_set_int_member (raw_metadata (r), "step", 5);
}

static void
mut_meta_missing (RawFile *r)
{
  json_object_remove_member (raw_metadata (r), "lr");
}

static void
mut_meta_version (RawFile *r)
{
  set_meta (r, "patchlab_format", "2");
}

static void
mut_bad_step (RawFile *r)
{
  set_meta (r, "step", "12x");
}

static void
mut_bad_seed (RawFile *r)
{
  set_meta (r, "seed", "-1");
}

static void
mut_bad_lr (RawFile *r)
{
  set_meta (r, "lr", "nan");
}

static void
mut_empty_lr (RawFile *r)
{
  set_meta (r, "lr", "");
}

static void
mut_bad_channels (RawFile *r)
{
  set_meta (r, "in_channels", "0");
}

static void
mut_spec_garbage (RawFile *r)
{
  set_meta (r, "spec", "c3x6 q2 c1x2");
}

static void
mut_spec_k (RawFile *r)
{
  set_meta (r, "spec", "c3x6 p2 c3x6 c1xK");
}

static void
mut_names_not_json (RawFile *r)
{
  set_meta (r, "class_names", "a\nb");
}

static void
mut_names_not_strings (RawFile *r)
{
  set_meta (r, "class_names", "[\"a\", 2]");
}

static void
mut_names_deep (RawFile *r)
{
  g_autofree char *opening = g_strnfill (100000, '[');
  set_meta (r, "class_names", opening);
}

static void
mut_names_count (RawFile *r)
{
  set_meta (r, "class_names", "[\"a\", \"b\", \"c\"]");
}

static void
mut_spec_other (RawFile *r)
{
  set_meta (r, "spec", "c3x6 p2 c3x8 c1x2");
}

/* Sizes that would need tens of GiB: rejected before anything is allocated. */
static void
mut_spec_huge (RawFile *r)
{
  set_meta (r, "spec", "c31x4096 c31x4096 c31x4096 c1x2");
}

static void
mut_dtype (RawFile *r)
{
  json_object_set_string_member (raw_tensor (r, "conv3.weight"), "dtype", "F16");
}

static void
mut_shape_same_size (RawFile *r)
{
  const gint64 dims[] = { 6, 3, 9, 1 };
  raw_set_shape (r, "conv0.weight", 4, dims);
}

static void
mut_shape_rank (RawFile *r)
{
  const gint64 dims[] = { 2, 1, 1, 1 };
  raw_set_shape (r, "conv3.bias", 4, dims);
}

static void
mut_shape_size (RawFile *r)
{
  const gint64 dims[] = { 5 };
  raw_set_shape (r, "conv0.bias", 1, dims);
}

static void
mut_shape_huge (RawFile *r)
{
  const gint64 dims[] = { G_GINT64_CONSTANT (1) << 62, G_GINT64_CONSTANT (1) << 62, 4 };
  raw_set_shape (r, "conv0.weight", 3, dims);
}

static void
mut_shape_negative (RawFile *r)
{
  const gint64 dims[] = { -6 };
  raw_set_shape (r, "conv0.bias", 1, dims);
}

static void
mut_offsets_beyond (RawFile *r)
{
  gint64 b, e;
  raw_offsets (r, "velocity.conv3.bias", &b, &e);
  raw_set_offsets (r, "velocity.conv3.bias", b + 4, e + 4);
}

static void
mut_offsets_huge (RawFile *r)
{
  raw_set_offsets (r, "conv0.bias", G_MAXINT64 - 24, G_MAXINT64);
}

static void
mut_offsets_reversed (RawFile *r)
{
  gint64 b, e;
  raw_offsets (r, "conv0.bias", &b, &e);
  raw_set_offsets (r, "conv0.bias", e, b);
}

static void
mut_offsets_negative (RawFile *r)
{
  raw_set_offsets (r, "conv0.bias", -24, 0);
}

static void
mut_offsets_three (RawFile *r)
{
  JsonArray *o = json_object_get_array_member (raw_tensor (r, "conv0.bias"), "data_offsets");
  json_array_add_int_element (o, 0);
}

static void
mut_offsets_float (RawFile *r)
{
  JsonArray *o = json_array_new ();
  json_array_add_double_element (o, 0.0);
  json_array_add_double_element (o, 24.0);
  json_object_set_array_member (raw_tensor (r, "conv0.bias"), "data_offsets", o);
}

static void
mut_overlap (RawFile *r)
{
  gint64 b, e;
  raw_offsets (r, "conv0.bias", &b, &e);
  raw_set_offsets (r, "conv0.bias", b - 4, e - 4);
  /* Keep the rest contiguous so overlap is the only fault. */
  raw_shift_from (r, e, -4);
  g_byte_array_set_size (r->data, r->data->len - 4);
}

static void
mut_gap (RawFile *r)
{
  gint64 b, e;
  raw_offsets (r, "conv2.weight", &b, &e);
  raw_shift_from (r, b, 4);
  g_byte_array_set_size (r->data, r->data->len + 4);
  memmove (r->data->data + b + 4, r->data->data + b, r->data->len - 4 - (gsize) b);
  memset (r->data->data + b, 0, 4);
}

static void
mut_trailing (RawFile *r)
{
  const guint8 zeros[4] = { 0 };
  g_byte_array_append (r->data, zeros, 4);
}

static void
mut_nan (RawFile *r)
{
  raw_floats (r, "conv2.weight")[17] = NAN;
}

static void
mut_inf_velocity (RawFile *r)
{
  raw_floats (r, "velocity.conv3.bias")[1] = -INFINITY;
}

static void
mut_missing (RawFile *r)
{
  raw_remove_tensor (r, "conv3.bias");
}

static void
mut_missing_velocity (RawFile *r)
{
  raw_remove_tensor (r, "velocity.conv2.weight");
}

static void
mut_extra (RawFile *r)
{
  JsonObject *t = json_object_new ();
  json_object_set_string_member (t, "dtype", "F32");
  JsonArray *shape = json_array_new ();
  json_array_add_int_element (shape, 2);
  json_object_set_array_member (t, "shape", shape);
  JsonArray *o = json_array_new ();
  json_array_add_int_element (o, r->data->len);
  json_array_add_int_element (o, r->data->len + 8);
  json_object_set_array_member (t, "data_offsets", o);
  json_object_set_object_member (raw_root (r), "conv1.weight", t);  /* layer 1 is a pool */
  const guint8 zeros[8] = { 0 };
  g_byte_array_append (r->data, zeros, 8);
}

static void
mut_tensor_not_object (RawFile *r)
{
  json_object_set_string_member (raw_root (r), "conv0.bias", "F32");
}

typedef struct {
  const char *name;
  Mutation mutate;
  int code;
  const char *fragment;
} HostileCase;

static void
test_load_hostile (void)
{
  const HostileCase cases[] = {
    { "meta-not-string", mut_meta_not_string, PL_CHECKPOINT_ERROR_FORMAT,
      "'step' is not a string" },
    { "meta-missing", mut_meta_missing, PL_CHECKPOINT_ERROR_FORMAT, "has no 'lr'" },
    { "meta-version", mut_meta_version, PL_CHECKPOINT_ERROR_FORMAT, "version \"2\"" },
    { "bad-step", mut_bad_step, PL_CHECKPOINT_ERROR_FORMAT, "'step'" },
    { "bad-seed", mut_bad_seed, PL_CHECKPOINT_ERROR_FORMAT, "'seed'" },
    { "bad-lr", mut_bad_lr, PL_CHECKPOINT_ERROR_FORMAT, "'lr': \"nan\"" },
    { "empty-lr", mut_empty_lr, PL_CHECKPOINT_ERROR_FORMAT, "'lr'" },
    { "bad-channels", mut_bad_channels, PL_CHECKPOINT_ERROR_FORMAT, "'in_channels'" },
    { "spec-garbage", mut_spec_garbage, PL_CHECKPOINT_ERROR_FORMAT, "'q2' at column 6" },
    { "spec-k", mut_spec_k, PL_CHECKPOINT_ERROR_FORMAT, "not known" },
    { "spec-other", mut_spec_other, PL_CHECKPOINT_ERROR_MISMATCH, "needs [8, 6, 3, 3]" },
    { "spec-huge", mut_spec_huge, PL_CHECKPOINT_ERROR_MISMATCH, "conv0.weight' has shape" },
    { "names-not-json", mut_names_not_json, PL_CHECKPOINT_ERROR_FORMAT, "class_names" },
    { "names-not-strings", mut_names_not_strings, PL_CHECKPOINT_ERROR_FORMAT, "element 1" },
    { "names-deep", mut_names_deep, PL_CHECKPOINT_ERROR_LIMIT, "'class_names' nests deeper" },
    { "names-count", mut_names_count, PL_CHECKPOINT_ERROR_MISMATCH, "3 class names" },
    { "dtype-f16", mut_dtype, PL_CHECKPOINT_ERROR_FORMAT, "dtype F16" },
    { "shape-same-size", mut_shape_same_size, PL_CHECKPOINT_ERROR_MISMATCH,
      "[6, 3, 9, 1] but layer 0 (c3x6) needs [6, 3, 3, 3]" },
    { "shape-rank", mut_shape_rank, PL_CHECKPOINT_ERROR_MISMATCH, "needs [2]" },
    { "shape-size", mut_shape_size, PL_CHECKPOINT_ERROR_FORMAT, "element count" },
    { "shape-huge", mut_shape_huge, PL_CHECKPOINT_ERROR_FORMAT, "element count" },
    { "shape-negative", mut_shape_negative, PL_CHECKPOINT_ERROR_FORMAT, "non-negative" },
    { "offsets-beyond", mut_offsets_beyond, PL_CHECKPOINT_ERROR_FORMAT, "beyond" },
    { "offsets-huge", mut_offsets_huge, PL_CHECKPOINT_ERROR_FORMAT, "beyond" },
    { "offsets-reversed", mut_offsets_reversed, PL_CHECKPOINT_ERROR_FORMAT, "not a range" },
    { "offsets-negative", mut_offsets_negative, PL_CHECKPOINT_ERROR_FORMAT, "not a range" },
    { "offsets-three", mut_offsets_three, PL_CHECKPOINT_ERROR_FORMAT, "two integers" },
    { "offsets-float", mut_offsets_float, PL_CHECKPOINT_ERROR_FORMAT, "two integers" },
    { "overlap", mut_overlap, PL_CHECKPOINT_ERROR_FORMAT, "overlap" },
    { "gap", mut_gap, PL_CHECKPOINT_ERROR_FORMAT, "gap before 'conv2.weight'" },
    { "trailing", mut_trailing, PL_CHECKPOINT_ERROR_FORMAT, "last 4 bytes" },
    { "nan", mut_nan, PL_CHECKPOINT_ERROR_FORMAT, "'conv2.weight' holds NaN at element 17" },
    { "inf-velocity", mut_inf_velocity, PL_CHECKPOINT_ERROR_FORMAT, "infinity" },
    { "missing", mut_missing, PL_CHECKPOINT_ERROR_MISMATCH, "'conv3.bias' [2] is missing" },
    { "missing-velocity", mut_missing_velocity, PL_CHECKPOINT_ERROR_MISMATCH,
      "'velocity.conv2.weight' [6, 6, 3, 3] is missing" },
    { "extra", mut_extra, PL_CHECKPOINT_ERROR_MISMATCH, "unexpected tensor 'conv1.weight'" },
    { "tensor-not-object", mut_tensor_not_object, PL_CHECKPOINT_ERROR_FORMAT, "not an object" },
  };
  g_autofree char *dir = pl_test_make_temp_dir ("pl-checkpoint-XXXXXX");
  g_autofree char *path = g_build_filename (dir, "good.safetensors", NULL);
  g_autoptr (PlNet) net = make_net ("c3x6 p2 c3x6 c1x2", 3, 1);
  g_auto (PlCheckpointMeta) meta = { 0 };
  fill_meta (&meta, 2, TRUE);
  save_ok (path, net, &meta, TRUE);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (RawFile) raw = raw_read (path);
      cases[i].mutate (raw);
      g_autofree char *name = g_strdup_printf ("%s.safetensors", cases[i].name);
      g_autofree char *bad = g_build_filename (dir, name, NULL);
      raw_write (raw, bad, -1, TRUE);
      g_test_message ("case %s", cases[i].name);
      expect_load_error (bad, cases[i].code, cases[i].fragment);
    }

  /* The untouched file still loads (the cases edited copies). */
  g_autoptr (PlNet) back = pl_checkpoint_load (path, NULL, NULL);
  g_assert_nonnull (back);
  remove_temp_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/checkpoint/round-trip/default", test_round_trip_default);
  g_test_add_func ("/checkpoint/round-trip/other-specs", test_round_trip_other);
  g_test_add_func ("/checkpoint/independent-reader", test_independent_reader);
  g_test_add_func ("/checkpoint/foreign-layout-loads", test_foreign_layout_loads);
  g_test_add_func ("/checkpoint/save/missing-directory", test_save_missing_directory);
  g_test_add_func ("/checkpoint/save/failure-keeps-old-file", test_save_failure_keeps_old_file);
  g_test_add_func ("/checkpoint/save/rejects-bad-input", test_save_rejects_bad_input);
  g_test_add_func ("/checkpoint/load/missing-and-directory", test_load_missing_and_directory);
  g_test_add_func ("/checkpoint/load/truncated", test_load_truncated);
  g_test_add_func ("/checkpoint/load/bad-header", test_load_bad_header);
  g_test_add_func ("/checkpoint/load/hostile", test_load_hostile);
  return g_test_run ();
}
