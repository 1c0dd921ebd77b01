/* pl-checkpoint.c — saving and loading a net as .safetensors (see pl-checkpoint.h).
 *
 * Saving writes a temporary file next to the target and renames it into place, so a
 * reader sees the old file or the new one, never half of either. The writer holds an
 * exclusive flock on its temporary file until the rename: a process killed mid-save
 * leaves the file unlocked, and the next save to the same target removes it. Loading checks the
 * file in the order a hostile file would be caught cheapest: sizes, then the JSON,
 * then the metadata and spec, then every tensor's offsets against the real size of
 * the data, then the tensors against the spec; only then is the net allocated.
 */
#include "pl-checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (pl-checkpoint-error-quark, pl_checkpoint_error)

#define FORMAT_VERSION "1"
#define METADATA_KEY   "__metadata__"
#define VELOCITY_PREFIX "velocity."
#define TEMP_SUFFIX     ".tmp-XXXXXX"

/* Test hook: a save fails once this many bytes are written; < 0 is off. */
static gssize fail_after_bytes = -1;

void
pl_checkpoint_set_fail_after_bytes_for_testing (gssize n)
{
  fail_after_bytes = n;
}

static gboolean G_GNUC_PRINTF (4, 5)
fail (GError **error, PlCheckpointError code, const char *path, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_autofree char *name = g_filename_display_name (path);
  g_set_error (error, PL_CHECKPOINT_ERROR, code, "checkpoint %s: %s", name, reason);
  return FALSE;
}

void
pl_checkpoint_meta_clear (PlCheckpointMeta *meta)
{
  if (meta == NULL)
    return;
  g_free (meta->spec);
  g_strfreev (meta->class_names);
  g_free (meta->dataset);
  g_free (meta->history);
  memset (meta, 0, sizeof *meta);
}

/* One tensor the spec calls for, in the order a save writes them. */
typedef struct {
  char name[32];
  int layer;
  gboolean bias, velocity;
  int n_dims;
  gint64 dims[4];  /* [F, C, k, k] or [F] */
  gsize numel;
} Expected;

static GArray *
expected_tensors (const PlNetSpec *spec, gboolean with_velocity)
{
  GArray *list = g_array_new (FALSE, TRUE, sizeof (Expected));
  for (int pass = 0; pass < (with_velocity ? 2 : 1); pass++)
    for (int l = 0; l < spec->n_layers; l++)
      {
        const PlLayerSpec *layer = &spec->layers[l];
        if (layer->kind != PL_LAYER_CONV)
          continue;
        for (int bias = 0; bias < 2; bias++)
          {
            Expected e = { .layer = l, .bias = bias, .velocity = pass == 1 };
            g_snprintf (e.name, sizeof e.name, "%sconv%d.%s", pass == 1 ? VELOCITY_PREFIX : "",
                        l, bias ? "bias" : "weight");
            e.dims[0] = layer->n_out;
            e.n_dims = 1;
            if (!bias)
              {
                e.dims[1] = pl_net_spec_channels_in (spec, l);
                e.dims[2] = e.dims[3] = layer->k;
                e.n_dims = 4;
              }
            e.numel = 1;
            for (int d = 0; d < e.n_dims; d++)
              e.numel *= (gsize) e.dims[d];
            g_array_append_val (list, e);
          }
      }
  return list;
}

/* The floats of e inside net's arenas. */
static float *
expected_data (const PlNet *net, const Expected *e)
{
  const PlParamSlot *slot = &net->slots[e->layer];
  float *arena = e->velocity ? net->velocity : net->params;
  return arena + (e->bias ? slot->bias : slot->weight);
}

static char *
format_dims (const gint64 *dims, int n_dims)
{
  GString *s = g_string_new ("[");
  for (int d = 0; d < n_dims; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d > 0 ? ", " : "", dims[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

/* ---- Saving ---- */

static gboolean
check_finite (const char *path, const char *what, const float *x, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                   "%s[%" G_GSIZE_FORMAT "] is %s; a checkpoint holds finite numbers only",
                   what, i, isnan (x[i]) ? "NaN" : "infinite");
  return TRUE;
}

static gboolean
check_meta_for_save (const char *path, const PlNet *net, const PlCheckpointMeta *meta,
                     GError **error)
{
  guint n_names = meta->class_names ? g_strv_length (meta->class_names) : 0;
  if (n_names != (guint) net->spec->n_classes)
    return fail (error, PL_CHECKPOINT_ERROR_MISMATCH, path,
                 "%u class names given but the classifier of \"%s\" has %d outputs",
                 n_names, net->spec->text, net->spec->n_classes);
  for (guint i = 0; i < n_names; i++)
    if (!g_utf8_validate (meta->class_names[i], -1, NULL))
      return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "class name %u is not UTF-8", i);
  if (meta->dataset && !g_utf8_validate (meta->dataset, -1, NULL))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "the dataset text is not UTF-8");
  if (meta->history && !g_utf8_validate (meta->history, -1, NULL))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "the history text is not UTF-8");

  const struct { const char *name; double value; } knobs[] = {
    { "sampling", meta->sampling }, { "lr", meta->lr },
    { "momentum", meta->momentum }, { "weight_decay", meta->weight_decay },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (knobs); i++)
    if (!isfinite (knobs[i].value))
      return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "the knob %s is not finite",
                   knobs[i].name);
  return TRUE;
}

static void
add_string (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value);
}

static void
add_number (JsonBuilder *b, const char *key, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
add_number (JsonBuilder *b, const char *key, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *text = g_strdup_vprintf (format, args);
  va_end (args);
  add_string (b, key, text);
}

static void
add_double (JsonBuilder *b, const char *key, double value)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  /* g_ascii_dtostr prints 17 significant digits: strtod gives the same bits back. */
  add_string (b, key, g_ascii_dtostr (text, sizeof text, value));
}

static char *
class_names_to_json (char **names)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (char **n = names; *n; n++)
    json_builder_add_string_value (b, *n);
  json_builder_end_array (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. */
static GString *
build_header (const PlNet *net, const PlCheckpointMeta *meta, GArray *tensors)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);

  json_builder_set_member_name (b, METADATA_KEY);
  json_builder_begin_object (b);
  add_string (b, "patchlab_format", FORMAT_VERSION);
  add_string (b, "spec", net->spec->text);
  add_number (b, "in_channels", "%d", net->spec->in_channels);
  g_autofree char *names = class_names_to_json (meta->class_names);
  add_string (b, "class_names", names);
  add_string (b, "dataset", meta->dataset ? meta->dataset : "");
  add_number (b, "step", "%" G_GINT64_FORMAT, meta->step);
  add_number (b, "seed", "%" G_GUINT64_FORMAT, meta->seed);
  add_number (b, "patch_size", "%d", meta->patch_size);
  add_number (b, "batch_size", "%d", meta->batch_size);
  add_double (b, "sampling", meta->sampling);
  add_double (b, "lr", meta->lr);
  add_double (b, "momentum", meta->momentum);
  add_double (b, "weight_decay", meta->weight_decay);
  if (meta->history)
    add_string (b, "history", meta->history);
  json_builder_end_object (b);

  gint64 offset = 0;
  for (guint i = 0; i < tensors->len; i++)
    {
      const Expected *e = &g_array_index (tensors, Expected, i);
      json_builder_set_member_name (b, e->name);
      json_builder_begin_object (b);
      add_string (b, "dtype", "F32");
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < e->n_dims; d++)
        json_builder_add_int_value (b, e->dims[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "data_offsets");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, offset);
      offset += (gint64) (sizeof (float) * e->numel);
      json_builder_add_int_value (b, offset);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_root (generator, root);
  gsize length = 0;
  g_autofree char *text = json_generator_to_data (generator, &length);
  GString *header = g_string_new_len (text, (gssize) length);
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');
  return header;
}

typedef struct {
  int fd;
  const char *path;  /* the target, for messages */
  guint64 written;
} Writer;

static gboolean
writer_write (Writer *w, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;
  gsize allowed = len;
  gboolean simulate_failure = FALSE;
  if (fail_after_bytes >= 0 && w->written + len > (guint64) fail_after_bytes)
    {
      allowed = (guint64) fail_after_bytes > w->written ? fail_after_bytes - w->written : 0;
      simulate_failure = TRUE;
    }
  while (allowed > 0)
    {
      gssize n = write (w->fd, p, MIN (allowed, (gsize) 1 << 30));
      if (n < 0)
        {
          int saved = errno;
          if (saved == EINTR)
            continue;
          return fail (error, PL_CHECKPOINT_ERROR_IO, w->path, "writing failed: %s",
                       g_strerror (saved));
        }
      p += n;
      allowed -= (gsize) n;
      w->written += (guint64) n;
    }
  if (simulate_failure)
    return fail (error, PL_CHECKPOINT_ERROR_IO, w->path,
                 "writing failed after %" G_GUINT64_FORMAT " bytes (simulated by a test hook)",
                 w->written);
  return TRUE;
}

/* Writes floats little-endian, whatever the host's byte order. */
static gboolean
writer_write_floats (Writer *w, const float *x, gsize n, GError **error)
{
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    return writer_write (w, x, sizeof (float) * n, error);
  guint32 chunk[4096];
  for (gsize start = 0; start < n; start += G_N_ELEMENTS (chunk))
    {
      gsize m = MIN (n - start, G_N_ELEMENTS (chunk));
      memcpy (chunk, x + start, sizeof (float) * m);
      for (gsize i = 0; i < m; i++)
        chunk[i] = GUINT32_TO_LE (chunk[i]);
      if (!writer_write (w, chunk, sizeof (float) * m, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
write_contents (Writer *w, const GString *header, const PlNet *net, GArray *tensors,
                GError **error)
{
  guint64 length_le = GUINT64_TO_LE ((guint64) header->len);
  if (!writer_write (w, &length_le, sizeof length_le, error)
      || !writer_write (w, header->str, header->len, error))
    return FALSE;
  for (guint i = 0; i < tensors->len; i++)
    {
      const Expected *e = &g_array_index (tensors, Expected, i);
      if (!writer_write_floats (w, expected_data (net, e), e->numel, error))
        return FALSE;
    }
  if (fsync (w->fd) != 0)
    {
      int saved = errno;
      return fail (error, PL_CHECKPOINT_ERROR_IO, w->path, "fsync failed: %s",
                   g_strerror (saved));
    }
  return TRUE;
}

/* Removes "<target>.tmp-XXXXXX" files that saves killed before their rename left
 * behind. A live save holds an exclusive flock on its file, so only files whose writer
 * is gone can be locked here. (A save caught between creating its file and locking it
 * loses the file and fails at its rename, with a message; nothing is corrupted.) */
static void
remove_stale_temporaries (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".tmp-", NULL);
  gsize length = strlen (base) + strlen (TEMP_SUFFIX);
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      if (!g_str_has_prefix (name, prefix) || strlen (name) != length)
        continue;
      g_autofree char *full = g_build_filename (dir, name, NULL);
      int fd = open (full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
      struct stat st;
      if (fd < 0)
        continue;
      if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && flock (fd, LOCK_EX | LOCK_NB) == 0)
        g_unlink (full);
      close (fd);
    }
}

/* Makes the rename durable; a failure here cannot be undone, so it is not reported. */
static void
sync_directory (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void) fsync (fd);
  close (fd);
}

gboolean
pl_checkpoint_save (const char *path, const PlNet *net, const PlCheckpointMeta *meta,
                    gboolean with_velocity, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (net != NULL, FALSE);
  g_return_val_if_fail (meta != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_meta_for_save (path, net, meta, error)
      || !check_finite (path, "a weight or bias", net->params, net->n_params, error)
      || (with_velocity
          && !check_finite (path, "the velocity", net->velocity, net->n_params, error)))
    return FALSE;

  g_autoptr (GArray) tensors = expected_tensors (net->spec, with_velocity);
  g_autoptr (GString) header = build_header (net, meta, tensors);

  remove_stale_temporaries (path);
  g_autofree char *temp = g_strconcat (path, TEMP_SUFFIX, NULL);
  Writer w = { .path = path };
  w.fd = g_mkstemp_full (temp, O_RDWR | O_CLOEXEC, 0666);
  if (w.fd < 0)
    {
      int saved = errno;
      return fail (error, PL_CHECKPOINT_ERROR_IO, path, "cannot create a temporary file: %s",
                   g_strerror (saved));
    }
  /* The lock lives on lock_fd (a duplicate) until after the rename, so the file is closed
   * (and its errors seen) first; the kernel drops it if the process dies. */
  (void) flock (w.fd, LOCK_EX | LOCK_NB);
  int lock_fd = dup (w.fd);

  gboolean ok = write_contents (&w, header, net, tensors, error);
  if (close (w.fd) != 0 && ok)
    {
      int saved = errno;
      ok = fail (error, PL_CHECKPOINT_ERROR_IO, path, "closing the temporary file failed: %s",
                 g_strerror (saved));
    }
  if (ok && g_rename (temp, path) != 0)
    {
      int saved = errno;
      ok = fail (error, PL_CHECKPOINT_ERROR_IO, path, "renaming the temporary file failed: %s",
                 g_strerror (saved));
    }
  if (!ok)
    g_unlink (temp);
  if (lock_fd >= 0)
    close (lock_fd);
  if (ok)
    sync_directory (path);
  return ok;
}

/* ---- Loading ---- */

static gboolean
read_at (int fd, const char *path, void *buffer, gsize len, guint64 offset, GError **error)
{
  guint8 *p = buffer;
  while (len > 0)
    {
      gssize n = pread (fd, p, MIN (len, (gsize) 1 << 30), (off_t) offset);
      if (n < 0)
        {
          int saved = errno;
          if (saved == EINTR)
            continue;
          return fail (error, PL_CHECKPOINT_ERROR_IO, path, "reading failed: %s",
                       g_strerror (saved));
        }
      if (n == 0)
        return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                     "the file ends early, at byte %" G_GUINT64_FORMAT, offset);
      p += n;
      len -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

/* json-glib's parser recurses once per nesting level: a header of a million '['
 * would overflow the stack. This pass bounds the depth before json-glib sees the
 * text. It finds strings exactly as JSON does, and so that json-glib agrees on where
 * they are it rejects what strict JSON forbids between tokens and json-glib would
 * accept (comments, single quotes). PatchLab's own headers nest 3 deep. */
#define MAX_JSON_DEPTH 32

static gboolean
check_json_nesting (const char *path, const char *what, const char *text, gsize len,
                    GError **error)
{
  int depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > MAX_JSON_DEPTH)
            return fail (error, PL_CHECKPOINT_ERROR_LIMIT, path,
                         "%s nests deeper than %d levels", what, MAX_JSON_DEPTH);
        }
      else if (c == ']' || c == '}')
        {
          if (--depth < 0)
            return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                         "%s is not valid JSON: unbalanced '%c' at offset %" G_GSIZE_FORMAT,
                         what, c, i);
        }
      else if (!g_ascii_isalnum (c) && (c == '\0' || strchr (" \t\n\r:,-+.", c) == NULL))
        return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                     "%s is not valid JSON: unexpected byte 0x%02x at offset %" G_GSIZE_FORMAT,
                     what, (guint8) c, i);
    }
  return TRUE;
}

/* A string value of the metadata; NULL (with an error) when required and absent. */
static const char *
meta_get (JsonObject *m, const char *path, const char *key, gboolean required, GError **error)
{
  if (!json_object_has_member (m, key))
    {
      if (required)
        fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "the metadata has no '%s'", key);
      return NULL;
    }
  return json_object_get_string_member (m, key);
}

static gboolean
meta_get_int (JsonObject *m, const char *path, const char *key, gint64 min, gint64 max,
              gint64 *out, GError **error)
{
  const char *text = meta_get (m, path, key, TRUE, error);
  if (text == NULL)
    return FALSE;
  g_autoptr (GError) local = NULL;
  if (!g_ascii_string_to_signed (text, 10, min, max, out, &local))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "metadata '%s': %s", key,
                 local->message);
  return TRUE;
}

static gboolean
meta_get_double (JsonObject *m, const char *path, const char *key, double *out, GError **error)
{
  const char *text = meta_get (m, path, key, TRUE, error);
  if (text == NULL)
    return FALSE;
  char *end = NULL;
  *out = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (*out))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "metadata '%s': \"%s\" is not a finite number", key, text);
  return TRUE;
}

static char **
parse_class_names (const char *path, const char *text, GError **error)
{
  if (!check_json_nesting (path, "metadata 'class_names'", text, strlen (text), error))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_data (parser, text, -1, &local))
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
            "metadata 'class_names' is not a JSON array: %s", local->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
            "metadata 'class_names' is not a JSON array of strings");
      return NULL;
    }
  JsonArray *array = json_node_get_array (root);
  guint n = json_array_get_length (array);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        {
          fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                "metadata 'class_names': element %u is not a string", i);
          return NULL;
        }
      g_strv_builder_add (names, json_node_get_string (node));
    }
  return g_strv_builder_end (names);
}

/* Reads and checks the metadata into *meta (spec and in_channels as written). */
static gboolean
parse_metadata (JsonObject *root, const char *path, PlCheckpointMeta *meta, GError **error)
{
  JsonNode *node = json_object_get_member (root, METADATA_KEY);
  if (node == NULL)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "the header has no " METADATA_KEY " (not a PatchLab checkpoint)");
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, METADATA_KEY " is not an object");
  JsonObject *m = json_node_get_object (node);

  JsonObjectIter iter;
  const char *key;
  JsonNode *value;
  json_object_iter_init_ordered (&iter, m);
  while (json_object_iter_next_ordered (&iter, &key, &value))
    if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
      return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                   "metadata '%s' is not a string (safetensors metadata maps strings to "
                   "strings)", key);

  const char *version = meta_get (m, path, "patchlab_format", TRUE, error);
  if (version == NULL)
    return FALSE;
  if (strcmp (version, FORMAT_VERSION) != 0)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "format version \"%s\" is not supported (this build reads \"" FORMAT_VERSION
                 "\")", version);

  const char *spec = meta_get (m, path, "spec", TRUE, error);
  const char *names = spec ? meta_get (m, path, "class_names", TRUE, error) : NULL;
  const char *dataset = names ? meta_get (m, path, "dataset", TRUE, error) : NULL;
  if (dataset == NULL)
    return FALSE;
  meta->spec = g_strdup (spec);
  meta->dataset = g_strdup (dataset);
  meta->history = g_strdup (meta_get (m, path, "history", FALSE, NULL));
  meta->class_names = parse_class_names (path, names, error);
  if (meta->class_names == NULL)
    return FALSE;

  gint64 in_channels, patch_size, batch_size, step;
  if (!meta_get_int (m, path, "in_channels", 1, PL_SPEC_MAX_FILTERS, &in_channels, error)
      || !meta_get_int (m, path, "step", G_MININT64, G_MAXINT64, &step, error)
      || !meta_get_int (m, path, "patch_size", G_MININT, G_MAXINT, &patch_size, error)
      || !meta_get_int (m, path, "batch_size", G_MININT, G_MAXINT, &batch_size, error))
    return FALSE;
  meta->in_channels = (int) in_channels;
  meta->step = step;
  meta->patch_size = (int) patch_size;
  meta->batch_size = (int) batch_size;

  const char *seed = meta_get (m, path, "seed", TRUE, error);
  if (seed == NULL)
    return FALSE;
  g_autoptr (GError) local = NULL;
  if (!g_ascii_string_to_unsigned (seed, 10, 0, G_MAXUINT64, &meta->seed, &local))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "metadata 'seed': %s",
                 local->message);

  return meta_get_double (m, path, "sampling", &meta->sampling, error)
         && meta_get_double (m, path, "lr", &meta->lr, error)
         && meta_get_double (m, path, "momentum", &meta->momentum, error)
         && meta_get_double (m, path, "weight_decay", &meta->weight_decay, error);
}

/* One tensor of the header, its sizes checked against the data buffer. */
typedef struct {
  const char *name;  /* borrowed from the JSON */
  JsonArray *shape;  /* borrowed; non-negative integers */
  guint64 begin, end;
  gboolean matched;
} Entry;

static gboolean
is_integer (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64;
}

static gboolean
parse_entry (const char *path, const char *name, JsonNode *node, guint64 buffer_size,
             Entry *entry, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "tensor '%s' is not an object", name);
  JsonObject *t = json_node_get_object (node);
  JsonNode *dtype = json_object_get_member (t, "dtype");
  JsonNode *shape = json_object_get_member (t, "shape");
  JsonNode *offsets = json_object_get_member (t, "data_offsets");
  if (dtype == NULL || !JSON_NODE_HOLDS_VALUE (dtype)
      || json_node_get_value_type (dtype) != G_TYPE_STRING)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "tensor '%s' has no dtype string",
                 name);
  if (strcmp (json_node_get_string (dtype), "F32") != 0)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "tensor '%s' has dtype %s; PatchLab reads F32 only", name,
                 json_node_get_string (dtype));

  if (shape == NULL || !JSON_NODE_HOLDS_ARRAY (shape))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "tensor '%s' has no shape array",
                 name);
  entry->shape = json_node_get_array (shape);
  guint n_dims = json_array_get_length (entry->shape);
  gboolean empty = FALSE;
  for (guint d = 0; d < n_dims; d++)
    {
      JsonNode *dim = json_array_get_element (entry->shape, d);
      if (!is_integer (dim) || json_node_get_int (dim) < 0)
        return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                     "tensor '%s': shape[%u] is not a non-negative integer", name, d);
      empty = empty || json_node_get_int (dim) == 0;
    }
  /* Capping the product at what the data could hold keeps it from overflowing;
   * G_MAXUINT64 stands for "more elements than the file has bytes". */
  guint64 numel = empty ? 0 : 1;
  for (guint d = 0; d < n_dims && numel != 0 && numel != G_MAXUINT64; d++)
    {
      guint64 size = (guint64) json_array_get_int_element (entry->shape, d);
      numel = numel > buffer_size / sizeof (float) / size ? G_MAXUINT64 : numel * size;
    }

  if (offsets == NULL || !JSON_NODE_HOLDS_ARRAY (offsets)
      || json_array_get_length (json_node_get_array (offsets)) != 2
      || !is_integer (json_array_get_element (json_node_get_array (offsets), 0))
      || !is_integer (json_array_get_element (json_node_get_array (offsets), 1)))
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "tensor '%s': data_offsets is not two integers", name);
  gint64 begin = json_array_get_int_element (json_node_get_array (offsets), 0);
  gint64 end = json_array_get_int_element (json_node_get_array (offsets), 1);
  if (begin < 0 || end < 0 || begin > end)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "tensor '%s': data_offsets [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                 "] is not a range", name, begin, end);
  if ((guint64) end > buffer_size)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "tensor '%s': data_offsets end %" G_GINT64_FORMAT " is beyond the %"
                 G_GUINT64_FORMAT "-byte data buffer", name, end, buffer_size);
  if (numel == G_MAXUINT64 || (guint64) (end - begin) != sizeof (float) * numel)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "tensor '%s': data_offsets span %" G_GINT64_FORMAT " bytes, which is not "
                 "4 × the element count of its shape", name, end - begin);
  entry->name = name;
  entry->begin = (guint64) begin;
  entry->end = (guint64) end;
  return TRUE;
}

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp (x->name, y->name);
}

/* Every byte of the data buffer belongs to exactly one tensor. */
static gboolean
check_coverage (const char *path, GArray *entries, guint64 buffer_size, GError **error)
{
  g_autoptr (GArray) sorted = g_array_copy (entries);
  g_array_sort (sorted, compare_entries);
  guint64 covered = 0;
  const Entry *previous = NULL;
  for (guint i = 0; i < sorted->len; i++)
    {
      const Entry *e = &g_array_index (sorted, Entry, i);
      if (e->begin < covered)
        return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                     "tensors '%s' and '%s' overlap in the data buffer", previous->name,
                     e->name);
      if (e->begin > covered)
        return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                     "bytes %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " of the data "
                     "buffer belong to no tensor (a gap before '%s')", covered, e->begin,
                     e->name);
      covered = e->end;
      previous = e;
    }
  if (covered != buffer_size)
    return fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                 "the last %" G_GUINT64_FORMAT " bytes of the data buffer belong to no tensor",
                 buffer_size - covered);
  return TRUE;
}

/* Pairs each tensor the spec needs with an entry of the file, shapes checked. */
static gboolean
match_tensors (const char *path, const PlNetSpec *spec, GArray *expected, GArray *entries,
               Entry **matches, GError **error)
{
  g_autoptr (GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = &g_array_index (entries, Entry, i);
      g_hash_table_insert (by_name, (gpointer) e->name, e);
    }
  for (guint i = 0; i < expected->len; i++)
    {
      const Expected *x = &g_array_index (expected, Expected, i);
      const PlLayerSpec *layer = &spec->layers[x->layer];
      Entry *e = g_hash_table_lookup (by_name, x->name);
      g_autofree char *want = format_dims (x->dims, x->n_dims);
      if (e == NULL)
        return fail (error, PL_CHECKPOINT_ERROR_MISMATCH, path,
                     "tensor '%s' %s is missing (layer %d is c%dx%d)", x->name, want, x->layer,
                     layer->k, layer->n_out);
      guint n_dims = json_array_get_length (e->shape);
      gint64 dims[8];
      gboolean same = n_dims == (guint) x->n_dims;
      for (guint d = 0; d < MIN (n_dims, G_N_ELEMENTS (dims)); d++)
        {
          dims[d] = json_array_get_int_element (e->shape, d);
          same = same && d < (guint) x->n_dims && dims[d] == x->dims[d];
        }
      if (!same)
        {
          g_autofree char *have = format_dims (dims, (int) MIN (n_dims, G_N_ELEMENTS (dims)));
          return fail (error, PL_CHECKPOINT_ERROR_MISMATCH, path,
                       "tensor '%s' has shape %s%s but layer %d (c%dx%d) needs %s", x->name,
                       have, n_dims > G_N_ELEMENTS (dims) ? "…" : "", x->layer, layer->k,
                       layer->n_out, want);
        }
      e->matched = TRUE;
      matches[i] = e;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = &g_array_index (entries, Entry, i);
      if (!e->matched)
        return fail (error, PL_CHECKPOINT_ERROR_MISMATCH, path,
                     "unexpected tensor '%s' (the spec \"%s\" has no such parameter)", e->name,
                     spec->text);
    }
  return TRUE;
}

static PlNet *
load_from_fd (int fd, const char *path, PlCheckpointMeta *meta, GError **error)
{
  struct stat st;
  if (fstat (fd, &st) != 0)
    {
      int saved = errno;
      fail (error, PL_CHECKPOINT_ERROR_IO, path, "cannot stat: %s", g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      fail (error, PL_CHECKPOINT_ERROR_IO, path, "not a regular file");
      return NULL;
    }
  guint64 file_size = (guint64) st.st_size;
  if (file_size < 8)
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
            "the file has %" G_GUINT64_FORMAT " bytes, fewer than the 8 of the header length",
            file_size);
      return NULL;
    }

  guint64 length_le;
  if (!read_at (fd, path, &length_le, sizeof length_le, 0, error))
    return NULL;
  guint64 header_size = GUINT64_FROM_LE (length_le);
  if (header_size > PL_CHECKPOINT_MAX_HEADER)
    {
      fail (error, PL_CHECKPOINT_ERROR_LIMIT, path,
            "the header length %" G_GUINT64_FORMAT " is over the limit of %d bytes",
            header_size, PL_CHECKPOINT_MAX_HEADER);
      return NULL;
    }
  if (header_size > file_size - 8)
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
            "the header length is %" G_GUINT64_FORMAT " bytes but only %" G_GUINT64_FORMAT
            " follow (truncated?)", header_size, file_size - 8);
      return NULL;
    }
  guint64 data_start = 8 + header_size;
  guint64 buffer_size = file_size - data_start;

  g_autofree char *header = g_malloc (header_size + 1);
  if (!read_at (fd, path, header, header_size, 8, error))
    return NULL;
  header[header_size] = '\0';
  if (!g_utf8_validate (header, (gssize) header_size, NULL))
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "the header is not UTF-8 text");
      return NULL;
    }

  if (!check_json_nesting (path, "the header", header, header_size, error))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  if (!json_parser_load_from_data (parser, header, (gssize) header_size, &json_error))
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "the header is not valid JSON: %s",
            json_error->message);
      return NULL;
    }
  JsonNode *root_node = json_parser_get_root (parser);
  if (root_node == NULL || !JSON_NODE_HOLDS_OBJECT (root_node))
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "the header is not a JSON object");
      return NULL;
    }
  JsonObject *root = json_node_get_object (root_node);

  g_auto (PlCheckpointMeta) m = { 0 };
  if (!parse_metadata (root, path, &m, error))
    return NULL;

  g_autoptr (GError) spec_error = NULL;
  g_autoptr (PlNetSpec) spec = pl_net_spec_parse (m.spec, m.in_channels, 0, &spec_error);
  if (spec == NULL)
    {
      fail (error, PL_CHECKPOINT_ERROR_FORMAT, path, "metadata 'spec': %s",
            spec_error->message);
      return NULL;
    }
  guint n_names = g_strv_length (m.class_names);
  if (n_names != (guint) spec->n_classes)
    {
      fail (error, PL_CHECKPOINT_ERROR_MISMATCH, path,
            "%u class names but the classifier of \"%s\" has %d outputs", n_names, spec->text,
            spec->n_classes);
      return NULL;
    }

  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  gboolean has_velocity = FALSE;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  json_object_iter_init_ordered (&iter, root);
  while (json_object_iter_next_ordered (&iter, &name, &node))
    {
      if (strcmp (name, METADATA_KEY) == 0)
        continue;
      Entry entry = { 0 };
      if (!parse_entry (path, name, node, buffer_size, &entry, error))
        return NULL;
      g_array_append_val (entries, entry);
      has_velocity = has_velocity || g_str_has_prefix (name, VELOCITY_PREFIX);
    }
  if (!check_coverage (path, entries, buffer_size, error))
    return NULL;

  /* Every size below is now the spec's and agrees with the file's real size. */
  g_autoptr (GArray) expected = expected_tensors (spec, has_velocity);
  g_autofree Entry **matches = g_new0 (Entry *, expected->len);
  if (!match_tensors (path, spec, expected, entries, matches, error))
    return NULL;

  g_autoptr (PlNet) net = pl_net_new (spec, m.seed);
  for (guint i = 0; i < expected->len; i++)
    {
      const Expected *x = &g_array_index (expected, Expected, i);
      float *data = expected_data (net, x);
      if (!read_at (fd, path, data, sizeof (float) * x->numel, data_start + matches[i]->begin,
                    error))
        return NULL;
      if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
        {
          guint32 *words = (guint32 *) data;
          for (gsize j = 0; j < x->numel; j++)
            words[j] = GUINT32_FROM_LE (words[j]);
        }
      for (gsize j = 0; j < x->numel; j++)
        if (!isfinite (data[j]))
          {
            fail (error, PL_CHECKPOINT_ERROR_FORMAT, path,
                  "tensor '%s' holds %s at element %" G_GSIZE_FORMAT, x->name,
                  isnan (data[j]) ? "NaN" : "an infinity", j);
            return NULL;
          }
    }

  if (meta != NULL)
    {
      g_free (m.spec);
      m.spec = g_strdup (spec->text);
      *meta = m;
      memset (&m, 0, sizeof m);
    }
  return g_steal_pointer (&net);
}

PlNet *
pl_checkpoint_load (const char *path, PlCheckpointMeta *meta, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (meta != NULL)
    memset (meta, 0, sizeof *meta);
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      fail (error, PL_CHECKPOINT_ERROR_IO, path, "cannot open: %s", g_strerror (saved));
      return NULL;
    }
  PlNet *net = load_from_fd (fd, path, meta, error);
  close (fd);
  return net;
}
