#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <pthread.h>
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
                           const char *stdout_path, const char *stderr_path, int64_t uid, int64_t gid,
                           const uint32_t *groups, int ngroups, const tessera_rlimit *limits, int nlimits) {
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
        if (setpgid(0, 0) != 0) goto fail;
        int in = open("/dev/null", O_RDONLY);
        int out = open(stdout_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
        int err = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
        if (in < 0 || out < 0 || err < 0) goto fail;
        // Descriptors 0 to 2 may be free in the server: move each above them first, then into place.
        in = fcntl(in, F_DUPFD, 10);
        out = fcntl(out, F_DUPFD, 10);
        err = fcntl(err, F_DUPFD, 10);
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
