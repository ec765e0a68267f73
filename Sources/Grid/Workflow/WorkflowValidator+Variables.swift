extension WorkflowValidator {
    /// Every `${…}` in the texts that get substituted must be well formed and name a variable in scope.
    ///
    /// In scope for a job-level text: the job's variables and the system ones. For a task's text, also
    /// the task's own variables and those of every task upstream of it: its `depends` ancestors, and
    /// through an `if`, the initiator (for the branches and the continuation) and the branches' block
    /// ends (for the continuation).
    mutating func checkVariableReferences() {
        let jobScope = Set(workflow.variables.map(\.name)).union(SystemVariables.systemVariableNames)
        for variable in workflow.variables {
            checkReferences(in: variable.value, path: "variables.\(variable.name)", scope: jobScope, upstream: { [] })
        }
        if let directory = workflow.workingDirectory {
            checkReferences(in: directory, path: "workingDir", scope: jobScope, upstream: { [] })
        }
        // Most tasks of a wide job refer to nothing: skip building their paths, scopes and edges.
        let referring = workflow.tasks.indices.filter { Self.mayReferToVariables(workflow.tasks[$0]) }
        guard !referring.isEmpty else { return }
        let upstreamEdges = upstreamParents()
        for position in referring {
            let task = workflow.tasks[position]
            let scope = task.variables.isEmpty ? jobScope : jobScope.union(task.variables.map(\.name))
            var upstream: Set<String>?
            let upstreamNames = { [workflow, graph] () -> Set<String> in
                if let upstream { return upstream }
                let names = Set(graph.reachable(from: position, along: upstreamEdges).flatMap { workflow.tasks[$0].variables.map(\.name) })
                upstream = names
                return names
            }
            for (path, text) in Self.substitutedTexts(of: task) {
                checkReferences(in: text, path: path, scope: scope, upstream: upstreamNames)
            }
        }
    }

    /// Reports the malformed references in `text`, and the names neither in `scope` nor `upstream()`.
    mutating func checkReferences(in text: String, path: String, scope: Set<String>, upstream: () -> Set<String>) {
        var reported: Set<String> = []
        for reference in VariableSubstitution.references(in: text) where reported.insert(reference.text).inserted {
            switch reference.kind {
            case .variable:
                let name = reference.text
                guard !scope.contains(name) else { continue }
                let upstreamNames = upstream()
                guard !upstreamNames.contains(name) else { continue }
                let hint = NameSuggestion.hint(for: name, among: scope.union(upstreamNames))
                let shell = path.hasSuffix(".script.code") ? "; a shell variable is written `$\(name)`" : ""
                report(
                    .unknownVariable, path,
                    "`${\(name)}` in `\(path)` is not a job, task, upstream or system variable\(hint)\(shell)"
                )
            case .unterminated:
                report(.malformedVariableReference, path, "`${` without a closing `}` in `\(path)`")
            case .empty:
                report(.malformedVariableReference, path, "empty reference `${}` in `\(path)`")
            case .invalidName:
                report(
                    .malformedVariableReference, path,
                    "`\(reference.text)` in `\(path)` is not a variable reference; names match [A-Za-z_][A-Za-z0-9_.]* (`$NAME` is left to the shell)"
                )
            }
        }
    }

    /// The texts of a task that are substituted, with their paths.
    /// Whether any text of `task` that is substituted holds a `$` (a cheap byte scan, no paths built).
    static func mayReferToVariables(_ task: TaskDefinition) -> Bool {
        func dollar(_ text: String) -> Bool { text.utf8.contains(UInt8(ascii: "$")) }
        if task.variables.contains(where: { dollar($0.value) }) || task.outputs.contains(where: dollar) { return true }
        switch task.executable {
        case .script(let script):
            switch script.source {
            case .code(let code): if dollar(code) { return true }
            case .file(let file): if dollar(file) { return true }
            }
            if script.arguments.contains(where: dollar) { return true }
        case .command(let argv):
            if argv.contains(where: dollar) { return true }
        case .function:
            break
        }
        switch task.flow {
        case .replicate(.value(let text)), .loop(_, .value(let text)), .branch(_, _, _, .value(let text)): return dollar(text)
        default: return false
        }
    }

    static func substitutedTexts(of task: TaskDefinition) -> [(path: String, text: String)] {
        let path = "tasks.\(task.name)"
        var texts = task.variables.map { ("\(path).variables.\($0.name)", $0.value) }
        switch task.executable {
        case .script(let script):
            switch script.source {
            case .code(let code): texts.append(("\(path).script.code", code))
            case .file(let file): texts.append(("\(path).script.file", file))
            }
            texts += script.arguments.enumerated().map { ("\(path).script.arguments[\($0)]", $1) }
        case .command(let argv):
            texts += argv.enumerated().map { ("\(path).command[\($0)]", $1) }
        case .function:
            break
        }
        texts += task.outputs.enumerated().map { ("\(path).outputs[\($0)]", $1) }
        switch task.flow {
        case .replicate(.value(let text)): texts.append(("\(path).replicate.runs", text))
        case .loop(_, .value(let text)): texts.append(("\(path).loop.while", text))
        case .branch(_, _, _, .value(let text)): texts.append(("\(path).if.branch", text))
        default: break
        }
        return texts
    }

    /// Each task's parents for variable propagation: its `depends`, plus the implicit links of `if`s.
    func upstreamParents() -> [[Int]] {
        var parents = graph.parents
        let tasks = workflow.tasks
        for position in tasks.indices where tasks[position].flow != nil {
            guard case .branch(let target, let elseTarget, let continuation, _) = tasks[position].flow,
                  graph.index[tasks[position].name] == position else { continue }
            let branches = [target, elseTarget].compactMap { graph.index[$0] }
            for branch in branches { parents[branch].append(position) }
            guard let join = continuation.flatMap({ graph.index[$0] }) else { continue }
            parents[join].append(position)
            parents[join] += branches.map { blockEnds[$0] ?? $0 }
        }
        return parents
    }
}
