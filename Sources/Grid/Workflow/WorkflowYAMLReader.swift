import Yams

/// Turns a composed YAML tree into a ``Workflow``, collecting every problem rather than stopping at the first.
///
/// Each field it reads is recorded in `locations` under its path (`tasks.tile.depends[0]`). A field whose
/// value it rejects gets a placeholder in the model and its path in `unreadable`, so that the validator,
/// which runs next on the same model, does not report the placeholder a second time.
struct WorkflowYAMLReader {
    /// One key and value of a mapping.
    struct Entry {
        /// The key's text.
        var key: String
        /// The key's node, for its location.
        var keyNode: Node
        /// The value's node.
        var value: Node
        /// The path of the value, such as `tasks.tile`.
        var path: String
    }

    /// Problems found so far, in reading order.
    var problems: [WorkflowProblem] = []
    /// Where each field read so far is.
    var locations: [String: SourceLocation] = [:]
    /// Fields whose value was rejected and replaced by a placeholder.
    var unreadable: Set<String> = []
    /// Columns moved by the duplicate-key recovery (see ``WorkflowYAMLReader/compose(_:)``), by line.
    let shifts: [Int: ColumnShift]
    /// Values given at submission (`--var`), which replace the job variables' defaults.
    let overrides: [String: String]
    /// The job variables' values (overrides first), for `${NAME}` in the scheduling attributes.
    var jobValues: [String: String] = [:]

    init(shifts: [Int: ColumnShift] = [:], overrides: [String: String] = [:]) {
        self.shifts = shifts
        self.overrides = overrides
    }

    /// `node` with `${NAME}` replaced by job variable values, for the attributes ProActive lets refer
    /// to variables (priority, onTaskError, maxNumberOfExecution, taskRetryDelay, restartTaskOnError).
    /// A reference to no job variable stays as it is, and the attribute's own check reports it.
    func resolved(_ node: Node) -> Node {
        guard case .scalar(var scalar) = node, scalar.string.contains("${") else { return node }
        scalar.string = VariableSubstitution.substitute(scalar.string) { jobValues[$0] }
        return .scalar(scalar)
    }

    /// Whether a validator problem at `path` concerns a field this reader already reported and replaced.
    func isShadowed(_ path: String) -> Bool {
        unreadable.contains { path == $0 || path.hasPrefix($0 + ".") || path.hasPrefix($0 + "[") }
    }

    // MARK: Locations and problems

    /// The location of `node` in the file the user wrote.
    func location(of node: Node) -> SourceLocation? {
        node.mark.map(location(of:))
    }

    /// The location of `mark`, undoing the columns added by the duplicate-key recovery.
    func location(of mark: Mark) -> SourceLocation {
        var column = mark.column
        if let shift = shifts[mark.line], column > shift.column {
            column = max(shift.column, column - shift.length)
        }
        return SourceLocation(line: mark.line, column: column)
    }

    mutating func report(_ code: WorkflowProblem.Code, _ path: String, at node: Node?, _ message: String) {
        problems.append(WorkflowProblem(code, path: path, location: node.flatMap(location(of:)), message: message))
    }

    /// Reports a value of the wrong shape and marks its field unreadable.
    mutating func reportWrongType(_ node: Node, _ path: String, expected: String) {
        report(.wrongType, path, at: node, "`\(path)` must be \(expected), not \(shapeName(node))")
        unreadable.insert(path)
    }

    /// Reports a value outside what the field accepts and marks its field unreadable.
    mutating func reportInvalid(_ node: Node, _ path: String, _ message: String) {
        report(.invalidValue, path, at: node, message)
        unreadable.insert(path)
    }

    /// Records where the entry is, by its key.
    mutating func record(_ entry: Entry) {
        locations[entry.path] = location(of: entry.keyNode)
    }

    // MARK: Mappings

    /// The entries of a mapping, with repeated keys reported and dropped; `null` reads as an empty mapping.
    ///
    /// - Returns: `nil`, with a problem, when `node` is not a mapping.
    mutating func entries(
        of node: Node, at path: String, what: String, example: String? = nil, duplicate: WorkflowProblem.Code = .duplicateKey
    ) -> [Entry]? {
        guard case .mapping(let mapping) = node else {
            if isNull(node) { return [] }
            reportWrongType(node, path, expected: "a mapping (\(example.map { "such as `\($0)`" } ?? what))")
            return nil
        }
        var firstSeen: [String: Node] = [:]
        var result: [Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(.wrongType, path, at: keyNode, "a key in \(what) must be text, not \(shapeName(keyNode))")
                continue
            }
            let key = scalar.string
            let entryPath = path.isEmpty ? key : "\(path).\(key)"
            if let first = firstSeen[key] {
                let firstLine = location(of: first).map { " (first at line \($0.line))" } ?? ""
                let message = duplicate == .duplicateTask
                    ? "task `\(key)` is defined twice\(firstLine)"
                    : "`\(key)` appears twice in \(what)\(firstLine)"
                report(duplicate, entryPath, at: keyNode, message)
                continue
            }
            firstSeen[key] = keyNode
            result.append(Entry(key: key, keyNode: keyNode, value: value, path: entryPath))
        }
        return result
    }

    /// The entries of a mapping with a fixed set of keys, each recorded; unknown keys are reported.
    ///
    /// - Returns: The known entries by key, or `nil` when `node` is not a mapping.
    mutating func fields(
        of node: Node, at path: String, what: String, example: String? = nil, allowed: [String]
    ) -> [String: Entry]? {
        guard let entries = entries(of: node, at: path, what: what, example: example) else { return nil }
        var fields: [String: Entry] = [:]
        for entry in entries {
            guard allowed.contains(entry.key) else {
                let hint = NameSuggestion.hint(for: entry.key, among: allowed)
                report(.unknownKey, entry.path, at: entry.keyNode, "unknown key `\(entry.key)` in \(what)\(hint)")
                continue
            }
            record(entry)
            fields[entry.key] = entry
        }
        return fields
    }

    // MARK: Scalars

    /// The text of a scalar (`null` reads as empty text); `nil`, with a problem, for a list or a mapping.
    mutating func text(_ node: Node, _ path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            reportWrongType(node, path, expected: "text")
            return nil
        }
        return isNull(node) ? "" : scalar.string
    }

    /// An integer such as `3`.
    mutating func integer(_ node: Node, _ path: String) -> Int? {
        guard let text = text(node, path) else { return nil }
        guard let value = Int(text.trimmingWhitespace()) else {
            report(.wrongType, path, at: node, "`\(path)` must be an integer, not `\(text)`")
            unreadable.insert(path)
            return nil
        }
        return value
    }

    /// `true` or `false`, in any case.
    mutating func boolean(_ node: Node, _ path: String) -> Bool? {
        guard let text = text(node, path) else { return nil }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default:
            report(.wrongType, path, at: node, "`\(path)` must be `true` or `false`, not `\(text)`")
            unreadable.insert(path)
            return nil
        }
    }

    /// A duration: `ss`, `mm:ss`, `hh:mm:ss`, or a number with `ms`, `s`, `m` or `h`.
    mutating func duration(_ node: Node, _ path: String) -> Duration? {
        guard let text = text(node, path) else { return nil }
        guard let duration = Duration(workflowText: text) else {
            reportInvalid(
                node, path,
                "`\(path)` is not a duration: `\(text)` (use \"ss\", \"mm:ss\", \"hh:mm:ss\", or a number with ms, s, m or h, such as \"500ms\" or \"2m\")"
            )
            return nil
        }
        return duration
    }

    /// One of an enumeration's raw values, in any case.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ node: Node, _ path: String, as type: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        guard let text = text(node, path) else { return nil }
        let wanted = text.trimmingWhitespace().lowercased()
        if let match = Choice.allCases.first(where: { $0.rawValue.lowercased() == wanted }) { return match }
        let names = Choice.allCases.map(\.rawValue)
        let hint = NameSuggestion.hint(for: text, among: names)
        reportInvalid(
            node, path,
            "`\(path)` cannot be `\(text)`\(hint); use one of \(names.map { "`\($0)`" }.joined(separator: ", "))"
        )
        return nil
    }

    /// A list of texts, each recorded at `path[i]`; a lone text counts as a list of one when `single` allows it.
    mutating func texts(_ node: Node, _ path: String, single: Bool) -> [String]? {
        switch node {
        case .sequence(let sequence):
            var result: [String] = []
            for (index, item) in sequence.enumerated() {
                let itemPath = "\(path)[\(index)]"
                guard let text = text(item, itemPath) else { continue }
                locations[itemPath] = location(of: item)
                result.append(text)
            }
            return result
        case .scalar where isNull(node):
            return []
        case .scalar where single:
            guard let text = text(node, path) else { return nil }
            locations["\(path)[0]"] = location(of: node)
            return [text]
        default:
            reportWrongType(node, path, expected: single ? "text or a list of texts" : "a list")
            return nil
        }
    }

    // MARK: Shapes

    func isNull(_ node: Node) -> Bool {
        guard case .scalar = node else { return false }
        return node.tag.rawValue == Tag.Name.null.rawValue
    }

    func shapeName(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar(let scalar): isNull(node) ? "null" : "`\(scalar.string)`"
        }
    }
}

/// Columns a recovery edit added to one line: `length` characters inserted at `column`.
struct ColumnShift: Sendable, Hashable {
    var column: Int
    var length: Int
}
