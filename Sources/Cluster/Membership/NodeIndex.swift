/// Slot numbers by node id: 64 open-addressing hash tables (linear probing, backward-shift deletion), each a
/// copy-on-write value, so members that share a converged table copy only the part they change.
///
/// Node ids are random 128-bit values, so a salted multiply-shift of their bits spreads them as well as SipHash
/// at a fraction of the cost (the simulator looks ids up millions of times a second). Only authenticated members
/// can introduce ids, and a real member draws its own salt, so crafted collisions cannot target every member.
struct NodeIndex: Sendable {
    static let partBits = 6

    private var parts: [Part]
    private let salt: UInt64
    private(set) var count = 0

    /// An empty index; `salt` varies the hash per member.
    init(salt: UInt64) {
        self.salt = salt | 1
        parts = Array(repeating: Part(salt: salt | 1), count: 1 << Self.partBits)
    }

    private func part(of id: NodeID) -> Int {
        Int(truncatingIfNeeded: Part.hash(id, salt: salt) >> UInt64(64 - Self.partBits))
    }

    subscript(id: NodeID) -> Int32? {
        get {
            parts[part(of: id)].find(id)
        }
        set {
            let part = part(of: id)
            if let newValue {
                if parts[part].insert(id, newValue) { count += 1 }
            } else {
                if parts[part].remove(id) { count -= 1 }
            }
        }
    }

    /// One of the 64 tables.
    struct Part: Sendable {
        private var keys: [NodeID] = Array(repeating: NodeID(high: 0, low: 0), count: 8)
        private var values: [Int32] = Array(repeating: -1, count: 8)
        private var mask = 7
        private var count = 0
        private let salt: UInt64

        init(salt: UInt64) {
            self.salt = salt
        }

        static func hash(_ id: NodeID, salt: UInt64) -> UInt64 {
            (id.low ^ (id.high &* 0x9E37_79B9_7F4A_7C15)) &* salt
        }

        private func home(_ id: NodeID) -> Int {
            Int(truncatingIfNeeded: Self.hash(id, salt: salt) >> 20) & mask
        }

        func find(_ id: NodeID) -> Int32? {
            var index = home(id)
            while values[index] >= 0 {
                if keys[index] == id { return values[index] }
                index = (index + 1) & mask
            }
            return nil
        }

        /// Inserts or replaces; returns whether the id is new.
        mutating func insert(_ id: NodeID, _ value: Int32) -> Bool {
            var index = home(id)
            while values[index] >= 0 {
                if keys[index] == id {
                    values[index] = value
                    return false
                }
                index = (index + 1) & mask
            }
            keys[index] = id
            values[index] = value
            count += 1
            if count * 4 > (mask + 1) * 3 { grow() }
            return true
        }

        /// Removes; returns whether the id was there.
        mutating func remove(_ id: NodeID) -> Bool {
            var index = home(id)
            while values[index] >= 0, keys[index] != id { index = (index + 1) & mask }
            guard values[index] >= 0 else { return false }
            values[index] = -1
            count -= 1
            // Backward shift: move later entries of the same run into the hole when their home allows it.
            var hole = index
            var next = (index + 1) & mask
            while values[next] >= 0 {
                let wanted = home(keys[next])
                if (hole - wanted) & mask <= (next - wanted) & mask {
                    keys[hole] = keys[next]
                    values[hole] = values[next]
                    values[next] = -1
                    hole = next
                }
                next = (next + 1) & mask
            }
            return true
        }

        private mutating func grow() {
            let oldKeys = keys
            let oldValues = values
            let capacity = (mask + 1) * 2
            keys = Array(repeating: NodeID(high: 0, low: 0), count: capacity)
            values = Array(repeating: -1, count: capacity)
            mask = capacity - 1
            count = 0
            for index in oldValues.indices where oldValues[index] >= 0 {
                _ = insert(oldKeys[index], oldValues[index])
            }
        }
    }
}
