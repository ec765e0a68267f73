import Testing

@testable import Grid

/// The packed payload of a journal row that holds a run of null-result ends.
@Suite("Journal: packed runs of ends")
struct RunCodecTests {
    private let job = JobID(9)

    private func decode(_ payload: [UInt8], after base: Int64 = 0) throws(GridError) -> [JournalRecord] {
        var records: [JournalRecord] = []
        try RunCodec.decode(payload, job: job, after: base, into: &records)
        return records
    }

    private func end(_ index: Int, attempt: Int, node: Int, at: Int64) -> JournalRecord {
        .finished(job: job, index: index, attempt: attempt, node: NodeID(node), outcome: .success(result: .null, variables: nil), at: .nanoseconds(at))
    }

    @Test func extremeValues_roundTrip_inOrder() throws {
        let base: Int64 = 5_000_000_000
        let ends: [(index: Int, attempt: Int, node: Int, at: Int64)] = [
            (0, 1, 0, base), (1, 2, -1, base + 1), (63, 64, 64, base - 1), (Int.max, Int.max, Int.max, .max),
            (Int.max - 1, 0, Int.min, .min), (8_191, 127, 128, 0),
        ]
        var payload: [UInt8] = []
        for end in ends { RunCodec.append(task: end.index, attempt: end.attempt, node: end.node, at: end.at, after: base, to: &payload) }
        #expect(try decode(payload, after: base) == ends.map { end($0.index, attempt: $0.attempt, node: $0.node, at: $0.at) })
        // Small numbers take one byte each: a typical end is 4 – 8 bytes.
        var small: [UInt8] = []
        RunCodec.append(task: 63, attempt: 1, node: 1, at: base + 40, after: base, to: &small)
        #expect(small.count == 4)
    }

    @Test func damagedPayloads_areTypedErrors_neverTraps() {
        var valid: [UInt8] = []
        RunCodec.append(task: 3, attempt: 1, node: 0, at: 7, after: 0, to: &valid)
        let damaged: [(String, [UInt8])] = [
            ("cut short inside a number", [0x80]),
            ("cut short between numbers", Array(valid.dropLast())),
            ("eleven bytes", [UInt8](repeating: 0x80, count: 10) + [0x01]),
            // Followed by three valid numbers: truncated to 0, it would read as a whole end.
            ("a tenth byte wider than 64 bits", [UInt8](repeating: 0x80, count: 9) + [0x02, 0x02, 0x00, 0x00]),
            ("a negative task index", [0x01, 0x02, 0x00, 0x00]),
            ("a valid end followed by garbage", valid + [0xFF]),
        ]
        for (what, payload) in damaged {
            #expect(throws: GridError.self, "\(what)") { _ = try decode(payload) }
        }
    }
}
