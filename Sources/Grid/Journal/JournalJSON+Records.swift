import Foundation

extension JournalJSON {
    mutating func workflow(_ workflow: Workflow) {
        var object = Object(&self)
        object.field("name", &self); string(workflow.name)
        object.field("priority", &self); int(workflow.priority.rawValue)
        object.field("onTaskError", &self); string(workflow.onTaskError.rawValue)
        object.field("maxNumberOfExecution", &self); int(workflow.maxNumberOfExecution)
        if let delay = workflow.taskRetryDelay { object.field("taskRetryDelay", &self); duration(delay) }
        object.field("restartTaskOnError", &self); string(workflow.restartTaskOnError.rawValue)
        object.field("variables", &self); variables(workflow.variables)
        object.field("genericInfo", &self); dictionary(workflow.genericInfo)
        if let directory = workflow.workingDirectory { object.field("workingDirectory", &self); string(directory) }
        object.field("tasks", &self)
        bytes.append(0x5B)
        let tasks = workflow.tasks
        for index in tasks.indices {
            if index > 0 { bytes.append(0x2C) }
            task(tasks[index])
        }
        bytes.append(0x5D)
        object.field("locations", &self)
        var locations = Object(&self)
        for key in workflow.locations.keys.sorted() {
            guard let location = workflow.locations[key] else { continue }
            locations.key(key, &self)
            var inner = Object(&self)
            inner.field("line", &self); int(location.line)
            inner.field("column", &self); int(location.column)
            inner.end(&self)
        }
        locations.end(&self)
        object.end(&self)
    }

    mutating func variables(_ variables: [Variable]) {
        bytes.append(0x5B)
        for (index, variable) in variables.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            var object = Object(&self)
            object.field("name", &self); string(variable.name)
            object.field("value", &self); string(variable.value)
            object.field("inherited", &self); bool(variable.inherited)
            object.end(&self)
        }
        bytes.append(0x5D)
    }

    /// - Throws: `EncodingError` for a closure decider (it cannot be stored).
    mutating func task(_ task: TaskDefinition) {
        var object = Object(&self)
        // Only what differs from the defaults (``TaskDefinition/init(from:)`` fills them in).
        object.field("name", &self); string(task.name)
        if !task.depends.isEmpty { object.field("depends", &self); strings(task.depends) }
        object.field("executable", &self); executable(task.executable)
        if !task.variables.isEmpty { object.field("variables", &self); variables(task.variables) }
        if !task.genericInfo.isEmpty { object.field("genericInfo", &self); dictionary(task.genericInfo) }
        if let walltime = task.walltime { object.field("walltime", &self); duration(walltime) }
        if !task.outputs.isEmpty { object.field("outputs", &self); strings(task.outputs) }
        if !task.selection.labels.isEmpty || task.selection.token != nil {
            object.field("selection", &self)
            var selection = Object(&self)
            selection.field("labels", &self); strings(task.selection.labels.sorted())
            if let token = task.selection.token { selection.field("token", &self); string(token) }
            selection.end(&self)
        }
        if let policy = task.onTaskError { object.field("onTaskError", &self); string(policy.rawValue) }
        if let count = task.maxNumberOfExecution { object.field("maxNumberOfExecution", &self); int(count) }
        if let delay = task.taskRetryDelay { object.field("taskRetryDelay", &self); duration(delay) }
        if let mode = task.restartTaskOnError { object.field("restartTaskOnError", &self); string(mode.rawValue) }
        if let flow = task.flow { object.field("flow", &self); self.flow(flow) }
        if task.block != .none { object.field("block", &self); string(task.block.rawValue) }
        object.end(&self)
    }

    mutating func executable(_ executable: Executable) {
        switch executable {
        case .function(let name, let input):
            enumCase("function") { json, object in
                object.field("_0", &json); json.string(name)
                object.field("input", &json); json.value(input)
            }
        case .script(let script):
            enumCase("script") { json, object in
                object.field("_0", &json)
                var inner = Object(&json)
                inner.field("language", &json); json.string(script.language)
                inner.field("source", &json)
                switch script.source {
                case .code(let code): json.enumCase("code") { json, object in object.field("_0", &json); json.string(code) }
                case .file(let path): json.enumCase("file") { json, object in object.field("_0", &json); json.string(path) }
                }
                inner.field("arguments", &json); json.strings(script.arguments)
                inner.end(&json)
            }
        case .command(let argv):
            enumCase("command") { json, object in
                object.field("_0", &json); json.strings(argv)
            }
        }
    }

    mutating func flow(_ flow: FlowControl) {
        switch flow {
        case .replicate(let decider):
            enumCase("replicate") { json, object in object.field("runs", &json); json.decider(decider) }
        case .loop(let target, let decider):
            enumCase("loop") { json, object in
                object.field("target", &json); json.string(target)
                object.field("decider", &json); json.decider(decider)
            }
        case .branch(let target, let elseTarget, let continuation, let decider):
            enumCase("branch") { json, object in
                object.field("target", &json); json.string(target)
                object.field("else", &json); json.string(elseTarget)
                if let continuation { object.field("continuation", &json); json.string(continuation) }
                object.field("decider", &json); json.decider(decider)
            }
        }
    }

    /// A closure is written as `{}`, which no decoder accepts: check ``Workflow/isJournalable`` first.
    mutating func decider(_ decider: FlowDecider) {
        var object = Object(&self)
        switch decider {
        case .result: object.field("result", &self); bool(true)
        case .value(let text): object.field("value", &self); string(text)
        case .closure: break
        }
        object.end(&self)
    }

    mutating func outcome(_ outcome: TaskOutcome, resultFile: String?, ran: Int64? = nil) {
        var object = Object(&self)
        object.field("outcome", &self)
        switch outcome {
        case .success(let result, let variables):
            enumCase("success") { json, object in
                object.field("result", &json); json.value(result)
                if let variables { object.field("variables", &json); json.dictionary(variables) }
            }
        case .failure(let message):
            enumCase("failure") { json, object in object.field("message", &json); json.string(message) }
        case .alreadyDone(let result, let variables, let reason):
            enumCase("alreadyDone") { json, object in
                object.field("result", &json); json.value(result)
                if let variables { object.field("variables", &json); json.dictionary(variables) }
                object.field("reason", &json); json.string(reason)
            }
        }
        if let resultFile { object.field("resultFile", &self); string(resultFile) }
        if let ran { object.field("ran", &self); int(ran) }
        object.end(&self)
    }

    /// A final report as the journal stores it (see `Journal.StoredReport`): the job's fields with an empty
    /// `tasks`, then each task under short keys, defaults left out (`a` only when already done, `r` only
    /// when it has a result, `m` only with a message), and each node's host once under `hosts` (`h` on a
    /// task only where it differs). About 45 % of the bytes of `TaskReport`'s own form for a no-op task.
    mutating func storedReport(_ report: JobResult, resultFiles: [(index: Int, file: String)]) {
        var stored = Object(&self)
        stored.field("report", &self)
        var object = Object(&self)
        object.field("job", &self); int(report.job.rawValue)
        object.field("name", &self); string(report.name)
        object.field("owner", &self); string(report.owner)
        object.field("status", &self); string(report.status.rawValue)
        object.field("priority", &self); int(report.priority.rawValue)
        object.field("progress", &self)
        var progress = Object(&self)
        progress.field("done", &self); int(report.progress.done)
        progress.field("total", &self); int(report.progress.total)
        progress.field("running", &self); int(report.progress.running)
        progress.field("failed", &self); int(report.progress.failed)
        progress.end(&self)
        object.field("tasks", &self); raw("[]")
        object.field("logDirectory", &self); string(report.logDirectory)
        object.end(&self)
        // Each node's host as the first of its tasks names it.
        var hosts: [NodeID: String] = [:]
        let tasks = report.tasks
        for index in tasks.indices {
            if let node = tasks[index].node, let host = tasks[index].host, hosts[node] == nil { hosts[node] = host }
        }
        stored.field("tasks", &self)
        bytes.append(0x5B)
        for index in tasks.indices {
            if index > 0 { bytes.append(0x2C) }
            var inner = Object(&self)
            inner.field("n", &self); string(tasks[index].name.description)
            inner.field("s", &self); string(tasks[index].status.rawValue)
            inner.field("e", &self); int(tasks[index].executions)
            if let result = tasks[index].result { inner.field("r", &self); value(result) }
            if let node = tasks[index].node {
                inner.field("o", &self); int(node.rawValue)
                if tasks[index].host != hosts[node] {
                    inner.field("h", &self)
                    if let host = tasks[index].host { string(host) } else { raw("null") }
                }
            } else if let host = tasks[index].host {
                inner.field("h", &self); string(host)
            }
            if let message = tasks[index].message { inner.field("m", &self); string(message) }
            if tasks[index].alreadyDone { inner.field("a", &self); bool(true) }
            if let duration = tasks[index].duration { inner.field("d", &self); double(duration) }
            inner.end(&self)
        }
        bytes.append(0x5D)
        if !hosts.isEmpty {
            stored.field("hosts", &self)
            var map = Object(&self)
            for (node, host) in hosts.sorted(by: { $0.key < $1.key }) {
                map.key(String(node.rawValue), &self)
                string(host)
            }
            map.end(&self)
        }
        if !resultFiles.isEmpty {
            stored.field("resultFiles", &self)
            var files = Object(&self)
            for (index, file) in resultFiles {
                files.key(String(index), &self)
                string(file)
            }
            files.end(&self)
        }
        stored.end(&self)
    }
}

extension Workflow {
    /// Whether the journal can store it: closure deciders are code, not data.
    public var isJournalable: Bool {
        tasks.allSatisfy { task in
            guard let flow = task.flow, case .closure = flow.decider else { return true }
            return false
        }
    }
}
