import Foundation

/// Eligibility, dependency release and the flow controls: replicate, loop, if/else/continuation.
extension JobCore {
    /// What a task's flow control decided.
    enum FlowDecision: Sendable, Equatable {
        case none
        case replicate(runs: Int, variables: [[String: String]])
        case loop(again: Bool)
        case branch(takeIf: Bool)
    }

    /// An error in a flow decision; it makes the execution fail.
    struct FlowError: Error, CustomStringConvertible {
        var description: String
    }

    func decideFlow(_ index: Int) throws(FlowError) -> FlowDecision {
        // Most tasks have no flow control: ask before copying the instance.
        guard let flow = workflow.tasks[instances[index].definition].flow else { return .none }
        let instance = instances[index]
        let result = instance.result ?? .null
        let variables = instance.outputVariables ?? [:]
        let value: Value
        switch flow.decider {
        case .result:
            value = result
        case .value(let text):
            let system = SystemValues(jobID: id, jobName: workflow.name, task: instance.name)
            value = .string(VariableSubstitution.substitute(text) { system[$0] ?? variables[$0] })
        case .closure(let decide):
            do {
                value = try decide(FlowInput(result: result, variables: variables, iteration: instance.name.iteration, replication: instance.name.replication))
            } catch {
                throw FlowError(description: "the \(flow.keyword) decision of \(instance.name) threw: \(error)")
            }
        }
        switch flow {
        case .replicate:
            let runs = value["runs"] ?? value
            let count: Int?
            switch runs {
            case .int(let number): count = number
            case .double(let number) where number.isFinite: count = Int(number.rounded(.down))
            case .string(let text): count = Int(text.trimmingCharacters(in: .whitespaces))
            default: count = nil
            }
            guard let count, count >= 0 else {
                throw FlowError(description: "replicate of \(instance.name) needs runs as an integer ≥ 0, got \(runs.jsonText)")
            }
            guard count <= limits.replicateRuns else {
                throw FlowError(
                    description: "replicate of \(instance.name) asks for \(count) runs; at most \(limits.replicateRuns) (limit replicateRuns)")
            }
            if count > 1 {
                let definition = instance.definition
                let body = reachable(from: instance.children, within: plan.replicateBody[definition] ?? [], following: \.children).count
                try checkInstances(adding: body * (count - 1), by: "replicate of \(instance.name)")
            }
            // Optional per-replica variables: {"runs": N, "variables": [{NAME: value}, …]} (one object per replica).
            var perReplica: [[String: String]] = []
            if let list = value["variables"] {
                guard case .array(let items) = list, items.count == count else {
                    throw FlowError(description: "replicate of \(instance.name): variables must be an array of \(count) objects, got \(list.jsonText)")
                }
                for item in items {
                    guard case .object(let fields) = item else {
                        throw FlowError(description: "replicate of \(instance.name): each replica's variables must be an object, got \(item.jsonText)")
                    }
                    perReplica.append(fields.mapValues(\.text))
                }
            }
            return .replicate(runs: count, variables: perReplica)
        case .loop:
            let loop = value["loop"] ?? value
            let again: Bool
            switch loop {
            case .bool(let value): again = value
            case .string(let text) where ["true", "false"].contains(text.lowercased().trimmingCharacters(in: .whitespaces)):
                again = text.lowercased().trimmingCharacters(in: .whitespaces) == "true"
            default:
                throw FlowError(description: "loop of \(instance.name) needs loop as true or false, got \(loop.jsonText)")
            }
            if again {
                // Iterations count from 0: the one about to start is iteration + 1, the (iteration + 2)th.
                guard instance.name.iteration + 2 <= limits.loopIterations else {
                    throw FlowError(
                        description: "loop of \(instance.name) would run iteration \(instance.name.iteration + 2); at most "
                            + "\(limits.loopIterations) (limit loopIterations)")
                }
                try checkInstances(adding: plan.loopBody[instance.definition]?.count ?? 0, by: "loop of \(instance.name)")
            }
            return .loop(again: again)
        case .branch:
            let branch = value["branch"] ?? value
            if case .string(let text) = branch {
                switch text.lowercased().trimmingCharacters(in: .whitespaces) {
                case "if": return .branch(takeIf: true)
                case "else": return .branch(takeIf: false)
                default: break
                }
            }
            throw FlowError(description: "if of \(instance.name) needs branch as \"if\" or \"else\", got \(branch.jsonText)")
        }
    }

    /// Fails a flow decision that would take the job past ``InputLimits/instancesPerJob``.
    func checkInstances(adding added: Int, by what: String) throws(FlowError) {
        let (total, overflow) = instances.count.addingReportingOverflow(added)
        guard overflow || total > limits.instancesPerJob else { return }
        throw FlowError(
            description: "\(what) would make the job \(overflow ? "more than \(Int.max)" : "\(total)") task instances; at most "
                + "\(limits.instancesPerJob) (limit instancesPerJob)")
    }

    mutating func apply(_ decision: FlowDecision, of index: Int, now: Duration, _ effects: inout [Effect]) {
        let definition = instances[index].definition
        switch decision {
        case .none:
            break
        case .replicate(let runs, let variables):
            replicateRuns.runs += runs
            replicateRuns.decisions += 1
            let bodyDefinitions = plan.replicateBody[definition] ?? []
            let body = reachable(from: instances[index].children, within: bodyDefinitions, following: \.children)
            if let first = variables.first {
                for member in body { replicaVariables[member] = first }
            }
            if runs == 0 {
                for member in body where instances[member].status == .submitted {
                    setStatus(member, .skipped, now: now, &effects)
                }
                for member in body { release(member, now: now, &effects) }
            } else if runs > 1 {
                for replica in 1..<runs {
                    let map = copy(body, linkingOutsideChildren: true, now: now) { core, name in
                        TaskInstanceName(task: name.task, iteration: name.iteration, replication: core.takeReplication(name))
                    } rewire: { _, _ in }
                    for new in map.values {
                        instances[new].replicatedBy = index
                        if replica < variables.count { replicaVariables[new] = variables[replica] }
                    }
                }
            }
        case .loop(let again):
            guard again, let bodyDefinitions = plan.loopBody[definition],
                case .loop(let target, _)? = workflow.tasks[definition].flow, let targetDefinition = plan.index[target]
            else { return }
            let reached = reachable(from: [index], within: bodyDefinitions, following: \.parents, stoppingAt: targetDefinition)
            // Replicas made inside the block stay with their iteration: the copied replicate makes its own.
            let members = Set(reached)
            let replicas = Set(reached.filter { instances[$0].replicatedBy.map(members.contains) ?? false })
            let body = reached.filter { !replicas.contains($0) }
            let iteration = instances[index].name.iteration + 1
            copy(body, linkingOutsideChildren: false, dropping: replicas, now: now) { _, name in
                TaskInstanceName(task: name.task, iteration: iteration, replication: name.replication)
            } rewire: { core, map in
                // The new start waits for the old end; the old end's successors wait for the new end.
                guard let newEnd = map[index] else { return }
                let successors = core.instances[index].children
                core.instances[index].children = []
                for successor in successors {
                    core.instances[successor].parents = core.instances[successor].parents.map { $0 == index ? newEnd : $0 }
                    core.instances[newEnd].children.append(successor)
                }
                for (_, new) in map where core.instances[new].definition == targetDefinition {
                    for parent in core.instances[new].parents { core.instances[parent].children.removeAll { $0 == new } }
                    core.instances[new].parents = [index]
                    core.instances[index].children.append(new)
                }
            }
        case .branch(let takeIf):
            guard let branches = plan.branches[definition] else { return }
            let notTaken = takeIf ? branches.elseBody : branches.ifBody
            for child in instances[index].children where notTaken.contains(instances[child].definition) {
                guard instances[child].status == .submitted else { continue }
                setStatus(child, .skipped, now: now, &effects)
                release(child, now: now, &effects)
            }
        }
    }

    /// Instances reachable from `start` along `edges` whose definitions are in `definitions`, in index order.
    func reachable(
        from start: [Int], within definitions: Set<Int>, following edges: KeyPath<TaskInstance, [Int]>, stoppingAt stop: Int? = nil
    ) -> [Int] {
        var seen: Set<Int> = []
        var stack = start.filter { definitions.contains(instances[$0].definition) }
        for index in stack { seen.insert(index) }
        while let next = stack.popLast() {
            // A loop body ends at its start: earlier iterations lie beyond it.
            if instances[next].definition == stop { continue }
            for neighbour in instances[next][keyPath: edges] where definitions.contains(instances[neighbour].definition) {
                if seen.insert(neighbour).inserted { stack.append(neighbour) }
            }
        }
        return seen.sorted()
    }

    mutating func takeReplication(_ name: TaskInstanceName) -> Int {
        let key = "\(name.task)#\(name.iteration)"
        var next = nextReplication[key] ?? 1
        while lookup(TaskInstanceName(task: name.task, iteration: name.iteration, replication: next)) != nil { next += 1 }
        nextReplication[key] = next + 1
        return next
    }

    /// Copies `body` (instances) with new names; edges inside the body follow the copy, parents
    /// outside are shared, and children outside wait for the copies too when `linkingOutsideChildren`
    /// (a merge after a replicate). `rewire` adjusts edges afterwards (loops).
    ///
    /// Parents in `dropping` (replicas of an earlier iteration) are left out of the copies' parents.
    @discardableResult
    mutating func copy(
        _ body: [Int], linkingOutsideChildren: Bool, dropping: Set<Int> = [], now: Duration,
        naming: (inout JobCore, TaskInstanceName) -> TaskInstanceName,
        rewire: (inout JobCore, [Int: Int]) -> Void
    ) -> [Int: Int] {
        var map: [Int: Int] = [:]
        for old in body {
            map[old] = instances.count
            let source = instances[old]
            let task = workflow.tasks[source.definition]
            var instance = TaskInstance(
                name: naming(&self, source.name), definition: source.definition, parents: [],
                executions: task.maxNumberOfExecution ?? workflow.maxNumberOfExecution, failureRuns: 2)
            instance.since = now
            names?[instance.name] = instances.count
            instances.append(instance)
        }
        for old in body {
            guard let new = map[old] else { continue }
            instances[new].parents = instances[old].parents.compactMap { map[$0] ?? (dropping.contains($0) ? nil : $0) }
            for parent in instances[new].parents where map.values.contains(parent) == false {
                instances[parent].children.append(new)
            }
            for child in instances[old].children where linkingOutsideChildren && map[child] == nil {
                instances[new].children.append(child)
                instances[child].parents.append(new)
                if !instances[child].released { instances[child].waitingOn += 1 }
            }
        }
        for new in map.values {
            for parent in instances[new].parents where map.values.contains(parent) {
                instances[parent].children.append(new)
            }
        }
        rewire(&self, map)
        for new in map.values {
            instances[new].waitingOn = instances[new].parents.filter { !instances[$0].released }.count
        }
        return map
    }

    /// Tells the children of `index` that it ended; those with nothing left to wait for become eligible.
    mutating func release(_ index: Int, now: Duration, _ effects: inout [Effect]) {
        guard !instances[index].released else { return }
        instances[index].released = true
        for child in instances[index].children {
            instances[child].waitingOn -= 1
            if instances[child].waitingOn == 0 && instances[child].status == .submitted {
                makeEligible(child, now: now, &effects)
            }
        }
    }

    /// An instance whose parents all ended: it runs (PENDING), waits (job paused, START_AT), or is
    /// SKIPPED when every parent was skipped (unless it is an `if` continuation).
    mutating func makeEligible(_ index: Int, now: Duration, _ effects: inout [Effect]) {
        guard status.isAlive else { return }
        // Field reads: a copy of the instance would retain its arrays and names, for every task of a job.
        if !instances[index].parents.isEmpty, !plan.continuations.contains(instances[index].definition),
            instances[index].parents.allSatisfy({ instances[$0].status == .skipped })
        {
            setStatus(index, .skipped, now: now, &effects)
            release(index, now: now, &effects)
            return
        }
        if paused {
            setStatus(index, .paused, now: now, &effects)
            return
        }
        setStatus(index, .pending, now: now, &effects)
        if let notBefore = instances[index].notBefore, notBefore > now {
            if !timers.contains(where: { $0.index == index }) { schedule(index, at: notBefore, &effects) }
            return
        }
        guard !instances[index].queued else { return }
        instances[index].queued = true
        readyQueue.append(index)
        if effects.last != .ready { effects.append(.ready) }
    }

    /// Pauses every task that has not started: PENDING and SUBMITTED become PAUSED.
    mutating func pauseTasks(now: Duration, _ effects: inout [Effect]) {
        paused = true
        for index in instances.indices where !instances[index].dispatched {
            switch instances[index].status {
            case .submitted, .pending: setStatus(index, .paused, now: now, &effects)
            default: break
            }
        }
    }
}
