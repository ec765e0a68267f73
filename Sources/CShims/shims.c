#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread const void *current_pool = NULL;
static __thread intptr_t current_worker = -1;

int tessera_bind_current_thread(const int32_t *cpus, size_t count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (size_t i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) {
            return EINVAL;
        }
        CPU_SET((int)cpus[i], &set);
    }
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        return errno;
    }
    return 0;
}

static int list_affinity(pid_t pid, int32_t *out, size_t max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(pid, sizeof(set), &set) != 0) {
        return -errno;
    }
    size_t written = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && written < max; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            out[written++] = cpu;
        }
    }
    return (int)written;
}

int tessera_current_thread_affinity(int32_t *out, size_t max) {
    return list_affinity(0, out, max);
}

int tessera_process_affinity(int32_t *out, size_t max) {
    return list_affinity(getpid(), out, max);
}

int tessera_current_cpu(void) { return sched_getcpu(); }

int64_t tessera_gettid(void) { return (int64_t)syscall(SYS_gettid); }

void tessera_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof(truncated) - 1);
    truncated[sizeof(truncated) - 1] = '\0';
    pthread_setname_np(pthread_self(), truncated);
}

void tessera_set_current_worker(const void *pool, intptr_t worker) {
    current_pool = pool;
    current_worker = worker;
}

const void *tessera_current_pool(void) { return current_pool; }

intptr_t tessera_current_worker(void) { return current_worker; }

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

int tessera_wait(int pid) {
    int status = 0;
    for (;;) {
        pid_t rc = waitpid((pid_t)pid, &status, 0);
        if (rc == pid) break;
        if (rc < 0 && errno == EINTR) continue;
        return -errno;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

int tessera_kill_group(int pgid) {
    if (pgid <= 0) return EINVAL;
    return kill(-(pid_t)pgid, SIGKILL) == 0 ? 0 : errno;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int tessera_wait_gone(int pid, int timeout_ms) {
    if (pid <= 0) return -EINVAL;
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (fd < 0) return errno == ESRCH ? 1 : -errno;
    struct pollfd watch = {.fd = fd, .events = POLLIN, .revents = 0};
    int rc;
    do {
        rc = poll(&watch, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (rc < 0) return -saved;
    return rc > 0 ? 1 : 0;
}

static int file_exists_in(const char *directory, const char *name) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", directory, name) >= (int)sizeof path) return 0;
    struct stat info;
    return stat(path, &info) == 0;
}

int tessera_wait_file(const char *directory, const char *name, int timeout_ms) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return -errno;
    if (inotify_add_watch(fd, directory, IN_CREATE | IN_MOVED_TO) < 0) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int found = 0;
    // The watch is in place before the check, so a file created after the check raises an event.
    while (!(found = file_exists_in(directory, name))) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L;
        if (elapsed >= timeout_ms) break;
        struct pollfd watch = {.fd = fd, .events = POLLIN, .revents = 0};
        int rc = poll(&watch, 1, (int)(timeout_ms - elapsed));
        if (rc < 0 && errno != EINTR) break;
        char events[4096];
        while (read(fd, events, sizeof events) > 0) {}
    }
    close(fd);
    return found;
}

// MARK: - The reaper: kills the process groups of running tasks when this process dies, even by SIGKILL.

#include <sys/types.h>

static int reaper_fd = -1;
#define TESSERA_REAPER_GROUPS 65536
static int reaper_groups[TESSERA_REAPER_GROUPS];

int tessera_start_reaper(void) {
    if (reaper_fd >= 0) return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        return -saved;
    }
    if (pid == 0) {
        // The reaper (async-signal-safe calls only: the parent has threads). It keeps no other descriptor, so a
        // socket of the parent closes when the parent dies, and it outlives terminal signals.
        struct sigaction ignore;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigaction(SIGINT, &ignore, NULL);
        sigaction(SIGTERM, &ignore, NULL);
        sigaction(SIGHUP, &ignore, NULL);
        sigaction(SIGPIPE, &ignore, NULL);
        int in = fds[0];
        for (int fd = 0; fd < 65536; fd++) {
            if (fd != in) close(fd);
        }
        int count = 0;
        for (;;) {
            int value = 0;
            ssize_t n = read(in, &value, sizeof value);
            if (n == (ssize_t)sizeof value) {
                if (value > 0 && count < TESSERA_REAPER_GROUPS) {
                    reaper_groups[count++] = value;
                } else if (value < 0) {
                    for (int i = 0; i < count; i++) {
                        if (reaper_groups[i] == -value) {
                            reaper_groups[i] = reaper_groups[--count];
                            break;
                        }
                    }
                }
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            break;  // end of file: the parent is gone
        }
        for (int i = 0; i < count; i++) kill(-(pid_t)reaper_groups[i], SIGKILL);
        _exit(0);
    }
    close(fds[0]);
    reaper_fd = fds[1];
    return (int)pid;
}

void tessera_reaper_track(int pgid, int tracked) {
    if (reaper_fd < 0 || pgid <= 0) return;
    int value = tracked ? pgid : -pgid;
    ssize_t n;
    do {
        n = write(reaper_fd, &value, sizeof value);
    } while (n < 0 && errno == EINTR);
}

int tessera_spawn_fds(const char *const argv[], const char *const envp[], const char *cwd, int stdout_fd, int stderr_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return -rc;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -rc;
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    // dup2 clears close-on-exec on the copies; the originals (close-on-exec) go at exec.
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
    if (cwd != NULL) posix_spawn_file_actions_addchdir_np(&actions, cwd);
    pid_t pid = -1;
    rc = posix_spawnp(&pid, argv[0], &actions, &attr, (char *const *)argv, (char *const *)envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? (int)pid : -rc;
}
