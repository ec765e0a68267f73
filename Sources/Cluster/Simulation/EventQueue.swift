/// The simulator's agenda: events ordered by time, then by the order they were scheduled, so equal times
/// replay identically.
struct EventQueue<Event>: ~Copyable {
    private struct Entry {
        let time: Int64
        let order: UInt64
        let slot: Int32
    }

    private var heap: [Entry] = []
    private var events: [Event?] = []
    private var free: [Int32] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    /// The time of the next event.
    var nextTime: Int64? { heap.first?.time }

    mutating func push(_ event: Event, at time: Int64) {
        let slot: Int32
        if let reused = free.popLast() {
            slot = reused
            events[Int(slot)] = event
        } else {
            slot = Int32(events.count)
            events.append(event)
        }
        counter += 1
        heap.append(Entry(time: time, order: counter, slot: slot))
        var child = heap.count - 1
        let entry = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.less(entry, heap[parent]) else { break }
            heap[child] = heap[parent]
            child = parent
        }
        heap[child] = entry
    }

    mutating func pop() -> (time: Int64, event: Event)? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                let right = left + 1
                let child = right < count && Self.less(heap[right], heap[left]) ? right : left
                guard Self.less(heap[child], last) else { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = last
        }
        let event = events[Int(top.slot)]
        events[Int(top.slot)] = nil
        free.append(top.slot)
        guard let event else { return nil }
        return (top.time, event)
    }

    private static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.time < b.time || (a.time == b.time && a.order < b.order)
    }
}
