import Crypto
import Foundation
import ZIPFoundation

/// Fetches Sentinel-1 products from a product store into a local cache, verified against their manifest.
///
/// A store is a directory (or a `file://` URL of one) holding `NAME.SAFE` folders or `NAME.zip` archives, as
/// PEPS serves them. A fetched product is checked file by file against the sizes and MD5 checksums its
/// `manifest.safe` lists, and appears in the cache whole or not at all.
public struct ProductStore: Sendable {
    /// The store: a directory path or a `file://` URL.
    public let location: String
    /// The local cache the products are copied into.
    public let cache: String

    /// Makes a store reader.
    public init(location: String, cache: String) {
        self.location = location
        self.cache = cache
    }

    /// The store's directory.
    ///
    /// - Throws: ``FetchError/unsupportedLocation(_:)`` for URLs that are not `file://`.
    public func directory() throws(FetchError) -> String {
        if location.contains("://") {
            guard let url = URL(string: location), url.isFileURL else { throw .unsupportedLocation(location) }
            return url.path
        }
        return location
    }

    /// Product names in the store (folders `*.SAFE` and archives `*.zip`), sorted.
    public func products() throws(FetchError) -> [String] {
        let directory = try directory()
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { throw .storeUnreadable(directory) }
        return Array(Set(entries.compactMap { entry -> String? in
            if entry.hasSuffix(".SAFE") { return String(entry.dropLast(5)) }
            if entry.hasSuffix(".zip") && entry.hasPrefix("S1") { return String(entry.dropLast(4)) }
            return nil
        })).sorted()
    }

    /// Copies `name` into the cache (unzipping an archive), verifies it, and returns the cached `.SAFE` path.
    ///
    /// A product already cached and still valid is not copied again.
    /// - Throws: ``FetchError`` when the product is missing, damaged or cannot be copied.
    public func fetch(_ name: String) throws -> String {
        let manager = FileManager.default
        let target = cache + "/" + name + ".SAFE"
        if manager.fileExists(atPath: target), (try? Self.verify(target)) != nil { return target }
        let directory = try directory()
        let staging = cache + "/.fetch-\(name)-\(UUID().uuidString)"
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: staging) }
        let folder = directory + "/" + name + ".SAFE"
        let archive = directory + "/" + name + ".zip"
        var staged = staging + "/" + name + ".SAFE"
        if manager.fileExists(atPath: folder) {
            try manager.copyItem(atPath: folder, toPath: staged)
        } else if manager.fileExists(atPath: archive) {
            do {
                try manager.unzipItem(at: URL(fileURLWithPath: archive), to: URL(fileURLWithPath: staging))
            } catch {
                throw FetchError.damaged(product: name, reason: "the archive cannot be unzipped: \(error)")
            }
            if !manager.fileExists(atPath: staged) {
                guard let inner = try manager.contentsOfDirectory(atPath: staging).first(where: { $0.hasSuffix(".SAFE") }) else {
                    throw FetchError.damaged(product: name, reason: "the archive holds no .SAFE folder")
                }
                staged = staging + "/" + inner
            }
        } else {
            throw FetchError.notInStore(product: name, store: directory)
        }
        try Self.verify(staged)
        if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
        try manager.moveItem(atPath: staged, toPath: target)
        return target
    }

    /// Checks every file `manifest.safe` lists (size and MD5) and that the manifest itself parses.
    ///
    /// Files the manifest lists but the product lacks fail the check, except that a product may be
    /// metadata-only when the manifest lists no measurement.
    /// - Throws: ``FetchError/damaged(product:reason:)`` naming the first bad file.
    public static func verify(_ safe: String) throws {
        let name = URL(fileURLWithPath: safe).deletingPathExtension().lastPathComponent
        let product: SAFEProduct
        do {
            product = try SAFEProduct(path: safe)
        } catch {
            throw FetchError.damaged(product: name, reason: "\(error)")
        }
        guard !product.files.isEmpty else { throw FetchError.damaged(product: name, reason: "no annotation files") }
        let manifest = try XMLTree.load(safe + "/manifest.safe")
        for stream in manifest.descendants("byteStream") {
            guard let href = stream.child("fileLocation")?.attributes["href"] else { continue }
            let path = safe + "/" + (href.hasPrefix("./") ? String(href.dropFirst(2)) : href)
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
                throw FetchError.damaged(product: name, reason: "\(href) is missing")
            }
            if let declared = stream.attributes["size"].flatMap(Int.init), let size = attributes[.size] as? Int, size != declared {
                throw FetchError.damaged(product: name, reason: "\(href) has \(size) bytes, the manifest says \(declared)")
            }
            if let expected = stream.child("checksum")?.text.lowercased(), expected.count == 32 {
                let actual = try md5(of: path)
                guard actual == expected else {
                    throw FetchError.damaged(product: name, reason: "\(href) has MD5 \(actual), the manifest says \(expected)")
                }
            }
        }
    }

    /// The MD5 of a file, hex, read in 4 MiB chunks.
    static func md5(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FetchError.damaged(product: path, reason: "unreadable") }
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// A product that cannot be fetched.
public enum FetchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Only directories and `file://` URLs are stores.
    case unsupportedLocation(String)
    /// The store directory cannot be listed.
    case storeUnreadable(String)
    /// Neither `NAME.SAFE` nor `NAME.zip` is in the store.
    case notInStore(product: String, store: String)
    /// The product fails verification.
    case damaged(product: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedLocation(let location): "unsupported product store \(location): use a directory or a file:// URL"
        case .storeUnreadable(let path): "cannot list the product store \(path)"
        case .notInStore(let product, let store): "\(product) is not in the store \(store) (neither .SAFE nor .zip)"
        case .damaged(let product, let reason): "\(product) is damaged: \(reason)"
        }
    }
}
