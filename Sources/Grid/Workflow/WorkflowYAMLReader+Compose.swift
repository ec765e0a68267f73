import Yams

extension WorkflowYAMLReader {
    /// What composing the text gave.
    enum Composed {
        /// A tree (`nil` for an empty document), with the column shifts the recovery made.
        case tree(Node?, shifts: [Int: ColumnShift])
        /// The text is not YAML the loader can recover from.
        case failure(WorkflowProblem)
    }

    /// The most repeated keys the recovery edits before it gives up.
    static let maximumRecoveries = 256

    /// Composes `text` into a node tree, getting past repeated keys so that each can be reported.
    ///
    /// Yams rejects a mapping with a repeated key outright, which would hide every other problem. When the
    /// repeated key is written in block style, the recovery tags the later occurrence with a unique local
    /// tag (`!dup0 tile:`): Yams then sees distinct keys, the reader sees the same text twice and reports
    /// it, and the columns that the tag pushed to the right are shifted back when locations are computed.
    static func compose(_ text: String) -> Composed {
        var current = text
        var shifts: [Int: ColumnShift] = [:]
        for attempt in 0..<maximumRecoveries {
            do {
                return .tree(try Yams.compose(yaml: current), shifts: shifts)
            } catch let error as YamlError {
                let reader = WorkflowYAMLReader(shifts: shifts)
                guard case .duplicatedKeysInMapping(let duplicates, let context) = error, let key = duplicates.first else {
                    return .failure(reader.problem(for: error, in: current))
                }
                var lines = current.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                guard let line = nextOccurrence(of: key, after: context.mark, in: lines) else {
                    return .failure(
                        WorkflowProblem(
                            .duplicateKey, path: "", location: reader.location(of: context.mark),
                            message: "`\(key)` appears twice in the same mapping; other problems show once it is fixed"
                        )
                    )
                }
                let indent = context.mark.column - 1
                let tag = "!dup\(attempt) "
                let scalars = Array(lines[line - 1].unicodeScalars)
                var edited = String.UnicodeScalarView(scalars[..<indent])
                edited.append(contentsOf: tag.unicodeScalars)
                edited.append(contentsOf: scalars[indent...])
                lines[line - 1] = String(edited)
                shifts[line] = ColumnShift(column: context.mark.column, length: tag.unicodeScalars.count)
                current = lines.joined(separator: "\n")
            } catch {
                return .failure(WorkflowProblem(.yamlSyntax, path: "", message: "the YAML could not be read: \(error)"))
            }
        }
        return .failure(
            WorkflowProblem(.duplicateKey, path: "", message: "more than \(maximumRecoveries) repeated keys")
        )
    }

    /// The line (from 1) of the next block-style occurrence of `key` in the mapping whose key at `mark` repeats it.
    ///
    /// Keys of one block mapping share a column, so the search walks down the lines at that indentation
    /// and stops where the mapping ends (a line indented less). A key in flow style (`{a: 1, a: 2}`) is
    /// not searched for: the caller reports the repetition and gives up.
    static func nextOccurrence(of key: String, after mark: Mark, in lines: [String]) -> Int? {
        let indent = mark.column - 1
        guard mark.line >= 1, mark.line <= lines.count, indent >= 0 else { return nil }
        let before = lines[mark.line - 1].unicodeScalars.prefix(indent)
        guard before.count == indent, before.allSatisfy({ $0 == " " || $0 == "-" }) else { return nil }
        let spellings = [key, "\"\(key)\"", "'\(key)'"]
        for index in mark.line..<lines.count {
            let scalars = lines[index].unicodeScalars
            let leading = scalars.prefix { $0 == " " }.count
            let rest = String(String.UnicodeScalarView(scalars.dropFirst(leading)))
            if rest.trimmingWhitespace().isEmpty || rest.hasPrefix("#") { continue }
            if leading < indent { return nil }
            guard leading == indent else { continue }
            for spelling in spellings where rest.hasPrefix(spelling) {
                let afterKey = rest.dropFirst(spelling.count).drop { $0 == " " || $0 == "\t" }
                guard afterKey.hasPrefix(":") else { continue }
                if afterKey.dropFirst().first.map(\.isWhitespace) ?? true { return index + 1 }
            }
        }
        return nil
    }

    /// A Yams error as a problem, located where Yams found it.
    func problem(for error: YamlError, in text: String) -> WorkflowProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during = context.map { " (\($0.text) at line \(location(of: $0.mark).line))" } ?? ""
            return WorkflowProblem(
                .yamlSyntax, path: "", location: location(of: mark), message: "invalid YAML: \(problem)\(during)"
            )
        case .reader(let problem, let offset, _, _):
            return WorkflowProblem(
                .yamlSyntax, path: "", location: offset.flatMap { Self.location(ofUTF8Offset: $0, in: text) },
                message: "invalid YAML: \(problem)"
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            return WorkflowProblem(
                .duplicateKey, path: "", location: location(of: context.mark),
                message: "keys appear twice in the same mapping: \(duplicates.joined(separator: ", "))"
            )
        default:
            return WorkflowProblem(.yamlSyntax, path: "", message: "invalid YAML: \(error)")
        }
    }

    /// The line and column (from 1, columns in Unicode scalars) of a UTF-8 offset.
    static func location(ofUTF8Offset offset: Int, in text: String) -> SourceLocation? {
        let utf8 = text.utf8
        guard offset >= 0, let end = utf8.index(utf8.startIndex, offsetBy: offset, limitedBy: utf8.endIndex) else {
            return nil
        }
        let prefix = text[..<end]
        let line = prefix.utf8.count { $0 == UInt8(ascii: "\n") } + 1
        let lineStart = prefix.lastIndex(of: "\n").map { prefix.index(after: $0) } ?? prefix.startIndex
        return SourceLocation(line: line, column: prefix[lineStart...].unicodeScalars.count + 1)
    }
}

extension WorkflowYAMLReader {
    /// What a composed document holds once its aliases are expanded, counted without expanding them.
    struct Extent {
        /// Alias references (nodes met again at the mark where they were first read).
        var aliases = 0
        /// Nodes after expansion (up to the point where counting stopped).
        var nodes = 0
        /// The deepest nesting (up to the point where counting stopped).
        var depth = 0
    }

    /// The problem with the document's size, or `nil` when it is within `limits`.
    ///
    /// Yams resolves an alias to the node its anchor named, so an alias is the same node, at the same mark,
    /// met again: each collection's expanded size is computed once and reused, and a billion-laughs document
    /// is refused after reading its few hundred bytes, before any part of the reader expands it.
    static func sizeProblem(of root: Node, limits: InputLimits) -> WorkflowProblem? {
        var extent = Extent()
        var sizes: [Int: Int] = [:]
        var seen: Set<Int> = []
        let deepest = Value.maximumDepth
        // A block mapping starts where its first key does: the kind is part of the identity.
        func key(_ mark: Mark?, _ kind: Int) -> Int? { mark.map { $0.line << 26 | $0.column << 2 | kind } }
        func visit(_ node: Node, depth: Int) -> Int {
            extent.depth = max(extent.depth, depth)
            let id: Int?
            let children: [Node]
            switch node {
            case .scalar(let scalar): id = key(scalar.mark, 0); children = []
            case .alias(let alias): id = key(alias.mark, 1); children = []
            case .sequence(let sequence): id = key(sequence.mark, 2); children = Array(sequence)
            case .mapping(let mapping):
                id = key(mapping.mark, 3)
                children = mapping.flatMap { [$0.key, $0.value] }
            }
            if let id, !seen.insert(id).inserted {
                extent.aliases += 1
                if let size = sizes[id] { return size }
            }
            guard !children.isEmpty else { return 1 }
            var size = 1
            for child in children {
                guard extent.aliases <= limits.yamlAliases, size <= limits.yamlNodes, depth < deepest else { break }
                size += visit(child, depth: depth + 1)
            }
            if let id { sizes[id] = size }
            return size
        }
        extent.nodes = visit(root, depth: 0)
        if extent.aliases > limits.yamlAliases {
            return WorkflowProblem(
                .limitExceeded, path: "",
                message: "the document uses more than \(limits.yamlAliases) YAML aliases (limit yamlAliases)")
        }
        if extent.nodes > limits.yamlNodes {
            return WorkflowProblem(
                .limitExceeded, path: "",
                message: "the document holds more than \(limits.yamlNodes) nodes once its aliases are expanded (limit yamlNodes)")
        }
        if extent.depth >= deepest {
            return WorkflowProblem(
                .limitExceeded, path: "", message: "the document nests deeper than \(deepest) levels")
        }
        return nil
    }
}
