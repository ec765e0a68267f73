extension Sequence where Element: Sendable {
    /// Runs `body` for every element as child tasks, never more than `window` at once.
    ///
    /// A task group with a million outstanding children costs gigabytes and slows the runtime's
    /// child bookkeeping; a window of about a thousand keeps every core busy at a fixed cost
    /// (reference/swift-runtime.md §4).
    ///
    /// - Parameters:
    ///   - window: the most children in flight (≥ 1).
    ///   - executor: the children's task executor preference; `nil` inherits the caller's.
    ///   - body: the work per element.
    /// - Throws: the first error of `body` (the remaining children are cancelled), or
    ///   `ExecutorError.invalidBound` for a window below 1.
    public func concurrentForEach(
        window: Int = 1024, on executor: (any TaskExecutor)? = nil,
        _ body: @escaping @Sendable (Element) async throws -> Void
    ) async throws {
        guard window >= 1 else { throw ExecutorError.invalidBound(name: "window", value: window) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for element in self {
                if inFlight == window {
                    try await group.next()
                    inFlight -= 1
                }
                // `addTask(executorPreference: nil)` first enqueues the child on the global executor and
                // only then hops to the inherited preference: plain `addTask` inherits it directly.
                if let executor {
                    group.addTask(executorPreference: executor) { try await body(element) }
                } else {
                    group.addTask { try await body(element) }
                }
                inFlight += 1
            }
            try await group.waitForAll()
        }
    }

    /// Maps every element through `transform` as child tasks, never more than `window` at once,
    /// and returns the results in the sequence's order.
    ///
    /// - Throws: the first error of `transform`, or `ExecutorError.invalidBound` for a window below 1.
    public func concurrentMap<Result: Sendable>(
        window: Int = 1024, on executor: (any TaskExecutor)? = nil,
        _ transform: @escaping @Sendable (Element) async throws -> Result
    ) async throws -> [Result] {
        guard window >= 1 else { throw ExecutorError.invalidBound(name: "window", value: window) }
        return try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var results: [Result?] = []
            var iterator = enumerated().makeIterator()
            var inFlight = 0
            while let (index, element) = iterator.next() {
                results.append(nil)
                if inFlight == window, let (done, value) = try await group.next() {
                    results[done] = value
                    inFlight -= 1
                }
                if let executor {
                    group.addTask(executorPreference: executor) { (index, try await transform(element)) }
                } else {
                    group.addTask { (index, try await transform(element)) }
                }
                inFlight += 1
            }
            while let (done, value) = try await group.next() { results[done] = value }
            return results.compactMap { $0 }
        }
    }
}
