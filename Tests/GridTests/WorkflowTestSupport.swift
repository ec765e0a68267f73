import Grid

/// Short, comparable spellings of values that hold closures and so are not `Equatable`.
extension FlowDecider {
    var summary: String {
        switch self {
        case .result: "result"
        case .value(let text): "value(\(text))"
        case .closure: "closure"
        }
    }
}

extension FlowControl {
    var summary: String {
        switch self {
        case .replicate(let runs): "replicate(\(runs.summary))"
        case .loop(let target, let decider): "loop(\(target), \(decider.summary))"
        case .branch(let target, let elseTarget, let continuation, let decider):
            "if(\(target), else: \(elseTarget), continuation: \(continuation ?? "-"), \(decider.summary))"
        }
    }
}

extension Executable {
    var summary: String {
        switch self {
        case .function(let name, let input): "function(\(name), \(input.jsonText))"
        case .script(let script): "script(\(script.language), \(script.source), \(script.arguments))"
        case .command(let argv): "command(\(argv))"
        }
    }
}

extension WorkflowError {
    /// Each problem as `code@line`, for comparing with what a test expects.
    var codesAndLines: Set<String> {
        Set(problems.map { "\($0.code.rawValue)@\($0.location.map { String($0.line) } ?? "-")" })
    }
}

/// The problems `body` throws, or an empty error when it throws none.
func problems(of body: () throws(WorkflowError) -> Void) -> WorkflowError {
    do {
        try body()
        return WorkflowError(problems: [])
    } catch {
        return error
    }
}
