import Foundation
@testable import Grid

/// Drives a ``JobCore`` the way the scheduler shell does, with outcomes chosen by the test.
struct JobHarness {
    var core: JobCore
    var now: Duration = .zero
    var effects: [JobCore.Effect] = []
    /// Every assignment made so far, in order.
    var assignments: [TaskAssignment] = []

    init(
        _ workflow: Workflow, variables: [String: String] = [:], wallNow: Date = Date(timeIntervalSince1970: 1_800_000_000),
        limits: InputLimits = .default
    ) throws {
        core = try JobCore(id: JobID(1), workflow: workflow, variables: variables, now: .zero, wallNow: wallNow, limits: limits)
        effects += core.start(now: now)
    }

    /// Runs ready instances one at a time on `node` until none is ready; `outcome` decides each end.
    mutating func run(on node: NodeID = NodeID(0), _ outcome: (TaskAssignment) -> TaskOutcome = { _ in .success(result: .null, variables: nil) }) {
        while true {
            let ready = core.takeReady(limit: 1)
            guard let index = ready.first else { return }
            let assignment = core.dispatch(index, to: node)
            assignments.append(assignment)
            effects += core.onStarted(index, attempt: assignment.attempt, node: node, now: now)
            effects += core.onFinished(index, attempt: assignment.attempt, node: node, outcome: outcome(assignment), now: now)
        }
    }

    /// Starts the next ready instance and leaves it running.
    mutating func startNext(on node: NodeID = NodeID(0)) -> TaskAssignment? {
        guard let index = core.takeReady(limit: 1).first else { return nil }
        let assignment = core.dispatch(index, to: node)
        assignments.append(assignment)
        effects += core.onStarted(index, attempt: assignment.attempt, node: node, now: now)
        return assignment
    }

    /// Starts the next ready instance, or throws when none is ready.
    mutating func begin(on node: NodeID = NodeID(0)) throws -> TaskAssignment {
        guard let assignment = startNext(on: node) else { throw NothingReady() }
        return assignment
    }

    mutating func finish(_ assignment: TaskAssignment, _ outcome: TaskOutcome, on node: NodeID = NodeID(0)) {
        effects += core.onFinished(assignment.index, attempt: assignment.attempt, node: node, outcome: outcome, now: now)
    }

    mutating func advance(to time: Duration) {
        now = time
        effects += core.onTick(now: now)
    }

    func status(_ name: String) -> TaskStatus? {
        TaskInstanceName(parsing: name).flatMap { core.index(of: $0) }.map { core.instances[$0].status }
    }

    /// `name=STATUS` for every instance, sorted by name.
    var states: [String: TaskStatus] {
        Dictionary(uniqueKeysWithValues: core.instances.map { ($0.name.description, $0.status) })
    }
}

func fn(_ name: String, depends: [String] = []) -> TaskDefinition {
    TaskDefinition(name, .function("noop"), depends: depends)
}

func failure(_: TaskAssignment) -> TaskOutcome { .failure(message: "exit code 1") }

struct NothingReady: Error {}
