/// What happens to the job when a task has no execution left after an error (ProActive `onTaskError`).
public enum OnTaskError: String, Sendable, Hashable, Codable, CaseIterable {
    /// The task becomes FAULTY, the job is CANCELED: running tasks ABORTED, the rest NOT_STARTED.
    case cancelJob
    /// The task becomes IN_ERROR, its successors wait, the job is IN_ERROR until the user acts.
    case suspendTask
    /// The task becomes IN_ERROR, the job PAUSED: running tasks go on, the others pause.
    case pauseJob
    /// The task becomes FAULTY and its successors still run.
    case continueJobExecution
    /// Not set: the job's value applies (the job's own default is `continueJobExecution`).
    case none

    /// The policy in force for a task with `task` set, in a job with `job` set.
    public static func effective(task: OnTaskError?, job: OnTaskError) -> OnTaskError {
        if let task, task != .none { return task }
        return job == .none ? .continueJobExecution : job
    }
}

/// Where a task that failed with an error may run again (ProActive `restartTaskOnError`).
public enum RestartMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// On any node, the failed one included (the default).
    case anywhere
    /// Never again on a node where it failed.
    case elsewhere
}

/// ProActive's retry delays.
public enum RetryDelay {
    /// The delay before execution `executionsDone + 1` when no `taskRetryDelay` is set.
    ///
    /// ProActive's `InternalJob.getNextWaitingTime`: 1 s after no execution, then each try adds
    /// `n` seconds (2 s, 4 s, 7 s, 11 s, …), and past 10 executions a flat 60 s.
    public static func next(afterExecutions executionsDone: Int) -> Duration {
        if executionsDone > 10 { return .seconds(60) }
        var total = 1000
        if executionsDone > 0 {
            for k in 1...executionsDone { total += k * 1000 }
        }
        return .milliseconds(total)
    }
}
