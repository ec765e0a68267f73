import Cluster

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

    enum Tag: UInt8 {
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
            writeOptional(resources.joinToken, into: &writer)
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
}
