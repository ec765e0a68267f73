/// The system variables of a task (`TESSERA_JOB_ID`, `TESSERA_TASK_NAME`, …), looked up by name.
struct SystemValues: Sendable {
    var jobID: JobID
    var jobName: String
    var task: TaskInstanceName?

    subscript(name: String) -> String? {
        guard name.hasPrefix("TESSERA_") else { return nil }
        switch name {
        case "TESSERA_JOB_ID": return jobID.description
        case "TESSERA_JOB_NAME": return jobName
        case "TESSERA_TASK_NAME": return task?.description
        case "TESSERA_TASK_ITERATION": return task.map { String($0.iteration) }
        case "TESSERA_TASK_REPLICATION": return task.map { String($0.replication) }
        default: return nil
        }
    }

    /// Every value, for a subprocess environment.
    var all: [String: String] {
        var values = ["TESSERA_JOB_ID": jobID.description, "TESSERA_JOB_NAME": jobName]
        if let task {
            values["TESSERA_TASK_NAME"] = task.description
            values["TESSERA_TASK_ITERATION"] = String(task.iteration)
            values["TESSERA_TASK_REPLICATION"] = String(task.replication)
        }
        return values
    }
}

/// Replaces every `${NAME}` whose name `lookup` knows; the rest stays as written.
func substituteVariables(_ text: String, _ lookup: (String) -> String?) -> String {
    guard text.utf8.contains(UInt8(ascii: "$")) else { return text }
    var output = ""
    var rest = Substring(text)
    while let dollar = rest.firstIndex(of: "$") {
        output += rest[..<dollar]
        let afterDollar = rest.index(after: dollar)
        guard afterDollar < rest.endIndex, rest[afterDollar] == "{", let close = rest[afterDollar...].firstIndex(of: "}") else {
            output.append("$")
            rest = rest[afterDollar...]
            continue
        }
        let name = String(rest[rest.index(after: afterDollar)..<close])
        if let value = lookup(name) {
            output += value
        } else {
            output += rest[dollar...close]
        }
        rest = rest[rest.index(after: close)...]
    }
    output += rest
    return output
}
