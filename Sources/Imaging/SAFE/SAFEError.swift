/// A Sentinel-1 SAFE product that could not be read.
public struct SAFEError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Sendable, Hashable {
        /// The product folder or one of its files is missing.
        case missingFile
        /// A file is not well-formed XML (truncated, garbled).
        case malformedXML
        /// A required element is absent.
        case missingElement
        /// An element holds a value of the wrong kind or out of range.
        case badValue
        /// The product's LUTs do not form a usable grid (unsorted lines, too few vectors, mismatched lengths).
        case inconsistent
    }

    /// What went wrong.
    public var code: Code
    /// The file concerned.
    public var file: String
    /// A human-readable detail: the element and line when known.
    public var message: String

    /// Makes an error.
    public init(_ code: Code, file: String, message: String) {
        self.code = code
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
