import Metrics

/// The swift-metrics counters of one worker pool, created once, labelled by pool name.
struct ExecutorMetrics: Sendable {
    /// Jobs and closures run.
    let jobs: Counter
    /// Successful steals (each moves one batch).
    let steals: Counter
    /// Times a worker parked because it found no work.
    let parks: Counter

    init(pool: String) {
        let dimensions = [("pool", pool)]
        jobs = Counter(label: "actors.executor.jobs", dimensions: dimensions)
        steals = Counter(label: "actors.executor.steals", dimensions: dimensions)
        parks = Counter(label: "actors.executor.parks", dimensions: dimensions)
    }
}

/// What one worker has done since its pool started.
public struct WorkerStatistics: Sendable, Hashable {
    /// The worker's index in the plan.
    public var worker: Int
    /// Jobs and closures it ran.
    public var jobs: Int
    /// Batches it stole from other workers.
    public var steals: Int
    /// Times it parked for lack of work.
    public var parks: Int
}
