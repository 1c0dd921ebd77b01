/* pl-image-io.c — PNG (libpng) and JPEG (libjpeg) decoding into RGB or class ids, and atomic
 * palette PNG writing of label maps.
 *
 * Both libraries report errors by longjmp. Everything a decoder changes after setjmp lives in
 * a heap-allocated job struct, never in a local variable: C11 7.13.2.1 makes non-volatile
 * locals changed between setjmp and longjmp indeterminate, and the error path must free them.
 * libjpeg's error_exit is replaced so that it can never call exit(), and its "corrupt data"
 * warnings (which it otherwise papers over with grey pixels) are errors here.
 */
#include "pl-image-io.h"

#include "pl-dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

typedef enum {
  KIND_PNG,
  KIND_JPEG,
} ImageKind;

typedef enum {
  WANT_SIZE,
  WANT_RGB,
  WANT_MASK,
} Want;

static gboolean
check_side (const char *path, const char *what, guint64 width, guint64 height, GError **error)
{
  if (width == 0 || height == 0)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: %s header says %" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT " pixels",
                   path, what, width, height);
      return FALSE;
    }
  if (width > PL_IMAGE_MAX_SIDE || height > PL_IMAGE_MAX_SIDE)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT,
                   "%s: %s is %" G_GUINT64_FORMAT "×%" G_GUINT64_FORMAT
                   " pixels; the limit is %d pixels per side",
                   path, what, width, height, PL_IMAGE_MAX_SIDE);
      return FALSE;
    }
  return TRUE;
}

/* width × height × channels bytes, or NULL; the product is checked even though the side limit
 * already bounds it, so that the limit can change without opening an overflow. */
static guint8 *
alloc_pixels (guint32 width, guint32 height, int channels)
{
  gsize n_pixels, n_bytes;

  if (!g_size_checked_mul (&n_pixels, width, height)
      || !g_size_checked_mul (&n_bytes, n_pixels, (gsize) channels))
    return NULL;
  return g_try_malloc (n_bytes);
}

/* Opens path and tells PNG from JPEG by signature. For a PNG, also checks the size in IHDR
 * (always the first chunk) before libpng allocates anything for it. Messages name shown. */
static FILE *
open_image (const char *path, const char *shown, ImageKind *kind, GError **error)
{
  guint8 head[24];
  size_t n;
  struct stat st;
  FILE *file = NULL;
  /* O_NONBLOCK so that a FIFO put where an image was expected cannot hang the open. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

  path = shown;
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, PL_DATASET_ERROR,
                   saved_errno == ENOENT ? PL_DATASET_ERROR_MISSING : PL_DATASET_ERROR_IO,
                   "%s: cannot open: %s", path, g_strerror (saved_errno));
      if (fd >= 0)
        close (fd);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: not a regular file (a folder, pipe or device)", path);
      close (fd);
      return NULL;
    }
  if (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK) != 0
      || (file = fdopen (fd, "rb")) == NULL)
    {
      int saved_errno = errno;
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot open: %s", path,
                   g_strerror (saved_errno));
      close (fd);
      return NULL;
    }
  n = fread (head, 1, sizeof head, file);
  if (ferror (file))
    {
      int saved_errno = errno;
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot read: %s", path,
                   g_strerror (saved_errno));
      fclose (file);
      return NULL;
    }
  if (n >= 8 && png_sig_cmp (head, 0, 8) == 0)
    {
      *kind = KIND_PNG;
      if (n == sizeof head && memcmp (head + 12, "IHDR", 4) == 0)
        {
          guint32 width, height;
          memcpy (&width, head + 16, 4);
          memcpy (&height, head + 20, 4);
          width = GUINT32_FROM_BE (width);
          height = GUINT32_FROM_BE (height);
          if (!check_side (path, "PNG", width, height, error))
            {
              fclose (file);
              return NULL;
            }
        }
    }
  else if (n >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
    *kind = KIND_JPEG;
  else
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   n == 0 ? "%s: file is empty" : "%s: not a PNG or JPEG image", path);
      fclose (file);
      return NULL;
    }
  rewind (file);
  return file;
}

/* PNG */

typedef struct {
  PlDatasetError code;
  char message[256];
  guint8 *pixels;   /* [H, W, channels] */
  png_bytep *rows;  /* [H] */
  FILE *file;       /* when writing: the temporary file, until closed */
} PngJob;

static void
png_read_error_cb (png_structp png, png_const_charp message)
{
  PngJob *job = png_get_error_ptr (png);

  g_snprintf (job->message, sizeof job->message, "corrupt PNG: %s", message);
  png_longjmp (png, 1);
}

static void
png_write_error_cb (png_structp png, png_const_charp message)
{
  PngJob *job = png_get_error_ptr (png);

  g_strlcpy (job->message, message, sizeof job->message);
  png_longjmp (png, 1);
}

static void
png_warning_cb (png_structp png, png_const_charp message)
{
  /* Warnings concern ancillary chunks (colour profiles, text); the pixels are fine. */
}

/* Ends a decode from our own checks, through the same path as libpng's errors. */
static void png_fail (png_structp png, PlDatasetError code, const char *format, ...)
  G_GNUC_PRINTF (3, 4) G_GNUC_NORETURN;

static void
png_fail (png_structp png, PlDatasetError code, const char *format, ...)
{
  PngJob *job = png_get_error_ptr (png);
  va_list args;

  job->code = code;
  va_start (args, format);
  g_vsnprintf (job->message, sizeof job->message, format, args);
  va_end (args);
  png_longjmp (png, 1);
}

static void
png_read_cb (png_structp png, png_bytep data, size_t length)
{
  FILE *file = png_get_io_ptr (png);

  if (fread (data, 1, length, file) != length)
    {
      if (ferror (file))
        png_fail (png, PL_DATASET_ERROR_IO, "cannot read: %s", g_strerror (errno));
      png_fail (png, PL_DATASET_ERROR_FORMAT, "truncated PNG (the file ends early)");
    }
}

static const char *
png_colour_name (int colour_type)
{
  switch (colour_type)
    {
    case PNG_COLOR_TYPE_GRAY: return "grey";
    case PNG_COLOR_TYPE_GRAY_ALPHA: return "grey+alpha";
    case PNG_COLOR_TYPE_PALETTE: return "palette";
    case PNG_COLOR_TYPE_RGB: return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
    default: return "unknown";
    }
}

static gboolean
png_decode (const char *path, FILE *file, Want want, int *width, int *height, guint8 **out,
            GError **error)
{
  PngJob *job = g_new0 (PngJob, 1);
  png_structp png;
  png_infop info;
  png_uint_32 w, h;
  int depth, colour, interlace, channels = want == WANT_MASK ? 1 : 3;

  job->code = PL_DATASET_ERROR_FORMAT;
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, job, png_read_error_cb,
                                png_warning_cb);
  info = png ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_read_struct (png ? &png : NULL, NULL, NULL);
      g_free (job);
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT, "%s: out of memory", path);
      return FALSE;
    }

  if (setjmp (png_jmpbuf (png)))
    {
      g_set_error (error, PL_DATASET_ERROR, job->code, "%s: %s", path, job->message);
      png_destroy_read_struct (&png, &info, NULL);
      g_free (job->rows);
      g_free (job->pixels);
      g_free (job);
      return FALSE;
    }

  png_set_read_fn (png, file, png_read_cb);
  png_set_user_limits (png, PL_IMAGE_MAX_SIDE, PL_IMAGE_MAX_SIDE);
  png_read_info (png, info);
  png_get_IHDR (png, info, &w, &h, &depth, &colour, &interlace, NULL, NULL);
  if (w == 0 || h == 0 || w > PL_IMAGE_MAX_SIDE || h > PL_IMAGE_MAX_SIDE)
    png_fail (png, PL_DATASET_ERROR_LIMIT, "PNG is %u×%u pixels; the limit is %d per side",
              (unsigned) w, (unsigned) h, PL_IMAGE_MAX_SIDE);

  if (want == WANT_SIZE)
    {
      png_destroy_read_struct (&png, &info, NULL);
      g_free (job);
      *width = (int) w;
      *height = (int) h;
      return TRUE;
    }

  if (want == WANT_MASK)
    {
      if (colour == PNG_COLOR_TYPE_GRAY && depth == 16)
        png_fail (png, PL_DATASET_ERROR_FORMAT,
                  "mask is a 16-bit grey PNG; masks must be palette PNGs or grey PNGs of at "
                  "most 8 bits");
      if (colour != PNG_COLOR_TYPE_PALETTE && colour != PNG_COLOR_TYPE_GRAY)
        png_fail (png, PL_DATASET_ERROR_FORMAT,
                  "mask PNG is %s; masks must be palette PNGs (class = palette index) or "
                  "grey PNGs (class = grey value)", png_colour_name (colour));
      /* One byte per pixel holding the raw index or grey value: no palette lookup, no
       * scaling of low bit depths. */
      if (depth < 8)
        png_set_packing (png);
    }
  else
    {
      /* Expand palette, low-bit grey and tRNS; then drop alpha and go to 8-bit RGB. */
      png_set_expand (png);
      png_set_scale_16 (png);
      png_set_strip_alpha (png);
      if (colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb (png);
    }
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  if (png_get_channels (png, info) != channels || png_get_bit_depth (png, info) != 8
      || png_get_rowbytes (png, info) != (gsize) w * channels)
    png_fail (png, PL_DATASET_ERROR_FORMAT, "unsupported PNG layout (%s, %d bits)",
              png_colour_name (colour), depth);

  job->pixels = alloc_pixels (w, h, channels);
  job->rows = g_try_new (png_bytep, h);
  if (job->pixels == NULL || job->rows == NULL)
    png_fail (png, PL_DATASET_ERROR_LIMIT, "not enough memory for a %u×%u image",
              (unsigned) w, (unsigned) h);
  for (png_uint_32 y = 0; y < h; y++)
    job->rows[y] = job->pixels + (gsize) y * w * channels;
  png_read_image (png, job->rows);
  /* Reading through IEND catches files cut off after the pixel data. */
  png_read_end (png, NULL);

  png_destroy_read_struct (&png, &info, NULL);
  *width = (int) w;
  *height = (int) h;
  *out = job->pixels;
  g_free (job->rows);
  g_free (job);
  return TRUE;
}

/* JPEG */

typedef struct {
  struct jpeg_error_mgr err;  /* first, so that cinfo->err is the job */
  struct jpeg_decompress_struct cinfo;
  jmp_buf jump;
  PlDatasetError code;
  char message[JMSG_LENGTH_MAX + 64];
  guint8 *pixels;             /* [H, W, 3] */
  GError *error;              /* a complete error from our own checks, else use message */
} JpegJob;

static void
jpeg_error_exit_cb (j_common_ptr cinfo)
{
  JpegJob *job = (JpegJob *) cinfo->err;
  char text[JMSG_LENGTH_MAX];

  cinfo->err->format_message (cinfo, text);
  g_snprintf (job->message, sizeof job->message, "corrupt or unsupported JPEG: %s", text);
  longjmp (job->jump, 1);
}

static void
jpeg_emit_message_cb (j_common_ptr cinfo, int level)
{
  JpegJob *job = (JpegJob *) cinfo->err;
  char text[JMSG_LENGTH_MAX];

  if (level >= 0)
    return;  /* trace messages */
  /* Warnings that do not affect the pixels. The rest mean corrupt or truncated data,
   * which libjpeg would otherwise fill in with grey. */
  if (cinfo->err->msg_code == JWRN_ADOBE_XFORM || cinfo->err->msg_code == JWRN_JFIF_MAJOR)
    return;
  cinfo->err->format_message (cinfo, text);
  g_snprintf (job->message, sizeof job->message, "corrupt or truncated JPEG: %s", text);
  longjmp (job->jump, 1);
}

static void
jpeg_output_message_cb (j_common_ptr cinfo)
{
  /* Never print to stderr; messages reach the user through GError. */
}

static gboolean
jpeg_decode (const char *path, FILE *file, Want want, int *width, int *height, guint8 **out,
             GError **error)
{
  JpegJob *job = g_new0 (JpegJob, 1);
  struct jpeg_decompress_struct *cinfo = &job->cinfo;

  job->code = PL_DATASET_ERROR_FORMAT;
  cinfo->err = jpeg_std_error (&job->err);
  job->err.error_exit = jpeg_error_exit_cb;
  job->err.emit_message = jpeg_emit_message_cb;
  job->err.output_message = jpeg_output_message_cb;

  if (setjmp (job->jump))
    {
      if (job->error != NULL)
        g_propagate_error (error, job->error);
      else
        g_set_error (error, PL_DATASET_ERROR, job->code, "%s: %s", path, job->message);
      jpeg_destroy_decompress (cinfo);
      g_free (job->pixels);
      g_free (job);
      return FALSE;
    }

  jpeg_create_decompress (cinfo);
  jpeg_stdio_src (cinfo, file);
  jpeg_read_header (cinfo, TRUE);
  if (!check_side (path, "JPEG", cinfo->image_width, cinfo->image_height, &job->error))
    longjmp (job->jump, 1);
  if (want == WANT_SIZE)
    {
      *width = (int) cinfo->image_width;
      *height = (int) cinfo->image_height;
      jpeg_destroy_decompress (cinfo);
      g_free (job);
      return TRUE;
    }

  cinfo->out_color_space = JCS_RGB;
  jpeg_start_decompress (cinfo);
  if (cinfo->output_components != 3 || cinfo->output_width != cinfo->image_width
      || cinfo->output_height != cinfo->image_height)
    {
      g_snprintf (job->message, sizeof job->message, "unsupported JPEG layout");
      longjmp (job->jump, 1);
    }
  job->pixels = alloc_pixels (cinfo->output_width, cinfo->output_height, 3);
  if (job->pixels == NULL)
    {
      job->code = PL_DATASET_ERROR_LIMIT;
      g_snprintf (job->message, sizeof job->message, "not enough memory for a %u×%u image",
                  cinfo->output_width, cinfo->output_height);
      longjmp (job->jump, 1);
    }
  while (cinfo->output_scanline < cinfo->output_height)
    {
      JSAMPROW row = job->pixels + (gsize) cinfo->output_scanline * cinfo->output_width * 3;
      jpeg_read_scanlines (cinfo, &row, 1);
    }
  jpeg_finish_decompress (cinfo);

  *width = (int) cinfo->output_width;
  *height = (int) cinfo->output_height;
  *out = job->pixels;
  jpeg_destroy_decompress (cinfo);
  g_free (job);
  return TRUE;
}

/* Messages name the file by its absolute path, whatever the caller passed. */
static gboolean
decode (const char *path, Want want, int *width, int *height, guint8 **out, GError **error)
{
  g_autofree char *shown = g_canonicalize_filename (path, NULL);
  ImageKind kind;
  gboolean ok;
  FILE *file = open_image (path, shown, &kind, error);

  if (file == NULL)
    return FALSE;
  path = shown;
  if (kind == KIND_JPEG && want == WANT_MASK)
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_FORMAT,
                   "%s: mask is a JPEG; masks must be PNGs (JPEG compression changes class ids)",
                   path);
      fclose (file);
      return FALSE;
    }
  if (kind == KIND_PNG)
    ok = png_decode (path, file, want, width, height, out, error);
  else
    ok = jpeg_decode (path, file, want, width, height, out, error);
  fclose (file);
  return ok;
}

gboolean
pl_image_read_size (const char *path, int *width, int *height, GError **error)
{
  g_return_val_if_fail (path != NULL && width != NULL && height != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return decode (path, WANT_SIZE, width, height, NULL, error);
}

gboolean
pl_image_load_rgb (const char *path, int *width, int *height, guint8 **rgb, GError **error)
{
  g_return_val_if_fail (path != NULL && width != NULL && height != NULL && rgb != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return decode (path, WANT_RGB, width, height, rgb, error);
}

gboolean
pl_image_load_mask (const char *path, int *width, int *height, guint8 **labels, GError **error)
{
  g_return_val_if_fail (path != NULL && width != NULL && height != NULL && labels != NULL,
                        FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return decode (path, WANT_MASK, width, height, labels, error);
}

/* Writing */

void
pl_image_label_colour (guint8 label, guint8 rgb[3])
{
  /* The PASCAL VOC colour map: the bits of the label, spread over the high bits of r, g, b. */
  int c = label, r = 0, g = 0, b = 0;

  for (int j = 0; j < 8; j++, c >>= 3)
    {
      r |= ((c >> 0) & 1) << (7 - j);
      g |= ((c >> 1) & 1) << (7 - j);
      b |= ((c >> 2) & 1) << (7 - j);
    }
  rgb[0] = (guint8) r;
  rgb[1] = (guint8) g;
  rgb[2] = (guint8) b;
}

static void
png_write_cb (png_structp png, png_bytep data, size_t length)
{
  PngJob *job = png_get_io_ptr (png);

  if (fwrite (data, 1, length, job->file) != length)
    png_fail (png, PL_DATASET_ERROR_IO, "%s", g_strerror (errno));
}

static void
png_flush_cb (png_structp png)
{
  PngJob *job = png_get_io_ptr (png);

  if (fflush (job->file) != 0)
    png_fail (png, PL_DATASET_ERROR_IO, "%s", g_strerror (errno));
}

/* Writes the PNG into job->file and closes it (job->file = NULL once closed). */
static gboolean
png_encode (PngJob *job, const char *path, int width, int height, const guint8 *labels,
            GError **error)
{
  png_color palette[256];
  png_structp png;
  png_infop info;

  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, job, png_write_error_cb,
                                 png_warning_cb);
  info = png ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      png_destroy_write_struct (png ? &png : NULL, NULL);
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_LIMIT, "%s: out of memory", path);
      return FALSE;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot write: %s", path,
                   job->message);
      png_destroy_write_struct (&png, &info);
      return FALSE;
    }

  for (int i = 0; i < 256; i++)
    {
      guint8 rgb[3];
      pl_image_label_colour ((guint8) i, rgb);
      palette[i].red = rgb[0];
      palette[i].green = rgb[1];
      palette[i].blue = rgb[2];
    }
  job->rows = g_new (png_bytep, height);
  for (int y = 0; y < height; y++)
    job->rows[y] = (png_bytep) labels + (gsize) y * width;

  png_set_write_fn (png, job, png_write_cb, png_flush_cb);
  png_set_IHDR (png, info, (png_uint_32) width, (png_uint_32) height, 8,
                PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                PNG_FILTER_TYPE_DEFAULT);
  png_set_PLTE (png, info, palette, 256);
  png_write_info (png, info);
  png_write_image (png, job->rows);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);

  if (fflush (job->file) != 0 || fsync (fileno (job->file)) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot write: %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  {
    FILE *file = job->file;
    job->file = NULL;
    if (fclose (file) != 0)
      {
        int saved_errno = errno;
        g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot write: %s", path,
                     g_strerror (saved_errno));
        return FALSE;
      }
  }
  return TRUE;
}

gboolean
pl_image_save_labels (const char *path, int width, int height, const guint8 *labels,
                      GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp_path = NULL;
  g_autofree char *shown = NULL;
  PngJob *job;
  gboolean ok;
  int fd;

  g_return_val_if_fail (path != NULL && labels != NULL, FALSE);
  g_return_val_if_fail (width >= 1 && width <= PL_IMAGE_MAX_SIDE, FALSE);
  g_return_val_if_fail (height >= 1 && height <= PL_IMAGE_MAX_SIDE, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  shown = g_canonicalize_filename (path, NULL);
  /* The temporary file sits beside the target so that rename() is atomic (same file system);
   * hidden, so that a folder scan never takes it for a mask. */
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  tmp_path = g_strdup_printf ("%s%c.%s.XXXXXX", dir, G_DIR_SEPARATOR, base);
  fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, PL_DATASET_ERROR,
                   saved_errno == ENOENT ? PL_DATASET_ERROR_MISSING : PL_DATASET_ERROR_IO,
                   "%s: cannot create a temporary file in its folder: %s", shown,
                   g_strerror (saved_errno));
      return FALSE;
    }

  job = g_new0 (PngJob, 1);
  job->file = fdopen (fd, "wb");
  if (job->file == NULL)
    {
      int saved_errno = errno;
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot write: %s", shown,
                   g_strerror (saved_errno));
      close (fd);
      ok = FALSE;
    }
  else
    ok = png_encode (job, shown, width, height, labels, error);

  if (ok && g_rename (tmp_path, path) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, PL_DATASET_ERROR, PL_DATASET_ERROR_IO, "%s: cannot replace: %s",
                   shown, g_strerror (saved_errno));
      ok = FALSE;
    }
  if (job->file != NULL)
    fclose (job->file);
  if (!ok)
    g_unlink (tmp_path);
  g_free (job->rows);
  g_free (job);
  return ok;
}
