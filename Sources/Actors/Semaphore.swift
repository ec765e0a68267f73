#if canImport(Glibc)
import Glibc
#endif

/// A counting semaphore on a POSIX `sem_t`, used to park idle workers without spinning.
// Invariant for @unchecked Sendable: `semaphore` points to heap memory owned by this object for its
// whole life and is only touched through the thread-safe sem_* functions.
final class Semaphore: @unchecked Sendable {
    private let semaphore: UnsafeMutablePointer<sem_t>

    init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Blocks until signalled, retrying when a signal handler interrupts the wait.
    func wait() {
        while sem_wait(semaphore) != 0, errno == EINTR {}
    }

    /// Wakes one waiter, or lets the next `wait()` pass.
    func signal() {
        sem_post(semaphore)
    }
}

/// A joinable POSIX thread running a Swift closure.
struct PosixThread: Sendable {
    private let handle: pthread_t

    /// Starts `body` on a new thread.
    ///
    /// - Throws: `ExecutorError.threadCreationFailed` when the system has no thread to give.
    init(_ body: @escaping @Sendable () -> Void) throws(ExecutorError) {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var handle = pthread_t()
        let code = pthread_create(
            &handle, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
                return nil
            }, context)
        guard code == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            throw .threadCreationFailed(errno: code)
        }
        self.handle = handle
    }

    /// Waits for the thread to finish.
    func join() {
        pthread_join(handle, nil)
    }
}
