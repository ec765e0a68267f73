import Synchronization

/// What an in-process function sees: its input, its parents' results and its variables (writable:
/// the changes reach its children).
public struct TaskContext: Sendable {
    /// The job.
    public let job: JobID
    /// `T#iteration*replication`.
    public let task: TaskInstanceName
    /// The node running it.
    public let node: NodeID
    /// The `input` of the task definition.
    public let input: Value
    /// The parents' results, in dependency order.
    public let parentResults: [(name: TaskInstanceName, value: Value)]
    /// The task's variables; what the function sets here propagates to its children.
    public var variables: [String: String]

    /// The loop iteration.
    public var iteration: Int { task.iteration }
    /// The replica index.
    public var replication: Int { task.replication }
    /// Just the parents' result values.
    public var parentValues: [Value] { parentResults.map(\.value) }
}

/// In-process Swift functions that tasks call by name (`function: tiles.mean` in YAML).
///
/// ```swift
/// grid.functions.register("tiles.mean") { (tile: Tile, context: inout TaskContext) in
///     try await mean(of: tile)
/// }
/// ```
public final class FunctionRegistry: Sendable {
    /// A registered function.
    public typealias Function = @Sendable (inout TaskContext) async throws -> Value

    private let functions = Mutex<[String: Function]>([:])
    /// Bumped by every registration, so that a lookup cached by a node knows when it is stale.
    private let registrations = Atomic<UInt64>(0)

    /// Makes an empty registry.
    public init() {}

    /// Registers a function that works on ``Value``s directly (the fastest path: nothing is encoded).
    public func register(_ name: String, _ function: @escaping Function) {
        functions.withLock { functions in
            functions[name] = function
            registrations.add(1, ordering: .releasing)
        }
    }

    /// How many registrations were made so far (a cached lookup is valid while this stays the same).
    var generation: UInt64 { registrations.load(ordering: .acquiring) }

    /// Registers a function with Codable input and output; the task's `input` is decoded into `In`.
    public func register<In: Decodable & Sendable, Out: Encodable & Sendable>(
        _ name: String, _ function: @escaping @Sendable (In, inout TaskContext) async throws -> Out
    ) {
        register(name) { (context: inout TaskContext) async throws -> Value in
            let input = try context.input.decode(In.self)
            let output = try await function(input, &context)
            return try Value(encoding: output)
        }
    }

    /// The function registered as `name`.
    public func function(named name: String) -> Function? {
        functions.withLock { $0[name] }
    }

    /// Every registered name, sorted.
    public var names: [String] { functions.withLock { $0.keys.sorted() } }
}
