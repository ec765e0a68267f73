/// The `depends` graph of a workflow's tasks, by index in definition order.
///
/// Unknown names, self-dependencies and repeated entries are left out: the validator reports them,
/// and the graph answers questions about the rest. A name defined twice resolves to its first task.
/// Walks are iterative, so a long chain of tasks cannot overflow the stack.
struct TaskGraph {
    /// Each task's name.
    var names: [String] { index.names }
    /// The first task of each name.
    let index: NameIndex
    /// Each task's parents: the tasks it depends on.
    let parents: [[Int]]
    /// Each task's children: the tasks that depend on it.
    let children: [[Int]]
    /// Positions of tasks whose name an earlier task already has.
    var duplicates: [Int] { index.duplicates }
    /// The `depends` entries left out of the graph, in definition order: (task, position in its `depends`, why).
    let droppedDependencies: [DroppedDependency]

    /// A `depends` entry that is not an edge.
    struct DroppedDependency: Equatable {
        enum Reason: Equatable { case unknown, selfDependency, repeated }
        let task: Int
        let position: Int
        let reason: Reason
    }

    init(_ tasks: [TaskDefinition]) {
        // One hash per name: the first position stays, a later one is recorded as a duplicate.
        let index = NameIndex(tasks.map(\.name))
        let names = index.names
        var parents = [[Int]](repeating: [], count: tasks.count)
        var children = [[Int]](repeating: [], count: tasks.count)
        var dropped: [DroppedDependency] = []
        for position in tasks.indices {
            let depends = tasks[position].depends
            guard !depends.isEmpty else { continue }
            // A repeated entry is found by scanning the few parents so far; a set only for long lists.
            var seen: Set<Int>? = depends.count > 16 ? Set(minimumCapacity: depends.count) : nil
            var mine: [Int] = []
            mine.reserveCapacity(depends.count)
            for (entry, name) in depends.enumerated() {
                // By name: a task named like an earlier one that lists that name depends on itself too.
                guard name != names[position] else {
                    dropped.append(DroppedDependency(task: position, position: entry, reason: .selfDependency))
                    continue
                }
                guard let parent = index[name] else {
                    dropped.append(DroppedDependency(task: position, position: entry, reason: .unknown))
                    continue
                }
                guard !(seen?.contains(parent) ?? mine.contains(parent)) else {
                    dropped.append(DroppedDependency(task: position, position: entry, reason: .repeated))
                    continue
                }
                seen?.insert(parent)
                mine.append(parent)
                children[parent].append(position)
            }
            parents[position] = mine
        }
        self.droppedDependencies = dropped
        // An `if` links its initiator to its target and its else implicitly (they do not list it in
        // `depends`): the graph has those edges too, so a cycle through them is found.
        for position in tasks.indices where tasks[position].flow != nil {
            guard case .branch(let target, let elseTarget, _, _) = tasks[position].flow else { continue }
            for name in [target, elseTarget] {
                guard let child = index[name], child != position, !parents[child].contains(position) else { continue }
                parents[child].append(position)
                children[position].append(child)
            }
        }
        self.index = index
        self.parents = parents
        self.children = children
    }

    /// The tasks `task` depends on, directly or not (itself only when it is on a cycle).
    func ancestors(of task: Int) -> Set<Int> { reachable(from: task, along: parents) }

    /// The tasks that depend on `task`, directly or not.
    func descendants(of task: Int) -> Set<Int> { reachable(from: task, along: children) }

    /// Every task reachable from `start` by one or more `edges`.
    func reachable(from start: Int, along edges: [[Int]]) -> Set<Int> {
        var found: Set<Int> = []
        var pending = edges[start]
        while let next = pending.popLast() {
            guard found.insert(next).inserted else { continue }
            pending.append(contentsOf: edges[next])
        }
        return found
    }

    /// The groups of tasks that depend on each other in a circle (Tarjan's strongly connected
    /// components with more than one task), each sorted, ordered by their first task.
    func cycles() -> [[Int]] {
        let count = names.count
        // Tasks usually come after the tasks they depend on (a builder or a file written top-down): then every
        // edge points backwards in definition order, which no circle can do, and one read per edge proves it.
        if parents.indices.allSatisfy({ task in parents[task].allSatisfy { $0 < task } }) { return [] }
        // First peel off every task whose parents are all peeled (Kahn's topological order): in a DAG, the
        // usual case, that is every task, found in one pass over the edges with no allocation per task.
        // What is left is on a cycle or downstream of one; Tarjan's walk starts only from those.
        var unpeeledParents = parents.map(\.count)
        var ready = unpeeledParents.indices.filter { unpeeledParents[$0] == 0 }
        var peeled = 0
        while let task = ready.popLast() {
            peeled += 1
            for child in children[task] {
                unpeeledParents[child] -= 1
                if unpeeledParents[child] == 0 { ready.append(child) }
            }
        }
        guard peeled < count else { return [] }
        var order = [Int](repeating: -1, count: count)
        var low = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var counter = 0
        var components: [[Int]] = []
        for root in 0..<count where order[root] < 0 && unpeeledParents[root] > 0 {
            var work: [(task: Int, nextEdge: Int)] = []
            func visit(_ task: Int) {
                order[task] = counter
                low[task] = counter
                counter += 1
                stack.append(task)
                onStack[task] = true
                work.append((task, 0))
            }
            visit(root)
            while let (task, nextEdge) = work.last {
                if nextEdge < parents[task].count {
                    work[work.count - 1].nextEdge += 1
                    let parent = parents[task][nextEdge]
                    if order[parent] < 0 {
                        visit(parent)
                    } else if onStack[parent] {
                        low[task] = min(low[task], order[parent])
                    }
                    continue
                }
                work.removeLast()
                if let caller = work.last { low[caller.task] = min(low[caller.task], low[task]) }
                guard low[task] == order[task] else { continue }
                var component: [Int] = []
                while let member = stack.popLast() {
                    onStack[member] = false
                    component.append(member)
                    if member == task { break }
                }
                if component.count > 1 { components.append(component.sorted()) }
            }
        }
        return components.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
    }

    /// A shortest circle through `start` inside `component`, following `depends`: `[a, b, a]`.
    func cyclePath(through start: Int, in component: [Int]) -> [Int] {
        let members = Set(component)
        var previous: [Int: Int] = [:]
        var queue = parents[start].filter(members.contains)
        for parent in queue { previous[parent] = start }
        var head = 0
        while head < queue.count {
            let task = queue[head]
            head += 1
            if task == start { break }
            for parent in parents[task] where members.contains(parent) && previous[parent] == nil {
                previous[parent] = task
                queue.append(parent)
            }
        }
        // `previous` points from each task to the one that depends on it, so walking it from `start`
        // goes round the circle against `depends`; reversed, it reads "a depends on b depends on a".
        var walk = [start]
        var current = start
        while let before = previous[current], walk.count <= component.count {
            walk.append(before)
            if before == start { break }
            current = before
        }
        return walk.reversed()
    }
}
