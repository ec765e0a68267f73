import Cluster
import Testing

@testable import Grid

/// The packed payload of a journal row that holds a run of null-result ends.
@Suite("Journal: packed runs of ends")
struct RunCodecTests {
    private let job = JobID(9)

    private func decode(_ payload: [UInt8], after base: Int64 = 0, timed: Bool = true) throws(GridError) -> [JournalRecord] {
        var records: [JournalRecord] = []
        try RunCodec.decode(payload, job: job, after: base, timed: timed, into: &records)
        return records
    }

    private func end(_ index: Int, attempt: Int, node: Int, at: Int64, ran: Int64 = 0) -> JournalRecord {
        .finished(
            job: job, index: index, attempt: attempt, node: NodeID(node), outcome: .success(result: .null, variables: nil), at: .nanoseconds(at),
            ran: ran > 0 ? .nanoseconds(ran) : nil)
    }

    @Test func extremeValues_roundTrip_inOrder() throws {
        let base: Int64 = 5_000_000_000
        // A run time of 0 is none (not measured).
        let ends: [(index: Int, attempt: Int, node: Int, at: Int64, ran: Int64)] = [
            (0, 1, 0, base, 0), (1, 2, -1, base + 1, 1), (63, 64, 64, base - 1, 250_000),
            (Int.max, Int.max, Int.max, .max, JobCore.longestRun.nanoseconds),
            (Int.max - 1, 0, Int.min, .min, 0), (8_191, 127, 128, 0, 63),
        ]
        var payload: [UInt8] = []
        for end in ends {
            RunCodec.append(task: end.index, attempt: end.attempt, node: end.node, at: end.at, ran: end.ran, after: base, to: &payload)
        }
        #expect(try decode(payload, after: base) == ends.map { end($0.index, attempt: $0.attempt, node: $0.node, at: $0.at, ran: $0.ran) })
        // Small numbers take one byte each (a typical end, with its time and run time in nanoseconds, is 7 – 11 bytes).
        var small: [UInt8] = []
        RunCodec.append(task: 63, attempt: 1, node: 1, at: base + 40, ran: 63, after: base, to: &small)
        #expect(small.count == 5)
    }

    @Test func aRunWrittenBeforeRunTimes_readsBack_withoutThem() throws {
        // Schema v3's ends: task, attempt, node and time only (zigzag: n is written 2n).
        let v3: [UInt8] = [0, 2, 0, 0, 2, 2, 2, 20]
        #expect(try decode(v3, after: 100, timed: false) == [end(0, attempt: 1, node: 0, at: 100), end(1, attempt: 1, node: 1, at: 110)])
        // Read as v4, the same bytes are a damaged run (its second end is cut short), never a wrong end.
        #expect(throws: GridError.self) { _ = try decode(v3, after: 100) }
    }

    @Test func aSingleRunTime_roundTrips_andRefusesExtraBytes() {
        for value: Int64 in [1, 127, 128, 400_000, .max] { #expect(RunCodec.single(RunCodec.single(value)) == value) }
        #expect(RunCodec.single(RunCodec.single(5) + [0]) == nil)
        #expect(RunCodec.single([0x80]) == nil)
        #expect(RunCodec.single([]) == nil)
    }

    @Test func damagedPayloads_areTypedErrors_neverTraps() {
        var valid: [UInt8] = []
        RunCodec.append(task: 3, attempt: 1, node: 0, at: 7, ran: 9, after: 0, to: &valid)
        let damaged: [(String, [UInt8])] = [
            ("cut short inside a number", [0x80]),
            ("cut short between numbers", Array(valid.dropLast())),
            ("eleven bytes", [UInt8](repeating: 0x80, count: 10) + [0x01]),
            // Followed by three valid numbers: truncated to 0, it would read as a whole end.
            ("a tenth byte wider than 64 bits", [UInt8](repeating: 0x80, count: 9) + [0x02, 0x02, 0x00, 0x00, 0x00]),
            ("a negative task index", [0x01, 0x02, 0x00, 0x00, 0x00]),
            ("a negative run time", [0x00, 0x02, 0x00, 0x00, 0x01]),
            // 2⁶³ − 1 ns, zigzag-encoded: about 292 years.
            ("a run time over a century", [0x00, 0x02, 0x00, 0x00] + [UInt8](repeating: 0xFF, count: 9) + [0x01]),
            ("a valid end followed by garbage", valid + [0xFF]),
        ]
        for (what, payload) in damaged {
            #expect(throws: GridError.self, "\(what)") { _ = try decode(payload) }
        }
    }
}
