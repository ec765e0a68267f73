import Dispatch
import Foundation
import Testing

@testable import Grid

/// An abort or a shutdown reaches an execution at every step between the queue and its subprocess.
@Suite struct ExecutionControlTests {
    let key = ExecutionControl.Key(job: JobID(1), index: 3, attempt: 1)

    @Test func abortBeforeBegin_theExecutionNeverStarts() {
        let control = ExecutionControl()
        #expect(control.abort(key) == nil)
        #expect(!control.begin(key))
        #expect(control.runningCount == 0)
        // The abort is consumed: a later execution with another attempt number is unaffected.
        #expect(control.begin(ExecutionControl.Key(job: JobID(1), index: 3, attempt: 2)))
    }

    @Test func abortAfterBeginBeforeSpawn_thePidIsRefused() {
        let control = ExecutionControl()
        #expect(control.begin(key))
        #expect(control.abort(key) == nil)
        #expect(!control.attach(key, pid: 4242), "the node must kill the group it just spawned")
        control.end(key)
        #expect(control.runningCount == 0)
    }

    @Test func abortOfAnAttachedProcess_returnsItsGroup() {
        let control = ExecutionControl()
        #expect(control.begin(key))
        #expect(control.attach(key, pid: 4242))
        #expect(control.abort(key) == 4242)
        control.end(key)
        #expect(control.runningCount == 0)
    }

    @Test func inProcessExecutions_areRefusedAfterAnAbortOrAStop_andLeaveNothingBehind() {
        let control = ExecutionControl()
        #expect(control.beginInProcess(key))
        #expect(control.runningCount == 0, "an in-process execution has no process to register")
        // An abort while it runs is remembered, then forgotten when it ends.
        #expect(control.abort(key) == nil)
        control.endInProcess(key)
        #expect(control.beginInProcess(key), "the abort of the ended execution must not refuse the next one")
        // An abort that comes first refuses it, once.
        let other = ExecutionControl.Key(job: JobID(2), index: 0, attempt: 1)
        #expect(control.abort(other) == nil)
        #expect(!control.beginInProcess(other))
        #expect(control.beginInProcess(other))
        _ = control.stop()
        #expect(!control.beginInProcess(ExecutionControl.Key(job: JobID(3), index: 0, attempt: 1)))
    }

    @Test func stop_returnsEveryAttachedGroup_andRefusesNewWork() {
        let control = ExecutionControl()
        let other = ExecutionControl.Key(job: JobID(2), index: 0, attempt: 1)
        #expect(control.begin(key))
        #expect(control.attach(key, pid: 100))
        #expect(control.begin(other))
        #expect(control.stop() == [100])
        #expect(!control.attach(other, pid: 101), "a process spawned after the stop is killed at once")
        #expect(!control.begin(ExecutionControl.Key(job: JobID(3), index: 0, attempt: 1)))
    }
}

/// Self-healing records survive a restart, however many nodes record at once.
@Suite struct HealingStoreTests {
    @Test func concurrentRecords_allReachTheFile() throws {
        let directory = try makeTemporaryDirectory("healing-store")
        try "tile".write(toFile: directory + "/out.txt", atomically: true, encoding: .utf8)
        let path = directory + "/healing.json"
        let store = HealingStore(path: path)
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            _ = try? store.record(key: "job/t\(index)", fingerprint: UInt64(index), outputs: ["out.txt"], in: directory, result: .int(index), variables: nil)
        }
        let reloaded = HealingStore(path: path)
        let missing = (0..<64).filter { index in
            guard case .alreadyDone(let record) = reloaded.check(key: "job/t\(index)", fingerprint: UInt64(index), outputs: ["out.txt"], in: directory)
            else { return true }
            return record.result != .int(index)
        }
        #expect(missing.isEmpty, "records lost on the way to the file: \(missing)")
    }
}

/// A node's unsent reports: the pump takes only those a busy node left waiting too long.
@Suite struct ReportBufferTests {
    @Test func thePumpTakesOnlyReportsThatWaitedPastItsCutoff() {
        let buffer = ReportBuffer()
        let start = MonotonicTime.now()  // nanoseconds
        let first = buffer.append(.started(job: JobID(1), index: 0, attempt: 1, node: NodeID(0)), at: start)
        #expect(first.count == 1 && first.since == start)
        // A later report keeps the age of the oldest one.
        let second = buffer.append(.started(job: JobID(1), index: 1, attempt: 1, node: NodeID(0)), at: start + 7_000_000)
        #expect(second.count == 2 && second.since == start)
        #expect(buffer.takeIfWaiting(since: start - 1_000_000).isEmpty, "younger than the cutoff: the node sends them itself")
        #expect(!buffer.isEmpty)
        #expect(buffer.takeIfWaiting(since: start).count == 2)
        #expect(buffer.isEmpty)
        // Emptied, the buffer's age starts again with its next report.
        let third = buffer.append(.dropped(job: JobID(1), index: 2, attempt: 1, assignedNode: NodeID(0)), at: start + 20_000_000)
        #expect(third.count == 1 && third.since == start + 20_000_000)
        #expect(buffer.take().count == 1)
        #expect(buffer.takeIfWaiting(since: start + 1_000_000_000).isEmpty)
    }

    @Test func anEndReplacesItsOwnStartWhileThatWaits_butNoOtherReport() {
        let buffer = ReportBuffer()
        let start = MonotonicTime.now()  // nanoseconds
        func end(_ index: Int, attempt: Int = 1) -> NodeReport {
            .finished(job: JobID(1), index: index, attempt: attempt, node: NodeID(0), assignedNode: NodeID(0), outcome: .success(result: .int(index), variables: nil), ran: 1_000_000)
        }
        _ = buffer.append(.started(job: JobID(1), index: 0, attempt: 1, node: NodeID(0)), at: start)
        let first = buffer.append(end(0), at: start + 1_000_000)
        #expect(first.count == 1 && first.replaced, "a short task is one report")
        #expect(first.since == start, "the batch keeps the age of the start it replaced")
        _ = buffer.append(.started(job: JobID(1), index: 1, attempt: 1, node: NodeID(0)), at: start + 2_000_000)
        // Another execution's end (here an earlier attempt of the task) leaves the start alone.
        let other = buffer.append(end(1, attempt: 2), at: start + 3_000_000)
        #expect(other.count == 3 && !other.replaced)
        let batch = buffer.take()
        guard batch.count == 3, case .finished(_, 0, 1, _, _, _, _) = batch[0], case .started(_, 1, 1, _) = batch[1],
            case .finished(_, 1, 2, _, _, _, _) = batch[2]
        else {
            Issue.record("unexpected batch \(batch)")
            return
        }
        // A start the pump took already stays sent: its end is appended.
        _ = buffer.append(.started(job: JobID(1), index: 2, attempt: 1, node: NodeID(0)), at: start + 4_000_000)
        #expect(buffer.takeIfWaiting(since: start + 4_000_000).count == 1)
        let late = buffer.append(end(2), at: start + 40_000_000)
        #expect(late.count == 1 && !late.replaced)
    }

    @Test func thePumpCountsTheBatchesBeingHandedOver() async {
        let pump = ReportPump(buffers: [], interval: .milliseconds(10), clock: SystemGridClock())
        #expect(!pump.isSending)
        let batch: [NodeReport] = [.started(job: JobID(1), index: 0, attempt: 1, node: NodeID(0))]
        await pump.send(batch) { reports in
            #expect(reports.count == 1)
            #expect(pump.isSending, "a node that sees this defers a batch due only by age")
            // A second sender inside the first (another node's batch) keeps the count up after it leaves.
            await pump.send([]) { _ in #expect(pump.isSending) }
            #expect(pump.isSending)
        }
        #expect(!pump.isSending)
    }
}
