/// A job's identifier; higher means submitted later.
/// It encodes as its plain number (through `RawRepresentable`'s `Codable`).
public struct JobID: Hashable, Sendable, Comparable, Codable, RawRepresentable, CustomStringConvertible {
    /// The number, unique within a grid.
    public let rawValue: UInt64
    /// Wraps a number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }
    /// The number as text, such as `42`.
    public var description: String { String(rawValue) }
}

/// A node's identifier inside a grid.
/// It encodes as its plain number (through `RawRepresentable`'s `Codable`).
public struct NodeID: Hashable, Sendable, Comparable, Codable, RawRepresentable, CustomStringConvertible {
    /// The number, unique within a grid.
    public let rawValue: Int
    /// Wraps a number.
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    /// Wraps a number.
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `node-3`.
    public var description: String { "node-\(rawValue)" }
}

/// The name of one task instance: `name[#iteration][*replication]`, as in ProActive.
///
/// The original instance keeps the bare name (iteration 0, replication 0); `T#1` is the second
/// iteration of a loop, `T*2` the third replica, `T#1*2` both.
public struct TaskInstanceName: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The task's name in the workflow.
    public var task: String
    /// The loop iteration, from 0.
    public var iteration: Int
    /// The replica index, from 0.
    public var replication: Int

    /// Names an instance.
    public init(task: String, iteration: Int = 0, replication: Int = 0) {
        self.task = task
        self.iteration = iteration
        self.replication = replication
    }

    /// Parses `T`, `T#1`, `T*2` or `T#1*2`; `nil` when a suffix is not a number.
    public init?(parsing text: String) {
        var base = Substring(text)
        var replication = 0
        var iteration = 0
        if let star = base.lastIndex(of: "*") {
            guard let value = Int(base[base.index(after: star)...]), value >= 0 else { return nil }
            replication = value
            base = base[..<star]
        }
        if let hash = base.lastIndex(of: "#") {
            guard let value = Int(base[base.index(after: hash)...]), value >= 0 else { return nil }
            iteration = value
            base = base[..<hash]
        }
        guard !base.isEmpty else { return nil }
        self.init(task: String(base), iteration: iteration, replication: replication)
    }

    /// `T`, `T#1`, `T*2` or `T#1*2`.
    public var description: String {
        var text = task
        if iteration > 0 { text += "#\(iteration)" }
        if replication > 0 { text += "*\(replication)" }
        return text
    }

    public static func < (lhs: TaskInstanceName, rhs: TaskInstanceName) -> Bool {
        (lhs.task, lhs.iteration, lhs.replication) < (rhs.task, rhs.iteration, rhs.replication)
    }
}

/// A task instance name encodes as its text (`"tile#1*2"`): compact in the journal and in JSON.
extension TaskInstanceName {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let name = TaskInstanceName(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a task instance name")
        }
        self = name
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
