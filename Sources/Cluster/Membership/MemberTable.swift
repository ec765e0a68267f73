/// The members one member knows, itself excluded, with their last change time.
///
/// Slots are stable: a reaped tombstone frees its slot for the next member rather than moving another, so the
/// probe order can walk slot numbers. Records live in copy-on-write chunks of 256 and the index in 64 parts, so
/// the simulator can give thousands of members one converged table and each copies only what it changes.
struct MemberTable: Sendable {
    struct Record: Sendable {
        var member: Member
        var changedAt: ClusterTime
    }

    static let chunkBits = 8
    static let chunkSize = 1 << chunkBits

    private var chunks: [[Record?]] = []
    private(set) var slotCount = 0
    private var free: [Int32] = []
    private var index: NodeIndex
    /// Slots holding a dead or left member (what healing and reaping look at).
    private(set) var tombstones: Set<Int32> = []
    /// Members alive or suspect.
    private(set) var activeCount = 0
    /// XOR of every record's `digest`: equal tables have equal digests, so identical views skip a merge.
    private(set) var digest: UInt64 = 0

    /// A 64-bit digest of what a state exchange says about `member`.
    static func digest(of member: Member) -> UInt64 {
        var z = member.id.low ^ (member.id.high &* 0x9E37_79B9_7F4A_7C15)
        z ^= member.epoch &* 0xBF58_476D_1CE4_E5B9
        z ^= member.incarnation &* 0x94D0_49BB_1331_11EB
        z ^= UInt64(member.status.rawValue) << 56
        z = (z ^ (z >> 31)) &* 0xBF58_476D_1CE4_E5B9
        return z ^ (z >> 29)
    }

    var count: Int { index.count }

    /// An empty table; `salt` varies the index's hash per member.
    init(salt: UInt64) {
        index = NodeIndex(salt: salt)
    }

    func slot(of id: NodeID) -> Int? {
        index[id].map(Int.init)
    }

    subscript(slot: Int) -> Record? {
        chunks[slot >> Self.chunkBits][slot & (Self.chunkSize - 1)]
    }

    private mutating func store(_ record: Record?, at slot: Int) {
        chunks[slot >> Self.chunkBits][slot & (Self.chunkSize - 1)] = record
    }

    /// Adds a member this table has no record of; returns its slot.
    mutating func insert(_ member: Member, at now: ClusterTime) -> Int {
        let slot: Int
        if let reused = free.popLast() {
            slot = Int(reused)
        } else {
            slot = slotCount
            slotCount += 1
            if slot >> Self.chunkBits >= chunks.count {
                chunks.append(Array(repeating: nil, count: Self.chunkSize))
            }
        }
        store(Record(member: member, changedAt: now), at: slot)
        index[member.id] = Int32(slot)
        digest ^= Self.digest(of: member)

        if member.status.isActive { activeCount += 1 } else { tombstones.insert(Int32(slot)) }
        return slot
    }

    /// Replaces the member in `slot`, keeping the counts right.
    mutating func update(_ slot: Int, to member: Member, at now: ClusterTime) {
        guard let old = self[slot] else { return }
        if old.member.status.isActive != member.status.isActive {
            activeCount += member.status.isActive ? 1 : -1
            if member.status.isActive { tombstones.remove(Int32(slot)) } else { tombstones.insert(Int32(slot)) }
        }
        let changed = old.member.status != member.status || old.member.epoch != member.epoch
        store(Record(member: member, changedAt: changed ? now : old.changedAt), at: slot)
        digest ^= Self.digest(of: old.member) ^ Self.digest(of: member)

    }

    /// Forgets the member in `slot`.
    mutating func remove(_ slot: Int) {
        guard let old = self[slot] else { return }
        if old.member.status.isActive { activeCount -= 1 } else { tombstones.remove(Int32(slot)) }
        index[old.member.id] = nil
        store(nil, at: slot)
        digest ^= Self.digest(of: old.member)

        free.append(Int32(slot))
    }

    /// Every member, sorted by id (the order tests and tools see).
    var members: [Member] {
        var all: [Member] = []
        all.reserveCapacity(count)
        for slot in 0..<slotCount {
            if let record = self[slot] { all.append(record.member) }
        }
        return all.sorted { $0.id < $1.id }
    }
}
