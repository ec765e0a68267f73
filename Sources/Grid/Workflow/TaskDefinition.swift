/// One task of a workflow: what runs, after what, with which variables, limits and flow control.
public struct TaskDefinition: Sendable, Codable {
    /// The name, unique in the workflow; instances add `#iteration*replication`.
    public var name: String
    /// Tasks that must end first; their results and variables reach this one.
    public var depends: [String]
    /// What runs.
    public var executable: Executable
    /// Task variables, in order.
    public var variables: [Variable]
    /// Generic information; a task's entry wins over the job's.
    public var genericInfo: [String: String]
    /// The longest an execution may run; past it the subprocess group is killed and the run is an error.
    public var walltime: Duration?
    /// Files (paths or globs, relative to the working directory) this task produces; enables self-healing.
    public var outputs: [String]
    /// Which nodes may run it.
    public var selection: Selection
    /// Overrides the job's error policy.
    public var onTaskError: OnTaskError?
    /// Overrides the job's executions count.
    public var maxNumberOfExecution: Int?
    /// Overrides the job's retry delay.
    public var taskRetryDelay: Duration?
    /// Overrides the job's restart mode.
    public var restartTaskOnError: RestartMode?
    /// The flow control that runs after the executable.
    public var flow: FlowControl?
    /// Whether this task starts or ends a block (for replicate and loop over several tasks).
    public var block: FlowBlock

    /// Makes a task.
    public init(
        _ name: String, _ executable: Executable, depends: [String] = [], variables: [Variable] = [],
        genericInfo: [String: String] = [:], walltime: Duration? = nil, outputs: [String] = [],
        selection: Selection = .init(), onTaskError: OnTaskError? = nil, maxNumberOfExecution: Int? = nil,
        taskRetryDelay: Duration? = nil, restartTaskOnError: RestartMode? = nil, flow: FlowControl? = nil,
        block: FlowBlock = .none
    ) {
        self.name = name
        self.executable = executable
        self.depends = depends
        self.variables = variables
        self.genericInfo = genericInfo
        self.walltime = walltime
        self.outputs = outputs
        self.selection = selection
        self.onTaskError = onTaskError
        self.maxNumberOfExecution = maxNumberOfExecution
        self.taskRetryDelay = taskRetryDelay
        self.restartTaskOnError = restartTaskOnError
        self.flow = flow
        self.block = block
    }

    /// This task with a replicate control: its direct children (or their blocks) run `runs` times.
    public func replicate(runs: FlowDecider) -> TaskDefinition {
        var copy = self
        copy.flow = .replicate(runs: runs)
        return copy
    }

    /// This task with a loop control: while the decider says `true`, the block from `target` to here runs again.
    public func loop(target: String, while decider: FlowDecider) -> TaskDefinition {
        var copy = self
        copy.flow = .loop(target: target, decider: decider)
        return copy
    }

    /// This task with an if control: `target` or `else` runs, the other is SKIPPED, then `continuation`.
    public func branch(if target: String, else elseTarget: String, continuation: String? = nil, decider: FlowDecider) -> TaskDefinition {
        var copy = self
        copy.flow = .branch(target: target, else: elseTarget, continuation: continuation, decider: decider)
        return copy
    }

    /// This task marked as the start or end of a block.
    public func block(_ block: FlowBlock) -> TaskDefinition {
        var copy = self
        copy.block = block
        return copy
    }
}

/// What a task runs.
public enum Executable: Sendable, Codable {
    /// An in-process Swift function registered under `name`, given `input`.
    case function(String, input: Value = .null)
    /// A script run by an interpreter on PATH (`bash`, `python3`, …).
    case script(Script)
    /// A native command: `argv[0]` is looked up on PATH.
    case command([String])

    /// A bash script.
    public static func bash(_ code: String, arguments: [String] = []) -> Executable {
        .script(Script(language: "bash", source: .code(code), arguments: arguments))
    }
}

/// A script executable.
public struct Script: Sendable, Hashable, Codable {
    /// The interpreter: `bash`, `sh`, `python`/`python3`, or any program on PATH.
    public var language: String
    /// The code, inline or in a file.
    public var source: Source
    /// Arguments after the script.
    public var arguments: [String]

    /// Where the code is.
    public enum Source: Sendable, Hashable, Codable {
        /// Inline code; `${NAME}` references are substituted.
        case code(String)
        /// A file, relative to the working directory.
        case file(String)
    }

    /// Makes a script.
    public init(language: String, source: Source, arguments: [String] = []) {
        self.language = language
        self.source = source
        self.arguments = arguments
    }
}

/// Which nodes may run a task.
public struct Selection: Sendable, Hashable, Codable {
    /// Labels every chosen node must carry.
    public var labels: Set<String>
    /// A node access token: the task runs only on nodes protected by it (ProActive `NODE_ACCESS_TOKEN`).
    public var token: String?
    /// A node source: the task runs only on its nodes (ProActive's `NODE_SOURCE` generic information).
    public var source: String?

    /// Makes a selection.
    public init(labels: Set<String> = [], token: String? = nil, source: String? = nil) {
        self.labels = labels
        self.token = token
        self.source = source
    }
}

/// Whether a task opens or closes a block.
public enum FlowBlock: String, Sendable, Hashable, Codable, CaseIterable {
    /// Not a block boundary.
    case none
    /// Starts a block.
    case start
    /// Ends a block.
    case end
}

/// A flow control, decided right after the task's executable ends.
public enum FlowControl: Sendable, Codable {
    /// Runs each direct child (a whole block when the child starts one) `runs` times.
    case replicate(runs: FlowDecider)
    /// Runs the block from `target` to this task again while the decider gives `true`.
    case loop(target: String, decider: FlowDecider)
    /// Runs `target` (`if`) or `else`, skips the other, then `continuation`.
    case branch(target: String, else: String, continuation: String?, decider: FlowDecider)

    /// The names of the tasks it refers to.
    public var targets: [String] {
        switch self {
        case .replicate: []
        case .loop(let target, _): [target]
        case .branch(let target, let elseTarget, let continuation, _): [target, elseTarget] + (continuation.map { [$0] } ?? [])
        }
    }

    /// The decider.
    public var decider: FlowDecider {
        switch self {
        case .replicate(let decider), .loop(_, let decider), .branch(_, _, _, let decider): decider
        }
    }

    /// `replicate`, `loop` or `if`.
    public var keyword: String {
        switch self {
        case .replicate: "replicate"
        case .loop: "loop"
        case .branch: "if"
        }
    }
}

/// Where a flow decision comes from.
public enum FlowDecider: Sendable {
    /// The task's result: an integer (`runs`), a boolean (`loop`), `"if"`/`"else"` (`branch`), or an
    /// object with that key — what a script writes to its result file.
    case result
    /// A fixed text, after `${NAME}` substitution: `"4"`, `"${TILES}"`, `"false"`, `"else"`.
    case value(String)
    /// A Swift closure given the task's result and variables; it returns what `.result` would hold.
    case closure(@Sendable (FlowInput) throws -> Value)
}

/// What a flow closure sees.
public struct FlowInput: Sendable {
    /// The task's result.
    public var result: Value
    /// The task's variables after it ran.
    public var variables: [String: String]
    /// The loop iteration of the task.
    public var iteration: Int
    /// The replica index of the task.
    public var replication: Int
}

/// Deciders are journaled with their workflow: `.result` and `.value` are data, a closure is code and cannot be.
extension FlowDecider: Codable {
    private enum CodingKeys: String, CodingKey {
        case result, value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try container.decodeIfPresent(String.self, forKey: .value) {
            self = .value(text)
        } else if try container.decodeIfPresent(Bool.self, forKey: .result) == true {
            self = .result
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a flow decider is {result: true} or {value: TEXT}"))
        }
    }

    /// - Throws: `EncodingError.invalidValue` for a closure.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .result: try container.encode(true, forKey: .result)
        case .value(let text): try container.encode(text, forKey: .value)
        case .closure:
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath, debugDescription: "a closure decider cannot be stored; use .result or .value"))
        }
    }
}

extension TaskDefinition {
    /// Decodes a task; every field but `name` and `executable` may be left out for its default (the journal
    /// writes only what differs from the defaults, which keeps wide workflows small).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            try container.decode(String.self, forKey: .name), try container.decode(Executable.self, forKey: .executable),
            depends: try container.decodeIfPresent([String].self, forKey: .depends) ?? [],
            variables: try container.decodeIfPresent([Variable].self, forKey: .variables) ?? [],
            genericInfo: try container.decodeIfPresent([String: String].self, forKey: .genericInfo) ?? [:],
            walltime: try container.decodeIfPresent(Duration.self, forKey: .walltime),
            outputs: try container.decodeIfPresent([String].self, forKey: .outputs) ?? [],
            selection: try container.decodeIfPresent(Selection.self, forKey: .selection) ?? Selection(),
            onTaskError: try container.decodeIfPresent(OnTaskError.self, forKey: .onTaskError),
            maxNumberOfExecution: try container.decodeIfPresent(Int.self, forKey: .maxNumberOfExecution),
            taskRetryDelay: try container.decodeIfPresent(Duration.self, forKey: .taskRetryDelay),
            restartTaskOnError: try container.decodeIfPresent(RestartMode.self, forKey: .restartTaskOnError),
            flow: try container.decodeIfPresent(FlowControl.self, forKey: .flow),
            block: try container.decodeIfPresent(FlowBlock.self, forKey: .block) ?? .none)
    }
}
