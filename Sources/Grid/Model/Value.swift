import Foundation

/// A JSON-shaped value: task results, function inputs, flow decisions.
///
/// Results stay in this form between tasks, so an in-process function's output reaches its
/// children without being encoded; ``decode(_:)`` and ``init(encoding:)`` convert to Codable types.
public enum Value: Sendable, Hashable {
    /// No value.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer.
    case int(Int)
    /// A floating-point number.
    case double(Double)
    /// Text.
    case string(String)
    /// An ordered list.
    case array([Value])
    /// Named members.
    case object([String: Value])

    /// Encodes a Codable value into a `Value`.
    ///
    /// - Throws: the encoder's error when `value` cannot be encoded.
    public init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONDecoder().decode(Value.self, from: data)
    }

    /// Decodes this value as `type`.
    ///
    /// - Throws: `DecodingError` when the shapes differ.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(self))
    }

    /// Parses JSON text; text that is not JSON becomes a `.string` of the trimmed text.
    public init(parsingResult text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            self = .null
        } else if let data = trimmed.data(using: .utf8), let value = try? JSONDecoder().decode(Value.self, from: data) {
            self = value
        } else {
            self = .string(trimmed)
        }
    }

    /// The value as compact JSON text, object keys sorted (the same text in every process, so it can be fingerprinted).
    public var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The member `key` of an object, or `nil`.
    public subscript(key: String) -> Value? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The value as text the way a shell variable would hold it (strings bare, the rest as JSON).
    public var text: String {
        switch self {
        case .string(let text): text
        case .null: ""
        default: jsonText
        }
    }
}

extension Value: Codable {
    public init(from decoder: any Decoder) throws {
        // Bounded here, for every decoder (REST bodies, the agents' wire, the journal, results): a value nested
        // too deep is refused with a typed error instead of exhausting the stack or Foundation's own limit.
        guard decoder.codingPath.count <= Value.maximumDepth else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "a value nests deeper than \(Value.maximumDepth) levels"))
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([Value].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: Value].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension Value: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension Value: ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
