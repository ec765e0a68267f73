/// One thing wrong with a workflow: what, where, and why.
///
/// The loader (``Workflow/init(yaml:file:)``) and the validator (``Workflow/validate()``) both report
/// problems of this shape. `path` names the field (`tasks.tile.depends[1]`, `variables.TILES`), the way
/// ``Workflow/locations`` keys it; `location` is set when the workflow came from a file.
public struct WorkflowProblem: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is; tests and tools match on this rather than on the message.
    public var code: Code
    /// The field, such as `tasks.tile.depends[0]`; empty for the whole document.
    public var path: String
    /// Where the field is in the file; `nil` for a workflow built in Swift.
    public var location: SourceLocation?
    /// A sentence for people, naming the offending value.
    public var message: String

    /// Makes a problem.
    public init(_ code: Code, path: String, location: SourceLocation? = nil, message: String) {
        self.code = code
        self.path = path
        self.location = location
        self.message = message
    }

    /// `12:5: message`, or just the message when there is no location.
    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }

    /// The kinds of problem.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        // MARK: Reading the file
        /// The file could not be read.
        case unreadableFile
        /// The text is not well-formed YAML.
        case yamlSyntax
        /// A value has the wrong shape: a list where a mapping is expected, text where a number is.
        case wrongType
        /// A key the format does not know.
        case unknownKey
        /// The same key twice in one YAML mapping (tasks aside, see ``duplicateTask``).
        case duplicateKey
        /// A required field is absent.
        case missingField
        /// A value of the right shape outside what the field accepts (an unknown priority, a bad duration).
        case invalidValue
        /// Fields that exclude each other, such as `script` and `command`, or `input` without `function`.
        case conflictingFields

        // MARK: Job and task identity
        /// The job's name is absent or shorter than 2 characters.
        case invalidJobName
        /// The workflow has no task.
        case noTasks
        /// Two tasks have the same name.
        case duplicateTask
        /// A task name is empty, longer than ``InputLimits/nameLength``, or holds `#`, `*`, `/`, whitespace or a
        /// control character.
        case invalidTaskName
        /// Two variables of the same scope have the same name.
        case duplicateVariable
        /// A variable name does not match `[A-Za-z_][A-Za-z0-9_.]*`, so `${…}` cannot refer to it.
        case invalidVariableName
        /// A command with no program.
        case emptyCommand

        // MARK: Dependencies
        /// `depends` names a task that does not exist.
        case unknownDependency
        /// A task depends on itself.
        case selfDependency
        /// `depends` lists the same task twice.
        case duplicateDependency
        /// Tasks depend on each other in a circle.
        case dependencyCycle

        // MARK: Limits
        /// `maxNumberOfExecution` is below 1.
        case invalidExecutionCount
        /// A walltime of zero or less.
        case invalidWalltime
        /// A negative `taskRetryDelay`.
        case invalidRetryDelay
        /// A value past one of the grid's ``InputLimits``: a duration, a nesting depth, a name's length, a count
        /// of replicate runs, YAML aliases or nodes. The message names the limit.
        case limitExceeded

        // MARK: Flow control
        /// A `loop` or `if` names a task that does not exist.
        case unknownFlowTarget
        /// A `loop` target is neither the initiator nor one of its ancestors.
        case loopTargetNotAncestor
        /// A `loop` goes back to a task that is not the start of the block its initiator ends.
        case loopTargetNotBlockStart
        /// An `if` whose target and `else` are the same task.
        case branchTargetsEqual
        /// A task is the target, `else` or continuation of two `if`s.
        case branchTargetShared
        /// An `if` target, `else` or continuation lists the initiator in `depends` (the link is implicit).
        case branchTargetDependsOnInitiator
        /// With a continuation, an `if` branch that is not a block: its last task has dependents of its own.
        case branchNotBlock
        /// A `replicate` initiator that no task depends on.
        case replicateWithoutChild
        /// A task replicated by an initiator that also depends on other tasks (ProActive allows only the initiator).
        case replicatedTaskHasOtherParents
        /// A `block: start` without its `end` downstream, or the other way round, or ambiguous nesting.
        case unmatchedBlock
        /// A fixed decider that is neither a single `${VAR}` nor a literal of the right kind.
        case invalidDecider

        // MARK: Variables
        /// `${NAME}` names no job, task, upstream or system variable.
        case unknownVariable
        /// `${` without `}`, `${}`, or a name with characters a variable cannot have.
        case malformedVariableReference

        // MARK: The grid's own rules
        /// An `outputs` pattern that leaves the task's working directory, on a grid that confines outputs.
        case unconfinedOutput
    }
}

/// Every problem found in a workflow, thrown by the loader and by ``Workflow/validate()``.
///
/// Its `description` lists each problem on a line, as compilers do: `tiles.yaml:12:5: message`.
public struct WorkflowError: Error, Sendable, CustomStringConvertible {
    /// The problems, ordered by position in the file (those without a location last).
    public var problems: [WorkflowProblem]
    /// The file the workflow came from, when known; it prefixes each line of `description`.
    public var file: String?

    /// Wraps problems.
    public init(problems: [WorkflowProblem], file: String? = nil) {
        self.problems = problems
        self.file = file
    }

    /// One line per problem: `file:line:column: message`, leaving out what is unknown.
    public var description: String {
        problems.map { problem in
            let prefix = [file, problem.location.map(\.description)].compactMap { $0 }.joined(separator: ":")
            return prefix.isEmpty ? problem.message : "\(prefix): \(problem.message)"
        }.joined(separator: "\n")
    }

    /// The problems with the given code.
    public func problems(_ code: WorkflowProblem.Code) -> [WorkflowProblem] {
        problems.filter { $0.code == code }
    }
}

extension [WorkflowProblem] {
    /// Ordered by line and column; problems without a location keep their order, after the others.
    func sortedByLocation() -> [WorkflowProblem] {
        enumerated().sorted { lhs, rhs in
            switch (lhs.element.location, rhs.element.location) {
            case let (l?, r?):
                return (l.line, l.column, lhs.offset) < (r.line, r.column, rhs.offset)
            case (.some, .none): return true
            case (.none, .some): return false
            case (.none, .none): return lhs.offset < rhs.offset
            }
        }.map(\.element)
    }
}
