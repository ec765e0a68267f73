/// The position of each name in a list of names, the first position when a name repeats.
///
/// A workflow's task names are looked up by name while it is validated and planned (its `depends`, its flow
/// targets). A `[String: Int]` of a 100,000-task job is about 3 MB of keys and values, and filling it cost more
/// than the rest of the validation together, mostly in cache misses. This table keeps only positions, in an
/// open-addressed array with room for twice the names (about 2 MB for 100,000 names, and the names themselves
/// are the list's own), and compares a candidate with the name it holds. It hashes with the standard library's
/// seeded hash, so crafted names cannot make its probes long on purpose.
struct NameIndex: Sendable {
    /// The names, in their positions.
    let names: [String]
    /// Position + 1 of the name in each slot; 0 for an empty slot.
    private let slots: [Int]
    private let mask: Int
    /// Positions whose name an earlier position already has, ascending.
    let duplicates: [Int]

    init(_ names: [String]) {
        self.names = names
        var size = 8
        while size < names.count * 2 { size <<= 1 }
        let mask = size - 1
        var slots = [Int](repeating: 0, count: size)
        var duplicates: [Int] = []
        slots.withUnsafeMutableBufferPointer { slots in
            names.withUnsafeBufferPointer { names in
                for position in names.indices {
                    let name = names[position]
                    var slot = name.hashValue & mask
                    while true {
                        let held = slots[slot]
                        if held == 0 {
                            slots[slot] = position + 1
                            break
                        }
                        if names[held - 1] == name {
                            duplicates.append(position)
                            break
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
        self.slots = slots
        self.mask = mask
        self.duplicates = duplicates
    }

    /// The first position of `name`, or nil.
    subscript(name: String) -> Int? {
        var slot = name.hashValue & mask
        while true {
            let held = slots[slot]
            if held == 0 { return nil }
            if names[held - 1] == name { return held - 1 }
            slot = (slot + 1) & mask
        }
    }
}
