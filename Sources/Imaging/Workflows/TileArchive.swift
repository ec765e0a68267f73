import Foundation
import ZIPFoundation

/// The "build zip" step: tile files packed into one archive, which appears whole or not at all.
public enum TileArchive {
    /// Writes `files` into a zip at `archive`, with paths relative to `base`.
    ///
    /// - Throws: ``FetchError/damaged(product:reason:)`` when a file is missing, or the archive's own errors.
    public static func write(files: [String], relativeTo base: String, to archive: String) throws {
        let manager = FileManager.default
        let partial = archive + ".partial-\(UUID().uuidString)"
        defer { try? manager.removeItem(atPath: partial) }
        let zip = try Archive(url: URL(fileURLWithPath: partial), accessMode: .create)
        let prefix = base.hasSuffix("/") ? base : base + "/"
        for file in files {
            guard manager.fileExists(atPath: file) else { throw FetchError.damaged(product: archive, reason: "\(file) is missing") }
            let relative = file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : URL(fileURLWithPath: file).lastPathComponent
            try zip.addEntry(with: relative, fileURL: URL(fileURLWithPath: file), compressionMethod: .deflate)
        }
        if manager.fileExists(atPath: archive) { try manager.removeItem(atPath: archive) }
        try manager.moveItem(atPath: partial, toPath: archive)
    }

    /// The entry paths of the archive at `path`.
    public static func entries(of path: String) throws -> [String] {
        try Archive(url: URL(fileURLWithPath: path), accessMode: .read).map(\.path).sorted()
    }
}

/// The local product cache: fetched products, the oldest evicted beyond a count (S1Tiling keeps 1,000).
public struct ProductCache: Sendable {
    /// The cache directory.
    public let directory: String

    /// A cache in `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// Removes leftovers of interrupted fetches and all but the `keeping` most recent products; returns what it removed.
    public func clean(keeping: Int) throws -> [String] {
        let manager = FileManager.default
        let entries = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for entry in entries where entry.hasPrefix(".fetch-") {
            try manager.removeItem(atPath: directory + "/" + entry)
            removed.append(entry)
        }
        let products = entries.filter { $0.hasSuffix(".SAFE") }.map { name -> (String, Date) in
            let date = (try? manager.attributesOfItem(atPath: directory + "/" + name)[.modificationDate] as? Date) ?? .distantPast
            return (name, date)
        }.sorted { $0.1 > $1.1 }
        for (name, _) in products.dropFirst(keeping) {
            try manager.removeItem(atPath: directory + "/" + name)
            removed.append(name)
        }
        return removed
    }
}
