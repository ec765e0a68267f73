/// The bounds every submitted workflow is held to, so that no submission can crash, stall or fill the grid.
///
/// The YAML reader (``Workflow/init(yaml:file:variables:limits:)``) and the validator
/// (``Workflow/validate(limits:)``) refuse what lies outside them at submission, each problem naming the limit;
/// the job core enforces the ones only known at run time (replicate runs decided by a result, loop iterations,
/// instances per job) by failing the task that would pass them, with a message that names the limit. Every
/// default is documented in the README's "Limits and isolation" section.
public struct InputLimits: Sendable, Hashable {
    /// The longest walltime, retry delay, `WALLTIME` and `START_AT` delay a workflow may ask for (default 366
    /// days); beyond it the grid's time arithmetic would come near overflow, and no real job waits that long.
    public var longestDuration: Duration = .seconds(366 * 86_400) {
        willSet { precondition(newValue > .zero && newValue <= InputLimits.durationCeiling, "longestDuration must be in (0, 100 years]") }
    }
    /// The deepest a function input (or any other JSON-shaped value) may nest (default 64). The JSON codecs
    /// and the journal refuse anything deeper than ``Value/maximumDepth`` whatever this says, so an accepted
    /// value always reads back.
    public var nestingDepth: Int = 64 {
        willSet { precondition((1...Value.maximumDepth).contains(newValue), "nestingDepth must be in 1...\(Value.maximumDepth)") }
    }
    /// The most alias references (`*name`) one YAML document may use (default 10,000: one per task of a large
    /// generated workflow that shares its script through an anchor).
    public var yamlAliases: Int = 10_000 {
        willSet { precondition(newValue >= 0, "yamlAliases must be at least 0") }
    }
    /// The most nodes a YAML document may have once its aliases are expanded (default 500,000): what a 4 MiB
    /// document without aliases can about hold, and what stops an alias bomb before it is expanded.
    public var yamlNodes: Int = 500_000 {
        willSet { precondition(newValue >= 1, "yamlNodes must be at least 1") }
    }
    /// The most task instances one job may reach, through replicates and loops included (default 1,000,000).
    public var instancesPerJob: Int = 1_000_000 {
        willSet { precondition(newValue >= 1, "instancesPerJob must be at least 1") }
    }
    /// The most runs one replicate may make (default 100,000).
    public var replicateRuns: Int = 100_000 {
        willSet { precondition(newValue >= 1, "replicateRuns must be at least 1") }
    }
    /// The most iterations one loop may run (default 10,000); the iteration that would pass it fails its task.
    public var loopIterations: Int = 10_000 {
        willSet { precondition(newValue >= 1, "loopIterations must be at least 1") }
    }
    /// The most files a task's `outputs` may match (default 10,000); past it the task fails.
    public var outputMatches: Int = 10_000 {
        willSet { precondition(newValue >= 1, "outputMatches must be at least 1") }
    }
    /// The most directory entries matching a task's `outputs` may read (default 100,000); past it the task fails.
    public var outputEntries: Int = 100_000 {
        willSet { precondition(newValue >= 1, "outputEntries must be at least 1") }
    }
    /// The most bytes of output (stdout and stderr together) kept in a task execution's logs (default 64 MiB); past it
    /// a marker line is written, the rest is dropped, and the task fails when it ends, saying so.
    public var logQuota: Int64 = 64 << 20 {
        willSet { precondition(newValue >= 1024, "logQuota must be at least 1 KiB") }
    }
    /// The largest result a subprocess task may write to its result file (default 16 MiB); a larger one fails the
    /// task instead of being read.
    public var resultBytes: Int = 16 << 20 {
        willSet { precondition(newValue >= 1, "resultBytes must be at least 1") }
    }
    /// The longest job name, task name and variable name, in characters (default 255).
    public var nameLength: Int = 255 {
        willSet { precondition((2...4096).contains(newValue), "nameLength must be in 2...4096") }
    }

    /// The limits with their defaults.
    public init() {}

    /// The defaults.
    public static let `default` = InputLimits()

    /// The most executions a task may be given (`maxNumberOfExecution`): more would only delay the error policy.
    public static let executions = 1_000

    /// The largest ``longestDuration`` accepted: 100 years, far inside what `Duration` and the clocks can add.
    public static let durationCeiling: Duration = .seconds(100 * 366 * 86_400)

    /// Why `name` cannot name a job, or `nil` when it can: empty, too long, or holding a control character
    /// (a NUL would cut the name short in a path or a C string; a newline would forge log lines).
    func jobNameFlaw(_ name: String) -> String? {
        if name.utf8.count <= nameLength, name.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) { return nil }
        if name.count > nameLength { return "is longer than \(nameLength) characters (limit nameLength)" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "contains a control character" }
        return nil
    }
}

extension Value {
    /// The deepest any JSON-shaped value may nest, in the decoders of the REST API, the agents' wire and the
    /// journal (Foundation's own decoder stops at 512): submissions are held to ``InputLimits/nestingDepth``, below it.
    public static let maximumDepth = 128

    /// How deep the value nests (a scalar is 0, `[1]` is 1), counting no further than `limit + 1`.
    public func depth(upTo limit: Int) -> Int {
        var deepest = 0
        var stack: [(Value, Int)] = [(self, 0)]
        while let (value, level) = stack.popLast() {
            switch value {
            case .array(let items):
                guard level + 1 <= limit else { return limit + 1 }
                deepest = max(deepest, level + 1)
                for item in items { stack.append((item, level + 1)) }
            case .object(let members):
                guard level + 1 <= limit else { return limit + 1 }
                deepest = max(deepest, level + 1)
                for member in members.values { stack.append((member, level + 1)) }
            default:
                continue
            }
        }
        return deepest
    }
}
