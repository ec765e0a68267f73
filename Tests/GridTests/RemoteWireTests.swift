import Cluster
import Foundation
import Testing
import TesseraTestSupport

@testable import Grid

/// The binary protocol between the scheduler and its agents: every message round-trips, and bad bytes of any
/// kind get a typed error (never a trap).
@Suite("Remote protocol")
struct RemoteWireTests {
    static let assignment = TaskAssignment(
        job: JobID(7), jobName: "tiles", index: 12, assignedNode: NodeID(1003), attempt: 2,
        name: TaskInstanceName(task: "tile", iteration: 1, replication: 5),
        executable: .function("tiling.tile", input: .object(["side": .int(64), "scale": .double(0.5), "tags": .array([.string("é"), .bool(true), .null])])),
        variables: ["OUT": "/data/out", "TILES": "4"],
        parentResults: [(TaskInstanceName(task: "root"), .object(["seed": .int(-3)]))],
        walltime: .seconds(90), outputs: ["out/tile-5.tif"], fingerprint: 0xDEAD_BEEF_0123_4567,
        selection: Selection(labels: ["gpu=no", "zone=a"], token: "secret"), excludedNodes: [NodeID(1000), NodeID(4)],
        workingDirectory: "/work")

    static let limits: ResourceLimits = {
        var limits = ResourceLimits()
        limits.addressSpace = 8 << 30
        limits.memory = 2 << 30
        limits.processesPerTask = 64
        return limits
    }()

    static let messages: [RemoteMessage] = [
        .announce(AgentResources(
            hostname: "vm-3", address: "10.0.0.3:7946", pid: 4242, workers: 30, cores: 32, memoryBytes: 128 << 30, numaCores: [16, 16],
            labels: ["zone=a"], token: nil)),
        .configure(nodes: [NodeID(1000), NodeID(1001)]),
        .configure(nodes: [NodeID(7)], isolation: AgentIsolation(
            accounts: ["alice": UnixAccount(name: "alice", uid: 1001, gid: 1001, groups: [1001, 27]), "bob": UnixAccount(name: "uid-2000000000", uid: 2_000_000_000, gid: 2_000_000_000)],
            resources: Self.limits)),
        .assign([assignment, {
            var script = assignment
            script.executable = .script(Script(language: "bash", source: .code("echo ${X}"), arguments: ["a", "b"]))
            script.walltime = nil
            script.fingerprint = nil
            script.workingDirectory = nil
            script.selection = Selection()
            return script
        }(), {
            var command = assignment
            command.executable = .command(["echo", "hi"])
            return command
        }()]),
        .reports([
            .started(job: JobID(7), index: 12, attempt: 2, node: NodeID(1003)),
            .finished(job: JobID(7), index: 12, attempt: 2, node: NodeID(1002), assignedNode: NodeID(1003), outcome: .success(result: .int(5), variables: ["A": "1"]), ran: 1_250_000),
            .finished(job: JobID(7), index: 13, attempt: 1, node: NodeID(1002), assignedNode: NodeID(1002), outcome: .failure(message: "exit 3"), ran: 0),
            .finished(job: JobID(7), index: 14, attempt: 1, node: NodeID(1002), assignedNode: NodeID(1002), outcome: .alreadyDone(result: .string("x"), variables: nil, reason: "same inputs"), ran: 42),
            .dropped(job: JobID(8), index: 0, attempt: 1, assignedNode: NodeID(1001)),
        ]),
        .log(job: JobID(7), task: TaskInstanceName(task: "tile", replication: 5), stream: 2, bytes: Array("warning\n".utf8)),
        .abort(job: JobID(7), index: 3, attempt: 1),
        .release(max: 64),
        .maySteal(node: NodeID(1001), false),
    ]

    /// A comparable rendering (assignments hold tuples, so messages are not Equatable).
    static func render(_ messages: [RemoteMessage]) -> String {
        messages.map { message -> String in
            var writer = WireWriter()
            RemoteWire.write(message, into: &writer)
            return writer.bytes.map { String($0) }.joined(separator: ",")
        }.joined(separator: "|")
    }

    @Test func everyMessage_roundTrips() throws {
        let frames = RemoteWire.encode(Self.messages)
        #expect(frames.count == 1)
        let decoded = try RemoteWire.decode(frames[0])
        #expect(decoded.count == Self.messages.count)
        #expect(Self.render(decoded) == Self.render(Self.messages))
        guard case .assign(let batch) = decoded[3] else {
            Issue.record("expected assignments")
            return
        }
        #expect(batch[0].name.description == "tile#1*5" && batch[0].walltime == .seconds(90) && batch[0].excludedNodes == [NodeID(1000), NodeID(4)])
        #expect(batch[0].parentResults.first?.value == .object(["seed": .int(-3)]))
        guard case .configure(_, let isolation?) = decoded[2] else {
            Issue.record("expected the accounts")
            return
        }
        #expect(isolation.accounts["alice"] == UnixAccount(name: "alice", uid: 1001, gid: 1001, groups: [1001, 27]))
        #expect(isolation.accounts["bob"]?.uid == 2_000_000_000 && isolation.resources == Self.limits)
        // uid 0 is never an isolated account, whatever a frame says.
        let forged = RemoteWire.encode([.configure(nodes: [], isolation: AgentIsolation(accounts: ["x": UnixAccount(name: "root", uid: 0, gid: 0)], resources: .init()))])
        #expect(throws: RemoteWireError.self) { _ = try RemoteWire.decode(forged[0]) }
    }

    @Test func largeBatches_areSplitIntoFramesUnderTheLimit() throws {
        let batch = Array(repeating: Self.assignment, count: 5000)
        let frames = RemoteWire.encode([.assign(batch)], limit: 64 << 10)
        #expect(frames.count > 1 && frames.allSatisfy { $0.count <= 64 << 10 })
        var total = 0
        for frame in frames {
            for case .assign(let part) in try RemoteWire.decode(frame) { total += part.count }
        }
        #expect(total == 5000)
    }

    @Test func anAnnounceOfAnotherProtocolVersion_isRefusedWithAClearError() throws {
        let announce = try #require(Self.messages.first)
        var bytes = RemoteWire.encode([announce])[0]
        // [count: 4 bytes][tag][version]…
        #expect(bytes[5] == RemoteWire.protocolVersion)
        bytes[5] = RemoteWire.protocolVersion - 1
        do {
            _ = try RemoteWire.decode(bytes)
            Issue.record("an announce of protocol \(bytes[5]) was accepted")
        } catch {
            #expect("\(error)".contains("same tessera build"), "\(error)")
        }
    }

    @Test func badBytes_getATypedError() throws {
        var random = SeededRandom.seeded("RemoteWireTests.badBytes")
        let valid = RemoteWire.encode(Self.messages)[0]
        var refused = 0
        // Every truncation.
        for length in 0..<valid.count {
            do {
                _ = try RemoteWire.decode(Array(valid.prefix(length)))
            } catch {
                refused += 1
            }
        }
        #expect(refused == valid.count, "a truncated frame never decodes")
        // Random flips and random frames: decoded or refused, never a trap.
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<(1 + random.next() % 4) { bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: random.next() | 1) }
            _ = try? RemoteWire.decode(bytes)
            let noise = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? RemoteWire.decode(noise)
        }
        // A count far larger than the bytes, and values nested past the limit.
        #expect(throws: RemoteWireError.self) { try RemoteWire.decode([0xFF, 0xFF, 0xFF, 0xFF, 1]) }
        var deep = Value.null
        for _ in 0..<(RemoteWire.maxDepth + 5) { deep = .array([deep]) }
        let nested = RemoteWire.encode([.reports([.finished(job: JobID(1), index: 0, attempt: 1, node: NodeID(1), assignedNode: NodeID(1), outcome: .success(result: deep, variables: nil), ran: 1)])])[0]
        #expect(throws: RemoteWireError.tooDeep) { try RemoteWire.decode(nested) }
        // Trailing bytes.
        #expect(throws: RemoteWireError.self) { try RemoteWire.decode(valid + [0]) }
    }
}

/// Large values between hosts go through a shared directory, checked by SHA-256.
@Suite("Large values between hosts")
struct ResultFilesTests {
    @Test func largeValues_becomeCheckedFiles_smallOnesStayInline() throws {
        let directory = try TestDirectories.make("results")
        let small = Value.object(["n": .int(1)])
        #expect(try ResultFiles.spill(small, directory: nil, what: "x") == small)
        let large = Value.array((0..<200_000).map { .string("item \($0)") })
        #expect(ResultFiles.isLarge(large) && !ResultFiles.isLarge(small))
        #expect(throws: GridError.self) { try ResultFiles.spill(large, directory: nil, what: "the result") }
        let reference = try ResultFiles.spill(large, directory: directory, what: "the result")
        guard case .object(let members) = reference, case .string(let path)? = members[ResultFiles.referenceKey] else {
            Issue.record("expected a reference, got \(reference)")
            return
        }
        #expect(try ResultFiles.resolve(reference) == large)
        #expect(ResultFiles.resolve(TaskOutcome.success(result: reference, variables: nil)) == .success(result: large, variables: nil))
        // A changed file is refused; so is a missing one.
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: GridError.self) { try ResultFiles.resolve(reference) }
        if case .failure(let message) = ResultFiles.resolve(TaskOutcome.success(result: reference, variables: nil)) {
            #expect(message.contains("does not match its SHA-256"))
        } else {
            Issue.record("a tampered result file must fail the task")
        }
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: GridError.self) { try ResultFiles.resolve(reference) }
    }
}
