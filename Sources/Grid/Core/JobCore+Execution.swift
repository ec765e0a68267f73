import DequeModule

/// Dispatch and the reports of nodes: started, ended, node lost; timers.
extension JobCore {
    /// Hands instance `index` to `node`: counts an execution and builds what the node runs.
    ///
    /// The instance stays PENDING until the node reports ``onStarted(_:attempt:node:now:)``.
    public mutating func dispatch(_ index: Int, to node: NodeID) -> TaskAssignment {
        instances[index].executions += 1
        instances[index].dispatched = true
        instances[index].node = node
        // Field reads, not a copy of the instance: this runs for every execution.
        let definition = instances[index].definition
        let name = instances[index].name
        let variables = inputVariables(for: index)
        instances[index].inputVariables = variables
        let system = SystemValues(jobID: id, jobName: workflow.name, task: name)
        let lookup: (String) -> String? = { system[$0] ?? variables[$0] }
        let executable: Executable
        switch workflow.tasks[definition].executable {
        case .function(let name, let input):
            executable = .function(name, input: input)
        case .script(var script):
            if case .code(let code) = script.source { script.source = .code(VariableSubstitution.substitute(code, lookup)) }
            if case .file(let path) = script.source { script.source = .file(VariableSubstitution.substitute(path, lookup)) }
            script.arguments = script.arguments.map { VariableSubstitution.substitute($0, lookup) }
            executable = .script(script)
        case .command(let argv):
            executable = .command(argv.map { VariableSubstitution.substitute($0, lookup) })
        }
        var parentResults: [(name: TaskInstanceName, value: Value)] = []
        if !instances[index].parents.isEmpty {
            parentResults.reserveCapacity(instances[index].parents.count)
            for parent in instances[index].parents {
                if let result = instances[parent].result { parentResults.append((instances[parent].name, result)) }
            }
        }
        let outputs = workflow.tasks[definition].outputs.isEmpty
            ? [] : workflow.tasks[definition].outputs.map { VariableSubstitution.substitute($0, lookup) }
        var fingerprint: UInt64?
        if !outputs.isEmpty {
            var hasher = StableHasher()
            hasher.combine(definitionDigests[definition])
            for key in variables.keys.sorted() { hasher.combine(key + "=" + (variables[key] ?? "")) }
            for parent in parentResults { hasher.combine(parent.name.description + ":" + parent.value.jsonText) }
            for output in outputs { hasher.combine(output) }
            fingerprint = hasher.value
        }
        let constraints = constraints(of: index)
        return TaskAssignment(
            job: id, jobName: workflow.name, owner: owner, index: index, assignedNode: node, attempt: instances[index].executions, name: name,
            executable: executable, variables: variables, parentResults: parentResults,
            walltime: definitionWalltimes[definition],
            outputs: outputs, fingerprint: fingerprint, selection: constraints.selection,
            excludedNodes: constraints.excluded, workingDirectory: workflow.workingDirectory)
    }

    /// A node could not take instance `index` after all (it was stopping): it goes back to the queue.
    public mutating func undispatch(_ index: Int, attempt: Int) -> [Effect] {
        var effects: [Effect] = []
        undispatch(index, attempt: attempt, &effects)
        return effects
    }

    /// ``undispatch(_:attempt:)`` appending its effects to `effects` (the shell reuses one buffer per turn).
    mutating func undispatch(_ index: Int, attempt: Int, _ effects: inout [Effect]) {
        guard instances.indices.contains(index), instances[index].dispatched, instances[index].executions == attempt,
            instances[index].status == .pending
        else { return }
        instances[index].dispatched = false
        instances[index].executions -= 1
        if !instances[index].queued {
            instances[index].queued = true
            readyQueue.prepend(index)
        }
        effects.append(.ready)
    }

    /// The node started execution `attempt` of instance `index`.
    public mutating func onStarted(_ index: Int, attempt: Int, node: NodeID, now: Duration) -> [Effect] {
        var effects: [Effect] = []
        onStarted(index, attempt: attempt, node: node, now: now, &effects)
        return effects
    }

    /// ``onStarted(_:attempt:node:now:)`` appending its effects to `effects`.
    mutating func onStarted(_ index: Int, attempt: Int, node: NodeID, now: Duration, _ effects: inout [Effect]) {
        guard instances.indices.contains(index), instances[index].executions == attempt,
            instances[index].dispatched, instances[index].status == .pending
        else { return }
        instances[index].node = node
        everStarted = true
        if startedAt == nil { startedAt = now }
        instances[index].startedAt = now
        setStatus(index, .running, now: now, &effects)
        refreshStatus(now: now, &effects)
    }

    /// Execution `attempt` of instance `index` ended on `node`; late or unknown reports are ignored.
    ///
    /// - Parameter ran: how long the execution ran by the node's clock, when the node measured it. The instance's
    ///   start is then that long before `now`, so its duration is the node's figure rather than the time between
    ///   the scheduler's reading of two reports (which a node sends in batches). A negative one, or one longer than
    ///   ``longestRun``, is taken as not measured.
    public mutating func onFinished(
        _ index: Int, attempt: Int, node: NodeID, outcome: TaskOutcome, now: Duration, ran: Duration? = nil
    ) -> [Effect] {
        var effects: [Effect] = []
        onFinished(index, attempt: attempt, node: node, outcome: outcome, now: now, ran: ran, &effects)
        return effects
    }

    /// ``onFinished(_:attempt:node:outcome:now:ran:)`` appending its effects to `effects`.
    mutating func onFinished(
        _ index: Int, attempt: Int, node: NodeID, outcome: TaskOutcome, now: Duration, ran: Duration? = nil, _ effects: inout [Effect]
    ) {
        guard instances.indices.contains(index), instances[index].executions == attempt, instances[index].dispatched,
            instances[index].status == .running || instances[index].status == .pending
        else { return }
        instances[index].dispatched = false
        instances[index].node = node
        // When the execution began: the node's measure dates it better than the reports did.
        let measured = ran.flatMap { $0 >= .zero && $0 <= JobCore.longestRun ? $0 : nil }
        let began = measured.map { now - $0 } ?? now
        if measured != nil { instances[index].startedAt = began }
        // The job started when its first execution did.
        if startedAt.map({ began < $0 }) ?? true { startedAt = began }
        everStarted = true
        switch outcome {
        case .success(let result, let variables):
            succeed(index, result: result, variables: variables, alreadyDone: false, now: now, &effects)
        case .alreadyDone(let result, let variables, let reason):
            instances[index].message = reason
            succeed(index, result: result, variables: variables, alreadyDone: true, now: now, &effects)
        case .failure(let message):
            fail(index, message: message, node: node, now: now, &effects)
        }
        refreshStatus(now: now, &effects)
    }

    /// Time passed: instances whose retry delay or START_AT is over become eligible.
    public mutating func onTick(now: Duration) -> [Effect] {
        var effects: [Effect] = []
        var due: [Int] = []
        timers.removeAll { timer in
            guard timer.at <= now else { return false }
            due.append(timer.index)
            return true
        }
        for index in due.sorted() {
            let status = instances[index].status
            guard status == .waitingOnError || status == .pending || status == .paused else { continue }
            instances[index].notBefore = nil
            if status == .paused { continue }
            makeEligible(index, now: now, &effects)
        }
        if let next = nextWake { effects.append(.wake(at: next)) }
        refreshStatus(now: now, &effects)
        return effects
    }

    /// `node` is gone: what ran there runs again elsewhere, up to twice; after that the job FAILED.
    public mutating func onNodeLost(_ node: NodeID, now: Duration) -> [Effect] {
        var effects: [Effect] = []
        for index in instances.indices where instances[index].dispatched && instances[index].node == node {
            if instances[index].status == .pending {
                effects += undispatch(index, attempt: instances[index].executions)
            } else {
                effects += onExecutionLost(index, attempt: instances[index].executions, node: node, now: now)
            }
            if !status.isAlive { break }
        }
        refreshStatus(now: now, &effects)
        return effects
    }

    /// Execution `attempt` of instance `index` was running on `node`, which is gone (ProActive's node-failure
    /// rule): it runs again on another node while `numberOfExecutionOnFailure` allows (the instance shows
    /// WAITING_ON_FAILURE meanwhile), else the task is FAILED and so is the job. A late report from the lost
    /// execution changes nothing (its attempt is over).
    public mutating func onExecutionLost(_ index: Int, attempt: Int, node: NodeID, now: Duration) -> [Effect] {
        guard instances.indices.contains(index), instances[index].dispatched, instances[index].executions == attempt,
            status.isAlive
        else { return [] }
        var effects: [Effect] = []
        instances[index].dispatched = false
        instances[index].failureRunsLeft -= 1
        instances[index].message = "\(node) was lost"
        if instances[index].failureRunsLeft > 0 {
            setStatus(index, .waitingOnFailure, now: now, &effects)
            instances[index].excludedNodes.insert(node)
            makeEligible(index, now: now, &effects)
        } else {
            setStatus(index, .failed, now: now, &effects)
            end(as: .failed, now: now, &effects)
        }
        refreshStatus(now: now, &effects)
        return effects
    }

    /// Execution `attempt` of instance `index` ran on `node`, which its node source released or its
    /// infrastructure evicted: the instance runs again elsewhere without using a run (not a node failure).
    public mutating func onExecutionEvicted(_ index: Int, attempt: Int, node: NodeID, now: Duration) -> [Effect] {
        guard instances.indices.contains(index), instances[index].dispatched, instances[index].executions == attempt,
            status.isAlive
        else { return [] }
        var effects: [Effect] = []
        if instances[index].status == .pending {
            undispatch(index, attempt: attempt, &effects)
            return effects
        }
        // The attempt number stays used: a late report of this execution is never taken for the next one.
        instances[index].dispatched = false
        instances[index].message = "\(node) was released"
        makeEligible(index, now: now, &effects)
        refreshStatus(now: now, &effects)
        return effects
    }

    // MARK: - Outcomes

    mutating func succeed(_ index: Int, result: Value, variables: [String: String]?, alreadyDone: Bool, now: Duration, _ effects: inout [Effect]) {
        instances[index].result = result
        instances[index].alreadyDone = alreadyDone
        instances[index].outputVariables = variables ?? instances[index].inputVariables
        let decision: FlowDecision
        do {
            decision = try decideFlow(index)
        } catch {
            fail(index, message: error.description, node: instances[index].node, now: now, &effects)
            return
        }
        setStatus(index, .finished, now: now, &effects)
        apply(decision, of: index, now: now, &effects)
        release(index, now: now, &effects)
    }

    mutating func fail(_ index: Int, message: String, node: NodeID?, now: Duration, _ effects: inout [Effect]) {
        let task = workflow.tasks[instances[index].definition]
        instances[index].message = message
        instances[index].executionsLeft -= 1
        if instances[index].executionsLeft > 0 {
            let delay = task.taskRetryDelay ?? workflow.taskRetryDelay ?? RetryDelay.next(afterExecutions: instances[index].executions)
            if let node, (task.restartTaskOnError ?? workflow.restartTaskOnError) == .elsewhere {
                instances[index].excludedNodes.insert(node)
            }
            setStatus(index, .waitingOnError, now: now, &effects)
            schedule(index, at: now + delay, &effects)
            return
        }
        switch OnTaskError.effective(task: task.onTaskError, job: workflow.onTaskError) {
        case .continueJobExecution, .none:
            setStatus(index, .faulty, now: now, &effects)
            release(index, now: now, &effects)
        case .suspendTask:
            setStatus(index, .inError, now: now, &effects)
        case .pauseJob:
            setStatus(index, .inError, now: now, &effects)
            pauseTasks(now: now, &effects)
        case .cancelJob:
            setStatus(index, .faulty, now: now, &effects)
            end(as: .canceled, now: now, &effects)
        }
    }

    mutating func schedule(_ index: Int, at time: Duration, _ effects: inout [Effect]) {
        instances[index].notBefore = time
        timers.append((time, index))
        effects.append(.wake(at: time))
    }

    /// Ends the job in a final state: running executions ABORTED, the rest NOT_STARTED or NOT_RESTARTED.
    mutating func end(as final: JobStatus, now: Duration, _ effects: inout [Effect]) {
        guard status.isAlive else { return }
        for index in instances.indices {
            let instance = instances[index]
            if instance.dispatched, let node = instance.node {
                effects.append(.abort(index: index, node: node, attempt: instance.executions))
                instances[index].dispatched = false
            }
            switch instance.status {
            case .running: setStatus(index, .aborted, now: now, &effects)
            case .waitingOnError, .waitingOnFailure: setStatus(index, .notRestarted, now: now, &effects)
            case .inError: setStatus(index, .faulty, now: now, &effects)
            case .submitted, .pending, .paused: setStatus(index, .notStarted, now: now, &effects)
            case .failed, .notStarted, .notRestarted, .aborted, .faulty, .finished, .skipped: break
            }
        }
        timers.removeAll()
        readyQueue.removeAll()
        status = final
        finishedAt = now
        effects.append(.jobChanged(final))
    }

    // MARK: - Variables

    /// Job variables, then what the parents propagate, then the task's own (an `inherited` one keeps a propagated value).
    func inputVariables(for index: Int) -> [String: String] {
        // Field reads, not a copy of the instance: this runs for every execution.
        var inherited: [String: String]?
        for parent in instances[index].parents {
            guard let other = instances[parent].outputVariables else { continue }
            if inherited == nil {
                inherited = other
            } else {
                for (key, value) in other where inherited?[key] != value { inherited?[key] = value }
            }
        }
        var variables = inherited ?? jobVariables
        if !replicaVariables.isEmpty, let extra = replicaVariables[index] {
            for (key, value) in extra { variables[key] = value }
        }
        let definition = instances[index].definition
        if !workflow.tasks[definition].variables.isEmpty {
            let system = SystemValues(jobID: id, jobName: workflow.name, task: instances[index].name)
            for variable in workflow.tasks[definition].variables where !(variable.inherited && variables[variable.name] != nil) {
                variables[variable.name] = VariableSubstitution.substitute(variable.value) { system[$0] ?? variables[$0] }
            }
        }
        return variables
    }

    /// A `WALLTIME` generic information value (`ss`, `mm:ss`, `hh:mm:ss`, `90s`…); invalid text means none.
    static func walltime(_ text: String?) -> Duration? {
        // Bounded again here: a job journaled before the limits existed must not overflow the clocks' arithmetic.
        text.flatMap { Duration(workflowText: $0) }.flatMap { $0 > .zero ? min($0, InputLimits.durationCeiling) : nil }
    }
}
