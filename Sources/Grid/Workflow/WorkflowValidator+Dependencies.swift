extension WorkflowValidator {
    /// `depends` entries: known tasks, not the task itself, each once.
    mutating func checkDependencies() {
        for task in workflow.tasks {
            var seen: Set<String> = []
            for (position, name) in task.depends.enumerated() {
                // Built only for a problem (a wide job has hundreds of thousands of edges).
                var path: String { "tasks.\(task.name).depends[\(position)]" }
                if name == task.name {
                    report(.selfDependency, path, "task `\(task.name)` depends on itself")
                } else if graph.index[name] == nil {
                    // A task never depends on itself, so it is no suggestion for its own dependency.
                    let hint = NameSuggestion.hint(for: name, among: graph.names.filter { $0 != task.name })
                    report(.unknownDependency, path, "task `\(task.name)` depends on `\(name)`, which is not a task\(hint)")
                } else if !seen.insert(name).inserted {
                    report(.duplicateDependency, path, "task `\(task.name)` lists `\(name)` twice in depends")
                }
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
