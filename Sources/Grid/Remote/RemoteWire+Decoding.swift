import Cluster

/// Decoding: every length and count is checked against the bytes left; nothing traps.
extension RemoteWire {
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
            let joinToken = try readOptionalString(&reader)
            guard workers >= 1, workers <= 4096 else { throw .invalidValue(field: "workers", value: UInt64(truncatingIfNeeded: workers)) }
            return .announce(AgentResources(
                hostname: hostname, address: address, pid: pid, workers: workers, cores: cores, memoryBytes: memory, numaCores: numa,
                labels: labels, token: token, joinToken: joinToken))
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
