/// The payload of a row that holds a run of one job's null-result ends: for each end, in order, its task index,
/// attempt, node and time (nanoseconds after the row's time), each a zigzag LEB128 varint (most ends take 5 – 8
/// bytes instead of a row of their own).
enum RunCodec {
    /// Appends one end.
    static func append(task: Int, attempt: Int, node: Int, at: Int64, after base: Int64, to payload: inout [UInt8]) {
        varint(Int64(task), to: &payload)
        varint(Int64(attempt), to: &payload)
        varint(Int64(node), to: &payload)
        varint(at &- base, to: &payload)
    }

    /// Appends the ends of `payload` to `records`.
    ///
    /// - Throws: `GridError.journal` when the payload is cut short or holds a number out of range.
    static func decode(_ payload: [UInt8], job: JobID, after base: Int64, into records: inout [JournalRecord]) throws(GridError) {
        var offset = 0
        while offset < payload.count {
            let start = offset
            guard let task = read(payload, &offset), let attempt = read(payload, &offset), let node = read(payload, &offset),
                let delta = read(payload, &offset), let index = Int(exactly: task), index >= 0, let execution = Int(exactly: attempt),
                let nodeID = Int(exactly: node)
            else {
                throw .journal("a run of ends of job \(job) is damaged at byte \(start) of \(payload.count)")
            }
            records.append(.finished(
                job: job, index: index, attempt: execution, node: NodeID(nodeID), outcome: .success(result: .null, variables: nil),
                at: .nanoseconds(base &+ delta)))
        }
    }

    private static func varint(_ value: Int64, to payload: inout [UInt8]) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            payload.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        payload.append(UInt8(zigzag))
    }

    /// The varint at `offset`, which moves past it; `nil` when it is cut short, longer than ten bytes, or wider
    /// than 64 bits.
    private static func read(_ payload: [UInt8], _ offset: inout Int) -> Int64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < payload.count, shift < 70 {
            let byte = payload[offset]
            offset += 1
            // The tenth byte holds the 64th bit only: more is a damaged payload, not a number to truncate.
            if shift == 63, byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
            }
            shift += 7
        }
        return nil
    }
}
