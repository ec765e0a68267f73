/// The gossip waiting to be piggybacked: one update per subject, the least-sent first and, among equals, the
/// newest first (memberlist's transmit-limited queue).
struct Dissemination: Sendable {
    struct Entry: Sendable {
        var update: Update
        var transmits: Int
        var order: UInt64
        var size: Int
    }

    /// The most updates kept; beyond it the most-sent are dropped (they have reached most members already).
    static let capacity = 8192

    private(set) var entries: [Entry] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// Queues `update`, replacing anything queued about the same subject.
    mutating func enqueue(_ update: Update) {
        if let existing = entries.firstIndex(where: { $0.update.subject == update.subject }) {
            entries.remove(at: existing)
        }
        counter += 1
        entries.insert(Entry(update: update, transmits: 0, order: counter, size: WireFormat.size(of: update)),
                       at: 0)
        if entries.count > Self.capacity { entries.removeLast(entries.count - Self.capacity) }
    }

    /// Whether an update about `subject` is queued.
    func contains(subject: NodeID) -> Bool {
        entries.contains { $0.update.subject == subject }
    }

    /// Takes the updates that fit in `budget` bytes, counting a transmission for each and dropping those sent
    /// `limit` times.
    mutating func select(budget: Int, limit: Int, into updates: inout [Update]) {
        guard !entries.isEmpty, budget > 0 else { return }
        var left = budget
        var touched = false
        var index = 0
        while index < entries.count, updates.count < WireFormat.maxUpdates {
            if entries[index].size <= left {
                left -= entries[index].size
                updates.append(entries[index].update)
                entries[index].transmits += 1
                touched = true
            }
            if left < 33 { break }
            index += 1
        }
        guard touched else { return }
        entries.removeAll { $0.transmits >= limit }
        entries.sort { ($0.transmits, $1.order) < ($1.transmits, $0.order) }
    }
}
