/// The members one member knows, itself excluded, with their last change time.
///
/// Slots are stable: a reaped tombstone frees its slot for the next member rather than moving another, so the
/// probe order can hold slot numbers.
struct MemberTable: Sendable {
    struct Record: Sendable {
        var member: Member
        var changedAt: ClusterTime
    }

    private(set) var slots: [Record?] = []
    private var free: [Int32] = []
    private(set) var index: [NodeID: Int32] = [:]
    /// Members alive or suspect.
    private(set) var activeCount = 0

    var count: Int { index.count }

    func slot(of id: NodeID) -> Int? {
        index[id].map(Int.init)
    }

    subscript(slot: Int) -> Record? {
        slots[slot]
    }

    /// Adds a member this table has no record of; returns its slot.
    mutating func insert(_ member: Member, at now: ClusterTime) -> Int {
        let record = Record(member: member, changedAt: now)
        let slot: Int
        if let reused = free.popLast() {
            slot = Int(reused)
            slots[slot] = record
        } else {
            slot = slots.count
            slots.append(record)
        }
        index[member.id] = Int32(slot)
        if member.status.isActive { activeCount += 1 }
        return slot
    }

    /// Replaces the member in `slot`, keeping the active count right.
    mutating func update(_ slot: Int, to member: Member, at now: ClusterTime) {
        guard let old = slots[slot] else { return }
        if old.member.status.isActive != member.status.isActive {
            activeCount += member.status.isActive ? 1 : -1
        }
        let changed = old.member.status != member.status || old.member.epoch != member.epoch
        slots[slot] = Record(member: member, changedAt: changed ? now : old.changedAt)
    }

    /// Forgets the member in `slot`.
    mutating func remove(_ slot: Int) {
        guard let old = slots[slot] else { return }
        if old.member.status.isActive { activeCount -= 1 }
        index[old.member.id] = nil
        slots[slot] = nil
        free.append(Int32(slot))
    }

    /// Every member, sorted by id (the order state exchanges and tests see).
    var members: [Member] {
        slots.compactMap { $0?.member }.sorted { $0.id < $1.id }
    }
}
