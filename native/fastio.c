/*
 * fastio: read many small files, or many symbolic links, in one call, across threads.
 *
 * A listing of a big host opens tens of thousands of sysfs attributes and definitions. From
 * JavaScript every file costs three calls into Node (open, read, close), each with its own
 * argument checks and, for a missing file, an exception; that costs about as much as the system
 * calls themselves. Here the whole batch is read by C in one call through Node-API: openat()
 * relative to the file's directory (the kernel walks a name or two per open, not the whole path),
 * read(), close(). Big batches are shared by threads, one per CPU the process may run on (at most
 * MAX_THREADS, and only with MIN_PER_THREAD names or more each), taking chunks of CHUNK names
 * from one queue until it is empty: the kernel's side of an open scales with cores (mdevctl
 * 1.2.0 reads on one), and a thread that gets no CPU on a busy machine just takes fewer chunks.
 * Only the main thread touches JavaScript values.
 *
 * Node-API is ABI-stable, so one build serves every Node from 20 on. src/lib/util/native.ts loads it
 * (and src/lib/util/fastfs.ts falls back to its JavaScript readers when it cannot); the semantics match
 * those readers: files opened O_NONBLOCK (a FIFO cannot hang the command), read until a short
 * read, at most 16 MiB (EFBIG beyond).
 *
 * Every export takes (dirs, dirOf, names, threads[, regularOnly]): name i is opened relative to
 * dirs[dirOf[i]] (dirOf a Uint32Array; a name may contain '/'); threads 0 chooses as above, N uses
 * N whatever the batch's size (see thread_count). A directory that cannot be opened gives its
 * errno for each of its names.
 *
 * readFilesAt(dirs, dirOf, names, threads, regularOnly) -> Array<string | number>
 *   The text of each file (UTF-8, decoded as Buffer's toString would), or a positive errno.
 *   regularOnly: fstat each file first; a directory gives EISDIR, any other non-regular file -1.
 * readLinksAt(dirs, dirOf, names, threads) -> Array<string | number>
 *   The target of each symbolic link (readlinkat), or a positive errno.
 * accessAt(dirs, dirOf, names, threads) -> Array<number>
 *   0 for each name that exists (faccessat F_OK, links followed), else a positive errno.
 *
 * listDirs(dirs, threads) -> Array<{ names: string[], types: Uint8Array } | number>
 *   The entries of each directory but . and .. (in byte order of their names, as Node's readdir
 *   gives them: libuv sorts), each with its d_type (DT_DIR 4, DT_REG 8, DT_LNK 10, ...; an fstatat when the file
 *   system leaves it DT_UNKNOWN, as Node does), or the directory's positive errno. Threads take
 *   one directory at a time.
 *
 * exitNow(status)
 *   End the process at once with STATUS & 0xff, as _exit(2) does: no atexit handlers, no waiting
 *   for any thread. The CLI ends this way once its work is done and its output written, because
 *   Node's own ending can deadlock (src/cli/exit.ts says when and why).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BYTES (16u * 1024u * 1024u)
#define FIRST_READ (16u * 1024u)
#define NOT_REGULAR (-1)
#define MAX_THREADS 8
#define MIN_PER_THREAD 256
#define CHUNK 64
#define DIR_WEIGHT 16

enum op { READ_FILES, READ_LINKS, ACCESS };

/* What all threads of one batch share: the names, and the next chunk of them to take. */
struct shared {
  enum op op;
  char **dirs;
  const uint32_t *dir_of;
  char **names;
  size_t count;
  size_t next; /* first name of the next chunk not yet taken (atomic) */
  int64_t *result; /* per name: >= 0 text length at off[i] in arena of job who[i], < 0 -errno (or NOT_REGULAR) */
  size_t *off;
  uint8_t *who;
};

/* One thread's work: chunks taken from the shared queue, texts into its own arena. */
struct job {
  struct shared *sh;
  uint8_t id;
  int regular_only;
  char *arena;
  size_t arena_size, arena_used;
};

/* Room for WANT more bytes after USED in the arena *BUF of *SIZE bytes; 0 when memory ran out. */
static int reserve_in(char **buf, size_t *size, size_t used, size_t want) {
  if (*size - used >= want) return 1;
  size_t n = *size ? *size : 64 * 1024;
  while (n - used < want) n *= 2;
  char *p = realloc(*buf, n);
  if (!p) return 0;
  *buf = p;
  *size = n;
  return 1;
}

static int reserve(struct job *j, size_t want) { return reserve_in(&j->arena, &j->arena_size, j->arena_used, want); }

/* The open file FD into the arena (not yet committed): its length, or -errno. */
static int64_t read_all(struct job *j, int fd) {
  size_t n = 0, room = FIRST_READ;
  for (;;) {
    if (!reserve(j, n + room)) return -ENOMEM;
    ssize_t r = read(fd, j->arena + j->arena_used + n, room);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    n += (size_t)r;
    if ((size_t)r < room) return (int64_t)n; /* a short read is the end of a regular or sysfs file */
    if (n >= MAX_BYTES) return -EFBIG;
    room = n; /* double what there is */
  }
}

static int64_t read_file(struct job *j, int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  if (j->regular_only) {
    struct stat st;
    if (fstat(fd, &st) < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (!S_ISREG(st.st_mode)) {
      close(fd);
      return S_ISDIR(st.st_mode) ? -EISDIR : NOT_REGULAR;
    }
  }
  int64_t n = read_all(j, fd);
  close(fd);
  return n;
}

static int64_t read_link(struct job *j, int dirfd, const char *name) {
  size_t room = PATH_MAX;
  for (;;) {
    if (!reserve(j, room)) return -ENOMEM;
    ssize_t n = readlinkat(dirfd, name, j->arena + j->arena_used, room);
    if (n < 0) return -errno;
    if ((size_t)n < room) return n;
    if (room >= MAX_BYTES) return -ENAMETOOLONG;
    room *= 2;
  }
}

/*
 * Take chunks of CHUNK names until none are left. The chunks are handed out as threads ask, not
 * split beforehand: a thread that gets no CPU (a busy machine) takes fewer, and the others do the
 * rest, so a batch is never much slower than on one thread.
 */
static void *run_job(void *arg) {
  struct job *j = arg;
  struct shared *sh = j->sh;
  uint32_t open_dir = UINT32_MAX;
  int dirfd = -1, dir_errno = 0;
  for (;;) {
    size_t lo = __atomic_fetch_add(&sh->next, CHUNK, __ATOMIC_RELAXED);
    if (lo >= sh->count) break;
    size_t hi = lo + CHUNK < sh->count ? lo + CHUNK : sh->count;
    for (size_t i = lo; i < hi; i++) {
      uint32_t d = sh->dir_of[i];
      if (d != open_dir) {
        if (dirfd >= 0) close(dirfd);
        dirfd = open(sh->dirs[d], O_PATH | O_DIRECTORY | O_CLOEXEC);
        dir_errno = dirfd < 0 ? errno : 0;
        open_dir = d;
      }
      int64_t r;
      if (dirfd < 0) r = -dir_errno;
      else if (sh->op == ACCESS) r = faccessat(dirfd, sh->names[i], F_OK, 0) == 0 ? 0 : -errno;
      else if (sh->op == READ_LINKS) r = read_link(j, dirfd, sh->names[i]);
      else r = read_file(j, dirfd, sh->names[i]);
      sh->result[i] = r;
      sh->who[i] = j->id;
      sh->off[i] = 0;
      if (r > 0 && sh->op != ACCESS) {
        sh->off[i] = j->arena_used;
        j->arena_used += (size_t)r;
      }
    }
  }
  if (dirfd >= 0) close(dirfd);
  return NULL;
}

/*
 * How many threads for COUNT names. WANT 0: one per CPU this process may use, only as many as
 * have MIN_PER_THREAD names each; WANT N: N (for measuring: no minimum). At most MAX_THREADS, and
 * never more than there are chunks.
 */
static size_t thread_count(size_t count, uint32_t want) {
  size_t n = want;
  if (n == 0) {
    cpu_set_t set;
    n = sched_getaffinity(0, sizeof set, &set) == 0 ? (size_t)CPU_COUNT(&set) : 1;
    if (n > count / MIN_PER_THREAD) n = count / MIN_PER_THREAD;
  }
  if (n > MAX_THREADS) n = MAX_THREADS;
  if (n > (count + CHUNK - 1) / CHUNK) n = (count + CHUNK - 1) / CHUNK;
  return n < 1 ? 1 : n;
}

/*
 * FN on THREADS jobs (JOBS, each SIZE bytes): the first on the main thread, the others on threads
 * of their own with every signal blocked (signals stay with Node's threads). A job whose thread
 * cannot be started runs here after the others (its queue is empty by then, normally).
 */
static void run_threads(void *(*fn)(void *), void *jobs, size_t size, size_t threads) {
  pthread_t tid[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  char *at = jobs;
  if (threads > 1) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (size_t t = 1; t < threads; t++) started[t] = pthread_create(&tid[t], NULL, fn, at + t * size) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  fn(at);
  for (size_t t = 1; t < threads; t++) {
    if (started[t]) pthread_join(tid[t], NULL);
    else fn(at + t * size);
  }
}

/* A copy of the JavaScript string V (malloc'ed, NUL-terminated), or NULL. */
static char *copy_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

/* The strings of array ARR, copied; *COUNT set. NULL (with a pending exception) on failure. */
static char **copy_strings(napi_env env, napi_value arr, uint32_t *count, const char *what) {
  bool is_array = false;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array || napi_get_array_length(env, arr, count) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char **out = calloc(*count ? *count : 1, sizeof *out);
  if (!out) {
    napi_throw_error(env, NULL, "fastio: out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < *count; i++) {
    napi_value v;
    if (napi_get_element(env, arr, i, &v) != napi_ok || !(out[i] = copy_string(env, v))) {
      for (uint32_t k = 0; k < i; k++) free(out[k]);
      free(out);
      napi_throw_type_error(env, NULL, what);
      return NULL;
    }
  }
  return out;
}

static void free_strings(char **s, uint32_t n) {
  if (!s) return;
  for (uint32_t i = 0; i < n; i++) free(s[i]);
  free(s);
}

static napi_value batch(napi_env env, napi_callback_info info, enum op op) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, NULL, "fastio: expected (dirs, dirOf, names, threads[, regularOnly])");
    return NULL;
  }
  napi_value out = NULL;
  uint32_t ndirs = 0, count = 0, want = 0;
  char **dirs = NULL, **names = NULL;
  int64_t *result = NULL;
  size_t *off = NULL;
  uint8_t *who = NULL;
  struct job jobs[MAX_THREADS];
  size_t threads = 0;
  memset(jobs, 0, sizeof jobs);

  bool regular_only = false;
  if (op == READ_FILES && argc >= 5) napi_get_value_bool(env, argv[4], &regular_only);
  if (napi_get_value_uint32(env, argv[3], &want) != napi_ok) {
    napi_throw_type_error(env, NULL, "fastio: threads must be a number");
    return NULL;
  }
  bool is_typed = false;
  napi_typedarray_type type;
  size_t dir_of_len = 0;
  void *dir_of_data = NULL;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[1], &type, &dir_of_len, &dir_of_data, NULL, NULL) != napi_ok ||
      type != napi_uint32_array) {
    napi_throw_type_error(env, NULL, "fastio: dirOf must be a Uint32Array");
    return NULL;
  }
  if (!(dirs = copy_strings(env, argv[0], &ndirs, "fastio: dirs must be an array of strings"))) goto done;
  if (!(names = copy_strings(env, argv[2], &count, "fastio: names must be an array of strings"))) goto done;
  const uint32_t *dir_of = dir_of_data;
  if (dir_of_len != count) {
    napi_throw_range_error(env, NULL, "fastio: dirOf and names differ in length");
    goto done;
  }
  for (uint32_t i = 0; i < count; i++) {
    if (dir_of[i] >= ndirs) {
      napi_throw_range_error(env, NULL, "fastio: dirOf names no directory");
      goto done;
    }
  }
  result = malloc((count ? count : 1) * sizeof *result);
  off = malloc((count ? count : 1) * sizeof *off);
  who = malloc(count ? count : 1);
  if (!result || !off || !who) {
    napi_throw_error(env, NULL, "fastio: out of memory");
    goto done;
  }
  struct shared sh = {.op = op, .dirs = dirs, .dir_of = dir_of, .names = names,
                      .count = count, .next = 0, .result = result, .off = off, .who = who};
  threads = thread_count(count, want);
  for (size_t t = 0; t < threads; t++) jobs[t] = (struct job){.sh = &sh, .id = (uint8_t)t, .regular_only = regular_only};
  run_threads(run_job, jobs, sizeof jobs[0], threads);

  if (napi_create_array_with_length(env, count, &out) != napi_ok) goto fail;
  for (size_t i = 0; i < count; i++) {
    napi_value v;
    int64_t r = result[i];
    napi_status s;
    if (op == ACCESS) s = napi_create_int32(env, r == 0 ? 0 : (int32_t)-r, &v);
    else if (r >= 0) s = napi_create_string_utf8(env, r ? jobs[who[i]].arena + off[i] : "", (size_t)r, &v);
    else s = napi_create_int32(env, r == NOT_REGULAR ? NOT_REGULAR : (int32_t)-r, &v);
    if (s != napi_ok || napi_set_element(env, out, (uint32_t)i, v) != napi_ok) goto fail;
  }
  goto done;
fail:
  out = NULL;
  napi_throw_error(env, NULL, "fastio: Node-API call failed");
done:
  for (size_t t = 0; t < threads; t++) free(jobs[t].arena);
  free(result);
  free(off);
  free(who);
  free_strings(dirs, ndirs);
  free_strings(names, count);
  return out;
}


/* ---- listDirs ---------------------------------------------------------------------------- */

/* One directory's listing: entries packed in the arena of job WHO as [d_type][name][NUL]... */
struct listing {
  int err;
  uint8_t who;
  size_t off, len, count;
};

struct dir_queue {
  char **dirs;
  size_t count;
  size_t next; /* atomic */
  struct listing *out;
};

struct dir_job {
  struct dir_queue *q;
  uint8_t id;
  char *arena;
  size_t arena_size, arena_used;
};

static int dir_reserve(struct dir_job *j, size_t want) { return reserve_in(&j->arena, &j->arena_size, j->arena_used, want); }

static unsigned char type_of(int dirfd, const char *name) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return DT_UNKNOWN;
  return IFTODT(st.st_mode);
}

static int by_name(const void *a, const void *b) { return strcmp(*(const char *const *)a + 1, *(const char *const *)b + 1); }

/*
 * The COUNT packed entries in AT (USED bytes) put in byte order of their names, as Node's readdir
 * gives them (libuv sorts with strcmp): callers that warn or fail on the first bad entry must
 * meet them in the same order with or without the addon. 0 when memory ran out.
 */
static int sort_entries(char *at, size_t used, size_t count) {
  if (count < 2) return 1;
  const char **ent = malloc(count * sizeof *ent);
  char *copy = malloc(used);
  if (!ent || !copy) {
    free(ent);
    free(copy);
    return 0;
  }
  const char *p = at;
  for (size_t k = 0; k < count; k++) {
    ent[k] = p;
    p += strlen(p + 1) + 2;
  }
  qsort(ent, count, sizeof *ent, by_name);
  char *q = copy;
  for (size_t k = 0; k < count; k++) {
    size_t n = strlen(ent[k] + 1) + 2;
    memcpy(q, ent[k], n);
    q += n;
  }
  memcpy(at, copy, used);
  free(ent);
  free(copy);
  return 1;
}

static void list_one(struct dir_job *j, size_t d) {
  struct listing *l = &j->q->out[d];
  l->who = j->id;
  l->off = j->arena_used;
  l->len = l->count = 0;
  l->err = 0;
  int fd = open(j->q->dirs[d], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    l->err = errno;
    return;
  }
  DIR *dir = fdopendir(fd);
  if (!dir) {
    l->err = errno;
    close(fd);
    return;
  }
  size_t used = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(dir);
    if (!e) {
      if (errno) l->err = errno;
      break;
    }
    const char *n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    size_t nlen = strlen(n);
    if (!dir_reserve(j, used + nlen + 2)) {
      l->err = ENOMEM;
      break;
    }
    char *p = j->arena + j->arena_used + used;
    p[0] = (char)(e->d_type == DT_UNKNOWN ? type_of(dirfd(dir), n) : e->d_type);
    memcpy(p + 1, n, nlen + 1);
    used += nlen + 2;
    l->count++;
  }
  closedir(dir);
  if (l->err) return;
  if (!sort_entries(j->arena + j->arena_used, used, l->count)) {
    l->err = ENOMEM;
    return;
  }
  l->len = used;
  j->arena_used += used;
}

static void *run_dir_job(void *arg) {
  struct dir_job *j = arg;
  for (;;) {
    size_t d = __atomic_fetch_add(&j->q->next, 1, __ATOMIC_RELAXED);
    if (d >= j->q->count) break;
    list_one(j, d);
  }
  return NULL;
}

static napi_value list_dirs(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t ndirs = 0, want = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_uint32(env, argv[1], &want) != napi_ok) {
    napi_throw_type_error(env, NULL, "fastio: expected (dirs, threads)");
    return NULL;
  }
  char **dirs = copy_strings(env, argv[0], &ndirs, "fastio: dirs must be an array of strings");
  if (!dirs) return NULL;
  napi_value out = NULL;
  struct listing *res = calloc(ndirs ? ndirs : 1, sizeof *res);
  struct dir_job jobs[MAX_THREADS];
  memset(jobs, 0, sizeof jobs);
  size_t threads = 0;
  if (!res) {
    napi_throw_error(env, NULL, "fastio: out of memory");
    goto done;
  }
  struct dir_queue q = {.dirs = dirs, .count = ndirs, .next = 0, .out = res};
  /* a directory is worth about DIR_WEIGHT files when choosing threads */
  threads = thread_count((size_t)ndirs * DIR_WEIGHT, want); /* never more than ndirs / 4 (chunks) */
  for (size_t t = 0; t < threads; t++) jobs[t] = (struct dir_job){.q = &q, .id = (uint8_t)t};
  run_threads(run_dir_job, jobs, sizeof jobs[0], threads);

  if (napi_create_array_with_length(env, ndirs, &out) != napi_ok) goto fail;
  for (uint32_t d = 0; d < ndirs; d++) {
    struct listing *l = &res[d];
    napi_value v;
    if (l->err) {
      if (napi_create_int32(env, l->err, &v) != napi_ok) goto fail;
    } else {
      napi_value names, types, buffer, key;
      void *bytes;
      if (napi_create_object(env, &v) != napi_ok || napi_create_array_with_length(env, l->count, &names) != napi_ok ||
          napi_create_arraybuffer(env, l->count ? l->count : 1, &bytes, &buffer) != napi_ok ||
          napi_create_typedarray(env, napi_uint8_array, l->count, buffer, 0, &types) != napi_ok)
        goto fail;
      const char *p = jobs[l->who].arena + l->off;
      for (size_t k = 0; k < l->count; k++) {
        size_t nlen = strlen(p + 1);
        napi_value name;
        ((uint8_t *)bytes)[k] = (uint8_t)p[0];
        if (napi_create_string_utf8(env, p + 1, nlen, &name) != napi_ok || napi_set_element(env, names, (uint32_t)k, name) != napi_ok)
          goto fail;
        p += nlen + 2;
      }
      if (napi_create_string_utf8(env, "names", NAPI_AUTO_LENGTH, &key) != napi_ok || napi_set_property(env, v, key, names) != napi_ok ||
          napi_create_string_utf8(env, "types", NAPI_AUTO_LENGTH, &key) != napi_ok || napi_set_property(env, v, key, types) != napi_ok)
        goto fail;
    }
    if (napi_set_element(env, out, d, v) != napi_ok) goto fail;
  }
  goto done;
fail:
  out = NULL;
  napi_throw_error(env, NULL, "fastio: Node-API call failed");
done:
  for (size_t t = 0; t < threads; t++) free(jobs[t].arena);
  free(res);
  free_strings(dirs, ndirs);
  return out;
}

static napi_value read_files_at(napi_env env, napi_callback_info info) { return batch(env, info, READ_FILES); }

static napi_value read_links_at(napi_env env, napi_callback_info info) { return batch(env, info, READ_LINKS); }

static napi_value access_at(napi_env env, napi_callback_info info) { return batch(env, info, ACCESS); }

static napi_value exit_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t status;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &status) != napi_ok) {
    napi_throw_type_error(env, NULL, "exitNow(status): status must be a number");
    return NULL;
  }
  _exit(status & 0xff);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"readFilesAt", NULL, read_files_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readLinksAt", NULL, read_links_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"accessAt", NULL, access_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listDirs", NULL, list_dirs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exitNow", NULL, exit_now, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(fastio, init)
