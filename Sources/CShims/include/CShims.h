#ifndef TESSERA_CSHIMS_H
#define TESSERA_CSHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/// Nanoseconds on CLOCK_MONOTONIC (inline: a node reads it once per task).
static inline int64_t tessera_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + (int64_t)now.tv_nsec;
}

/// Binds the calling thread to the given OS processor indexes (sched_setaffinity).
/// Returns 0 on success, or the errno value on failure.
int tessera_bind_current_thread(const int32_t *cpus, size_t count);

/// Writes the OS processor indexes the calling thread may run on into `out` (at most `max`).
/// Returns how many were written, or -errno on failure.
int tessera_current_thread_affinity(int32_t *out, size_t max);

/// Writes the OS processor indexes the whole process may run on into `out` (at most `max`).
/// Returns how many were written, or -errno on failure.
int tessera_process_affinity(int32_t *out, size_t max);

/// The processor the calling thread is running on right now, or -1.
int tessera_current_cpu(void);

/// The kernel thread id of the calling thread.
int64_t tessera_gettid(void);

/// Names the calling thread (truncated to the kernel's 15 characters).
void tessera_set_thread_name(const char *name);

/// Records which pool and worker the calling thread belongs to (thread-local).
void tessera_set_current_worker(const void *pool, intptr_t worker);

/// The pool of the calling thread, or NULL when it is not a pool worker.
const void *tessera_current_pool(void);

/// The worker index of the calling thread inside `tessera_current_pool()`, or -1.
intptr_t tessera_current_worker(void);

/// A hint to the processor that the caller is spinning (x86 `pause`, ARM `yield`).
static inline void tessera_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// One resource limit for `tessera_spawn_isolated`: a `RLIMIT_*` resource and the value set as both the soft and
/// the hard limit (so the task cannot raise it again).
typedef struct {
    int resource;
    uint64_t value;
} tessera_rlimit;

/// The resources `tessera_rlimit` names (glibc's RLIMIT_* are macros over an enum Swift does not see).
enum {
    TESSERA_RLIMIT_FSIZE = 1,
    TESSERA_RLIMIT_NPROC = 6,
    TESSERA_RLIMIT_NOFILE = 7,
    TESSERA_RLIMIT_AS = 9,
};

/// Like `tessera_spawn_fds`, for a task that must not reach the server: `path` is the program's absolute path (looked
/// up by the caller), stdout and stderr are the given descriptors (the write ends of the capture's pipes), every
/// descriptor above 2 is closed, the limits are set, `PR_SET_NO_NEW_PRIVS` forbids set-uid programs, and when
/// `uid` is not -1 the process takes `gid`, the `ngroups` supplementary `groups` and `uid` before it changes to
/// `cwd` (so the directory is checked against the task's rights, not the server's) and runs. Returns the pid or
/// -errno (the failing step's, exec's included). First of all it joins the control groups whose `cgroup.procs` files
/// are open as the `ncgroups` descriptors `cgroup_fds` (the caller closes them).
int tessera_spawn_isolated(const char *path, const char *const argv[], const char *const envp[], const char *cwd,
                           int stdout_fd, int stderr_fd, int64_t uid, int64_t gid,
                           const uint32_t *groups, int ngroups, const tessera_rlimit *limits, int nlimits,
                           const int *cgroup_fds, int ncgroups);

/// Copies a task's stdout and stderr pipes into their log files, `quota` bytes at most in all (then `marker` is
/// written once and the rest is read and dropped, so the task never blocks on a full pipe), until the process
/// `pid` ends; then takes what is left in the pipes without waiting for processes it left holding them, and closes
/// them. A log file is opened (created, appended to, never through a link) when its first bytes come: a task that
/// says nothing on a stream leaves no file. Sets `*written` (bytes kept), `*truncated`, and `*log_error` (the errno
/// of a log file that could not be opened, whose bytes were dropped; else 0). Returns what `tessera_wait` returns.
int tessera_capture(int pid, int out_pipe, int err_pipe, const char *out_path, const char *err_path, int64_t quota,
                    int64_t *written, int *truncated, int *log_error, const char *marker);

/// A pipe whose two ends close on exec (`pipe2(O_CLOEXEC)`, which Swift does not see). Returns 0 or errno.
int tessera_pipe(int fds[2]);

/// Starts `argv[0]` (looked up on PATH when it has no slash) in a new process group whose id is its pid, in `cwd`,
/// with `envp`, stdin from /dev/null, stdout and stderr the given descriptors (the write ends of the capture's
/// pipes). Returns the pid, or -errno when it could not start (the error of exec included: ENOENT, EACCES).
int tessera_spawn_fds(const char *const argv[], const char *const envp[], const char *cwd, int stdout_fd, int stderr_fd);

/// Waits for `pid` to end (retrying on EINTR). Returns its exit code (0-255), 128 + the signal number
/// when a signal ended it, or -errno when waiting failed.
int tessera_wait(int pid);

/// Sends SIGKILL to every process of the group `pgid`. Returns 0 or errno.
int tessera_kill_group(int pgid);

/// Waits up to `timeout_ms` for process `pid` (not necessarily a child) to end, through a pidfd.
/// Returns 1 when it has ended (or no longer exists), 0 when it still runs at the timeout, -errno
/// when it cannot be watched.
int tessera_wait_gone(int pid, int timeout_ms);

/// Waits up to `timeout_ms` for `directory/name` to exist, through inotify (creation or a rename into
/// the directory). Returns 1 when it exists, 0 at the timeout, -errno when it cannot watch.
int tessera_wait_file(const char *directory, const char *name, int timeout_ms);

/// The rice-rule classification of `count` pixels from `start` (see Imaging's `RiceClassifier`), on a stack
/// of `dates` VV planes followed by `dates` VH planes of dB values (NaN = nodata). `rules` holds, in order:
/// waterMaxVV, waterMeanVH, riceFloodVH, riceRise, ricePeakVH, urbanMeanVV, urbanStdVH², minimumDates.
/// Writes class codes (0 unknown, 1 rice, 2 water, 3 urban/tree, 255 nodata) to `out[start …]`. Compiled
/// for AVX2 and for the baseline, chosen at load time from what the CPU has.
void tessera_rice_classify(const float *const *planes, int dates, long start, long count, const float *rules,
                           unsigned char *out);

/// Lee-filters rows `first_row ..< end_row` of a `width × height` image of linear intensity (≤ 0 or NaN =
/// nodata) into the same rows of `output`, with a (2·radius + 1)² window and `looks` looks (see Imaging's
/// `LeeFilter`). Compiled for AVX2 and for the baseline, chosen at load time. Returns 0, or -1 when its
/// scratch rows cannot be allocated.
int tessera_lee_rows(const float *input, long width, long height, long first_row, long end_row, int radius, float looks,
                     float *output);


/// Starts the reaper: a child process that kills the process groups registered with `tessera_reaper_track` once
/// this process dies (even by SIGKILL). Returns its pid, 0 when already started, or -errno.
int tessera_start_reaper(void);

/// Registers (`tracked` 1) or forgets (0) a task's process group with the reaper; nothing without a reaper.
void tessera_reaper_track(int pgid, int tracked);

#endif
