import CShims

#if canImport(Glibc)
import Glibc
#endif

/// The CPU affinity of threads, as the kernel sees it (`sched_getaffinity`/`sched_setaffinity`).
public enum ThreadAffinity {
    /// The OS processor indexes the calling thread may run on, ascending.
    public static func current() -> [Int] {
        list(tessera_current_thread_affinity)
    }

    /// The OS processor indexes the process was started with (the main thread's affinity), ascending.
    ///
    /// This honours `taskset` and cgroup cpusets, so a plan is only bound where its PUs are allowed.
    public static func process() -> [Int] {
        list(tessera_process_affinity)
    }

    /// The processor the calling thread runs on at this instant, or `nil` when unknown.
    public static func currentProcessor() -> Int? {
        let cpu = tessera_current_cpu()
        return cpu >= 0 ? Int(cpu) : nil
    }

    /// Binds the calling thread to `processingUnits` (OS indexes).
    ///
    /// - Throws: `ExecutorError.bindingFailed` with the kernel's error number.
    public static func bindCurrentThread(to processingUnits: [Int]) throws(ExecutorError) {
        let cpus = processingUnits.map { Int32(truncatingIfNeeded: $0) }
        let code = cpus.withUnsafeBufferPointer { tessera_bind_current_thread($0.baseAddress, $0.count) }
        guard code == 0 else { throw .bindingFailed(processingUnits: processingUnits, errno: code) }
    }

    private static func list(_ read: (UnsafeMutablePointer<Int32>?, Int) -> Int32) -> [Int] {
        var buffer = [Int32](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBufferPointer { read($0.baseAddress, $0.count) }
        guard count > 0 else { return [] }
        return buffer.prefix(Int(count)).map(Int.init)
    }
}

/// How a worker thread ended up bound.
public enum ThreadBinding: Sendable, Hashable {
    /// Bound to these OS processor indexes, as confirmed by `sched_getaffinity` from the thread itself.
    case bound([Int])
    /// Not bound because the plan comes from a synthetic topology or names PUs this process may not use.
    case planOnly(missing: [Int])
    /// Not bound because binding was turned off in ``Settings``.
    case disabled
    /// The kernel refused the binding.
    case failed(errno: Int32)
}
