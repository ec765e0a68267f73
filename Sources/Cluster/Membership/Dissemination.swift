import HeapModule

/// The gossip waiting to be piggybacked: one update per subject, the least-sent first and, among equals, the
/// newest first (memberlist's transmit-limited queue).
///
/// The updates live in a slab, one slot per subject; a min-max heap of small keys (transmissions, newest first,
/// slot) orders them. Replacing an update rewrites its slot and pushes a new key: the old key goes stale and is
/// discarded when it surfaces. Queueing and taking k updates cost O(log n) and O(k log n), where the former
/// sorted array cost O(n) for both: with a thousand members changing at once that array was the simulator's
/// hottest code.
struct Dissemination: Sendable {
    struct Entry: Sendable {
        var update: Update
        var transmits: Int
        var order: UInt64
        var size: Int
    }

    /// A heap key: orders by transmissions, then newest first; names the slot and the order it was pushed for.
    private struct Key: Comparable {
        var rank: UInt64
        var order: UInt64
        var slot: Int32

        init(transmits: Int, order: UInt64, slot: Int32) {
            // Transmissions in the high 16 bits; the complement of the order below, so newer sorts first.
            rank = UInt64(min(transmits, 0xFFFF)) << 48 | (~order & 0xFFFF_FFFF_FFFF)
            self.order = order
            self.slot = slot
        }

        static func < (lhs: Key, rhs: Key) -> Bool { lhs.rank < rhs.rank }
        static func == (lhs: Key, rhs: Key) -> Bool { lhs.rank == rhs.rank }
    }

    /// The most updates kept; beyond it the most-sent are dropped (they have reached most members already).
    static let capacity = 8192
    /// The most entries set aside in one selection because they did not fit what was left of the budget.
    private static let maxSkipped = 16
    /// The smallest update on the wire: below this much budget nothing more fits.
    private static let smallestUpdate = 33

    private var heap = Heap<Key>()
    private var slots: [Entry?] = []
    private var free: [Int32] = []
    /// The slot of each queued subject.
    private var live: [NodeID: Int32] = [:]
    private var counter: UInt64 = 0

    var isEmpty: Bool { live.isEmpty }
    var count: Int { live.count }

    /// The queued updates, least-sent and newest first.
    var updates: [Update] {
        slots.compactMap { $0 }.sorted { ($0.transmits, $1.order) < ($1.transmits, $0.order) }.map(\.update)
    }

    /// Queues `update`, replacing anything queued about the same subject.
    mutating func enqueue(_ update: Update) {
        counter += 1
        let entry = Entry(update: update, transmits: 0, order: counter, size: WireFormat.size(of: update))
        let slot: Int32
        if let existing = live[update.subject] {
            slot = existing
            slots[Int(slot)] = entry
        } else if let reused = free.popLast() {
            slot = reused
            slots[Int(slot)] = entry
        } else {
            slot = Int32(slots.count)
            slots.append(entry)
        }
        live[update.subject] = slot
        heap.insert(Key(transmits: 0, order: counter, slot: slot))
        if live.count > Self.capacity {
            dropMostSent()
        } else if heap.count > 2 * live.count + 64 {
            compact()
        }
    }

    /// Whether an update about `subject` is queued.
    func contains(subject: NodeID) -> Bool {
        live[subject] != nil
    }

    /// Takes the updates that fit in `budget` bytes, counting a transmission for each and dropping those sent
    /// `limit` times.
    mutating func select(budget: Int, limit: Int, into updates: inout [Update]) {
        guard !live.isEmpty, budget > 0 else { return }
        var left = budget
        var sent: [Key] = []
        var skipped: [Key] = []
        while updates.count < WireFormat.maxUpdates, left >= Self.smallestUpdate, skipped.count < Self.maxSkipped,
              let key = heap.popMin() {
            guard let entry = slots[Int(key.slot)], entry.order == key.order else { continue }  // replaced since
            guard entry.transmits < limit else {  // the limit shrank with the cluster
                release(key.slot)
                continue
            }
            guard entry.size <= left else {
                skipped.append(key)
                continue
            }
            left -= entry.size
            updates.append(entry.update)
            sent.append(key)
        }
        for key in skipped { heap.insert(key) }
        for key in sent {
            let slot = Int(key.slot)
            guard var entry = slots[slot] else { continue }
            entry.transmits += 1
            if entry.transmits >= limit {
                release(key.slot)
            } else {
                slots[slot] = entry
                heap.insert(Key(transmits: entry.transmits, order: entry.order, slot: key.slot))
            }
        }
    }

    private mutating func release(_ slot: Int32) {
        guard let entry = slots[Int(slot)] else { return }
        live[entry.update.subject] = nil
        slots[Int(slot)] = nil
        free.append(slot)
    }

    /// Drops the most-sent entries until the queue is back to its capacity, and the stale keys with them.
    private mutating func dropMostSent() {
        while live.count > Self.capacity, let key = heap.popMax() {
            if slots[Int(key.slot)]?.order == key.order { release(key.slot) }
        }
        compact()
    }

    /// Rebuilds the heap from the live keys alone.
    private mutating func compact() {
        heap = Heap(heap.unordered.filter { slots[Int($0.slot)]?.order == $0.order })
    }
}
