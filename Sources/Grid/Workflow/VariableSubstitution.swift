/// `${NAME}` references in workflow texts: finding them, checking them, replacing them.
///
/// Only the braced form is a reference. `$NAME` without braces and `$$` belong to the shell and are
/// left alone, so scripts keep their own variables: write `$HOME` or `$i` for those.
/// A name matches `[A-Za-z_][A-Za-z0-9_.]*`.
public enum VariableSubstitution {
    /// One `${…}` occurrence in a text.
    public struct Reference: Sendable, Hashable {
        /// Whether the occurrence is usable.
        public enum Kind: Sendable, Hashable {
            /// `${NAME}` with a valid name.
            case variable
            /// `${` with no `}` before the end of the line.
            case unterminated
            /// `${}`.
            case empty
            /// `${…}` whose content is not a valid name, such as `${a b}` or `${X:-1}`.
            case invalidName
        }

        /// Whether it is a usable reference, and if not, why.
        public var kind: Kind
        /// For ``Kind/variable`` the name; otherwise the raw text, such as `${` or `${a b}`.
        public var text: String
        /// Where it is in the text, from `$` to `}` included (to `{` for an unterminated one).
        public var range: Range<String.Index>

        /// The variable's name, for a well-formed reference.
        public var name: String? { kind == .variable ? text : nil }
    }

    /// Replaces each `${NAME}` by `lookup(NAME)`; names `lookup` does not know stay as they are.
    ///
    /// Substituted values are inserted as they are, not scanned again. Texts without `$` are
    /// returned without copying.
    /// - Parameters:
    ///   - text: The text to expand.
    ///   - lookup: The value of a variable, or `nil` to leave its reference in place.
    /// - Returns: The expanded text.
    /// The job variables' values: a submission value replaces a default, each value may refer to the
    /// variables before it (and to what `builtin` knows, such as system variables), and submission
    /// values for names the workflow does not declare are added as they are.
    static func jobValues(
        _ variables: [Variable], overrides: [String: String], builtin: (String) -> String? = { _ in nil }
    ) -> [String: String] {
        var values: [String: String] = [:]
        for variable in variables {
            let raw = overrides[variable.name] ?? variable.value
            values[variable.name] = substitute(raw) { builtin($0) ?? values[$0] }
        }
        for (name, value) in overrides where values[name] == nil { values[name] = value }
        return values
    }

    public static func substitute(_ text: String, _ lookup: (String) -> String?) -> String {
        guard text.utf8.contains(dollar) else { return text }
        let utf8 = text.utf8
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count)
        var copiedUpTo = utf8.startIndex
        for reference in references(in: text) {
            guard let name = reference.name, let value = lookup(name) else { continue }
            output.append(contentsOf: utf8[copiedUpTo..<reference.range.lowerBound])
            output.append(contentsOf: value.utf8)
            copiedUpTo = reference.range.upperBound
        }
        output.append(contentsOf: utf8[copiedUpTo...])
        return String(decoding: output, as: UTF8.self)
    }

    /// Every `${…}` occurrence in `text`, well-formed or not, in order.
    ///
    /// - Parameter text: The text to scan.
    /// - Returns: The occurrences; check ``Reference/kind`` before using ``Reference/name``.
    public static func references(in text: String) -> [Reference] {
        let utf8 = text.utf8
        guard utf8.contains(dollar) else { return [] }
        var found: [Reference] = []
        var index = utf8.startIndex
        while index < utf8.endIndex {
            guard utf8[index] == dollar else {
                index = utf8.index(after: index)
                continue
            }
            let next = utf8.index(after: index)
            guard next < utf8.endIndex else { break }
            if utf8[next] == dollar {
                index = utf8.index(after: next)
                continue
            }
            guard utf8[next] == openBrace else {
                index = next
                continue
            }
            let contentStart = utf8.index(after: next)
            var end = contentStart
            while end < utf8.endIndex, utf8[end] != closeBrace, utf8[end] != newline {
                end = utf8.index(after: end)
            }
            guard end < utf8.endIndex, utf8[end] == closeBrace else {
                found.append(Reference(kind: .unterminated, text: "${", range: index..<contentStart))
                index = contentStart
                continue
            }
            let afterClose = utf8.index(after: end)
            let content = text[contentStart..<end]
            if content.isEmpty {
                found.append(Reference(kind: .empty, text: "${}", range: index..<afterClose))
            } else if isValidName(content) {
                found.append(Reference(kind: .variable, text: String(content), range: index..<afterClose))
            } else {
                found.append(Reference(kind: .invalidName, text: String(text[index..<afterClose]), range: index..<afterClose))
            }
            index = afterClose
        }
        return found
    }

    /// The name when `text` is exactly one `${NAME}` and nothing else.
    ///
    /// - Parameter text: A decider text, such as `${RUNS}`.
    /// - Returns: `RUNS`, or `nil` when the text holds anything else.
    public static func singleReference(in text: String) -> String? {
        let found = references(in: text)
        guard found.count == 1, let reference = found.first, reference.kind == .variable,
            reference.range == text.startIndex..<text.endIndex
        else { return nil }
        return reference.name
    }

    /// Whether `name` matches `[A-Za-z_][A-Za-z0-9_.]*`.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        var bytes = name.utf8.makeIterator()
        guard let first = bytes.next(), isLetter(first) || first == underscore else { return false }
        while let byte = bytes.next() {
            guard isLetter(byte) || isDigit(byte) || byte == underscore || byte == dot else { return false }
        }
        return true
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static let dollar = UInt8(ascii: "$")
    private static let openBrace = UInt8(ascii: "{")
    private static let closeBrace = UInt8(ascii: "}")
    private static let newline = UInt8(ascii: "\n")
    private static let underscore = UInt8(ascii: "_")
    private static let dot = UInt8(ascii: ".")
}
