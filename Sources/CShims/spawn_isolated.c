#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

// The child shares the parent's memory until it execs (vfork), so it only makes system calls, and the credential
// changes are raw system calls: glibc's setuid() and friends would signal every thread of the *parent* to change
// its credentials too (they keep POSIX's process-wide semantics that way).
static void close_above_stderr(void) {
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
    struct rlimit limit;
    long highest = (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) ? (long)limit.rlim_cur : 65536;
    for (long fd = 3; fd < highest; fd++) close((int)fd);
}

static int move_to(int fd, int target) {
    if (fd < 0) return -1;
    if (fd == target) return 0;
    int rc = dup2(fd, target);
    close(fd);
    return rc < 0 ? -1 : 0;
}

int tessera_spawn_isolated(const char *path, const char *const argv[], const char *const envp[], const char *cwd,
                           int stdout_fd, int stderr_fd, int64_t uid, int64_t gid,
                           const uint32_t *groups, int ngroups, const tessera_rlimit *limits, int nlimits,
                           const int *cgroup_fds, int ncgroups) {
    volatile int failure = 0;
    sigset_t all, saved;
    sigfillset(&all);
    // No handler of the server's may run in the child while it shares the server's memory.
    pthread_sigmask(SIG_BLOCK, &all, &saved);
    pid_t pid = vfork();
    if (pid == 0) {
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig == SIGKILL || sig == SIGSTOP) continue;
            struct sigaction action = {0};
            action.sa_handler = SIG_DFL;
            sigaction(sig, &action, NULL);
        }
        // Into the task's control groups while still root: "0" is the writing process.
        for (int i = 0; i < ncgroups; i++) {
            if (write(cgroup_fds[i], "0", 1) != 1) goto fail;
        }
        if (setpgid(0, 0) != 0) goto fail;
        int in = open("/dev/null", O_RDONLY);
        if (in < 0) goto fail;
        // Descriptors 0 to 2 may be free in the server: move each above them first, then into place.
        in = fcntl(in, F_DUPFD, 10);
        int out = fcntl(stdout_fd, F_DUPFD, 10);
        int err = fcntl(stderr_fd, F_DUPFD, 10);
        if (move_to(in, 0) != 0 || move_to(out, 1) != 0 || move_to(err, 2) != 0) goto fail;
        close_above_stderr();
        for (int i = 0; i < nlimits; i++) {
            struct rlimit limit = {.rlim_cur = (rlim_t)limits[i].value, .rlim_max = (rlim_t)limits[i].value};
            if (setrlimit(limits[i].resource, &limit) != 0) goto fail;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) goto fail;
        if (uid >= 0) {
            if (syscall(SYS_setgroups, (size_t)ngroups, groups) != 0) goto fail;
            if (syscall(SYS_setresgid, (gid_t)gid, (gid_t)gid, (gid_t)gid) != 0) goto fail;
            if (syscall(SYS_setresuid, (uid_t)uid, (uid_t)uid, (uid_t)uid) != 0) goto fail;
        }
        if (cwd != NULL && chdir(cwd) != 0) goto fail;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, (char *const *)argv, (char *const *)envp);
    fail:
        failure = errno == 0 ? EINVAL : errno;
        _exit(127);
    }
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) return -saved_errno;
    if (failure != 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -failure;
    }
    return (int)pid;
}

// The numbers the header gives Swift must be the system's.
_Static_assert(TESSERA_RLIMIT_FSIZE == RLIMIT_FSIZE, "RLIMIT_FSIZE");
_Static_assert(TESSERA_RLIMIT_NPROC == RLIMIT_NPROC, "RLIMIT_NPROC");
_Static_assert(TESSERA_RLIMIT_NOFILE == RLIMIT_NOFILE, "RLIMIT_NOFILE");
_Static_assert(TESSERA_RLIMIT_AS == RLIMIT_AS, "RLIMIT_AS");

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// A lazily opened log file.
typedef struct {
    const char *path;
    int fd;
} log_file;

// The file's descriptor, opened on first use; -1 (and `*log_error` set) when it cannot be.
static int log_fd(log_file *file, int *log_error) {
    if (file->fd < 0 && *log_error == 0) {
        file->fd = open(file->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (file->fd < 0) *log_error = errno == 0 ? EIO : errno;
    }
    return file->fd;
}

// Appends what fits of `data` under the quota to `log`; returns 0 once the quota is passed.
static int keep(log_file *log, int *log_error, const char *data, ssize_t count, int64_t quota, int64_t *written,
                int *truncated, const char *marker) {
    if (*truncated) return 0;
    int file = log_fd(log, log_error);
    if (file < 0) return 1;
    int64_t room = quota - *written;
    ssize_t kept = count < room ? count : (ssize_t)room;
    ssize_t offset = 0;
    while (offset < kept) {
        ssize_t rc = write(file, data + offset, (size_t)(kept - offset));
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) break;
        offset += rc;
    }
    *written += kept;
    if (kept < count) {
        *truncated = 1;
        ssize_t length = (ssize_t)strlen(marker);
        while (write(file, marker, (size_t)length) < 0 && errno == EINTR) {}
        return 0;
    }
    return 1;
}

int tessera_capture(int pid, int out_pipe, int err_pipe, const char *out_path, const char *err_path, int64_t quota,
                    int64_t *written, int *truncated, int *log_error, const char *marker) {
    char chunk[65536];
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    int pipes[2] = {out_pipe, err_pipe};
    log_file files[2] = {{.path = out_path, .fd = -1}, {.path = err_path, .fd = -1}};
    int open_pipes = 2;
    int status = 0;
    int reaped = 0;
    *written = 0;
    *truncated = 0;
    *log_error = 0;
    while (!reaped) {
        struct pollfd watch[3];
        int count = 0;
        int which[3];
        for (int i = 0; i < 2; i++) {
            if (pipes[i] >= 0) {
                watch[count] = (struct pollfd){.fd = pipes[i], .events = POLLIN, .revents = 0};
                which[count++] = i;
            }
        }
        if (pidfd >= 0) {
            watch[count] = (struct pollfd){.fd = pidfd, .events = POLLIN, .revents = 0};
            which[count++] = 2;
        }
        if (count == 0 || (pidfd < 0 && open_pipes == 0)) break;  // no pidfd: wait below once the pipes close
        int rc = poll(watch, (nfds_t)count, -1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) break;
        for (int k = 0; k < count; k++) {
            if (watch[k].revents == 0) continue;
            int i = which[k];
            if (i == 2) {
                while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
                reaped = 1;
                continue;
            }
            ssize_t got = read(pipes[i], chunk, sizeof chunk);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (got <= 0) {
                close(pipes[i]);
                pipes[i] = -1;
                open_pipes--;
                continue;
            }
            keep(&files[i], log_error, chunk, got, quota, written, truncated, marker);
        }
    }
    if (!reaped) {
        while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
    }
    // The leader is gone: take what is already in the pipes, without waiting for processes it left behind that
    // still hold them (the caller kills its group).
    for (int i = 0; i < 2; i++) {
        if (pipes[i] < 0) continue;
        fcntl(pipes[i], F_SETFL, fcntl(pipes[i], F_GETFL) | O_NONBLOCK);
        for (;;) {
            ssize_t got = read(pipes[i], chunk, sizeof chunk);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            keep(&files[i], log_error, chunk, got, quota, written, truncated, marker);
        }
        close(pipes[i]);
    }
    if (pidfd >= 0) close(pidfd);
    for (int i = 0; i < 2; i++) {
        if (files[i].fd >= 0) close(files[i].fd);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

int tessera_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno; }
