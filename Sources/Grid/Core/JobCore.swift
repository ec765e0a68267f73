import DequeModule
import Foundation

/// One job: its task instances, their DAG and the state machine of ProActive's job and task states.
///
/// A pure value: every event method takes `now` and returns the ``Effect``s the shell must perform
/// (abort an execution, wake up later, publish a change). Replication and loops add instances as the
/// job runs; instance indexes never change, so they are stable handles for the shell and a journal.
public struct JobCore: Sendable {
    /// The longest run time a node may report for one execution (a century): a longer one is not a measure, and
    /// would overflow the arithmetic on grid times. The agents' wire and the journal refuse it.
    public static let longestRun: Duration = .nanoseconds(longestRunNanoseconds)
    /// ``longestRun`` in nanoseconds, as reports and the journal carry run times.
    static let longestRunNanoseconds: Int64 = 100 * 365 * 86_400 * 1_000_000_000

    /// What the shell must do after an event.
    public enum Effect: Sendable, Equatable {
        /// Instance `index` changed state: publish it.
        case taskChanged(Int)
        /// The job's state changed: publish it.
        case jobChanged(JobStatus)
        /// Stop execution `attempt` of instance `index` on `node` (kill its process, drop it from the queue).
        case abort(index: Int, node: NodeID, attempt: Int)
        /// Call ``JobCore/onTick(now:)`` at this time (a retry delay or START_AT ends).
        case wake(at: Duration)
        /// Instances were added to the ready queue: schedule.
        case ready
    }

    /// The job's identifier.
    public let id: JobID
    /// The workflow it runs.
    public let workflow: Workflow
    /// The owner may raise the priority above NORMAL.
    public let isAdmin: Bool
    /// Who submitted it (a user name from the users file; empty for the embedded API).
    public let owner: String
    /// The bounds on what its flow controls may make (replicate runs, loop iterations, instances).
    let limits: InputLimits
    /// Its priority; higher runs first.
    public internal(set) var priority: JobPriority
    /// Its state.
    public internal(set) var status: JobStatus = .pending
    /// Every instance so far, by index.
    public internal(set) var instances: [TaskInstance] = []
    /// When it was submitted.
    public let submittedAt: Duration
    /// When it reached a final state.
    public internal(set) var finishedAt: Duration?
    /// When a task of it first started (grid time).
    public internal(set) var startedAt: Duration?

    let plan: FlowPlan
    /// Job variables after substitution.
    let jobVariables: [String: String]
    /// Digest of each definition, for self-healing fingerprints.
    let definitionDigests: [UInt64]
    /// Each definition's node selection, its token taken from `NODE_ACCESS_TOKEN` when it sets none (resolved once:
    /// placement asks for every execution).
    let definitionSelections: [Selection]
    /// Each definition's walltime (its own, or `WALLTIME` from its or the job's generic information).
    let definitionWalltimes: [Duration?]
    /// Instance index by name, built on the first lookup (most jobs never look a task up by name, and hashing
    /// every name of a 100,000-task job at submission costs more than its scheduling) and kept up to date after.
    var names: [TaskInstanceName: Int]?
    var nextReplication: [String: Int] = [:]
    /// Variables a replicate gave each replica of its body (the `variables` array of its decision), by
    /// instance index; kept aside so that instances without any stay small to copy.
    var replicaVariables: [Int: [String: String]] = [:]
    var readyQueue: Deque<Int> = []
    var timers: [(at: Duration, index: Int)] = []
    var paused = false
    /// The runs this job's replicates decided, and how many decisions (elastic policies expect the next ones alike).
    var replicateRuns: (runs: Int, decisions: Int) = (0, 0)
    var everStarted = false
    var runningCount = 0
    var doneCount = 0
    var failedCount = 0
    var inErrorCount = 0

    /// Makes the job's instances (one per definition) without starting anything.
    ///
    /// - Parameters:
    ///   - id: the job's identifier.
    ///   - workflow: a workflow that passed validation.
    ///   - variables: values that override job variables (`--var NAME=VALUE`).
    ///   - isAdmin: whether HIGH and HIGHEST are allowed.
    ///   - now: the grid's time.
    ///   - wallNow: the wall-clock time, to turn `START_AT` into grid time.
    ///   - limits: the bounds on `START_AT` and on what the flow controls may make.
    /// - Throws: `GridError.priorityNeedsAdmin`, `GridError.badStartAt`, `GridError.limitExceeded`.
    public init(
        id: JobID, workflow: Workflow, variables overrides: [String: String] = [:], isAdmin: Bool = false,
        owner: String = "", now: Duration, wallNow: Date, limits: InputLimits = .default
    ) throws(GridError) {
        try self.init(
            id: id, workflow: workflow, variables: overrides, isAdmin: isAdmin, owner: owner, now: now, wallNow: wallNow, plan: nil,
            limits: limits)
    }

    /// Makes the job's instances with the flow plan its validation built (`nil`: built here).
    init(
        id: JobID, workflow: Workflow, variables overrides: [String: String], isAdmin: Bool, owner: String, now: Duration,
        wallNow: Date, plan: FlowPlan?, limits: InputLimits
    ) throws(GridError) {
        if workflow.priority.needsAdmin && !isAdmin { throw .priorityNeedsAdmin(workflow.priority) }
        self.id = id
        self.limits = limits
        self.workflow = workflow
        self.isAdmin = isAdmin
        self.owner = owner
        self.priority = workflow.priority
        self.submittedAt = now
        self.plan = plan ?? FlowPlan(workflow.tasks)
        let system = SystemValues(jobID: id, jobName: workflow.name, task: nil)
        self.jobVariables = VariableSubstitution.jobValues(workflow.variables, overrides: overrides) { system[$0] }
        let jobToken = workflow.genericInfo["NODE_ACCESS_TOKEN"]
        let jobSource = workflow.genericInfo["NODE_SOURCE"]
        let jobWalltime = JobCore.walltime(workflow.genericInfo["WALLTIME"])  // parsed once, not per task
        let jobStart = try JobCore.startAt(workflow.genericInfo["START_AT"], now: now, wallNow: wallNow, longest: limits.longestDuration)
        let tasks = workflow.tasks
        var digests: [UInt64] = []
        var selections: [Selection] = []
        var walltimes: [Duration?] = []
        digests.reserveCapacity(tasks.count)
        selections.reserveCapacity(tasks.count)
        walltimes.reserveCapacity(tasks.count)
        let plan = self.plan
        // One pass over the definitions, reading fields by index (not a copy of each definition): they are a few
        // hundred bytes each, and a pass per derived list read a large job's definitions from memory four times.
        // Each instance is built in its place in the array (an append copied it there, then destroyed the original).
        self.instances = try [TaskInstance](unsafeUninitializedCapacity: tasks.count) { buffer, initialized throws(GridError) in
            guard let base = buffer.baseAddress else { return }
            for index in tasks.indices {
                // Only self-healing tasks (with outputs) need the digest of their definition.
                digests.append(tasks[index].outputs.isEmpty ? 0 : JobCore.digest(of: tasks[index]))
                // No hash of a key when there is nothing to look up (most tasks set no generic information).
                let info = tasks[index].genericInfo
                var selection = tasks[index].selection
                if selection.token == nil { selection.token = (info.isEmpty ? nil : info["NODE_ACCESS_TOKEN"]) ?? jobToken }
                if selection.source == nil { selection.source = (info.isEmpty ? nil : info["NODE_SOURCE"]) ?? jobSource }
                selections.append(selection)
                // A task's own WALLTIME text replaces the job's, even when it does not parse.
                let walltimeText = info.isEmpty ? nil : info["WALLTIME"]
                walltimes.append(tasks[index].walltime ?? (walltimeText == nil ? jobWalltime : JobCore.walltime(walltimeText)))
                let notBefore = try JobCore.startAt(
                    info.isEmpty ? nil : info["START_AT"], now: now, wallNow: wallNow, longest: limits.longestDuration) ?? jobStart
                let parents = plan.parents[index]
                // The plan's lists of children are shared until an instance changes its own (replicates and loops
                // do), instead of one append per edge here.
                (base + index).initialize(to: TaskInstance(
                    name: TaskInstanceName(task: tasks[index].name), definition: index, parents: parents,
                    executions: tasks[index].maxNumberOfExecution ?? workflow.maxNumberOfExecution, failureRuns: 2,
                    children: plan.children[index], waitingOn: parents.count, since: now, notBefore: notBefore))
                initialized = index + 1
            }
        }
        self.definitionDigests = digests
        self.definitionSelections = selections
        self.definitionWalltimes = walltimes
    }

    /// Starts the job: tasks without dependencies become PENDING.
    public mutating func start(now: Duration) -> [Effect] {
        // Room for every first task at once: a wide job would otherwise grow both a dozen times over.
        var roots = 0
        for index in instances.indices where instances[index].waitingOn == 0 { roots += 1 }
        var effects: [Effect] = []
        effects.reserveCapacity(roots + 2)
        readyQueue.reserveCapacity(readyQueue.count + roots)
        for index in instances.indices where instances[index].waitingOn == 0 {
            makeEligible(index, now: now, &effects)
        }
        refreshStatus(now: now, &effects)
        return effects
    }

    /// The index of the instance with this name.
    public func index(of name: TaskInstanceName) -> Int? {
        if let names { return names[name] }
        return instances.firstIndex { $0.name == name }
    }

    /// The index of the instance with this name, building the name index on first use.
    mutating func lookup(_ name: TaskInstanceName) -> Int? {
        if names == nil {
            var built: [TaskInstanceName: Int] = [:]
            built.reserveCapacity(instances.count)
            for index in instances.indices { built[instances[index].name] = index }
            names = built
        }
        return names?[name]
    }

    /// The definition an instance runs.
    public func definition(of index: Int) -> TaskDefinition { workflow.tasks[instances[index].definition] }

    /// Done, total, running and failed instances.
    public var progress: JobProgress {
        JobProgress(done: doneCount, total: instances.count, running: runningCount, failed: failedCount)
    }

    /// Whether instances wait in the ready queue.
    public var hasReady: Bool { !readyQueue.isEmpty }

    /// The earliest pending timer.
    public var nextWake: Duration? { timers.map(\.at).min() }

    /// Takes up to `limit` ready instances, oldest first (instances that left PENDING meanwhile are dropped).
    public mutating func takeReady(limit: Int) -> [Int] {
        var taken: [Int] = []
        taken.reserveCapacity(min(limit, readyQueue.count))
        while taken.count < limit, let index = readyQueue.popFirst() {
            instances[index].queued = false
            if instances[index].status == .pending && !instances[index].dispatched { taken.append(index) }
        }
        return taken
    }

    /// Puts instances back at the front of the ready queue (no node could take them).
    public mutating func returnReady(_ indexes: [Int]) {
        for index in indexes.reversed() where !instances[index].queued {
            instances[index].queued = true
            readyQueue.prepend(index)
        }
    }

    /// The selection constraints of an instance, with its node exclusions.
    public func constraints(of index: Int) -> (selection: Selection, excluded: Set<NodeID>) {
        (definitionSelections[instances[index].definition], instances[index].excludedNodes)
    }

    /// Places up to `limit` ready instances on the ledger's best nodes, appending what each node runs to its
    /// batch (`batches` is indexed by the ledger's table positions);
    /// returns how many were placed. Those no node accepts now go back to the head of the queue.
    ///
    /// In place on the job (a method of the job, not of the scheduler): reading the job out of the scheduler's
    /// list for every instance would copy it.
    mutating func place(limit: Int, on ledger: inout ResourceLedger, into batches: inout [[TaskAssignment]], preferred: Int? = nil) -> Int {
        let ready = takeReady(limit: limit)
        var placed = 0
        var unplaced: [Int] = []
        for index in ready {
            let definition = instances[index].definition
            guard
                let position = ledger.bestPosition(
                    for: definitionSelections[definition], excluded: instances[index].excludedNodes, preferred: preferred, user: owner)
            else {
                unplaced.append(index)
                continue
            }
            ledger.assign(at: position)
            placed += 1
            batches[position].append(dispatch(index, to: ledger.node(at: position)))
        }
        if !unplaced.isEmpty { returnReady(unplaced) }
        return placed
    }

    // MARK: - State bookkeeping

    mutating func setStatus(_ index: Int, _ new: TaskStatus, now: Duration, _ effects: inout [Effect]) {
        let old = instances[index].status
        guard old != new else { return }
        if old == .running { runningCount -= 1 }
        if new == .running { runningCount += 1 }
        if old.isTerminal { doneCount -= 1 }
        if new.isTerminal { doneCount += 1 }
        if old.isFailure { failedCount -= 1 }
        if new.isFailure { failedCount += 1 }
        if old == .inError { inErrorCount -= 1 }
        if new == .inError { inErrorCount += 1 }
        instances[index].status = new
        instances[index].since = now
        effects.append(.taskChanged(index))
    }

    /// Derives the job state from its tasks, the way ProActive does, and publishes a change.
    mutating func refreshStatus(now: Duration, _ effects: inout [Effect]) {
        guard status.isAlive else { return }
        let new: JobStatus
        if doneCount == instances.count {
            new = .finished
        } else if paused {
            new = .paused
        } else if inErrorCount > 0 {
            new = .inError
        } else if runningCount > 0 {
            new = .running
        } else if everStarted {
            new = .stalled
        } else {
            new = .pending
        }
        guard new != status else { return }
        status = new
        if !new.isAlive { finishedAt = now }
        effects.append(.jobChanged(new))
    }

    static func startAt(_ text: String?, now: Duration, wallNow: Date, longest: Duration) throws(GridError) -> Duration? {
        guard let text else { return nil }
        guard let date = try? Date(text, strategy: .iso8601) else { throw .badStartAt(String(text.prefix(64))) }
        let delay = date.timeIntervalSince(wallNow)
        let longestSeconds = Double(longest.components.seconds)
        guard delay.isFinite, delay <= longestSeconds else {
            throw .limitExceeded("START_AT \(text) is more than \(longest) ahead (limit longestDuration)")
        }
        return delay > 0 ? now + .milliseconds(Int64(delay * 1000)) : nil
    }

    /// A digest of what a definition runs, stable across processes (no closures, no addresses).
    static func digest(of task: TaskDefinition) -> UInt64 {
        var hasher = StableHasher()
        hasher.combine(task.name)
        switch task.executable {
        case .function(let name, let input):
            hasher.combine("function")
            hasher.combine(name)
            hasher.combine(input.jsonText)
        case .script(let script):
            hasher.combine("script")
            hasher.combine(script.language)
            switch script.source {
            case .code(let code): hasher.combine("code:" + code)
            case .file(let path): hasher.combine("file:" + path)
            }
            for argument in script.arguments { hasher.combine(argument) }
        case .command(let argv):
            hasher.combine("command")
            for argument in argv { hasher.combine(argument) }
        }
        for output in task.outputs { hasher.combine(output) }
        return hasher.value
    }
}

/// FNV-1a, 64 bits: a digest that is the same in every process (unlike `Hasher`).
struct StableHasher {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func combine(_ text: String) {
        for byte in text.utf8 {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        value = (value ^ 0xff) &* 0x0000_0100_0000_01b3
    }

    mutating func combine(_ number: UInt64) {
        combine(String(number, radix: 16))
    }
}
