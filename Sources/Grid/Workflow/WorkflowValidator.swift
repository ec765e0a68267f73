extension Workflow {
    /// Checks the workflow the way ProActive's `FlowChecker` does at submission, and more.
    ///
    /// It reports every problem at once: names, dependencies and cycles, execution limits, flow controls
    /// and blocks, fixed deciders, and `${NAME}` references. Problems carry the location recorded in
    /// ``locations`` for their field (or the nearest enclosing one) when the workflow came from a file.
    /// - Throws: ``WorkflowError`` listing every problem, when there is at least one.
    /// - Parameter limits: the bounds the workflow is held to (``InputLimits/default`` unless the grid sets others).
    public func validate(limits: InputLimits = .default) throws(WorkflowError) {
        let problems = validationProblems(limits: limits)
        guard problems.isEmpty else { throw WorkflowError(problems: problems.sortedByLocation()) }
    }

    /// Validates the workflow and returns its flow plan, built on the graph the validation made (a job of
    /// 100,000 tasks is not indexed twice).
    func validatedPlan(limits: InputLimits = .default) throws(WorkflowError) -> FlowPlan {
        var validator = WorkflowValidator(workflow: self, limits: limits)
        validator.runEveryCheck()
        guard validator.problems.isEmpty else { throw WorkflowError(problems: validator.problems.sortedByLocation()) }
        return FlowPlan(tasks, graph: validator.graph)
    }

    /// Every problem the validator finds, in checking order.
    func validationProblems(limits: InputLimits = .default) -> [WorkflowProblem] {
        var validator = WorkflowValidator(workflow: self, limits: limits)
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
    /// The bounds it is held to.
    let limits: InputLimits
    /// The dependency graph, over the first task of each name.
    let graph: TaskGraph
    /// Problems found so far.
    var problems: [WorkflowProblem] = []
    /// For each `block: start` task, the `block: end` task that closes it (by task index), once matched.
    var blockEnds: [Int: Int] = [:]

    init(workflow: Workflow, limits: InputLimits = .default) {
        self.workflow = workflow
        self.limits = limits
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
        } else if let flaw = limits.jobNameFlaw(workflow.name) {
            report(.invalidJobName, "name", "the workflow's name \(Self.shown(workflow.name)) \(flaw)")
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
            if let reason = Self.taskNameFlaw(name, longest: limits.nameLength) {
                report(.invalidTaskName, "tasks.\(name)", "task name \(Self.shown(name)) \(reason)")
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
    static func taskNameFlaw(_ name: String, longest: Int = InputLimits.default.nameLength) -> String? {
        if name.isEmpty { return "is empty" }
        // Fast path: short printable ASCII without the reserved characters (no grapheme breaking).
        if name.utf8.count <= longest, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: "/") }) {
            return nil
        }
        if name.count > longest { return "is longer than \(longest) characters (limit nameLength)" }
        // A NUL would end the name early in a C string (a log path), a newline would forge log lines.
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains a control character" }
        if let bad = name.first(where: { "#*/".contains($0) || $0.isWhitespace }) {
            return bad.isWhitespace ? "contains a blank" : "contains `\(bad)`"
        }
        return nil
    }

    /// A name as a message shows it: in backquotes, control characters escaped, cut after 64 characters (a
    /// refused million-character name is not echoed back whole).
    static func shown(_ name: String) -> String {
        var text = ""
        for scalar in name.unicodeScalars.prefix(64) {
            text += scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
        }
        return "`\(text)`" + (name.unicodeScalars.count > 64 ? "…" : "")
    }

    mutating func checkVariableNames(_ variables: [Variable], path: String) {
        var seen: Set<String> = []
        for variable in variables {
            let variablePath = "\(path).\(variable.name)"
            if !seen.insert(variable.name).inserted {
                report(.duplicateVariable, variablePath, "variable `\(variable.name)` is defined twice")
            }
            if variable.name.utf8.count > limits.nameLength {
                report(
                    .limitExceeded, "\(path).\(Self.shown(variable.name))",
                    "variable name \(Self.shown(variable.name)) is longer than \(limits.nameLength) characters (limit nameLength)")
            } else if !VariableSubstitution.isValidName(variable.name) {
                report(
                    .invalidVariableName, variablePath,
                    "variable name `\(variable.name)` cannot be referred to; names match [A-Za-z_][A-Za-z0-9_.]*"
                )
            }
        }
    }

    // MARK: Limits

    /// Execution counts of at least 1; walltimes, `WALLTIME`s and retry delays within
    /// ``InputLimits/longestDuration``; function inputs within ``InputLimits/nestingDepth``; fixed replicate runs
    /// within ``InputLimits/replicateRuns``.
    mutating func checkLimits() {
        let longest = limits.longestDuration
        if workflow.maxNumberOfExecution < 1 {
            report(
                .invalidExecutionCount, "maxNumberOfExecution",
                "`maxNumberOfExecution` is \(workflow.maxNumberOfExecution); it must be at least 1"
            )
        } else if workflow.maxNumberOfExecution > InputLimits.executions {
            report(
                .limitExceeded, "maxNumberOfExecution",
                "`maxNumberOfExecution` is \(workflow.maxNumberOfExecution); it may be at most \(InputLimits.executions)")
        }
        if let delay = workflow.taskRetryDelay, delay < .zero {
            report(.invalidRetryDelay, "taskRetryDelay", "`taskRetryDelay` is negative (\(delay))")
        } else if let delay = workflow.taskRetryDelay, delay > longest {
            report(.limitExceeded, "taskRetryDelay", "`taskRetryDelay` is longer than \(longest) (limit longestDuration)")
        }
        checkWalltimeText(workflow.genericInfo["WALLTIME"], path: "genericInfo.WALLTIME", of: "the job")
        if workflow.tasks.count > limits.instancesPerJob {
            report(
                .limitExceeded, "tasks",
                "the workflow has \(workflow.tasks.count) tasks; a job may have at most \(limits.instancesPerJob) (limit instancesPerJob)")
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
            } else if let count = tasks[position].maxNumberOfExecution, count > InputLimits.executions {
                report(
                    .limitExceeded, "\(path).maxNumberOfExecution",
                    "`maxNumberOfExecution` of task `\(name)` is \(count); it may be at most \(InputLimits.executions)")
            }
            if let walltime = tasks[position].walltime, walltime <= .zero {
                report(.invalidWalltime, "\(path).walltime", "the walltime of task `\(name)` must be more than zero")
            } else if let walltime = tasks[position].walltime, walltime > longest {
                report(
                    .limitExceeded, "\(path).walltime",
                    "the walltime of task `\(name)` is longer than \(longest) (limit longestDuration)")
            }
            if let delay = tasks[position].taskRetryDelay, delay < .zero {
                report(.invalidRetryDelay, "\(path).taskRetryDelay", "`taskRetryDelay` of task `\(name)` is negative (\(delay))")
            } else if let delay = tasks[position].taskRetryDelay, delay > longest {
                report(
                    .limitExceeded, "\(path).taskRetryDelay",
                    "`taskRetryDelay` of task `\(name)` is longer than \(longest) (limit longestDuration)")
            }
            if !tasks[position].genericInfo.isEmpty {
                checkWalltimeText(tasks[position].genericInfo["WALLTIME"], path: "\(path).genericInfo.WALLTIME", of: "task `\(name)`")
            }
            if case .function(_, let input) = tasks[position].executable, case .array = input {
                checkDepth(input, path: "\(path).input", of: name)
            } else if case .function(_, let input) = tasks[position].executable, case .object = input {
                checkDepth(input, path: "\(path).input", of: name)
            }
            if case .replicate(.value(let text))? = tasks[position].flow, let runs = Int(text.trimmingWhitespace()),
                runs > limits.replicateRuns
            {
                report(
                    .limitExceeded, "\(path).replicate",
                    "the replicate of task `\(name)` asks for \(runs) runs; at most \(limits.replicateRuns) (limit replicateRuns)")
            }
        }
    }

    /// A `WALLTIME` generic information that parses, is positive and within ``InputLimits/longestDuration``.
    mutating func checkWalltimeText(_ text: String?, path: String, of owner: String) {
        guard let text else { return }
        guard let walltime = Duration(workflowText: text), walltime > .zero else {
            report(.invalidWalltime, path, "the WALLTIME of \(owner), `\(text.prefix(64))`, is not a positive duration (90, 01:30, 02:00:00, 500ms, 2h)")
            return
        }
        if walltime > limits.longestDuration {
            report(.limitExceeded, path, "the WALLTIME of \(owner) is longer than \(limits.longestDuration) (limit longestDuration)")
        }
    }

    /// A function input that nests no deeper than ``InputLimits/nestingDepth``.
    mutating func checkDepth(_ input: Value, path: String, of name: String) {
        guard input.depth(upTo: limits.nestingDepth) > limits.nestingDepth else { return }
        report(
            .limitExceeded, path,
            "the input of task `\(name)` nests deeper than \(limits.nestingDepth) levels (limit nestingDepth)")
    }
}
