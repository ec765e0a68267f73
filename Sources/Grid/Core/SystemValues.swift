/// The system variables of a task (`TESSERA_JOB_ID`, `TESSERA_TASK_NAME`, …), looked up by name.
struct SystemValues: Sendable {
    var jobID: JobID
    var jobName: String
    var task: TaskInstanceName?

    subscript(name: String) -> String? {
        guard name.hasPrefix("TESSERA_") else { return nil }
        switch name {
        case SystemVariables.jobID: return jobID.description
        case SystemVariables.jobName: return jobName
        case SystemVariables.taskName: return task?.description
        case SystemVariables.taskIteration: return task.map { String($0.iteration) }
        case SystemVariables.taskReplication: return task.map { String($0.replication) }
        default: return nil
        }
    }

    /// Every value, for a subprocess environment.
    var all: [String: String] {
        var values = [SystemVariables.jobID: jobID.description, SystemVariables.jobName: jobName]
        if let task {
            values[SystemVariables.taskName] = task.description
            values[SystemVariables.taskIteration] = String(task.iteration)
            values[SystemVariables.taskReplication] = String(task.replication)
        }
        return values
    }
}

