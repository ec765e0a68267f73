import Foundation

/// A JSON writer for what the journal stores on the hot path (workflows, task outcomes, reports), producing the
/// same shapes as the types' `Codable` conformances so that `JSONDecoder` reads them back, about ten times
/// faster than `JSONEncoder` (which, through its generic containers, cost more than SQLite itself).
struct JournalJSON {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    var data: Data { Data(bytes) }

    // MARK: - Scalars

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        bytes.append(0x22)
        // Most text needs no escaping: copy it whole.
        let plain = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            for byte in buffer where byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if plain == true {
            bytes.append(0x22)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func int<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// A double that reads back as a double: integral values keep a `.0` (an integer would read back as `.int`).
    mutating func double(_ value: Double) {
        guard value.isFinite else {
            raw("null")
            return
        }
        var text = "\(value)"
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { text += ".0" }
        bytes.append(contentsOf: text.utf8)
    }

    /// `Duration`'s own Codable form: its attoseconds as a 128-bit integer in two halves, `[high, low]`.
    mutating func duration(_ value: Duration) {
        let (seconds, attoseconds) = value.components
        let total = Int128(seconds) * 1_000_000_000_000_000_000 + Int128(attoseconds)
        bytes.append(0x5B)
        int(Int64(truncatingIfNeeded: total >> 64))
        bytes.append(0x2C)
        int(UInt64(truncatingIfNeeded: total))
        bytes.append(0x5D)
    }

    mutating func value(_ value: Value) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): bool(flag)
        case .int(let number): int(number)
        case .double(let number): double(number)
        case .string(let text): string(text)
        case .array(let items):
            bytes.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                self.value(item)
            }
            bytes.append(0x5D)
        case .object(let members):
            var object = Object(&self)
            for key in members.keys.sorted() {
                guard let member = members[key] else { continue }
                object.key(key, &self)
                self.value(member)
            }
            object.end(&self)
        }
    }

    mutating func strings(_ items: some Sequence<String>) {
        bytes.append(0x5B)
        var first = true
        for item in items {
            if !first { bytes.append(0x2C) }
            first = false
            string(item)
        }
        bytes.append(0x5D)
    }

    mutating func dictionary(_ members: [String: String]) {
        var object = Object(&self)
        for key in members.keys.sorted() {
            object.key(key, &self)
            string(members[key] ?? "")
        }
        object.end(&self)
    }

    /// Writes an object member by member: `key` before each value, `end` after the last.
    struct Object {
        private var first = true

        init(_ json: inout JournalJSON) { json.bytes.append(0x7B) }

        mutating func key(_ name: String, _ json: inout JournalJSON) {
            if !first { json.bytes.append(0x2C) }
            first = false
            json.string(name)
            json.bytes.append(0x3A)
        }

        func end(_ json: inout JournalJSON) { json.bytes.append(0x7D) }
    }

    /// An enum case with associated values, as Swift synthesizes it: `{"case": {"label": value, …}}`.
    mutating func enumCase(_ name: String, _ body: (inout JournalJSON, inout Object) -> Void) {
        var outer = Object(&self)
        outer.key(name, &self)
        var inner = Object(&self)
        body(&self, &inner)
        inner.end(&self)
        outer.end(&self)
    }
}

// MARK: - The journal's types

extension JournalJSON {
    mutating func workflow(_ workflow: Workflow) {
        var object = Object(&self)
        object.key("name", &self); string(workflow.name)
        object.key("priority", &self); int(workflow.priority.rawValue)
        object.key("onTaskError", &self); string(workflow.onTaskError.rawValue)
        object.key("maxNumberOfExecution", &self); int(workflow.maxNumberOfExecution)
        if let delay = workflow.taskRetryDelay { object.key("taskRetryDelay", &self); duration(delay) }
        object.key("restartTaskOnError", &self); string(workflow.restartTaskOnError.rawValue)
        object.key("variables", &self); variables(workflow.variables)
        object.key("genericInfo", &self); dictionary(workflow.genericInfo)
        if let directory = workflow.workingDirectory { object.key("workingDirectory", &self); string(directory) }
        object.key("tasks", &self)
        bytes.append(0x5B)
        let tasks = workflow.tasks
        for index in tasks.indices {
            if index > 0 { bytes.append(0x2C) }
            task(tasks[index])
        }
        bytes.append(0x5D)
        object.key("locations", &self)
        var locations = Object(&self)
        for key in workflow.locations.keys.sorted() {
            guard let location = workflow.locations[key] else { continue }
            locations.key(key, &self)
            var inner = Object(&self)
            inner.key("line", &self); int(location.line)
            inner.key("column", &self); int(location.column)
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
            object.key("name", &self); string(variable.name)
            object.key("value", &self); string(variable.value)
            object.key("inherited", &self); bool(variable.inherited)
            object.end(&self)
        }
        bytes.append(0x5D)
    }

    /// - Throws: `EncodingError` for a closure decider (it cannot be stored).
    mutating func task(_ task: TaskDefinition) {
        var object = Object(&self)
        object.key("name", &self); string(task.name)
        object.key("depends", &self); strings(task.depends)
        object.key("executable", &self); executable(task.executable)
        object.key("variables", &self); variables(task.variables)
        object.key("genericInfo", &self); dictionary(task.genericInfo)
        if let walltime = task.walltime { object.key("walltime", &self); duration(walltime) }
        object.key("outputs", &self); strings(task.outputs)
        object.key("selection", &self)
        var selection = Object(&self)
        selection.key("labels", &self); strings(task.selection.labels.sorted())
        if let token = task.selection.token { selection.key("token", &self); string(token) }
        selection.end(&self)
        if let policy = task.onTaskError { object.key("onTaskError", &self); string(policy.rawValue) }
        if let count = task.maxNumberOfExecution { object.key("maxNumberOfExecution", &self); int(count) }
        if let delay = task.taskRetryDelay { object.key("taskRetryDelay", &self); duration(delay) }
        if let mode = task.restartTaskOnError { object.key("restartTaskOnError", &self); string(mode.rawValue) }
        if let flow = task.flow { object.key("flow", &self); self.flow(flow) }
        object.key("block", &self); string(task.block.rawValue)
        object.end(&self)
    }

    mutating func executable(_ executable: Executable) {
        switch executable {
        case .function(let name, let input):
            enumCase("function") { json, object in
                object.key("_0", &json); json.string(name)
                object.key("input", &json); json.value(input)
            }
        case .script(let script):
            enumCase("script") { json, object in
                object.key("_0", &json)
                var inner = Object(&json)
                inner.key("language", &json); json.string(script.language)
                inner.key("source", &json)
                switch script.source {
                case .code(let code): json.enumCase("code") { json, object in object.key("_0", &json); json.string(code) }
                case .file(let path): json.enumCase("file") { json, object in object.key("_0", &json); json.string(path) }
                }
                inner.key("arguments", &json); json.strings(script.arguments)
                inner.end(&json)
            }
        case .command(let argv):
            enumCase("command") { json, object in
                object.key("_0", &json); json.strings(argv)
            }
        }
    }

    mutating func flow(_ flow: FlowControl) {
        switch flow {
        case .replicate(let decider):
            enumCase("replicate") { json, object in object.key("runs", &json); json.decider(decider) }
        case .loop(let target, let decider):
            enumCase("loop") { json, object in
                object.key("target", &json); json.string(target)
                object.key("decider", &json); json.decider(decider)
            }
        case .branch(let target, let elseTarget, let continuation, let decider):
            enumCase("branch") { json, object in
                object.key("target", &json); json.string(target)
                object.key("else", &json); json.string(elseTarget)
                if let continuation { object.key("continuation", &json); json.string(continuation) }
                object.key("decider", &json); json.decider(decider)
            }
        }
    }

    /// A closure is written as `{}`, which no decoder accepts: check ``Workflow/isJournalable`` first.
    mutating func decider(_ decider: FlowDecider) {
        var object = Object(&self)
        switch decider {
        case .result: object.key("result", &self); bool(true)
        case .value(let text): object.key("value", &self); string(text)
        case .closure: break
        }
        object.end(&self)
    }

    mutating func outcome(_ outcome: TaskOutcome, resultFile: String?) {
        var object = Object(&self)
        object.key("outcome", &self)
        switch outcome {
        case .success(let result, let variables):
            enumCase("success") { json, object in
                object.key("result", &json); json.value(result)
                if let variables { object.key("variables", &json); json.dictionary(variables) }
            }
        case .failure(let message):
            enumCase("failure") { json, object in object.key("message", &json); json.string(message) }
        case .alreadyDone(let result, let variables, let reason):
            enumCase("alreadyDone") { json, object in
                object.key("result", &json); json.value(result)
                if let variables { object.key("variables", &json); json.dictionary(variables) }
                object.key("reason", &json); json.string(reason)
            }
        }
        if let resultFile { object.key("resultFile", &self); string(resultFile) }
        object.end(&self)
    }

    mutating func report(_ report: JobResult) {
        var object = Object(&self)
        object.key("job", &self); identifier(report.job.rawValue)
        object.key("name", &self); string(report.name)
        object.key("owner", &self); string(report.owner)
        object.key("status", &self); string(report.status.rawValue)
        object.key("priority", &self); int(report.priority.rawValue)
        object.key("progress", &self)
        var progress = Object(&self)
        progress.key("done", &self); int(report.progress.done)
        progress.key("total", &self); int(report.progress.total)
        progress.key("running", &self); int(report.progress.running)
        progress.key("failed", &self); int(report.progress.failed)
        progress.end(&self)
        object.key("tasks", &self)
        bytes.append(0x5B)
        for (index, task) in report.tasks.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            var inner = Object(&self)
            inner.key("name", &self)
            var name = Object(&self)
            name.key("task", &self); string(task.name.task)
            name.key("iteration", &self); int(task.name.iteration)
            name.key("replication", &self); int(task.name.replication)
            name.end(&self)
            inner.key("status", &self); string(task.status.rawValue)
            inner.key("executions", &self); int(task.executions)
            if let result = task.result { inner.key("result", &self); value(result) }
            if let node = task.node { inner.key("node", &self); identifier(node.rawValue) }
            if let message = task.message { inner.key("message", &self); string(message) }
            inner.key("alreadyDone", &self); bool(task.alreadyDone)
            inner.end(&self)
        }
        bytes.append(0x5D)
        object.key("logDirectory", &self); string(report.logDirectory)
        object.end(&self)
    }

    /// `JobID` and `NodeID` as synthesized: `{"rawValue": n}`.
    private mutating func identifier<T: BinaryInteger>(_ value: T) {
        var object = Object(&self)
        object.key("rawValue", &self); int(value)
        object.end(&self)
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
