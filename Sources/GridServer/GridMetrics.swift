import Grid
import Metrics
import Prometheus

/// The Prometheus metrics of `tessera serve`: gauges read from the grid at each scrape (jobs and tasks by
/// state, queue length, nodes by state) and what the grid records through swift-metrics (dispatch latency),
/// all in one registry.
public struct GridMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let submissions: Prometheus.Counter

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        submissions = registry.makeCounter(descriptor: Self.metric("tessera_rest_submissions_total", "Jobs submitted through the REST API"))
    }

    /// Makes the registry the process's swift-metrics backend (call once, before the grid starts).
    public static func bootstrap() -> GridMetrics {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return GridMetrics(registry: registry)
    }

    func submitted() { submissions.increment() }

    /// A metric's full name and help text (the name's parts are not split: they are already joined).
    private static func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The metrics in Prometheus' text format, with the gauges refreshed from the grid.
    func render(grid: Grid) async -> String {
        let jobs = await grid.jobSummaries()
        var byState: [JobStatus: Int] = [:]
        var running = 0
        var done = 0
        var failed = 0
        var total = 0
        for job in jobs {
            byState[job.status, default: 0] += 1
            running += job.progress.running
            done += job.progress.done
            failed += job.progress.failed
            total += job.progress.total
        }
        for state in JobStatus.allCases {
            registry.makeGauge(descriptor: Self.metric("tessera_jobs", "Jobs in memory by state"), labels: [("state", state.rawValue)])
                .set(Double(byState[state] ?? 0))
        }
        let tasks: [(String, Int)] = [("running", running), ("done", done), ("failed", failed), ("waiting", total - done - running)]
        for (state, count) in tasks {
            registry.makeGauge(descriptor: Self.metric("tessera_tasks", "Task instances of the jobs in memory"), labels: [("state", state)])
                .set(Double(count))
        }
        registry.makeGauge(descriptor: Self.metric("tessera_queue_length", "Task instances not started yet in alive jobs"))
            .set(Double(jobs.filter(\.status.isAlive).reduce(0) { $0 + $1.progress.total - $1.progress.done - $1.progress.running }))
        let nodes = await grid.nodes()
        for state in NodeState.allCases {
            registry.makeGauge(descriptor: Self.metric("tessera_nodes", "Nodes by state"), labels: [("state", state.rawValue)])
                .set(Double(nodes.filter { $0.state == state }.count))
        }
        return registry.emitToString()
    }
}
