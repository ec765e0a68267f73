import Foundation
import Testing

@testable import Grid

/// The pure scheduling policy: priority then submission order, selection, exclusions, capacity.
@Suite struct SchedulerCoreTests {
    static let wallNow = Date(timeIntervalSince1970: 1_800_000_000)

    static func entry(_ id: Int, labels: Set<String> = [], token: String? = nil, capacity: Int = 1, locked: Bool = false) -> ResourceLedger.Entry {
        ResourceLedger.Entry(
            id: NodeID(id), source: "local", state: .free, locked: locked, labels: labels, token: token, capacity: capacity, assigned: 0)
    }

    static func job(_ id: UInt64, _ workflow: Workflow, admin: Bool = true) throws -> JobCore {
        var job = try JobCore(id: JobID(id), workflow: workflow, isAdmin: admin, now: .zero, wallNow: wallNow)
        _ = job.start(now: .zero)
        return job
    }

    /// `job/task` names per node, in dispatch order.
    static func names(_ batches: [NodeID: [TaskAssignment]]) -> [Int: [String]] {
        batches.reduce(into: [:]) { out, pair in out[pair.key.rawValue] = pair.value.map { "\($0.job.rawValue)/\($0.name)" } }
    }

    @Test func higherPriorityFirst_thenSubmissionOrder() throws {
        var core = SchedulerCore()
        core.updateLedger { $0.add(Self.entry(0, capacity: 3)) }
        core.add(try Self.job(1, Workflow(name: "old-normal", tasks: [fn("a"), fn("b")])))
        core.add(try Self.job(2, Workflow(name: "new-high", priority: .high, tasks: [fn("c")])))
        core.add(try Self.job(3, Workflow(name: "new-normal", tasks: [fn("d")])))
        #expect(Self.names(core.schedule(now: .zero)) == [0: ["2/c", "1/a", "1/b"]])
        // A priority change re-sorts: job 3 outranks job 1 now.
        _ = try core.update(JobID(3)) { (job: inout JobCore) throws(GridError) in try job.setPriority(.highest, admin: true) }
        core.updateLedger { $0.release(from: NodeID(0)) }
        #expect(Self.names(core.schedule(now: .zero)) == [0: ["3/d"]])
    }

    @Test func labelsAndTokens_chooseTheNodes_andATokenNodeRunsOnlyTokenTasks() throws {
        var core = SchedulerCore()
        core.updateLedger { ledger in
            ledger.add(Self.entry(0, labels: ["ssd"], capacity: 5))
            ledger.add(Self.entry(1, capacity: 5))
            ledger.add(Self.entry(2, token: "gpu", capacity: 5))
        }
        var ssd = fn("ssd")
        ssd.selection = Selection(labels: ["ssd"])
        var gpu = fn("gpu")
        gpu.selection = Selection(token: "gpu")
        let plain = (0..<4).map { fn("p\($0)") }
        core.add(try Self.job(1, Workflow(name: "select", tasks: [ssd, gpu] + plain)))
        let placed = Self.names(core.schedule(now: .zero))
        #expect(placed[0]?.contains("1/ssd") == true)
        #expect(placed[2] == ["1/gpu"], "the token node runs the token task and nothing else")
        #expect(placed.values.flatMap { $0 }.count == 6)
        #expect(!(placed[1] ?? []).contains("1/ssd"))
    }

    @Test func aTaskNoNodeAccepts_waitsAtTheHead_whileLaterTasksRun() throws {
        var core = SchedulerCore()
        core.updateLedger { $0.add(Self.entry(0, capacity: 5)) }
        var picky = fn("picky")
        picky.selection = Selection(labels: ["gpu"])
        core.add(try Self.job(1, Workflow(name: "nonstrict", tasks: [picky, fn("a"), fn("b")])))
        #expect(Self.names(core.schedule(now: .zero)) == [0: ["1/a", "1/b"]])
        // A node with the label arrives: the waiting task goes first.
        core.updateLedger { $0.add(Self.entry(1, labels: ["gpu"])) }
        #expect(Self.names(core.schedule(now: .zero)) == [1: ["1/picky"]])
    }

    @Test func excludedNodes_lockedNodes_andCapacity_areRespected() throws {
        var core = SchedulerCore()
        core.updateLedger { ledger in
            ledger.add(Self.entry(0, capacity: 2))
            ledger.add(Self.entry(1, capacity: 2, locked: true))
        }
        #expect(core.ledger.freeSlots == 2, "a locked node offers no room")
        core.add(try Self.job(1, Workflow(name: "cap", tasks: (0..<5).map { fn("t\($0)") })))
        #expect(Self.names(core.schedule(now: .zero)) == [0: ["1/t0", "1/t1"]])
        #expect(core.schedule(now: .zero).isEmpty, "full")
        #expect(core.ledger.entries[NodeID(0)]?.state == .busy)
        // The instance that failed on node 0 with `elsewhere` may not go back there.
        var ledger = ResourceLedger()
        ledger.add(Self.entry(0, capacity: 2))
        ledger.add(Self.entry(1, capacity: 2))
        #expect(ledger.bestNode(for: Selection(), excluded: [NodeID(0)]) == NodeID(1))
        #expect(ledger.bestNode(for: Selection(), excluded: [NodeID(0), NodeID(1)]) == nil)
        ledger.assign(to: NodeID(0))
        #expect(ledger.bestNode(for: Selection(), excluded: []) == NodeID(1), "the least loaded node")
    }

    @Test func theReportingNode_winsATie_butNotAgainstALessLoadedNode() throws {
        var core = SchedulerCore()
        core.updateLedger { ledger in
            ledger.add(Self.entry(0, capacity: 4))
            ledger.add(Self.entry(1, capacity: 4))
        }
        core.add(try Self.job(1, Workflow(name: "tie", tasks: (0..<4).map { fn("t\($0)") })))
        // Both free: the preferred node takes the first task, then the other is the less loaded one.
        #expect(Self.names(core.schedule(now: .zero, limit: 1, preferring: NodeID(1))) == [1: ["1/t0"]])
        #expect(Self.names(core.schedule(now: .zero, limit: 1, preferring: NodeID(1))) == [0: ["1/t1"]])
        // Tied again at one each: the preference decides, whichever node it names.
        #expect(Self.names(core.schedule(now: .zero, limit: 1, preferring: NodeID(0))) == [0: ["1/t2"]])
        // Node 0 holds two, node 1 one: preferring node 0 does not overload it.
        #expect(Self.names(core.schedule(now: .zero, limit: 1, preferring: NodeID(0))) == [1: ["1/t3"]])
    }

    @Test func aFullOrExcludedPreferredNode_isPassedOver() throws {
        var ledger = ResourceLedger()
        ledger.add(Self.entry(0, capacity: 1))
        ledger.add(Self.entry(1, capacity: 1))
        ledger.add(Self.entry(2, capacity: 1))
        #expect(ledger.bestPosition(for: Selection(), excluded: [NodeID(1)], preferred: 1) == 0, "excluded")
        #expect(ledger.bestPosition(for: Selection(), excluded: [], preferred: 2) == 2, "the last of three tied nodes")
        ledger.assign(to: NodeID(2))
        #expect(ledger.bestPosition(for: Selection(), excluded: [], preferred: 2) == 0, "full")
        #expect(ledger.bestPosition(for: Selection(), excluded: [], preferred: nil) == 0, "no preference: the first")
    }
}

/// Stealing between local nodes follows the resource manager's rules.
@Suite struct NodeQueueTests {
    @Test func steal_takesTheNewestHalf_butNeverWhatTheThiefMayNotRun() throws {
        var gpu = fn("gpu")
        gpu.selection = Selection(labels: ["gpu"])
        var job = try SchedulerCoreTests.job(1, Workflow(name: "steal", tasks: [fn("a"), fn("b"), fn("c"), gpu, fn("d"), fn("e")]))
        let queue = NodeQueue(node: NodeID(0))
        var batch = job.takeReady(limit: 10).map { job.dispatch($0, to: NodeID(0)) }
        // `e` failed on node 1 earlier with `elsewhere`.
        batch[5].excludedNodes = [NodeID(1)]
        queue.push(batch)
        let stolen = queue.steal(for: NodeID(1), max: 10) { $0.selection.labels.isSubset(of: []) }
        #expect(stolen.map(\.name.description) == ["b", "c", "d"], "half of six, skipping the excluded `e` and the gpu task")
        #expect(queue.count == 3)
        var left: [String] = []
        while let next = queue.pop() { left.append(next.name.description) }
        #expect(left == ["a", "gpu", "e"], "what stays keeps its order")
    }
}
