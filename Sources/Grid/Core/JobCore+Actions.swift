/// The user's actions on a job and its tasks.
extension JobCore {
    /// Kills the job: running tasks ABORTED, the rest NOT_STARTED, the job KILLED.
    public mutating func kill(now: Duration) throws(GridError) -> [Effect] {
        guard status.isAlive else { throw .actionNotAllowed(.kill, target: .job(id), state: .job(status)) }
        var effects: [Effect] = []
        end(as: .killed, now: now, &effects)
        return effects
    }

    /// Pauses the job: tasks not started become PAUSED; running ones go on.
    public mutating func pause(now: Duration) throws(GridError) -> [Effect] {
        guard status.isAlive, !paused else { throw .actionNotAllowed(.pause, target: .job(id), state: .job(status)) }
        var effects: [Effect] = []
        pauseTasks(now: now, &effects)
        refreshStatus(now: now, &effects)
        return effects
    }

    /// Resumes a paused job: PAUSED tasks become PENDING (or SUBMITTED while they wait for parents).
    public mutating func resume(now: Duration) throws(GridError) -> [Effect] {
        guard status.isAlive, paused else { throw .actionNotAllowed(.resume, target: .job(id), state: .job(status)) }
        var effects: [Effect] = []
        paused = false
        for index in instances.indices where instances[index].status == .paused {
            if instances[index].waitingOn == 0 {
                makeEligible(index, now: now, &effects)
            } else {
                setStatus(index, .submitted, now: now, &effects)
            }
        }
        refreshStatus(now: now, &effects)
        return effects
    }

    /// Changes the job's priority; HIGH and HIGHEST need an administrator.
    public mutating func setPriority(_ new: JobPriority, admin: Bool) throws(GridError) {
        guard status.isAlive else { throw .actionNotAllowed(.changePriority, target: .job(id), state: .job(status)) }
        if new.needsAdmin && !admin { throw .priorityNeedsAdmin(new) }
        priority = new
    }

    /// Kills one task: a running execution is stopped; the task becomes FAULTY and its successors go on.
    public mutating func killTask(_ name: TaskInstanceName, now: Duration) throws(GridError) -> [Effect] {
        let index = try instance(name, for: .killTask)
        guard !instances[index].status.isTerminal else {
            throw .actionNotAllowed(.killTask, target: .task(name), state: .task(instances[index].status))
        }
        var effects: [Effect] = []
        stopExecution(index, &effects)
        timers.removeAll { $0.index == index }
        instances[index].message = "killed by the user"
        setStatus(index, .faulty, now: now, &effects)
        release(index, now: now, &effects)
        refreshStatus(now: now, &effects)
        return effects
    }

    /// Restarts a running task: its execution is stopped and the task queued again (counts as an execution).
    public mutating func restartTask(_ name: TaskInstanceName, now: Duration) throws(GridError) -> [Effect] {
        let index = try instance(name, for: .restartTask)
        let state = instances[index].status
        guard state == .running || state == .waitingOnError || (state == .pending && instances[index].dispatched) else {
            throw .actionNotAllowed(.restartTask, target: .task(name), state: .task(state))
        }
        var effects: [Effect] = []
        stopExecution(index, &effects)
        timers.removeAll { $0.index == index }
        instances[index].notBefore = nil
        makeEligible(index, now: now, &effects)
        refreshStatus(now: now, &effects)
        return effects
    }

    /// Restarts an IN_ERROR task with its executions renewed.
    public mutating func restartInErrorTask(_ name: TaskInstanceName, now: Duration) throws(GridError) -> [Effect] {
        let index = try inErrorInstance(name, for: .restartInErrorTask)
        var effects: [Effect] = []
        let task = workflow.tasks[instances[index].definition]
        instances[index].executionsLeft = task.maxNumberOfExecution ?? workflow.maxNumberOfExecution
        makeEligible(index, now: now, &effects)
        refreshStatus(now: now, &effects)
        return effects
    }

    /// Marks an IN_ERROR task FINISHED (with a null result) so that its successors run.
    public mutating func finishInErrorTask(_ name: TaskInstanceName, now: Duration) throws(GridError) -> [Effect] {
        let index = try inErrorInstance(name, for: .finishInErrorTask)
        var effects: [Effect] = []
        instances[index].result = instances[index].result ?? .null
        instances[index].outputVariables = instances[index].outputVariables ?? instances[index].inputVariables
        setStatus(index, .finished, now: now, &effects)
        release(index, now: now, &effects)
        refreshStatus(now: now, &effects)
        return effects
    }

    mutating func instance(_ name: TaskInstanceName, for action: GridError.Action) throws(GridError) -> Int {
        guard status.isAlive else { throw .actionNotAllowed(action, target: .task(name), state: .taskInJob(status)) }
        guard let index = lookup(name) else { throw .taskNotFound(id, name.description) }
        return index
    }

    mutating func inErrorInstance(_ name: TaskInstanceName, for action: GridError.Action) throws(GridError) -> Int {
        let index = try instance(name, for: action)
        guard instances[index].status == .inError else {
            throw .actionNotAllowed(action, target: .task(name), state: .task(instances[index].status))
        }
        return index
    }

    mutating func stopExecution(_ index: Int, _ effects: inout [Effect]) {
        guard instances[index].dispatched, let node = instances[index].node else { return }
        effects.append(.abort(index: index, node: node, attempt: instances[index].executions))
        instances[index].dispatched = false
    }
}
