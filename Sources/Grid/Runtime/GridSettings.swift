import Actors
import Foundation
import Logging

/// Settings of an embedded grid, each with a default that suits one compute host.
public struct GridSettings: Sendable {
    /// Local nodes to start; `nil` means one per physical core, minus ``reservedCores``.
    public var nodes: Int?
    /// Whether the grid runs local nodes; `false` leaves all work to remote agents.
    public var localNodes: Bool = true
    /// How long a LOST node of an agent stays in the node list (ProActive removes unavailable nodes after a while too).
    public var keepLostNodes: Duration = .seconds(3600)
    /// Cores kept for the grid itself (scheduler, I/O); `nil` reserves one when the machine has more than 2.
    public var reservedCores: Int?
    /// Allow more nodes than cores (tests, benchmarks).
    public var oversubscribe: Bool = false
    /// Bind the worker threads to their cores.
    public var bindThreads: Bool = true
    /// The name of the local node source (infrastructure `local`, policy `static`).
    public var nodeSourceName: String = "local"
    /// Labels every local node carries (tasks select nodes with `selection.labels`).
    public var labels: Set<String> = []
    /// When set, local nodes run only tasks that present this token (`NODE_ACCESS_TOKEN`).
    public var token: String?
    /// Tasks a node may hold at once (running plus queued locally).
    ///
    /// Deep enough that a node never waits for the scheduler between short tasks; shallow enough
    /// that a job of higher priority submitted later does not wait behind a long local queue.
    public var queueDepth: Int = 256 {
        willSet { precondition(newValue >= 1, "queueDepth must be at least 1") }
    }
    /// Reports a node sends to the scheduler in one message, at most.
    ///
    /// A task that ends before its start report left the node is one report (its end), so this is also about as
    /// many short tasks: as many as `queueDepth`, so that a node busy with short tasks reports, and gets its queue
    /// filled again, as it empties it.
    public var reportBatch: Int = 256 {
        willSet { precondition(newValue >= 1, "reportBatch must be at least 1") }
    }
    /// The longest a local node holds reports back while busy (a node out of work reports at once); `nil` (the
    /// default) lets ``Grid/start(settings:functions:)`` choose by the cores its local nodes run on
    /// (``reportInterval(forCores:)``), and the started grid's ``Grid/settings`` shows the choice. Agents' nodes
    /// have their own (``AgentSettings/reportInterval``, 5 ms).
    ///
    /// Longer means fewer scheduler turns on the nodes' threads; shorter means a busy node's progress shows,
    /// and the tasks its ends release are placed, sooner.
    public var reportInterval: Duration? {
        willSet { precondition(newValue.map { $0 > .zero } ?? true, "reportInterval must be positive") }
    }

    /// The report interval the grid chooses when its local nodes run on `cores` cores: 60 ms shared by the cores,
    /// within 2 – 30 ms (30 ms on 2 cores, 7.5 ms on 8, 3.75 ms on 16).
    ///
    /// On 2 cores, 30 ms rather than 10 ms gave the tiling DAG about 1 to 2 % more of the no-grid ceiling
    /// (interleaved runs, README), and 100 ms no more than 30 ms. On more cores the whole DAG lasts about one
    /// such interval, and the adds its tiles release waited for the nodes to run out of work: on a 16-core machine
    /// the grid held 77 – 80 % of the ceiling with 30 ms and 81 – 86 % with 1 – 10 ms; on 8 cores 30 ms and
    /// 5 – 7.5 ms were alike within the noise (docs/grid-measurements.md, 2026-12-04).
    ///
    /// - Parameter cores: the distinct cores the local nodes run on (nodes sharing a core count it once).
    /// - Returns: the interval, in whole microseconds.
    public static func reportInterval(forCores cores: Int) -> Duration {
        let milliseconds = min(30, max(2, 60 / Double(max(1, cores))))
        return .microseconds(Int64((milliseconds * 1000).rounded()))
    }
    /// The most assignments one steal takes.
    public var maxStealBatch: Int = 128 {
        willSet { precondition(newValue >= 1, "maxStealBatch must be at least 1") }
    }
    /// The bounds every submission is held to: durations, nesting, YAML aliases, names, replicate runs, loop
    /// iterations and instances per job (``InputLimits``, each with its default).
    public var limits: InputLimits = .default
    /// Whether a task's `outputs` must lie in its working directory (relative, no `..`, no link entered); `tessera
    /// serve` with a users file sets it, so that no user's outputs reach another's files. Off, absolute outputs
    /// (`${OUT}/tile.tif`) are matched too; either way the matches and entries read are bounded by ``limits``.
    public var confineOutputs: Bool = false
    /// The accounts, folders and limits that keep one user's subprocess tasks from another's data and from the grid
    /// (``TaskIsolation``); `nil`, the default, runs them as the grid's own account with its environment, as a
    /// single user's grid does. Setting it also confines outputs.
    public var isolation: TaskIsolation?
    /// Where job logs, per-execution files and the self-healing records go.
    public var dataDirectory: String = FileManager.default.temporaryDirectory.path + "/tessera-\(ProcessInfo.processInfo.processIdentifier)"
    /// The working directory of subprocess tasks when a workflow sets none.
    public var workingDirectory: String = FileManager.default.currentDirectoryPath
    /// How long an ended job stays in memory (its report, `result()`, its events) before the grid
    /// forgets it, like ProActive's automatic job removal; `nil` keeps ended jobs until
    /// ``JobHandle/remove()``. Logs stay on disk either way.
    public var removeEndedJobsAfter: Duration?
    /// Keep self-healing records in `dataDirectory/healing.json` so they survive restarts (without a journal;
    /// with one they live in the journal).
    public var persistHealing: Bool = true
    /// Journal every state change to `dataDirectory/journal.sqlite` and, on start, finish the unfinished jobs
    /// found there (what `tessera serve` does).
    public var journal: Bool = false
    /// How hard a journal commit is pushed to the disk.
    public var journalDurability: Journal.Durability = .normal
    /// The grid's time (a ``ManualClock`` in tests).
    public var clock: any GridClock = SystemGridClock()
    /// The wall-clock time, for `START_AT`.
    public var wallClock: @Sendable () -> Date = systemWallClock
    /// Settings of the pinned worker pool.
    public var actors: Actors.Settings = .init()
    /// The logger.
    public var logger: Logger = Logger(label: "tessera.grid")

    /// Makes settings with every default.
    public init() {}
}
