extension WorkflowValidator {
    /// What a fixed decider must say.
    enum DeciderKind {
        /// A whole number of replicas, 0 or more.
        case runs
        /// `true` or `false`.
        case loop
        /// `if` or `else`.
        case branch
    }

    /// Flow targets, the position of loop targets, the shape of `if`s, replicate children, fixed deciders.
    mutating func checkFlows() {
        var branchOwners: [String: String] = [:]
        // The flow first: most tasks have none, and the name lookup hashes a string.
        for position in workflow.tasks.indices where workflow.tasks[position].flow != nil && graph.index[workflow.tasks[position].name] == position {
            let task = workflow.tasks[position]  // only tasks with a flow are copied
            guard let flow = task.flow else { continue }
            let path = "tasks.\(task.name).\(flow.keyword)"
            switch flow {
            case .replicate(let runs):
                if graph.children[position].isEmpty {
                    report(
                        .replicateWithoutChild, path,
                        "task `\(task.name)` replicates its children, but no task depends on it"
                    )
                }
                for child in graph.children[position] {
                    let others = graph.parents[child].filter { $0 != position }.map { "`\(graph.names[$0])`" }
                    guard !others.isEmpty else { continue }
                    report(
                        .replicatedTaskHasOtherParents, "tasks.\(graph.names[child]).depends",
                        "task `\(graph.names[child])` is replicated by `\(task.name)`, so it may depend on `\(task.name)` only; it also depends on \(others.joined(separator: ", "))"
                    )
                }
                checkDecider(runs, .runs, path: "\(path).runs", task: task.name)
            case .loop(let target, let decider):
                if let targetIndex = knownTarget(target, path: "\(path).target", initiator: task.name),
                    targetIndex != position, !graph.ancestors(of: position).contains(targetIndex)
                {
                    report(
                        .loopTargetNotAncestor, "\(path).target",
                        "the loop of task `\(task.name)` goes back to `\(target)`, which is not `\(task.name)` or a task it depends on"
                    )
                }
                checkDecider(decider, .loop, path: "\(path).while", task: task.name)
            case .branch(let target, let elseTarget, let continuation, let decider):
                checkBranch(
                    initiator: task.name, path: path, target: target, elseTarget: elseTarget,
                    continuation: continuation, owners: &branchOwners
                )
                checkDecider(decider, .branch, path: "\(path).branch", task: task.name)
            }
        }
    }

    /// The index of a flow target, or `nil` with a problem when there is no such task.
    mutating func knownTarget(_ name: String, path: String, initiator: String) -> Int? {
        if let index = graph.index[name] { return index }
        let hint = NameSuggestion.hint(for: name, among: graph.names)
        report(.unknownFlowTarget, path, "the flow control of task `\(initiator)` names `\(name)`, which is not a task\(hint)")
        return nil
    }

    mutating func checkBranch(
        initiator: String, path: String, target: String, elseTarget: String, continuation: String?,
        owners: inout [String: String]
    ) {
        let roles = [("target", target), ("else", elseTarget)] + (continuation.map { [("continuation", $0)] } ?? [])
        var checked: Set<String> = []
        for (role, name) in roles where checked.insert(name).inserted {
            guard let index = knownTarget(name, path: "\(path).\(role)", initiator: initiator) else { continue }
            let branchTask = workflow.tasks[index]
            if let listed = branchTask.depends.firstIndex(of: initiator) {
                report(
                    .branchTargetDependsOnInitiator, "tasks.\(name).depends[\(listed)]",
                    "task `\(name)` is the `\(role)` of the `if` in `\(initiator)`, so it must not list `\(initiator)` in depends; that link is implicit"
                )
            }
            guard role != "continuation" else { continue }
            if let owner = owners[name], owner != initiator {
                report(
                    .branchTargetShared, "\(path).\(role)",
                    "task `\(name)` is already a branch of the `if` in `\(owner)`; a task may be the branch of one `if` only"
                )
            } else {
                owners[name] = initiator
            }
        }
        if target == elseTarget {
            report(.branchTargetsEqual, "\(path).else", "the `if` of task `\(initiator)` has `\(target)` as both target and else")
        }
    }

    /// A fixed decider must be one `${VAR}` or a literal of its kind; malformed references are left to
    /// ``checkVariableReferences()``.
    mutating func checkDecider(_ decider: FlowDecider, _ kind: DeciderKind, path: String, task: String) {
        guard case .value(let text) = decider else { return }
        let references = VariableSubstitution.references(in: text)
        if VariableSubstitution.singleReference(in: text) != nil || references.contains(where: { $0.kind != .variable }) {
            return
        }
        let literal = text.trimmingWhitespace().lowercased()
        switch kind {
        case .runs:
            if let runs = Int(literal), runs >= 0 { return }
            report(.invalidDecider, path, "`runs` of task `\(task)` must be a whole number of at least 0 or a single `${VAR}`, not `\(text)`")
        case .loop:
            if literal == "true" || literal == "false" { return }
            report(.invalidDecider, path, "`while` of task `\(task)` must be `true`, `false` or a single `${VAR}`, not `\(text)`")
        case .branch:
            if literal == "if" || literal == "else" { return }
            report(.invalidDecider, path, "`branch` of task `\(task)` must be `if`, `else` or a single `${VAR}`, not `\(text)`")
        }
    }

    // MARK: Blocks

    /// Each `block: start` is closed by exactly one `block: end` downstream, and each end by one start
    /// upstream, matched like parentheses along every dependency path.
    mutating func checkBlocks() {
        for position in workflow.tasks.indices where workflow.tasks[position].block != .none && graph.index[workflow.tasks[position].name] == position {
            let task = workflow.tasks[position]  // only block boundaries are copied
            let path = "tasks.\(task.name).block"
            switch task.block {
            case .none:
                continue
            case .start:
                let ends = matches(from: position, along: graph.children, opening: .start, closing: .end)
                if ends.isEmpty {
                    report(.unmatchedBlock, path, "block start `\(task.name)` has no `block: end` downstream to close it")
                } else if ends.count > 1 {
                    report(.unmatchedBlock, path, "block start `\(task.name)` is closed by several ends: \(list(ends)); a block has one end")
                } else if let end = ends.first {
                    blockEnds[position] = end
                }
            case .end:
                let starts = matches(from: position, along: graph.parents, opening: .end, closing: .start)
                if starts.isEmpty {
                    report(.unmatchedBlock, path, "block end `\(task.name)` has no `block: start` upstream that it closes")
                } else if starts.count > 1 {
                    report(.unmatchedBlock, path, "block end `\(task.name)` closes several starts: \(list(starts)); a block has one start")
                }
            }
        }
    }

    /// With a continuation, each branch of an `if` is a block (ProActive's FlowChecker): a single task, or a
    /// `block: start` … `block: end`, whose last task nothing else depends on, since the continuation joins it.
    mutating func checkBranchBlocks() {
        // Index-based reads: iterating the tasks themselves would copy every definition (most have no `if`).
        let tasks = workflow.tasks
        var joined: [(position: Int, target: String, elseTarget: String, continuation: String)] = []
        for position in tasks.indices where tasks[position].flow != nil && graph.index[tasks[position].name] == position {
            if case .branch(let target, let elseTarget, let continuation?, _) = tasks[position].flow {
                joined.append((position, target, elseTarget, continuation))
            }
        }
        guard !joined.isEmpty else { return }
        var dependents: [String: [String]] = [:]
        for position in tasks.indices {
            for parent in tasks[position].depends { dependents[parent, default: []].append(tasks[position].name) }
        }
        for branch in joined {
            let initiator = tasks[branch.position].name
            for (role, name) in [("target", branch.target), ("else", branch.elseTarget)] {
                guard let start = graph.index[name] else { continue }  // unknownFlowTarget said it
                let last: Int
                if tasks[start].block == .start {
                    guard let end = blockEnds[start] else { continue }  // unmatchedBlock said it
                    last = end
                } else {
                    last = start
                }
                let lastName = tasks[last].name
                guard let others = dependents[lastName], !others.isEmpty else { continue }
                let shape = last == start ? "task `\(name)`" : "block `\(name)` … `\(lastName)`"
                report(
                    .branchNotBlock, "tasks.\(initiator).if.\(role)",
                    "the `if` of task `\(initiator)` has the continuation `\(branch.continuation)`, so its \(role) branch must be a block that ends "
                        + "where the continuation joins, but \(others.map { "`\($0)`" }.joined(separator: ", ")) depend\(others.count == 1 ? "s" : "") on `\(lastName)`, the end of \(shape); "
                        + "make them part of the branch's block or depend on `\(branch.continuation)`"
                )
            }
        }
    }

    /// A loop that goes back further than its own task repeats a block: its target is the block's
    /// `start` and its initiator the block's `end` (ProActive's FlowChecker).
    mutating func checkLoopBlocks() {
        for position in workflow.tasks.indices where workflow.tasks[position].flow != nil && graph.index[workflow.tasks[position].name] == position {
            let task = workflow.tasks[position]  // only tasks with a flow are copied
            guard case .loop(let target, _) = task.flow, let start = graph.index[target], start != position,
                graph.ancestors(of: position).contains(start)  // otherwise loopTargetNotAncestor said it
            else { continue }
            guard blockEnds[start] != position else { continue }
            report(
                .loopTargetNotBlockStart, "tasks.\(task.name).loop.target",
                "the loop of task `\(task.name)` goes back to `\(target)`, so `\(target)` must be a `block: start` and `\(task.name)` the `block: end` that closes it"
            )
        }
    }

    /// The tasks that bring the nesting depth back to zero, walking `edges` from `origin` (depth 1),
    /// counting `opening` tasks up and `closing` ones down, and stopping at each match.
    func matches(from origin: Int, along edges: [[Int]], opening: FlowBlock, closing: FlowBlock) -> [Int] {
        struct Visit: Hashable {
            var task: Int
            var depth: Int
        }
        var found: Set<Int> = []
        var visited: Set<Visit> = []
        var pending = edges[origin].map { Visit(task: $0, depth: 1) }
        while var visit = pending.popLast() {
            guard visited.insert(visit).inserted else { continue }
            switch workflow.tasks[visit.task].block {
            case opening: visit.depth += 1
            case closing: visit.depth -= 1
            default: break
            }
            if visit.depth == 0 {
                found.insert(visit.task)
                continue
            }
            // Around a dependency cycle the depth could grow forever; no real nesting is deeper than the task count.
            guard visit.depth <= workflow.tasks.count else { continue }
            pending.append(contentsOf: edges[visit.task].map { Visit(task: $0, depth: visit.depth) })
        }
        return found.sorted()
    }

    private func list(_ tasks: [Int]) -> String {
        tasks.map { "`\(graph.names[$0])`" }.joined(separator: ", ")
    }
}
