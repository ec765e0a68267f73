import Grid
import Metrics
import Prometheus
import Synchronization

/// The Prometheus metrics of `tessera serve`: gauges read from the grid at each scrape (jobs and tasks by
/// state, queue length, nodes by state) and what the grid records through swift-metrics (dispatch latency),
/// all in one registry.
public struct GridMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let submissions: Prometheus.Counter
    /// What the counters of the managed sources showed at the last scrape (they move by the difference).
    private let counted = CountedTotals()

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

    /// Per source: nodes by state (DEPLOYING and CONFIGURING count the nodes of hosts asked for and not joined),
    /// and for the managed ones their cost and acquisitions by outcome.
    private func renderNodeSources(grid: Grid, nodes: [ResourceLedger.Entry]) async {
        let states = ["DEPLOYING", "CONFIGURING"] + NodeState.allCases.map(\.rawValue)
        var counts: [String: [String: Int]] = [:]
        for source in await grid.nodeSources() { counts[source.name] = [:] }
        for node in nodes { counts[node.source, default: [:]][node.state.rawValue, default: 0] += 1 }
        let managed = await grid.nodeSourceManager.statuses()
        for status in managed {
            counts[status.spec.name, default: [:]]["DEPLOYING"] = status.nodes(.deploying)
            counts[status.spec.name, default: [:]]["CONFIGURING"] = status.nodes(.configuring)
        }
        for (source, byState) in counts {
            for state in states {
                registry.makeGauge(
                    descriptor: Self.metric("tessera_nodesource_nodes", "Nodes of each node source by state"), labels: [("source", source), ("state", state)]
                ).set(Double(byState[state] ?? 0))
            }
        }
        for status in managed {
            let name = status.spec.name
            let outcomes = status.usage.outcomes
            let values: [(String, [(String, String)], Double)] = [
                ("tessera_nodesource_cost_total", [("source", name)], status.cost),
                ("tessera_nodesource_host_seconds_total", [("source", name)], status.hostHours * 3600),
            ] + [("joined", outcomes.joined), ("failed", outcomes.failed), ("timed_out", outcomes.timedOut), ("adopted", outcomes.adopted), ("cancelled", outcomes.cancelled), ("evicted", outcomes.evicted)].map {
                ("tessera_nodesource_acquisitions_total", [("source", name), ("outcome", $0.0)], Double($0.1))
            }
            for (metric, labels, value) in values {
                let help = switch metric {
                case "tessera_nodesource_cost_total": "What each node source's hosts cost (price per host-hour times billed time)"
                case "tessera_nodesource_host_seconds_total": "Seconds of host life of each node source"
                default: "Host acquisitions of each node source by outcome"
                }
                let counter = registry.makeCounter(descriptor: Self.metric(metric, help), labels: labels)
                let key = metric + labels.map { "|\($0.1)" }.joined()
                let delta = counted.advance(key, to: value)
                if delta > 0 { counter.increment(by: delta) }
            }
        }
    }

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
        await renderNodeSources(grid: grid, nodes: nodes)
        return registry.emitToString()
    }
}

/// The totals the counters showed, by metric and labels.
final class CountedTotals: Sendable {
    private let values = Mutex<[String: Double]>([:])

    /// How much `key` moved up since the last call (0 when it did not).
    func advance(_ key: String, to value: Double) -> Double {
        values.withLock { values in
            let delta = value - (values[key] ?? 0)
            if delta > 0 { values[key] = value }
            return max(0, delta)
        }
    }
}
