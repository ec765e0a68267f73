import Synchronization

extension PinnedExecutor {
    /// Runs `body` over `range` in chunks of `grain` on this executor's workers and returns when all ran.
    ///
    /// One closure per worker is queued (not one Swift task per item); each claims chunks from a shared
    /// counter until none is left, so fast workers take more chunks and nothing waits on a slow one.
    /// After the first error no new chunk starts, and that error is rethrown.
    ///
    /// - Parameters:
    ///   - range: the indexes to cover.
    ///   - grain: indexes per chunk; `nil` picks about eight chunks per worker.
    ///   - body: called once per chunk, on a worker thread, possibly concurrently with other chunks.
    /// - Throws: the first error `body` threw, `ExecutorError.invalidBound` for a grain below 1, or
    ///   `ExecutorError.shutDown`.
    public func parallelFor(
        _ range: Range<Int>, grain: Int? = nil, _ body: @escaping @Sendable (Range<Int>) throws -> Void
    ) async throws {
        guard !range.isEmpty else { return }
        let grain = grain ?? max(1, range.count / (workers.count * 8))
        guard grain >= 1 else { throw ExecutorError.invalidBound(name: "grain", value: grain) }
        let chunks = (range.count - 1) / grain + 1
        let runners = min(workers.count, chunks)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let loop = ParallelLoop(range: range, grain: grain, chunks: chunks, body: body, continuation: continuation)
            let batch = [PoolJob](repeating: PoolJob { loop.run() }, count: runners)
            do {
                try execute(batch: batch)
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Runs `body` once per tile of `grid` on this executor's workers and returns when all ran.
    ///
    /// - Throws: the first error `body` threw, or `ExecutorError.shutDown`.
    public func parallelFor(tiles grid: TileGrid, _ body: @escaping @Sendable (TileGrid.Tile) throws -> Void) async throws {
        try await parallelFor(0..<grid.count, grain: 1) { indexes in
            for index in indexes { try body(grid.tile(at: index)) }
        }
    }
}

/// The shared state of one `parallelFor` call: a chunk counter, the first error and the waiting caller.
private final class ParallelLoop: Sendable {
    let lower: Int
    let upper: Int
    let grain: Int
    let chunks: Int
    let body: @Sendable (Range<Int>) throws -> Void
    let continuation: CheckedContinuation<Void, any Error>
    let nextChunk = Atomic<Int>(0)
    let unfinished: Atomic<Int>
    let failure = Mutex<(any Error)?>(nil)
    let failed = Atomic<Bool>(false)

    init(
        range: Range<Int>, grain: Int, chunks: Int, body: @escaping @Sendable (Range<Int>) throws -> Void,
        continuation: CheckedContinuation<Void, any Error>
    ) {
        self.lower = range.lowerBound
        self.upper = range.upperBound
        self.grain = grain
        self.chunks = chunks
        self.body = body
        self.continuation = continuation
        self.unfinished = Atomic(chunks)
    }

    func run() {
        while true {
            let chunk = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
            guard chunk < chunks else { return }
            let start = lower + chunk * grain
            let end = upper - start > grain ? start + grain : upper
            if !failed.load(ordering: .relaxed) {
                do {
                    try body(start..<end)
                } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                    failed.store(true, ordering: .relaxed)
                }
            }
            if unfinished.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                if let error = failure.withLock({ $0 }) {
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume()
                }
            }
        }
    }
}
