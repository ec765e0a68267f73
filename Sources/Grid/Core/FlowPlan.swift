/// The shape of a workflow, computed once per job: dependency edges by index and the bodies of its
/// flow controls.
struct FlowPlan: Sendable {
    /// Parents of each definition: its `depends`, plus the implicit edges of `if` controls.
    var parents: [[Int]]
    /// Children of each definition (the reverse of `parents`), each list in ascending order.
    var children: [[Int]]
    /// Definition index by name.
    var index: NameIndex
    /// For a replicate initiator: the definitions copied per replica (the children, or their blocks).
    var replicateBody: [Int: Set<Int>] = [:]
    /// For a loop initiator: the definitions of the block that runs again (target … initiator).
    var loopBody: [Int: Set<Int>] = [:]
    /// For an if initiator: the `if` body, the `else` body and the continuation.
    var branches: [Int: (ifBody: Set<Int>, elseBody: Set<Int>, continuation: Int?)] = [:]
    /// Definitions that are the continuation of an `if` (they run even when all their parents were skipped).
    var continuations: Set<Int> = []

    /// Computes the plan of a workflow that passed validation.
    init(_ tasks: [TaskDefinition]) {
        self.init(tasks, graph: TaskGraph(tasks))
    }

    /// Computes the plan of a workflow that passed validation from the graph its validation built: for a valid
    /// workflow the graph's parents are `depends` plus the implicit edges of `if` controls, as here.
    init(_ tasks: [TaskDefinition], graph: TaskGraph) {
        let index = graph.index
        let parents = graph.parents
        self.parents = parents
        self.index = index
        // Most workflows have no flow control: their plan is the graph's edges, and nothing below applies. The
        // graph adds a child in definition order, so each list is ascending (only an `if`'s edges come later).
        self.children = graph.children
        guard tasks.indices.contains(where: { tasks[$0].flow != nil }) else { return }
        // An if's target and else depend on the initiator implicitly (edges the graph has); the continuation
        // depends on both branch ends.
        var branchSpecs: [(initiator: Int, target: Int, elseTarget: Int, continuation: Int?)] = []
        for i in tasks.indices where tasks[i].flow != nil {
            guard case .branch(let target, let elseTarget, let continuation, _) = tasks[i].flow,
                let t = index[target], let e = index[elseTarget]
            else { continue }
            branchSpecs.append((i, t, e, continuation.flatMap { index[$0] }))
        }
        let children = FlowPlan.children(of: parents)
        for spec in branchSpecs {
            let ifBlock = FlowPlan.block(startingAt: spec.target, tasks: tasks, children: children)
            let elseBlock = FlowPlan.block(startingAt: spec.elseTarget, tasks: tasks, children: children)
            if let c = spec.continuation {
                for end in [ifBlock.end, elseBlock.end] where !self.parents[c].contains(end) {
                    self.parents[c].append(end)
                }
                continuations.insert(c)
            }
            branches[spec.initiator] = (ifBlock.body, elseBlock.body, spec.continuation)
        }
        let finalChildren = FlowPlan.children(of: self.parents)
        self.children = finalChildren
        for i in tasks.indices where tasks[i].flow != nil {
            switch tasks[i].flow {
            case .replicate:
                var body: Set<Int> = []
                for child in finalChildren[i] { body.formUnion(FlowPlan.block(startingAt: child, tasks: tasks, children: finalChildren).body) }
                replicateBody[i] = body
            case .loop(let target, _):
                guard let s = index[target] else { continue }
                let down = FlowPlan.descendants(of: s, children: finalChildren).union([s])
                let up = FlowPlan.ancestors(of: i, parents: self.parents).union([i])
                loopBody[i] = down.intersection(up)
            case .branch, nil:
                break
            }
        }
    }

    static func children(of parents: [[Int]]) -> [[Int]] {
        var children = Array(repeating: [Int](), count: parents.count)
        for (child, list) in parents.enumerated() {
            for parent in list { children[parent].append(child) }
        }
        return children
    }

    /// A single task, or the whole block from `start` to its matching `end` along the DAG.
    static func block(startingAt start: Int, tasks: [TaskDefinition], children: [[Int]]) -> (body: Set<Int>, end: Int) {
        guard tasks[start].block == .start else { return ([start], start) }
        var end = start
        // Walk down, tracking block depth, until the matching end; everything visited belongs.
        var body: Set<Int> = [start]
        var stack: [(Int, Int)] = [(start, 1)]
        while let (task, depth) = stack.popLast() {
            for child in children[task] where !body.contains(child) {
                var childDepth = depth
                switch tasks[child].block {
                case .start: childDepth += 1
                case .end: childDepth -= 1
                case .none: break
                }
                body.insert(child)
                if childDepth > 0 {
                    stack.append((child, childDepth))
                } else {
                    end = child
                }
            }
        }
        return (body, end)
    }

    static func descendants(of task: Int, children: [[Int]]) -> Set<Int> {
        var seen: Set<Int> = []
        var stack = [task]
        while let next = stack.popLast() {
            for child in children[next] where seen.insert(child).inserted { stack.append(child) }
        }
        return seen
    }

    static func ancestors(of task: Int, parents: [[Int]]) -> Set<Int> {
        var seen: Set<Int> = []
        var stack = [task]
        while let next = stack.popLast() {
            for parent in parents[next] where seen.insert(parent).inserted { stack.append(parent) }
        }
        return seen
    }
}
