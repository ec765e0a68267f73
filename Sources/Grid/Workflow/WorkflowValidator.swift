extension Workflow {
    /// Checks the workflow the way ProActive's `FlowChecker` does at submission, and more.
    ///
    /// It reports every problem at once: names, dependencies and cycles, execution limits, flow controls
    /// and blocks, fixed deciders, and `${NAME}` references. Problems carry the location recorded in
    /// ``locations`` for their field (or the nearest enclosing one) when the workflow came from a file.
    /// - Throws: ``WorkflowError`` listing every problem, when there is at least one.
    public func validate() throws(WorkflowError) {
        let problems = validationProblems()
        guard problems.isEmpty else { throw WorkflowError(problems: problems.sortedByLocation()) }
    }

    /// Validates the workflow and returns its flow plan, built on the graph the validation made (a job of
    /// 100,000 tasks is not indexed twice).
    func validatedPlan() throws(WorkflowError) -> FlowPlan {
        var validator = WorkflowValidator(workflow: self)
        validator.runEveryCheck()
        guard validator.problems.isEmpty else { throw WorkflowError(problems: validator.problems.sortedByLocation()) }
        return FlowPlan(tasks, graph: validator.graph)
    }

    /// Every problem the validator finds, in checking order.
    func validationProblems() -> [WorkflowProblem] {
        var validator = WorkflowValidator(workflow: self)
        validator.runEveryCheck()
        return validator.problems
    }
}

extension WorkflowValidator {
    /// Runs every check, in checking order.
    mutating func runEveryCheck() {
        checkIdentity()
        checkLimits()
        checkDependencies()
        checkCycles()
        checkFlows()
        checkBlocks()
        checkLoopBlocks()
        checkBranchBlocks()
        checkVariableReferences()
    }
}

/// One validation pass over a workflow: the task graph it needs, and the problems found so far.
struct WorkflowValidator {
    /// The workflow under check.
    let workflow: Workflow
    /// The dependency graph, over the first task of each name.
    let graph: TaskGraph
    /// Problems found so far.
    var problems: [WorkflowProblem] = []
    /// For each `block: start` task, the `block: end` task that closes it (by task index), once matched.
    var blockEnds: [Int: Int] = [:]

    init(workflow: Workflow) {
        self.workflow = workflow
        self.graph = TaskGraph(workflow.tasks)
    }

    /// Records a problem, located from ``Workflow/locations`` by its path or the nearest enclosing one.
    mutating func report(_ code: WorkflowProblem.Code, _ path: String, _ message: String) {
        problems.append(WorkflowProblem(code, path: path, location: location(for: path), message: message))
    }

    /// The location of `path`, else of its nearest recorded parent (`tasks.t.command[2]` → `tasks.t.command` → …).
    func location(for path: String) -> SourceLocation? {
        var current = Substring(path)
        while true {
            if let location = workflow.locations[String(current)] { return location }
            guard !current.isEmpty else { return nil }
            if current.hasSuffix("]"), let open = current.lastIndex(of: "[") {
                current = current[..<open]
            } else if let dot = current.lastIndex(of: ".") {
                current = current[..<dot]
            } else {
                current = ""
            }
        }
    }

    // MARK: Names

    /// The job's name, task names (valid and unique), variable names, and commands with a program.
    mutating func checkIdentity() {
        if workflow.name.count < 2 {
            let message = workflow.name.isEmpty
                ? "the workflow has no `name`"
                : "the workflow's name `\(workflow.name)` is too short; it needs at least 2 characters"
            report(.invalidJobName, "name", message)
        }
        if workflow.tasks.isEmpty {
            report(.noTasks, "tasks", "the workflow has no tasks")
        }
        // Duplicates come from the graph, which hashed every name once already.
        let duplicates = Set(graph.duplicates)
        // Paths are built only for a problem, and fields are read by index (iterating would copy every
        // definition): a job of 100,000 tasks is checked in milliseconds.
        let tasks = workflow.tasks
        for position in tasks.indices {
            let name = tasks[position].name
            if !duplicates.isEmpty && duplicates.contains(position) {
                report(.duplicateTask, "tasks.\(name)", "task `\(name)` is defined twice")
            }
            if let reason = Self.taskNameFlaw(name) {
                report(.invalidTaskName, "tasks.\(name)", "task name `\(name)` \(reason)")
            }
            if !tasks[position].variables.isEmpty { checkVariableNames(tasks[position].variables, path: "tasks.\(name).variables") }
            if case .command(let argv) = tasks[position].executable, argv.first?.isEmpty ?? true {
                report(.emptyCommand, "tasks.\(name).command", "task `\(name)` has a command with no program")
            }
        }
        checkVariableNames(workflow.variables, path: "variables")
    }

    /// Why `name` cannot name a task, or `nil` when it can.
    ///
    /// `#` and `*` would clash with instance suffixes (`T#1*2`), `/` with paths built from names.
    static func taskNameFlaw(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        // Fast path: short printable ASCII without the reserved characters (no grapheme breaking).
        if name.utf8.count <= 255, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: "/") }) {
            return nil
        }
        if name.count > 255 { return "is longer than 255 characters" }
        if let bad = name.first(where: { "#*/".contains($0) || $0.isWhitespace }) {
            return bad.isWhitespace ? "contains a blank" : "contains `\(bad)`"
        }
        return nil
    }

    mutating func checkVariableNames(_ variables: [Variable], path: String) {
        var seen: Set<String> = []
        for variable in variables {
            let variablePath = "\(path).\(variable.name)"
            if !seen.insert(variable.name).inserted {
                report(.duplicateVariable, variablePath, "variable `\(variable.name)` is defined twice")
            }
            if !VariableSubstitution.isValidName(variable.name) {
                report(
                    .invalidVariableName, variablePath,
                    "variable name `\(variable.name)` cannot be referred to; names match [A-Za-z_][A-Za-z0-9_.]*"
                )
            }
        }
    }

    // MARK: Limits

    /// Execution counts of at least 1, positive walltimes, non-negative retry delays.
    mutating func checkLimits() {
        if workflow.maxNumberOfExecution < 1 {
            report(
                .invalidExecutionCount, "maxNumberOfExecution",
                "`maxNumberOfExecution` is \(workflow.maxNumberOfExecution); it must be at least 1"
            )
        }
        if let delay = workflow.taskRetryDelay, delay < .zero {
            report(.invalidRetryDelay, "taskRetryDelay", "`taskRetryDelay` is negative (\(delay))")
        }
        let tasks = workflow.tasks
        for position in tasks.indices {  // field reads by index: no copy of each definition
            var name: String { tasks[position].name }
            var path: String { "tasks.\(name)" }  // built only for a problem
            if let count = tasks[position].maxNumberOfExecution, count < 1 {
                report(
                    .invalidExecutionCount, "\(path).maxNumberOfExecution",
                    "`maxNumberOfExecution` of task `\(name)` is \(count); it must be at least 1"
                )
            }
            if let walltime = tasks[position].walltime, walltime <= .zero {
                report(.invalidWalltime, "\(path).walltime", "the walltime of task `\(name)` must be more than zero")
            }
            if let delay = tasks[position].taskRetryDelay, delay < .zero {
                report(.invalidRetryDelay, "\(path).taskRetryDelay", "`taskRetryDelay` of task `\(name)` is negative (\(delay))")
            }
        }
    }
}
