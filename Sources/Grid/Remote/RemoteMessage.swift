import Cluster

/// What an agent offers: announced once per link, right after the handshake.
public struct AgentResources: Sendable, Hashable, Codable {
    /// The machine's host name.
    public var hostname: String
    /// The agent's cluster address (`host:port`), which names the host in the grid.
    public var address: String
    /// The agent's process id.
    public var pid: Int
    /// Nodes it runs (one per worker).
    public var workers: Int
    /// Cores of the machine.
    public var cores: Int
    /// Physical memory, in bytes.
    public var memoryBytes: UInt64
    /// Cores per NUMA node, from the Actors topology.
    public var numaCores: [Int]
    /// Labels tasks may select.
    public var labels: Set<String>
    /// When set, only tasks with this token run there.
    public var token: String?

    /// Describes an agent.
    public init(hostname: String, address: String, pid: Int, workers: Int, cores: Int, memoryBytes: UInt64, numaCores: [Int],
                labels: Set<String>, token: String?) {
        self.hostname = hostname
        self.address = address
        self.pid = pid
        self.workers = workers
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.numaCores = numaCores
        self.labels = labels
        self.token = token
    }
}

/// The messages of a link between the scheduler and an agent. A frame carries a batch of them.
enum RemoteMessage: Sendable {
    // Agent to scheduler.
    /// The agent's resources (first message of the agent).
    case announce(AgentResources)
    /// Starts, ends and drops of executions.
    case reports([NodeReport])
    /// New bytes of a task's stdout (`stream` 1) or stderr (2).
    case log(job: JobID, task: TaskInstanceName, stream: UInt8, bytes: [UInt8])

    // Scheduler to agent.
    /// The grid's identifiers of the agent's nodes, one per worker (first message of the scheduler), and, on a
    /// multi-user grid, the accounts and limits its subprocess tasks must run under (an agent that cannot isolate
    /// them, not being root, closes the link rather than run them as its own account).
    case configure(nodes: [NodeID], isolation: AgentIsolation? = nil)
    /// Executions to queue on the agent's nodes (each names its node).
    case assign([TaskAssignment])
    /// Stop one execution: drop it from its queue (reported dropped) or kill it.
    case abort(job: JobID, index: Int, attempt: Int)
    /// Give back up to `max` queued executions (reported dropped), newest first: another host is idle.
    case release(max: Int)
    /// Allow or forbid a node to take work from its siblings (locks).
    case maySteal(node: NodeID, Bool)
}

/// Why a frame of the remote protocol was refused.
public enum RemoteWireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes do not decode.
    case malformed(String)
    /// Values nest deeper than the limit.
    case tooDeep

    public var description: String {
        switch self {
        case .malformed(let why): "malformed remote frame: \(why)"
        case .tooDeep: "malformed remote frame: values nest deeper than \(RemoteWire.maxDepth) levels"
        }
    }
}

/// The binary encoding of ``RemoteMessage`` batches: `[count][message]…`, each message a type byte and its
/// fields, big-endian, strings as length and UTF-8. Decoding checks every length and count against the bytes
/// left, never traps, and fails with ``RemoteWireError``.
enum RemoteWire {
    /// The deepest a value may nest: the same bound as every JSON decoder's.
    static let maxDepth = Value.maximumDepth
    /// The version of this protocol, the first field of an agent's announce: a server refuses an agent that speaks
    /// another (the link closes and the server's log says why). 2: a finished report carries the node's measure of
    /// how long the execution ran. 3: an assignment carries its job's owner.
    static let protocolVersion: UInt8 = 4

    private enum Tag: UInt8 {
        case announce = 1, reports, log, configure, assign, abort, release, maySteal
    }

    // MARK: Encoding

    /// Encodes `messages` into frames no larger than `limit` bytes each (a single message larger than the limit
    /// gets a frame of its own; the sender refuses it).
    static func encode(_ messages: [RemoteMessage], limit: Int = Link.maxPayloadBytes) -> [[UInt8]] {
        var frames = FrameBuilder(limit: limit)
        for message in messages {
            // Large batches are split by element so a frame stays under the limit.
            switch message {
            case .assign(let batch) where batch.count > 1:
                for chunk in chunks(batch, limit: limit, size: { var w = WireWriter(); write($0, into: &w); return w.bytes.count }) {
                    frames.append(.assign(chunk))
                }
            case .reports(let batch) where batch.count > 1:
                for chunk in chunks(batch, limit: limit, size: { var w = WireWriter(); write($0, into: &w); return w.bytes.count }) {
                    frames.append(.reports(chunk))
                }
            default:
                frames.append(message)
            }
        }
        return frames.finish()
    }

    /// Packs encoded messages into frames of at most `limit` bytes: `[count][message]…`.
    private struct FrameBuilder {
        let limit: Int
        var frames: [[UInt8]] = []
        var writer = WireWriter(capacity: 4096)
        var count: UInt32 = 0

        init(limit: Int) {
            self.limit = limit
            writer.write(UInt32(0))
        }

        mutating func append(_ message: RemoteMessage) {
            var one = WireWriter(capacity: 256)
            RemoteWire.write(message, into: &one)
            if writer.bytes.count + one.bytes.count > limit && count > 0 { flush() }
            writer.write(bytes: one.bytes)
            count += 1
        }

        mutating func flush() {
            guard count > 0 else { return }
            var bytes = writer.bytes
            withUnsafeBytes(of: count.bigEndian) { raw in
                for index in 0..<4 { bytes[index] = raw[index] }
            }
            frames.append(bytes)
            writer = WireWriter(capacity: 4096)
            writer.write(UInt32(0))
            count = 0
        }

        mutating func finish() -> [[UInt8]] {
            flush()
            return frames
        }
    }

    /// Splits a batch into runs whose encoded size stays under about half the limit.
    private static func chunks<T>(_ batch: [T], limit: Int, size: (T) -> Int) -> [[T]] {
        // Sizing every element would double the cost: measure a sample and split by count.
        let sample = batch.prefix(16)
        let average = max(1, sample.reduce(0) { $0 + size($1) } / max(1, sample.count))
        let perChunk = max(1, (limit / 2) / average)
        guard batch.count > perChunk else { return [batch] }
        return stride(from: 0, to: batch.count, by: perChunk).map { Array(batch[$0..<min($0 + perChunk, batch.count)]) }
    }

    static func write(_ message: RemoteMessage, into writer: inout WireWriter) {
        switch message {
        case .announce(let resources):
            writer.write(Tag.announce.rawValue)
            writer.write(protocolVersion)
            writer.write(string: resources.hostname)
            writer.write(string: resources.address)
            writer.write(Int64(resources.pid))
            writer.write(Int64(resources.workers))
            writer.write(Int64(resources.cores))
            writer.write(resources.memoryBytes)
            writer.write(UInt32(resources.numaCores.count))
            for cores in resources.numaCores { writer.write(Int64(cores)) }
            writeStrings(resources.labels.sorted(), into: &writer)
            writeOptional(resources.token, into: &writer)
        case .reports(let reports):
            writer.write(Tag.reports.rawValue)
            writer.write(UInt32(reports.count))
            for report in reports { write(report, into: &writer) }
        case .log(let job, let task, let stream, let bytes):
            writer.write(Tag.log.rawValue)
            writer.write(job.rawValue)
            write(task, into: &writer)
            writer.write(stream)
            writer.write(UInt32(bytes.count))
            writer.write(bytes: bytes)
        case .configure(let nodes, let isolation):
            writer.write(Tag.configure.rawValue)
            writer.write(UInt32(nodes.count))
            for node in nodes { writer.write(Int64(node.rawValue)) }
            guard let isolation else {
                writer.write(UInt8(0))
                break
            }
            writer.write(UInt8(1))
            writer.write(UInt32(isolation.accounts.count))
            for (owner, account) in isolation.accounts.sorted(by: { $0.key < $1.key }) {
                writer.write(string: owner)
                writer.write(string: account.name)
                writer.write(account.uid)
                writer.write(account.gid)
                writer.write(UInt32(account.groups.count))
                for group in account.groups { writer.write(group) }
            }
            let resources = isolation.resources
            for limit in [resources.processes, resources.openFiles, resources.fileSize, resources.addressSpace, resources.memory, resources.processesPerTask] {
                writer.write(limit ?? 0)
            }
        case .assign(let batch):
            writer.write(Tag.assign.rawValue)
            writer.write(UInt32(batch.count))
            for assignment in batch { write(assignment, into: &writer) }
        case .abort(let job, let index, let attempt):
            writer.write(Tag.abort.rawValue)
            writer.write(job.rawValue)
            writer.write(Int64(index))
            writer.write(Int64(attempt))
        case .release(let max):
            writer.write(Tag.release.rawValue)
            writer.write(Int64(max))
        case .maySteal(let node, let allowed):
            writer.write(Tag.maySteal.rawValue)
            writer.write(Int64(node.rawValue))
            writer.write(UInt8(allowed ? 1 : 0))
        }
    }

    static func write(_ report: NodeReport, into writer: inout WireWriter) {
        switch report {
        case .started(let job, let index, let attempt, let node):
            writer.write(UInt8(1))
            writer.write(job.rawValue)
            writer.write(Int64(index))
            writer.write(Int64(attempt))
            writer.write(Int64(node.rawValue))
        case .finished(let job, let index, let attempt, let node, let assignedNode, let outcome, let ran):
            writer.write(UInt8(2))
            writer.write(job.rawValue)
            writer.write(Int64(index))
            writer.write(Int64(attempt))
            writer.write(Int64(node.rawValue))
            writer.write(Int64(assignedNode.rawValue))
            write(outcome, into: &writer)
            writer.write(ran)
        case .dropped(let job, let index, let attempt, let assignedNode):
            writer.write(UInt8(3))
            writer.write(job.rawValue)
            writer.write(Int64(index))
            writer.write(Int64(attempt))
            writer.write(Int64(assignedNode.rawValue))
        }
    }

    static func write(_ outcome: TaskOutcome, into writer: inout WireWriter) {
        switch outcome {
        case .success(let result, let variables):
            writer.write(UInt8(1))
            write(result, into: &writer)
            writeOptional(variables, into: &writer)
        case .failure(let message):
            writer.write(UInt8(2))
            writer.write(string: message)
        case .alreadyDone(let result, let variables, let reason):
            writer.write(UInt8(3))
            write(result, into: &writer)
            writeOptional(variables, into: &writer)
            writer.write(string: reason)
        }
    }

    static func write(_ assignment: TaskAssignment, into writer: inout WireWriter) {
        writer.write(assignment.job.rawValue)
        writer.write(string: assignment.jobName)
        writer.write(string: assignment.owner)
        writer.write(Int64(assignment.index))
        writer.write(Int64(assignment.assignedNode.rawValue))
        writer.write(Int64(assignment.attempt))
        write(assignment.name, into: &writer)
        switch assignment.executable {
        case .function(let name, let input):
            writer.write(UInt8(1))
            writer.write(string: name)
            write(input, into: &writer)
        case .script(let script):
            writer.write(UInt8(2))
            writer.write(string: script.language)
            switch script.source {
            case .code(let code):
                writer.write(UInt8(1))
                writer.write(string: code)
            case .file(let path):
                writer.write(UInt8(2))
                writer.write(string: path)
            }
            writeStrings(script.arguments, into: &writer)
        case .command(let argv):
            writer.write(UInt8(3))
            writeStrings(argv, into: &writer)
        }
        write(assignment.variables, into: &writer)
        writer.write(UInt32(assignment.parentResults.count))
        for parent in assignment.parentResults {
            write(parent.name, into: &writer)
            write(parent.value, into: &writer)
        }
        if let walltime = assignment.walltime {
            writer.write(UInt8(1))
            writer.write(walltime.nanoseconds)
        } else {
            writer.write(UInt8(0))
        }
        writeStrings(assignment.outputs, into: &writer)
        if let fingerprint = assignment.fingerprint {
            writer.write(UInt8(1))
            writer.write(fingerprint)
        } else {
            writer.write(UInt8(0))
        }
        writeStrings(assignment.selection.labels.sorted(), into: &writer)
        writeOptional(assignment.selection.token, into: &writer)
        writer.write(UInt32(assignment.excludedNodes.count))
        for node in assignment.excludedNodes.sorted() { writer.write(Int64(node.rawValue)) }
        writeOptional(assignment.workingDirectory, into: &writer)
    }

    static func write(_ name: TaskInstanceName, into writer: inout WireWriter) {
        writer.write(string: name.task)
        writer.write(Int64(name.iteration))
        writer.write(Int64(name.replication))
    }

    static func write(_ value: Value, into writer: inout WireWriter) {
        switch value {
        case .null: writer.write(UInt8(0))
        case .bool(let flag): writer.write(UInt8(flag ? 2 : 1))
        case .int(let number):
            writer.write(UInt8(3))
            writer.write(Int64(number))
        case .double(let number):
            writer.write(UInt8(4))
            writer.write(number.bitPattern)
        case .string(let text):
            writer.write(UInt8(5))
            writer.write(string: text)
        case .array(let items):
            writer.write(UInt8(6))
            writer.write(UInt32(items.count))
            for item in items { write(item, into: &writer) }
        case .object(let members):
            writer.write(UInt8(7))
            writer.write(UInt32(members.count))
            for key in members.keys.sorted() {
                writer.write(string: key)
                write(members[key] ?? .null, into: &writer)
            }
        }
    }

    static func write(_ dictionary: [String: String], into writer: inout WireWriter) {
        writer.write(UInt32(dictionary.count))
        for key in dictionary.keys.sorted() {
            writer.write(string: key)
            writer.write(string: dictionary[key] ?? "")
        }
    }

    static func writeOptional(_ dictionary: [String: String]?, into writer: inout WireWriter) {
        guard let dictionary else { return writer.write(UInt8(0)) }
        writer.write(UInt8(1))
        write(dictionary, into: &writer)
    }

    static func writeStrings(_ strings: [String], into writer: inout WireWriter) {
        writer.write(UInt32(strings.count))
        for string in strings { writer.write(string: string) }
    }

    static func writeOptional(_ string: String?, into writer: inout WireWriter) {
        guard let string else { return writer.write(UInt8(0)) }
        writer.write(UInt8(1))
        writer.write(string: string)
    }

    // MARK: Decoding

    /// Decodes a frame's messages.
    static func decode(_ bytes: [UInt8]) throws(RemoteWireError) -> [RemoteMessage] {
        let decoded = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Result<[RemoteMessage], WireError> in
            var reader = WireReader(raw)
            do throws(WireError) {
                let count = try reader.readCount("messages")
                var messages: [RemoteMessage] = []
                messages.reserveCapacity(count)
                for _ in 0..<count { messages.append(try readMessage(&reader)) }
                try reader.finish()
                return .success(messages)
            } catch {
                return .failure(error)
            }
        }
        switch decoded {
        case .success(let messages): return messages
        case .failure(.invalidValue(let field, _)) where field == "depth": throw .tooDeep
        case .failure(.invalidValue(let field, _)) where field == "protocol":
            throw .malformed("the agent speaks another version of the grid protocol than this server (\(protocolVersion)): run the same tessera build on both")
        case .failure(let error): throw .malformed("\(error)")
        }
    }

    private static func readMessage(_ reader: inout WireReader) throws(WireError) -> RemoteMessage {
        let raw = try reader.readByte()
        guard let tag = Tag(rawValue: raw) else { throw .invalidValue(field: "message.type", value: UInt64(raw)) }
        switch tag {
        case .announce:
            let version = try reader.readByte()
            guard version == protocolVersion else { throw .invalidValue(field: "protocol", value: UInt64(version)) }
            let hostname = try reader.readString()
            let address = try reader.readString()
            let pid = try readInt(&reader, "pid")
            let workers = try readInt(&reader, "workers")
            let cores = try readInt(&reader, "cores")
            let memory = try reader.read(UInt64.self)
            let numaCount = try reader.readCount("numa", minimumBytes: 8)
            var numa: [Int] = []
            for _ in 0..<numaCount { numa.append(try readInt(&reader, "numa.cores")) }
            let labels = Set(try readStrings(&reader))
            let token = try readOptionalString(&reader)
            guard workers >= 1, workers <= 4096 else { throw .invalidValue(field: "workers", value: UInt64(truncatingIfNeeded: workers)) }
            return .announce(AgentResources(
                hostname: hostname, address: address, pid: pid, workers: workers, cores: cores, memoryBytes: memory, numaCores: numa,
                labels: labels, token: token))
        case .reports:
            let count = try reader.readCount("reports", minimumBytes: 33)
            var reports: [NodeReport] = []
            reports.reserveCapacity(count)
            for _ in 0..<count { reports.append(try readReport(&reader)) }
            return .reports(reports)
        case .log:
            let job = JobID(try reader.read(UInt64.self))
            let task = try readName(&reader)
            let stream = try reader.readByte()
            guard stream == 1 || stream == 2 else { throw .invalidValue(field: "log.stream", value: UInt64(stream)) }
            let count = try reader.readCount("log.bytes")
            return .log(job: job, task: task, stream: stream, bytes: try reader.readBytes(count))
        case .configure:
            let count = try reader.readCount("nodes", minimumBytes: 8)
            var nodes: [NodeID] = []
            for _ in 0..<count { nodes.append(NodeID(try readInt(&reader, "node"))) }
            switch try reader.readByte() {
            case 0:
                return .configure(nodes: nodes)
            case 1:
                let accountCount = try reader.readCount("accounts", minimumBytes: 16)
                var accounts: [String: UnixAccount] = [:]
                for _ in 0..<accountCount {
                    let owner = try reader.readString()
                    let name = try reader.readString()
                    let uid = try reader.read(UInt32.self)
                    let gid = try reader.read(UInt32.self)
                    // uid 0 is never an isolated account: a damaged or forged frame must not make tasks root.
                    guard uid != 0 else { throw .invalidValue(field: "account.uid", value: 0) }
                    let groupCount = try reader.readCount("account.groups", minimumBytes: 4)
                    var groups: [UInt32] = []
                    for _ in 0..<groupCount { groups.append(try reader.read(UInt32.self)) }
                    accounts[owner] = UnixAccount(name: name, uid: uid, gid: gid, groups: groups)
                }
                var resources = ResourceLimits()
                let limits = try (0..<6).map { _ throws(WireError) in try reader.read(UInt64.self) }.map { $0 == 0 ? nil : $0 }
                (resources.processes, resources.openFiles, resources.fileSize, resources.addressSpace) = (limits[0], limits[1], limits[2], limits[3])
                (resources.memory, resources.processesPerTask) = (limits[4], limits[5])
                return .configure(nodes: nodes, isolation: AgentIsolation(accounts: accounts, resources: resources))
            case let flag:
                throw .invalidValue(field: "configure.isolation", value: UInt64(flag))
            }
        case .assign:
            let count = try reader.readCount("assignments", minimumBytes: 40)
            var batch: [TaskAssignment] = []
            batch.reserveCapacity(count)
            for _ in 0..<count { batch.append(try readAssignment(&reader)) }
            return .assign(batch)
        case .abort:
            let job = JobID(try reader.read(UInt64.self))
            return .abort(job: job, index: try readInt(&reader, "index"), attempt: try readInt(&reader, "attempt"))
        case .release:
            return .release(max: try readInt(&reader, "max"))
        case .maySteal:
            let node = NodeID(try readInt(&reader, "node"))
            return .maySteal(node: node, try reader.readByte() != 0)
        }
    }

    private static func readInt(_ reader: inout WireReader, _ field: String) throws(WireError) -> Int {
        Int(try reader.read(Int64.self))
    }

    private static func readIndex(_ reader: inout WireReader, _ field: String) throws(WireError) -> Int {
        let value = try reader.read(Int64.self)
        guard value >= 0 else { throw .invalidValue(field: field, value: UInt64(bitPattern: value)) }
        return Int(value)
    }

    private static func readReport(_ reader: inout WireReader) throws(WireError) -> NodeReport {
        let kind = try reader.readByte()
        let job = JobID(try reader.read(UInt64.self))
        let index = try readIndex(&reader, "index")
        let attempt = try readInt(&reader, "attempt")
        switch kind {
        case 1:
            return .started(job: job, index: index, attempt: attempt, node: NodeID(try readInt(&reader, "node")))
        case 2:
            let node = NodeID(try readInt(&reader, "node"))
            let assigned = NodeID(try readInt(&reader, "assignedNode"))
            let outcome = try readOutcome(&reader)
            let ran = try reader.read(Int64.self)
            guard ran >= 0, ran <= JobCore.longestRunNanoseconds else { throw .invalidValue(field: "ran", value: UInt64(bitPattern: ran)) }
            return .finished(job: job, index: index, attempt: attempt, node: node, assignedNode: assigned, outcome: outcome, ran: ran)
        case 3:
            return .dropped(job: job, index: index, attempt: attempt, assignedNode: NodeID(try readInt(&reader, "assignedNode")))
        default:
            throw .invalidValue(field: "report.kind", value: UInt64(kind))
        }
    }

    private static func readOutcome(_ reader: inout WireReader) throws(WireError) -> TaskOutcome {
        let kind = try reader.readByte()
        switch kind {
        case 1:
            let result = try readValue(&reader, depth: 0)
            return .success(result: result, variables: try readOptionalDictionary(&reader))
        case 2:
            return .failure(message: try reader.readString())
        case 3:
            let result = try readValue(&reader, depth: 0)
            let variables = try readOptionalDictionary(&reader)
            return .alreadyDone(result: result, variables: variables, reason: try reader.readString())
        default:
            throw .invalidValue(field: "outcome.kind", value: UInt64(kind))
        }
    }

    private static func readAssignment(_ reader: inout WireReader) throws(WireError) -> TaskAssignment {
        let job = JobID(try reader.read(UInt64.self))
        let jobName = try reader.readString()
        let owner = try reader.readString()
        let index = try readIndex(&reader, "index")
        let node = NodeID(try readInt(&reader, "assignedNode"))
        let attempt = try readInt(&reader, "attempt")
        let name = try readName(&reader)
        let executable: Executable
        let kind = try reader.readByte()
        switch kind {
        case 1:
            let function = try reader.readString()
            executable = .function(function, input: try readValue(&reader, depth: 0))
        case 2:
            let language = try reader.readString()
            let sourceKind = try reader.readByte()
            let text = try reader.readString()
            let source: Script.Source
            switch sourceKind {
            case 1: source = .code(text)
            case 2: source = .file(text)
            default: throw .invalidValue(field: "script.source", value: UInt64(sourceKind))
            }
            executable = .script(Script(language: language, source: source, arguments: try readStrings(&reader)))
        case 3:
            executable = .command(try readStrings(&reader))
        default:
            throw .invalidValue(field: "executable.kind", value: UInt64(kind))
        }
        let variables = try readDictionary(&reader)
        let parentCount = try reader.readCount("parents", minimumBytes: 21)
        var parents: [(name: TaskInstanceName, value: Value)] = []
        parents.reserveCapacity(parentCount)
        for _ in 0..<parentCount {
            let parent = try readName(&reader)
            parents.append((parent, try readValue(&reader, depth: 0)))
        }
        let walltime: Duration? = try reader.readByte() == 0 ? nil : .nanoseconds(try reader.read(Int64.self))
        let outputs = try readStrings(&reader)
        let fingerprint: UInt64? = try reader.readByte() == 0 ? nil : try reader.read(UInt64.self)
        let labels = Set(try readStrings(&reader))
        let token = try readOptionalString(&reader)
        let excludedCount = try reader.readCount("excluded", minimumBytes: 8)
        var excluded = Set<NodeID>()
        for _ in 0..<excludedCount { excluded.insert(NodeID(try readInt(&reader, "excluded"))) }
        let directory = try readOptionalString(&reader)
        return TaskAssignment(
            job: job, jobName: jobName, owner: owner, index: index, assignedNode: node, attempt: attempt, name: name, executable: executable,
            variables: variables, parentResults: parents, walltime: walltime, outputs: outputs, fingerprint: fingerprint,
            selection: Selection(labels: labels, token: token), excludedNodes: excluded, workingDirectory: directory)
    }

    private static func readName(_ reader: inout WireReader) throws(WireError) -> TaskInstanceName {
        let task = try reader.readString()
        return TaskInstanceName(task: task, iteration: try readIndex(&reader, "iteration"), replication: try readIndex(&reader, "replication"))
    }

    static func readValue(_ reader: inout WireReader, depth: Int) throws(WireError) -> Value {
        guard depth < maxDepth else { throw .invalidValue(field: "depth", value: UInt64(maxDepth)) }
        let kind = try reader.readByte()
        switch kind {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(Int(try reader.read(Int64.self)))
        case 4: return .double(Double(bitPattern: try reader.read(UInt64.self)))
        case 5: return .string(try reader.readString())
        case 6:
            let count = try reader.readCount("array")
            var items: [Value] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try readValue(&reader, depth: depth + 1)) }
            return .array(items)
        case 7:
            let count = try reader.readCount("object", minimumBytes: 5)
            var members: [String: Value] = [:]
            members.reserveCapacity(count)
            for _ in 0..<count {
                let key = try reader.readString()
                members[key] = try readValue(&reader, depth: depth + 1)
            }
            return .object(members)
        default:
            throw .invalidValue(field: "value.kind", value: UInt64(kind))
        }
    }

    private static func readDictionary(_ reader: inout WireReader) throws(WireError) -> [String: String] {
        let count = try reader.readCount("variables", minimumBytes: 8)
        var dictionary: [String: String] = [:]
        dictionary.reserveCapacity(count)
        for _ in 0..<count {
            let key = try reader.readString()
            dictionary[key] = try reader.readString()
        }
        return dictionary
    }

    private static func readOptionalDictionary(_ reader: inout WireReader) throws(WireError) -> [String: String]? {
        try reader.readByte() == 0 ? nil : try readDictionary(&reader)
    }

    private static func readStrings(_ reader: inout WireReader) throws(WireError) -> [String] {
        let count = try reader.readCount("strings", minimumBytes: 4)
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try reader.readString()) }
        return strings
    }

    private static func readOptionalString(_ reader: inout WireReader) throws(WireError) -> String? {
        try reader.readByte() == 0 ? nil : try reader.readString()
    }
}
