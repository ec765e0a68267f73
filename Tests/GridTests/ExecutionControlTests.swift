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
