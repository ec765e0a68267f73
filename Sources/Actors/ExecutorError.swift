/// Errors of the pinned executors and the parallel helpers.
public enum ExecutorError: Error, Sendable, Hashable {
    /// The pool was shut down; it takes no new closures.
    case shutDown(pool: String)
    /// `shutdown()` was called from one of the pool's own workers, which cannot join themselves.
    case shutdownFromWorker(pool: String)
    /// The kernel refused to bind a thread to these processing units.
    case bindingFailed(processingUnits: [Int], errno: Int32)
    /// A thread could not be created.
    case threadCreationFailed(errno: Int32)
    /// A bounded window or grain must be at least 1.
    case invalidBound(name: String, value: Int)
}

extension ExecutorError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .shutDown(let pool): "worker pool '\(pool)' is shut down"
        case .shutdownFromWorker(let pool): "worker pool '\(pool)' cannot be shut down from one of its own workers"
        case let .bindingFailed(pus, errno): "binding to PUs \(pus) failed (errno \(errno))"
        case .threadCreationFailed(let errno): "pthread_create failed (errno \(errno))"
        case let .invalidBound(name, value): "\(name) must be at least 1 (got \(value))"
        }
    }
}
