import Yams

extension WorkflowYAMLReader {
    /// The keys a task may have.
    static let taskKeys = [
        "depends", "script", "command", "function", "input", "variables", "genericInfo", "walltime", "outputs",
        "selection", "onTaskError", "maxNumberOfExecution", "taskRetryDelay", "restartTaskOnError", "replicate",
        "loop", "if", "block",
    ]

    /// Reads one entry of `tasks`.
    mutating func readTask(_ entry: Entry) -> TaskDefinition {
        let name = entry.key
        let path = entry.path
        var task = TaskDefinition(name, .command([]))
        guard let fields = fields(of: entry.value, at: path, what: "task `\(name)`", allowed: Self.taskKeys) else {
            return task
        }
        task.executable = readExecutable(fields, task: name, path: path, keyNode: entry.keyNode)
        if let entry = fields["depends"], let depends = texts(entry.value, entry.path, single: true) {
            task.depends = depends
        }
        if let entry = fields["variables"] {
            task.variables = readVariables(entry, taskLevel: true)
        }
        if let entry = fields["genericInfo"] {
            task.genericInfo = readGenericInfo(entry)
        }
        if let entry = fields["walltime"] {
            task.walltime = duration(entry.value, entry.path)
        }
        if let entry = fields["outputs"], let outputs = texts(entry.value, entry.path, single: true) {
            task.outputs = outputs
        }
        if let entry = fields["selection"] {
            task.selection = readSelection(entry)
        }
        if let entry = fields["onTaskError"] {
            task.onTaskError = choice(resolved(entry.value), entry.path, as: OnTaskError.self)
        }
        if let entry = fields["maxNumberOfExecution"] {
            task.maxNumberOfExecution = integer(resolved(entry.value), entry.path)
        }
        if let entry = fields["taskRetryDelay"] {
            task.taskRetryDelay = duration(resolved(entry.value), entry.path)
        }
        if let entry = fields["restartTaskOnError"] {
            task.restartTaskOnError = choice(resolved(entry.value), entry.path, as: RestartMode.self)
        }
        if let entry = fields["block"] {
            task.block = choice(entry.value, entry.path, as: FlowBlock.self) ?? .none
        }
        task.flow = readFlow(fields, task: name)
        return task
    }

    // MARK: Executable

    /// The one executable among `script`, `command` and `function`; `.command([])` when there is none.
    mutating func readExecutable(_ fields: [String: Entry], task: String, path: String, keyNode: Node) -> Executable {
        let present = inDocumentOrder(["script", "command", "function"].compactMap { fields[$0] })
        if let input = fields["input"], fields["function"] == nil {
            report(.conflictingFields, input.path, at: input.keyNode, "`input` is only for a `function` task, and task `\(task)` has none")
        }
        guard let chosen = present.first else {
            report(.missingField, path, at: keyNode, "task `\(task)` needs one of `script`, `command` or `function`")
            unreadable.insert("\(path).command")
            return .command([])
        }
        for extra in present.dropFirst() {
            report(
                .conflictingFields, extra.path, at: extra.keyNode,
                "task `\(task)` has both `\(chosen.key)` and `\(extra.key)`; a task runs exactly one"
            )
        }
        switch chosen.key {
        case "script":
            if let script = readScript(chosen) { return .script(script) }
        case "command":
            if let argv = texts(chosen.value, chosen.path, single: false) { return .command(argv) }
        default:
            if let function = text(chosen.value, chosen.path) {
                let input = fields["input"].map { readValue($0.value, $0.path) } ?? .null
                return .function(function, input: input)
            }
        }
        unreadable.insert("\(path).command")
        return .command([])
    }

    /// `{language: bash, code: "…" | file: path, arguments: […]}`; the language defaults to `bash`.
    mutating func readScript(_ entry: Entry) -> Script? {
        let allowed = ["language", "code", "file", "arguments"]
        let example = "{language: bash, code: \"echo hi\"}"
        guard let fields = fields(of: entry.value, at: entry.path, what: "a script", example: example, allowed: allowed) else {
            return nil
        }
        let language = fields["language"].flatMap { text($0.value, $0.path) } ?? "bash"
        let arguments = fields["arguments"].flatMap { texts($0.value, $0.path, single: true) } ?? []
        switch (fields["code"], fields["file"]) {
        case (let code?, nil):
            return text(code.value, code.path).map { Script(language: language, source: .code($0), arguments: arguments) }
        case (nil, let file?):
            return text(file.value, file.path).map { Script(language: language, source: .file($0), arguments: arguments) }
        case (_?, let file?):
            report(.conflictingFields, file.path, at: file.keyNode, "a script has either `code` or `file`, not both")
            return nil
        case (nil, nil):
            report(.missingField, entry.path, at: entry.keyNode, "a script needs `code` or `file`")
            return nil
        }
    }

    /// Any YAML as a ``Value``: scalars by their resolved YAML type, lists, and mappings.
    mutating func readValue(_ node: Node, _ path: String) -> Value {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(Value.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map(Value.int) ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map(Value.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(sequence.enumerated().map { readValue($1, "\(path)[\($0)]") })
        case .mapping:
            var members: [String: Value] = [:]
            for entry in entries(of: node, at: path, what: "`\(path)`") ?? [] {
                members[entry.key] = readValue(entry.value, entry.path)
            }
            return .object(members)
        case .alias:
            return .null
        }
    }

    // MARK: Variables, generic information, selection

    /// `NAME: value` or `NAME: {value: v, inherited: true}` (`inherited` only for task variables), in order.
    mutating func readVariables(_ entry: Entry, taskLevel: Bool) -> [Variable] {
        guard let items = entries(of: entry.value, at: entry.path, what: "variables") else { return [] }
        var variables: [Variable] = []
        for item in items {
            record(item)
            guard case .mapping = item.value else {
                guard case .scalar = item.value else {
                    reportWrongType(item.value, item.path, expected: "text, a number, a boolean or `{value: …}`")
                    continue
                }
                variables.append(Variable(item.key, text(item.value, item.path) ?? ""))
                continue
            }
            let allowed = taskLevel ? ["value", "inherited"] : ["value"]
            guard let fields = fields(of: item.value, at: item.path, what: "variable `\(item.key)`", allowed: allowed) else {
                continue
            }
            let value = fields["value"].flatMap { text($0.value, $0.path) } ?? ""
            let inherited = fields["inherited"].flatMap { boolean($0.value, $0.path) } ?? false
            variables.append(Variable(item.key, value, inherited: inherited))
        }
        return variables
    }

    /// `NAME: text` pairs, not substituted.
    mutating func readGenericInfo(_ entry: Entry) -> [String: String] {
        var info: [String: String] = [:]
        for item in entries(of: entry.value, at: entry.path, what: "genericInfo") ?? [] {
            record(item)
            if let value = text(item.value, item.path) { info[item.key] = value }
        }
        return info
    }

    /// `{labels: [ssd], token: gpu}`.
    mutating func readSelection(_ entry: Entry) -> Selection {
        var selection = Selection()
        guard let fields = fields(of: entry.value, at: entry.path, what: "a selection", allowed: ["labels", "token"]) else {
            return selection
        }
        if let labels = fields["labels"].flatMap({ texts($0.value, $0.path, single: true) }) {
            selection.labels = Set(labels)
        }
        selection.token = fields["token"].flatMap { text($0.value, $0.path) }
        return selection
    }

    // MARK: Flow control

    /// The one flow control among `replicate`, `loop` and `if`.
    mutating func readFlow(_ fields: [String: Entry], task: String) -> FlowControl? {
        let present = inDocumentOrder(["replicate", "loop", "if"].compactMap { fields[$0] })
        guard let chosen = present.first else { return nil }
        for extra in present.dropFirst() {
            report(
                .conflictingFields, extra.path, at: extra.keyNode,
                "task `\(task)` has both `\(chosen.key)` and `\(extra.key)`; a task has at most one flow control"
            )
        }
        switch chosen.key {
        case "replicate":
            guard let flow = self.fields(of: chosen.value, at: chosen.path, what: "`replicate`", example: "{runs: 4}", allowed: ["runs"]) else {
                return nil
            }
            return .replicate(runs: decider(flow["runs"]))
        case "loop":
            guard let flow = self.fields(of: chosen.value, at: chosen.path, what: "`loop`", example: "{target: t, while: result}", allowed: ["target", "while"]),
                let target = required("target", in: flow, of: chosen)
            else { return nil }
            return .loop(target: target, decider: decider(flow["while"]))
        default:
            let allowed = ["target", "else", "continuation", "branch"]
            guard let flow = self.fields(of: chosen.value, at: chosen.path, what: "`if`", example: "{target: a, else: b}", allowed: allowed),
                let target = required("target", in: flow, of: chosen),
                let elseTarget = required("else", in: flow, of: chosen)
            else { return nil }
            let continuation = flow["continuation"].flatMap { text($0.value, $0.path) }
            return .branch(target: target, else: elseTarget, continuation: continuation, decider: decider(flow["branch"]))
        }
    }

    /// Entries sorted by where their keys are, so the first one written is the one kept.
    func inDocumentOrder(_ entries: [Entry]) -> [Entry] {
        entries.sorted { lhs, rhs in
            let left = location(of: lhs.keyNode) ?? SourceLocation(line: 0, column: 0)
            let right = location(of: rhs.keyNode) ?? SourceLocation(line: 0, column: 0)
            return (left.line, left.column) < (right.line, right.column)
        }
    }

    /// A required text field of a flow control; a problem when it is absent.
    mutating func required(_ key: String, in fields: [String: Entry], of flow: Entry) -> String? {
        guard let entry = fields[key] else {
            report(.missingField, flow.path, at: flow.keyNode, "`\(flow.key)` needs `\(key)`")
            unreadable.insert(flow.path)
            return nil
        }
        return text(entry.value, entry.path)
    }

    /// An absent or empty decider, or the word `result`, leaves the decision to the task's result; any other text is fixed.
    mutating func decider(_ entry: Entry?) -> FlowDecider {
        guard let entry, !isNull(entry.value), let text = text(entry.value, entry.path), text != "result" else {
            return .result
        }
        return .value(text)
    }
}
