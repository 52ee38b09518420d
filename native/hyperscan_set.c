// The multi-pattern pass on Hyperscan: which of many patterns occur in a buffer (what RE2::Set
// answers), with Hyperscan's SIMD literal engines, as Nosey Parker and Kingfisher do. Optional:
// leakhound falls back to RE2::Set when this addon is not built.
//
// Exports:
//   version(): string
//   compile(patterns: string[], flags: number[], ids: number[]): Buffer      serialized database
//   new Database(serialized: Uint8Array, idLimit: number)
//     .match(bytes: Uint8Array, ends?: Uint32Array): number[] | null
//         ids found, ascending (ends[k]: where ids[k] first matched); null: input not UTF-8
//     .scanFiles(paths: string[], wholeLimit: number, sniffBytes: number, slab?: Uint8Array): FileBatch
//   cleanLogBatch(raw: Uint8Array, startsMidLine: boolean): Buffer      see src/sources/logs/clean.ts
//   flags: { CASELESS, DOTALL, MULTILINE, SINGLEMATCH, UTF8, PREFILTER, ALLOWEMPTY }
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, NULL, "leakhound native: N-API call failed: " #call); \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

typedef struct {
  hs_database_t *db;
  hs_scratch_t *scratch;
  uint32_t id_limit;  // ids are below this
  uint8_t *seen;      // per id: reported in the current scan
  uint32_t *found;    // ids reported in the current scan
  uint32_t *ends;     // per id: end offset of its first match in the current scan
  uint32_t nfound;
  uint8_t *file_buf;  // scanFiles' read buffer, reused
  size_t file_buf_size;
} Matcher;

// The errno's name (ENOENT, EACCES...), as Node reports it in `code`.
static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name != NULL) return name;
#endif
  switch (err) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOTDIR: return "ENOTDIR";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    default: return "EIO";
  }
}

static napi_value throw_hs(napi_env env, const char *what, hs_error_t err) {
  char msg[160];
  snprintf(msg, sizeof msg, "hyperscan: %s failed (error %d)", what, (int)err);
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value Version(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  CHECK(napi_create_string_utf8(env, hs_version(), NAPI_AUTO_LENGTH, &v));
  return v;
}

static int get_u32_element(napi_env env, napi_value array, uint32_t i, uint32_t *out) {
  napi_value v;
  return napi_get_element(env, array, i, &v) == napi_ok && napi_get_value_uint32(env, v, out) == napi_ok;
}

static napi_value Compile(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t n = 0;
  if (argc < 3 || napi_get_array_length(env, argv[0], &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "compile(patterns, flags, ids): expected arrays");
    return NULL;
  }
  char **exprs = calloc(n ? n : 1, sizeof(char *));
  unsigned *flags = calloc(n ? n : 1, sizeof(unsigned));
  unsigned *ids = calloc(n ? n : 1, sizeof(unsigned));
  napi_value result = NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    if (napi_get_element(env, argv[0], i, &v) != napi_ok || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok ||
        !get_u32_element(env, argv[1], i, &flags[i]) || !get_u32_element(env, argv[2], i, &ids[i])) {
      napi_throw_type_error(env, NULL, "compile(patterns, flags, ids): expected strings and numbers");
      goto done;
    }
    exprs[i] = malloc(len + 1);
    napi_get_value_string_utf8(env, v, exprs[i], len + 1, &len);
  }
  hs_database_t *db = NULL;
  hs_compile_error_t *cerr = NULL;
  if (hs_compile_multi((const char *const *)exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
    // the failing expression's position travels with the error: the caller sets it aside and retries
    napi_value err, msg, index;
    napi_create_string_utf8(env, cerr != NULL ? cerr->message : "compile failed", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_create_int32(env, cerr != NULL ? cerr->expression : -1, &index);
    napi_set_named_property(env, err, "expression", index);
    napi_throw(env, err);
    if (cerr != NULL) hs_free_compile_error(cerr);
    goto done;
  }
  char *bytes = NULL;
  size_t length = 0;
  hs_error_t serr = hs_serialize_database(db, &bytes, &length);
  hs_free_database(db);
  if (serr != HS_SUCCESS) {
    throw_hs(env, "serialize", serr);
    goto done;
  }
  void *data = NULL;
  if (napi_create_buffer_copy(env, length, bytes, &data, &result) != napi_ok) result = NULL;
  free(bytes);
done:
  for (uint32_t i = 0; i < n; i++) free(exprs[i]);
  free(exprs);
  free(flags);
  free(ids);
  return result;
}

static void FreeMatcher(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Matcher *m = data;
  if (m->scratch) hs_free_scratch(m->scratch);
  if (m->db) hs_free_database(m->db);
  free(m->seen);
  free(m->found);
  free(m->ends);
  free(m->file_buf);
  free(m);
}

static int get_bytes(napi_env env, napi_value value, uint8_t **bytes, size_t *length) {
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *bytes = data;
  return 1;
}

static napi_value NewDatabase(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  uint8_t *bytes = NULL;
  size_t length = 0;
  uint32_t id_limit = 0;
  if (argc < 2 || !get_bytes(env, argv[0], &bytes, &length) || napi_get_value_uint32(env, argv[1], &id_limit) != napi_ok) {
    napi_throw_type_error(env, NULL, "new Database(serialized, idLimit): expected a Uint8Array and a number");
    return NULL;
  }
  Matcher *m = calloc(1, sizeof(Matcher));
  hs_error_t err = hs_deserialize_database((const char *)bytes, length, &m->db);
  if (err != HS_SUCCESS) {
    free(m);
    return throw_hs(env, "deserialize", err);
  }
  err = hs_alloc_scratch(m->db, &m->scratch);
  if (err != HS_SUCCESS) {
    FreeMatcher(env, m, NULL);
    return throw_hs(env, "alloc_scratch", err);
  }
  m->id_limit = id_limit;
  m->seen = calloc(id_limit ? id_limit : 1, 1);
  m->found = calloc(id_limit ? id_limit : 1, sizeof(uint32_t));
  m->ends = calloc(id_limit ? id_limit : 1, sizeof(uint32_t));
  if (napi_wrap(env, self, m, FreeMatcher, NULL, NULL) != napi_ok) {
    FreeMatcher(env, m, NULL);
    napi_throw_error(env, NULL, "leakhound native: napi_wrap failed");
    return NULL;
  }
  return self;
}

static int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx) {
  (void)from;
  (void)flags;
  Matcher *m = ctx;
  // matches arrive in order of their end: the first one of an id ends earliest
  if (id < m->id_limit && !m->seen[id]) {
    m->seen[id] = 1;
    m->ends[id] = (uint32_t)to;
    m->found[m->nfound++] = id;
  }
  return 0;
}

// The patterns are compiled as UTF-8 (so `.` and `[^x]` take a whole character, as in RE2), and
// Hyperscan's behaviour on other input is undefined: such input goes to RE2 instead.
static int valid_utf8(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {  // ASCII, 8 bytes at a time
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
    } else
      return 0;
    if (i + need >= n) return 0;  // truncated sequence
    for (size_t k = 1; k <= need; k++) {
      uint8_t d = s[i + k];
      if ((d & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += need + 1;
  }
  return 1;
}

// Runs the database over bytes. Returns 1 and leaves m->found (ascending, m->nfound) when scanned,
// 0 when the input is not UTF-8, -1 on a scan error (thrown).
static int scan_bytes(napi_env env, Matcher *m, const uint8_t *bytes, size_t length) {
  m->nfound = 0;
  if (length == 0) return 1;  // Hyperscan refuses empty input; no pattern matches it
  if (!valid_utf8(bytes, length)) return 0;
  if (length > 0xffffffffu) {
    throw_hs(env, "scan (input over 4 GB)", HS_INVALID);
    return -1;
  }
  hs_error_t err = hs_scan(m->db, (const char *)bytes, (unsigned)length, 0, m->scratch, OnMatch, m);
  if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED) {
    for (uint32_t i = 0; i < m->nfound; i++) m->seen[m->found[i]] = 0;
    throw_hs(env, "scan", err);
    return -1;
  }
  // ascending ids, as RE2::Set reports them; clears `seen` for the next scan
  uint32_t k = 0;
  for (uint32_t id = 0; k < m->nfound && id < m->id_limit; id++) {
    if (m->seen[id]) {
      m->found[k++] = id;
      m->seen[id] = 0;
    }
  }
  return 1;
}

static napi_value found_array(napi_env env, Matcher *m) {
  napi_value out;
  CHECK(napi_create_array_with_length(env, m->nfound, &out));
  for (uint32_t i = 0; i < m->nfound; i++) {
    napi_value v;
    CHECK(napi_create_uint32(env, m->found[i], &v));
    CHECK(napi_set_element(env, out, i, v));
  }
  return out;
}

// Uint32Array of the first match ends of the found ids, in the order of found_array.
static napi_value ends_array(napi_env env, Matcher *m) {
  napi_value ab, out;
  void *data = NULL;
  CHECK(napi_create_arraybuffer(env, (size_t)m->nfound * sizeof(uint32_t), &data, &ab));
  for (uint32_t i = 0; i < m->nfound; i++) ((uint32_t *)data)[i] = m->ends[m->found[i]];
  CHECK(napi_create_typedarray(env, napi_uint32_array, m->nfound, ab, 0, &out));
  return out;
}

// match(bytes[, ends]): ids found, ascending; with `ends` (a Uint32Array as long as the found ids
// can be many), ends[k] is where the first match of ids[k] ends.
static napi_value Match(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self, out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  Matcher *m = NULL;
  CHECK(napi_unwrap(env, self, (void **)&m));
  uint8_t *bytes = NULL;
  size_t length = 0;
  if (argc < 1 || !get_bytes(env, argv[0], &bytes, &length)) {
    napi_throw_type_error(env, NULL, "match(bytes): expected a Uint8Array");
    return NULL;
  }
  int r = scan_bytes(env, m, bytes, length);
  if (r < 0) return NULL;
  if (r == 0) {
    CHECK(napi_get_null(env, &out));
    return out;
  }
  napi_valuetype second = napi_undefined;
  if (argc >= 2) CHECK(napi_typeof(env, argv[1], &second));
  if (second != napi_undefined) {
    napi_typedarray_type type;
    size_t n = 0, offset;
    void *data = NULL;
    napi_value ab;
    if (napi_get_typedarray_info(env, argv[1], &type, &n, &data, &ab, &offset) != napi_ok || type != napi_uint32_array || n < m->nfound) {
      napi_throw_type_error(env, NULL, "match(bytes, ends): ends must be a Uint32Array with room for every id");
      return NULL;
    }
    for (uint32_t i = 0; i < m->nfound; i++) ((uint32_t *)data)[i] = m->ends[m->found[i]];
  }
  return found_array(env, m);
}

// Outcome of one file in scanFiles; the numbering is shared with src/engine/native.ts.
enum { FILE_CLEAN = 0, FILE_BINARY = 1, FILE_UNREADABLE = 2, FILE_NOT_A_FILE = 3, FILE_CANDIDATES = 4, FILE_LARGE = 5 };

// Reads from fd at offset 0 until the buffer is full or the file ends. -1 and errno on error.
static ssize_t read_fully(int fd, uint8_t *buf, size_t size) {
  size_t total = 0;
  while (total < size) {
    ssize_t n = pread(fd, buf + total, size - total, (off_t)total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    total += (size_t)n;
  }
  return (ssize_t)total;
}

static int set_detail(napi_env env, napi_value details, uint32_t *count, uint32_t index, napi_value a, napi_value b, napi_value c) {
  napi_value entry, idx;
  if (napi_create_array_with_length(env, c != NULL ? 4 : b != NULL ? 3 : 2, &entry) != napi_ok || napi_create_uint32(env, index, &idx) != napi_ok) return 0;
  if (napi_set_element(env, entry, 0, idx) != napi_ok || napi_set_element(env, entry, 1, a) != napi_ok) return 0;
  if (b != NULL && napi_set_element(env, entry, 2, b) != napi_ok) return 0;
  if (c != NULL && napi_set_element(env, entry, 3, c) != napi_ok) return 0;
  return napi_set_element(env, details, (*count)++, entry) == napi_ok;
}

// scanFiles(paths, wholeLimit, sniffBytes[, slab]): reads each file whole (up to wholeLimit bytes), skips
// binaries (a NUL in the first sniffBytes) and runs the database over the rest, so that a file no
// rule can match never reaches JavaScript. Returns { status: Uint8Array, bytes: Float64Array,
// details: [index, bytes, ids, ends] or [index, bytes, null] (not UTF-8) for FILE_CANDIDATES, where
// bytes is the offset of the file in the slab (its length is in `bytes`) or a Buffer of its own,
// [index, errorCode] for FILE_UNREADABLE }.
static napi_value ScanFiles(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  Matcher *m = NULL;
  CHECK(napi_unwrap(env, self, (void **)&m));
  uint32_t n = 0, whole_limit = 0, sniff = 0;
  if (argc < 3 || napi_get_array_length(env, argv[0], &n) != napi_ok || napi_get_value_uint32(env, argv[1], &whole_limit) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &sniff) != napi_ok) {
    napi_throw_type_error(env, NULL, "scanFiles(paths, wholeLimit, sniffBytes): bad arguments");
    return NULL;
  }
  size_t want = (size_t)whole_limit + 1;  // one byte more tells a file over the limit
  // Files are read into the caller's slab where it has room, and a candidate file's bytes stay
  // there (its detail names the offset): no copy and no allocation per file.
  uint8_t *slab = NULL;
  size_t slab_len = 0, slab_off = 0;
  napi_valuetype slab_type = napi_undefined;
  if (argc >= 4) CHECK(napi_typeof(env, argv[3], &slab_type));
  if (slab_type != napi_undefined && !get_bytes(env, argv[3], &slab, &slab_len)) {
    napi_throw_type_error(env, NULL, "scanFiles: the slab must be a Uint8Array");
    return NULL;
  }
  if (m->file_buf_size < want) {
    free(m->file_buf);
    m->file_buf = malloc(want);
    m->file_buf_size = m->file_buf ? want : 0;
    if (!m->file_buf) {
      napi_throw_error(env, NULL, "leakhound native: out of memory");
      return NULL;
    }
  }
  napi_value status_ab, bytes_ab, status_arr, bytes_arr, details, result;
  uint8_t *status = NULL;
  double *sizes = NULL;
  CHECK(napi_create_arraybuffer(env, n, (void **)&status, &status_ab));
  CHECK(napi_create_arraybuffer(env, (size_t)n * sizeof(double), (void **)&sizes, &bytes_ab));
  CHECK(napi_create_typedarray(env, napi_uint8_array, n, status_ab, 0, &status_arr));
  CHECK(napi_create_typedarray(env, napi_float64_array, n, bytes_ab, 0, &bytes_arr));
  CHECK(napi_create_array(env, &details));
  uint32_t ndetails = 0;
  char path[4096];
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    status[i] = FILE_UNREADABLE;
    sizes[i] = 0;
    if (napi_get_element(env, argv[0], i, &v) != napi_ok || napi_get_value_string_utf8(env, v, path, sizeof path, &len) != napi_ok) {
      napi_throw_type_error(env, NULL, "scanFiles: paths must be strings");
      return NULL;
    }
    if (len >= sizeof path - 1) {  // too long for this buffer: JavaScript reads it
      status[i] = FILE_LARGE;
      continue;
    }
    // O_NONBLOCK: a FIFO that replaced a file since the walk must not hang the scan
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int err = 0;
    if (fd < 0) err = errno;
    uint8_t *buf = slab != NULL && slab_len - slab_off >= want ? slab + slab_off : m->file_buf;
    ssize_t got = fd < 0 ? -1 : read_fully(fd, buf, want);
    if (fd >= 0 && got < 0) {
      err = errno;
      struct stat st;
      if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        close(fd);
        status[i] = FILE_NOT_A_FILE;
        continue;
      }
    }
    if (got < 0) {
      if (fd >= 0) close(fd);
      napi_value code;
      CHECK(napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code));
      if (!set_detail(env, details, &ndetails, i, code, NULL, NULL)) return NULL;
      continue;
    }
    close(fd);
    size_t size = (size_t)got;
    if (size > whole_limit) {
      status[i] = FILE_LARGE;
      continue;
    }
    sizes[i] = (double)size;
    if (size == 0) {
      status[i] = FILE_CLEAN;
      continue;
    }
    if (memchr(buf, 0, size < sniff ? size : sniff) != NULL) {
      status[i] = FILE_BINARY;
      sizes[i] = 0;
      continue;
    }
    int r = scan_bytes(env, m, buf, size);
    if (r < 0) return NULL;
    if (r == 1 && m->nfound == 0) {
      status[i] = FILE_CLEAN;
      continue;
    }
    status[i] = FILE_CANDIDATES;
    napi_value bytes, ids, ends = NULL;
    if (buf == m->file_buf) {
      void *unused;
      CHECK(napi_create_buffer_copy(env, size, buf, &unused, &bytes));
    } else {
      CHECK(napi_create_double(env, (double)slab_off, &bytes));
      slab_off += size;
    }
    if (r == 0) {
      CHECK(napi_get_null(env, &ids));
    } else {
      ids = found_array(env, m);
      ends = ends_array(env, m);
      if (ids == NULL || ends == NULL) return NULL;
    }
    if (!set_detail(env, details, &ndetails, i, bytes, ids, ends)) return NULL;
  }
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "status", status_arr));
  CHECK(napi_set_named_property(env, result, "bytes", bytes_arr));
  CHECK(napi_set_named_property(env, result, "details", details));
  return result;
}

// cleanLogBatch(raw: Uint8Array, startsMidLine: boolean): Buffer
// The native form of cleanBatch in src/sources/logs/clean.ts, byte for byte the same output (a test
// compares them): per line, the UTF-8 BOM and a CI timestamp prefix (GitHub Actions, GitLab) go,
// ANSI escape sequences go, the CR of a CRLF ending goes; NUL bytes become spaces. Reads past a
// line's end only where the JavaScript does (it indexes the whole batch).
static inline int at(const uint8_t *b, size_t n, size_t i) { return i < n ? b[i] : -1; }
static inline int is_digit(int c) { return c >= 0x30 && c <= 0x39; }
static inline int is_hex(int c) { return is_digit(c) || (c >= 0x61 && c <= 0x66); }

static size_t timestamp_length(const uint8_t *b, size_t n, size_t p, size_t e) {
  static const uint8_t digits[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
  if (e < p + 21) return 0;
  for (size_t k = 0; k < sizeof digits; k++)
    if (!is_digit(at(b, n, p + digits[k]))) return 0;
  if (at(b, n, p + 4) != 0x2d || at(b, n, p + 7) != 0x2d || at(b, n, p + 10) != 0x54 || at(b, n, p + 13) != 0x3a || at(b, n, p + 16) != 0x3a) return 0;
  size_t q = p + 19;
  if (at(b, n, q) == 0x2e) {
    q++;
    while (q < e && is_digit(at(b, n, q))) q++;
  }
  if (at(b, n, q) != 0x5a || at(b, n, q + 1) != 0x20) return 0;
  return q + 2 - p;
}

static size_t prefix_length(const uint8_t *b, size_t n, size_t s, size_t e) {
  size_t p = s;
  if (at(b, n, p) == 0xef && at(b, n, p + 1) == 0xbb && at(b, n, p + 2) == 0xbf) p += 3;
  size_t t = timestamp_length(b, n, p, e);
  if (t == 0) return p - s;
  p += t;
  if (is_hex(at(b, n, p)) && is_hex(at(b, n, p + 1)) && (at(b, n, p + 2) == 0x4f || at(b, n, p + 2) == 0x45)) {
    size_t q = p + 3;
    if (at(b, n, q) == 0x2b) q++;
    if (at(b, n, q) == 0x20 && q < e) p = q + 1;
  }
  return p - s;
}

static size_t escape_end(const uint8_t *b, size_t n, size_t p, size_t e) {
  int k = at(b, n, p + 1);
  if (k == 0x5b) {
    size_t q = p + 2;
    while (q < e && (b[q] < 0x40 || b[q] > 0x7e)) q++;
    return q + 1 < e ? q + 1 : e;
  }
  if (k == 0x5d) {
    size_t q = p + 2;
    while (q < e) {
      if (b[q] == 0x07) return q + 1;
      if (b[q] == 0x1b && at(b, n, q + 1) == 0x5c) return q + 2;
      q++;
    }
    return e;
  }
  return p + 2 < e ? p + 2 : e;
}

static napi_value CleanLogBatch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint8_t *b = NULL;
  size_t n = 0;
  bool starts_mid_line = false;
  if (argc < 2 || !get_bytes(env, argv[0], &b, &n) || napi_get_value_bool(env, argv[1], &starts_mid_line) != napi_ok) {
    napi_throw_type_error(env, NULL, "cleanLogBatch(raw, startsMidLine): expected a Uint8Array and a boolean");
    return NULL;
  }
  // one output buffer per thread, kept: a fresh megabyte per batch cost a page fault per page
  static __thread uint8_t *scratch = NULL;
  static __thread size_t scratch_size = 0;
  if (scratch_size < n || scratch == NULL) {
    free(scratch);
    scratch_size = n > 1 ? n : 1;
    scratch = malloc(scratch_size);
    if (scratch == NULL) {
      scratch_size = 0;
      napi_throw_error(env, NULL, "leakhound native: out of memory");
      return NULL;
    }
  }
  uint8_t *out = scratch;
  size_t o = 0;
  int first = 1;
  for (size_t s = 0; s < n;) {
    const uint8_t *nlp = memchr(b + s, 0x0a, n - s);
    size_t e = nlp ? (size_t)(nlp - b) : n;
    int at_start = !(first && starts_mid_line);
    first = 0;
    size_t p = at_start ? s + prefix_length(b, n, s, e) : s;
    size_t end = e;
    if (end > p && b[end - 1] == 0x0d) end--;
    while (p < end) {
      const uint8_t *escp = memchr(b + p, 0x1b, end - p);
      size_t esc = escp ? (size_t)(escp - b) : end;
      memcpy(out + o, b + p, esc - p);
      o += esc - p;
      if (esc >= end) break;
      p = escape_end(b, n, esc, end);
    }
    if (nlp) out[o++] = 0x0a;
    s = e + 1;
  }
  for (size_t i = 0; i < o; i++)
    if (out[i] == 0) out[i] = 0x20;
  void *data = NULL;
  napi_status st = napi_create_buffer_copy(env, o, out, &data, &result);
  if (st != napi_ok) {
    napi_throw_error(env, NULL, "leakhound native: out of memory");
    return NULL;
  }
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn, cls, flags;
  CHECK(napi_create_function(env, "version", NAPI_AUTO_LENGTH, Version, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "version", fn));
  CHECK(napi_create_function(env, "cleanLogBatch", NAPI_AUTO_LENGTH, CleanLogBatch, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "cleanLogBatch", fn));
  CHECK(napi_create_function(env, "compile", NAPI_AUTO_LENGTH, Compile, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "compile", fn));
  napi_property_descriptor methods[] = {
      {"match", NULL, Match, NULL, NULL, NULL, napi_default, NULL},
      {"scanFiles", NULL, ScanFiles, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_class(env, "Database", NAPI_AUTO_LENGTH, NewDatabase, NULL, 2, methods, &cls));
  CHECK(napi_set_named_property(env, exports, "Database", cls));
  CHECK(napi_create_object(env, &flags));
  const struct {
    const char *name;
    unsigned value;
  } table[] = {{"CASELESS", HS_FLAG_CASELESS},       {"DOTALL", HS_FLAG_DOTALL}, {"MULTILINE", HS_FLAG_MULTILINE},
               {"SINGLEMATCH", HS_FLAG_SINGLEMATCH}, {"UTF8", HS_FLAG_UTF8},
               {"PREFILTER", HS_FLAG_PREFILTER},     {"ALLOWEMPTY", HS_FLAG_ALLOWEMPTY}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    napi_value v;
    CHECK(napi_create_uint32(env, table[i].value, &v));
    CHECK(napi_set_named_property(env, flags, table[i].name, v));
  }
  CHECK(napi_set_named_property(env, exports, "flags", flags));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
