/// A workflow definition: tasks, their dependencies, variables, flow controls and error policy.
///
/// Build one in Swift or load it from YAML (``Workflow/init(yaml:file:)``), then submit it to a ``Grid``.
/// ```swift
/// let workflow = Workflow(name: "tiles", tasks: [
///     TaskDefinition("split", .function("tiles.split")).replicate(runs: .result),
///     TaskDefinition("tile", .function("tiles.mean"), depends: ["split"]),
///     TaskDefinition("merge", .function("tiles.merge"), depends: ["tile"]),
/// ])
/// ```
public struct Workflow: Sendable, Codable {
    /// The job's name (at least 2 characters).
    public var name: String
    /// The priority its jobs get.
    public var priority: JobPriority
    /// The job-level error policy (`none` means `continueJobExecution`).
    public var onTaskError: OnTaskError
    /// Executions a task gets before its error policy applies (at least 1).
    public var maxNumberOfExecution: Int
    /// A fixed delay between executions; `nil` uses ProActive's growing delay.
    public var taskRetryDelay: Duration?
    /// Where a failed task may run again.
    public var restartTaskOnError: RestartMode
    /// Job variables, in order; later ones may refer to earlier ones with `${NAME}`.
    public var variables: [Variable]
    /// Generic information (`START_AT`, `NODE_ACCESS_TOKEN`, …), not substituted.
    public var genericInfo: [String: String]
    /// The working directory of subprocess tasks; `nil` uses the grid's.
    public var workingDirectory: String?
    /// The tasks, in definition order.
    public var tasks: [TaskDefinition]
    /// Where each field came from, when loaded from a file (keys such as `tasks.tile.depends`).
    public var locations: [String: SourceLocation]

    /// Makes a workflow.
    public init(
        name: String, priority: JobPriority = .normal, onTaskError: OnTaskError = .none,
        maxNumberOfExecution: Int = 1, taskRetryDelay: Duration? = nil, restartTaskOnError: RestartMode = .anywhere,
        variables: [Variable] = [], genericInfo: [String: String] = [:], workingDirectory: String? = nil,
        tasks: [TaskDefinition]
    ) {
        self.name = name
        self.priority = priority
        self.onTaskError = onTaskError
        self.maxNumberOfExecution = maxNumberOfExecution
        self.taskRetryDelay = taskRetryDelay
        self.restartTaskOnError = restartTaskOnError
        self.variables = variables
        self.genericInfo = genericInfo
        self.workingDirectory = workingDirectory
        self.tasks = tasks
        self.locations = [:]
    }

    /// The task named `name`, if any.
    public func task(named name: String) -> TaskDefinition? { tasks.first { $0.name == name } }
}

/// A named variable.
public struct Variable: Sendable, Hashable, Codable {
    /// The name, used as `${NAME}`.
    public var name: String
    /// The value, which may refer to other variables.
    public var value: String
    /// For task variables: take the value propagated from the parents or the job when there is one.
    public var inherited: Bool

    /// Makes a variable.
    public init(_ name: String, _ value: String, inherited: Bool = false) {
        self.name = name
        self.value = value
        self.inherited = inherited
    }
}

/// A line and column in a workflow file, from 1.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The line, from 1.
    public var line: Int
    /// The column, from 1.
    public var column: Int
    /// Makes a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
    /// `12:5`.
    public var description: String { "\(line):\(column)" }
}
