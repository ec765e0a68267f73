#define _GNU_SOURCE
#include "CShims.h"

#include <errno.h>
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
