extension WorkflowValidator {
    /// `depends` entries: known tasks, not the task itself, each once.
    mutating func checkDependencies() {
        // The graph found the entries that are not edges while building itself: no second walk over every edge.
        let tasks = workflow.tasks
        for dropped in graph.droppedDependencies {
            let taskName = tasks[dropped.task].name
            let name = tasks[dropped.task].depends[dropped.position]
            let path = "tasks.\(taskName).depends[\(dropped.position)]"
            switch dropped.reason {
            case .selfDependency:
                report(.selfDependency, path, "task `\(taskName)` depends on itself")
            case .unknown:
                // A task never depends on itself, so it is no suggestion for its own dependency.
                let hint = NameSuggestion.hint(for: name, among: graph.names.filter { $0 != taskName })
                report(.unknownDependency, path, "task `\(taskName)` depends on `\(name)`, which is not a task\(hint)")
            case .repeated:
                report(.duplicateDependency, path, "task `\(taskName)` lists `\(name)` twice in depends")
            }
        }
    }

    /// One problem per group of tasks that depend on each other in a circle, showing one such circle.
    mutating func checkCycles() {
        for component in graph.cycles() {
            guard let first = component.first else { continue }
            let circle = graph.cyclePath(through: first, in: component).map { graph.names[$0] }
            let others = component.count > circle.count - 1 ? " (\(component.count) tasks are involved)" : ""
            report(
                .dependencyCycle, "tasks.\(graph.names[first]).depends",
                "dependency cycle: \(circle.joined(separator: " → ")), each depending on the next\(others)"
            )
        }
    }
}
