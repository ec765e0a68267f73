import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: name (without namespace prefix), attributes, children and text.
///
/// Sentinel-1 annotation files are a few megabytes at most, so a small tree is simpler and as fast as
/// streaming; every lookup that can fail throws a ``SAFEError`` naming the file and the element path.
struct XMLTree: Sendable {
    /// Local element name (`safe:software` → `software`).
    var name: String
    /// Attributes, by local name.
    var attributes: [String: String]
    /// Child elements in document order.
    var children: [XMLTree]
    /// Concatenated character data, trimmed.
    var text: String
    /// Line of the start tag, for messages.
    var line: Int

    /// Parses `data`.
    ///
    /// - Throws: ``SAFEError`` with ``SAFEError/Code/malformedXML`` and the parser's line when it is not well-formed.
    static func parse(_ data: Data, file: String) throws(SAFEError) -> XMLTree {
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "not XML"
            throw SAFEError(.malformedXML, file: file, message: "line \(parser.lineNumber): \(reason)")
        }
        return root
    }

    /// Reads and parses the file at `path`.
    ///
    /// - Throws: ``SAFEError`` when the file is missing or malformed.
    static func load(_ path: String) throws(SAFEError) -> XMLTree {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SAFEError(.missingFile, file: path, message: "cannot read the file")
        }
        return try parse(data, file: path)
    }

    /// The first child named `name`.
    func child(_ name: String) -> XMLTree? {
        children.first { $0.name == name }
    }

    /// All children named `name`.
    func children(_ name: String) -> [XMLTree] {
        children.filter { $0.name == name }
    }

    /// The first element at `path` below this one (`["imageAnnotation", "imageInformation"]`).
    func find(_ path: [String]) -> XMLTree? {
        var node = self
        for name in path {
            guard let next = node.child(name) else { return nil }
            node = next
        }
        return node
    }

    /// The first descendant named `name`, depth first.
    func descendant(_ name: String) -> XMLTree? {
        for child in children {
            if child.name == name { return child }
            if let found = child.descendant(name) { return found }
        }
        return nil
    }

    /// Every descendant named `name`, depth first.
    func descendants(_ name: String) -> [XMLTree] {
        var found: [XMLTree] = []
        for child in children {
            if child.name == name { found.append(child) }
            found.append(contentsOf: child.descendants(name))
        }
        return found
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var texts: [String] = []
        var root: XMLTree?
        weak var parser: XMLParser?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            var attributes: [String: String] = [:]
            for (key, value) in attributeDict {
                attributes[XMLTree.localName(key)] = value
            }
            stack.append(XMLTree(name: XMLTree.localName(elementName), attributes: attributes, children: [], text: "", line: parser.lineNumber))
            texts.append("")
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !texts.isEmpty else { return }
            texts[texts.count - 1] += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard var element = stack.popLast(), let text = texts.popLast() else { return }
            element.text = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if stack.isEmpty {
                root = element
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }
    }

    private static func localName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }
}

/// Typed access to values, with errors that name the file and the element.
struct XMLReader: Sendable {
    /// The file the tree came from.
    let file: String

    /// The element at `path` below `node`.
    func element(_ node: XMLTree, _ path: [String]) throws(SAFEError) -> XMLTree {
        guard let found = node.find(path) else {
            throw SAFEError(.missingElement, file: file, message: "no <\(path.joined(separator: "/"))> under <\(node.name)> (line \(node.line))")
        }
        return found
    }

    /// The text at `path` below `node`.
    func string(_ node: XMLTree, _ path: [String]) throws(SAFEError) -> String {
        try element(node, path).text
    }

    /// The integer at `path` below `node`.
    func int(_ node: XMLTree, _ path: [String]) throws(SAFEError) -> Int {
        let element = try element(node, path)
        guard let value = Int(element.text) else {
            throw SAFEError(.badValue, file: file, message: "<\(element.name)> (line \(element.line)) is not an integer: \"\(element.text.prefix(40))\"")
        }
        return value
    }

    /// The number at `path` below `node`.
    func double(_ node: XMLTree, _ path: [String]) throws(SAFEError) -> Double {
        let element = try element(node, path)
        guard let value = Double(element.text), value.isFinite else {
            throw SAFEError(.badValue, file: file, message: "<\(element.name)> (line \(element.line)) is not a number: \"\(element.text.prefix(40))\"")
        }
        return value
    }

    /// The space-separated numbers at `path` below `node`, checked against the element's `count` attribute.
    func doubles(_ node: XMLTree, _ path: [String]) throws(SAFEError) -> [Double] {
        let element = try element(node, path)
        var values: [Double] = []
        for token in element.text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }) {
            guard let value = Double(token), value.isFinite else {
                throw SAFEError(.badValue, file: file, message: "<\(element.name)> (line \(element.line)) holds \"\(token.prefix(20))\", not a number")
            }
            values.append(value)
        }
        if let declared = element.attributes["count"], let count = Int(declared), count != values.count {
            throw SAFEError(.badValue, file: file, message: "<\(element.name)> (line \(element.line)) declares \(count) values but holds \(values.count)")
        }
        return values
    }

    /// The space-separated integers at `path` below `node`.
    func ints(_ node: XMLTree, _ path: [String]) throws(SAFEError) -> [Int] {
        let values = try doubles(node, path)
        var ints: [Int] = []
        ints.reserveCapacity(values.count)
        for value in values {
            guard value == value.rounded(), abs(value) < 1e15 else {
                throw SAFEError(.badValue, file: file, message: "<\(path.last ?? "")> holds \(value), not an integer")
            }
            ints.append(Int(value))
        }
        return ints
    }
}
