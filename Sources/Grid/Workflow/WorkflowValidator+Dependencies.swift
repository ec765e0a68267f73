extension WorkflowValidator {
    /// `depends` entries: known tasks, not the task itself, each once.
    mutating func checkDependencies() {
        let tasks = workflow.tasks
        for index in tasks.indices where !tasks[index].depends.isEmpty {  // by index: no copy of each definition
            let depends = tasks[index].depends
            let taskName = tasks[index].name
            var seen: Set<String> = []
            for (position, name) in depends.enumerated() {
                // Built only for a problem (a wide job has hundreds of thousands of edges).
                var path: String { "tasks.\(taskName).depends[\(position)]" }
                if name == taskName {
                    report(.selfDependency, path, "task `\(taskName)` depends on itself")
                } else if graph.index[name] == nil {
                    // A task never depends on itself, so it is no suggestion for its own dependency.
                    let hint = NameSuggestion.hint(for: name, among: graph.names.filter { $0 != taskName })
                    report(.unknownDependency, path, "task `\(taskName)` depends on `\(name)`, which is not a task\(hint)")
                } else if !seen.insert(name).inserted {
                    report(.duplicateDependency, path, "task `\(taskName)` lists `\(name)` twice in depends")
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
