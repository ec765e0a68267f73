import Grid
import Testing

@Suite struct ModelTests {
    @Test func value_jsonTextSortsObjectKeysSoFingerprintsAreStableAcrossProcesses() {
        // Dictionary order changes with each process's hash seed; the text must not.
        var members: [String: Value] = [:]
        for key in ["zeta", "alpha", "mu", "beta", "omega", "kappa"] { members[key] = .string(key) }
        let value = Value.object(["runs": 2, "nested": .object(members)])
        #expect(value.jsonText == #"{"nested":{"alpha":"alpha","beta":"beta","kappa":"kappa","mu":"mu","omega":"omega","zeta":"zeta"},"runs":2}"#)
    }

    @Test func instanceName_printsAndParsesProActiveSuffixes() {
        #expect(TaskInstanceName(task: "T").description == "T")
        #expect(TaskInstanceName(task: "T", iteration: 1).description == "T#1")
        #expect(TaskInstanceName(task: "T", replication: 2).description == "T*2")
        #expect(TaskInstanceName(task: "T", iteration: 1, replication: 2).description == "T#1*2")
        #expect(TaskInstanceName(parsing: "T#1*2") == TaskInstanceName(task: "T", iteration: 1, replication: 2))
        #expect(TaskInstanceName(parsing: "T*x") == nil)
        #expect(TaskInstanceName(parsing: "#1") == nil)
    }

    @Test func retryDelay_growsLikeProActiveAndCapsAtSixtySeconds() {
        #expect(RetryDelay.next(afterExecutions: 0) == .seconds(1))
        #expect(RetryDelay.next(afterExecutions: 1) == .seconds(2))
        #expect(RetryDelay.next(afterExecutions: 2) == .seconds(4))
        #expect(RetryDelay.next(afterExecutions: 3) == .seconds(7))
        #expect(RetryDelay.next(afterExecutions: 10) == .seconds(56))
        #expect(RetryDelay.next(afterExecutions: 11) == .seconds(60))
    }

    @Test func onTaskError_noneFallsBackToJobThenContinue() {
        #expect(OnTaskError.effective(task: nil, job: .none) == .continueJobExecution)
        #expect(OnTaskError.effective(task: OnTaskError.none, job: .pauseJob) == .pauseJob)
        #expect(OnTaskError.effective(task: .cancelJob, job: .pauseJob) == .cancelJob)
    }

    @Test func priority_parsesNamesAndNumbers() {
        #expect(JobPriority(name: "high") == .high)
        #expect(JobPriority(name: "0") == .idle)
        #expect(JobPriority(name: "urgent") == nil)
        #expect(JobPriority.high.needsAdmin && !JobPriority.normal.needsAdmin)
    }

    @Test func value_parsesResultFilesAsJSONOrText() {
        #expect(Value(parsingResult: "4\n") == .int(4))
        #expect(Value(parsingResult: "{\"runs\": 3}")["runs"] == .int(3))
        #expect(Value(parsingResult: " hello \n") == .string("hello"))
        #expect(Value(parsingResult: "") == .null)
    }
}
