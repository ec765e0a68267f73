import Foundation

/// S1Tiling's concatenation step: the tiles of products taken on the same date (consecutive slices of one
/// pass) merged into one file, first non-nodata pixel winning, named with the time `xxxxxx`.
public struct SameDateConcatenation: Sendable {
    /// Where rasters are read and written.
    public let store: any RasterStore

    /// Makes the step.
    public init(store: any RasterStore = GDALRasterStore()) {
        self.store = store
    }

    /// Merges, among `paths`, every group of files with the same tile, polarisation, pass, orbit and date
    /// into `directory/<name with txxxxxx>` and returns, for the whole set, the files to use: the merged ones
    /// in place of their parts, the others as they were.
    ///
    /// A merged file that already exists and is not older than its parts is kept as it is.
    /// - Throws: ``RasterError`` for unreadable or unwritable files, ``RiceMapError/differentGrids(_:)``
    ///   when the parts are not on one grid.
    public func merge(_ paths: [String], into directory: String) throws -> [String] {
        var groups: [S1TilingName: [(path: String, name: S1TilingName)]] = [:]
        var result: [String] = []
        for path in paths.sorted() {
            guard let name = S1TilingName(parsing: path), name.time != nil, name.suffixes.isEmpty else {
                result.append(path)
                continue
            }
            var key = name
            key.time = nil
            groups[key, default: []].append((path, name))
        }
        for (key, parts) in groups.sorted(by: { $0.key.description < $1.key.description }) {
            guard parts.count > 1 else {
                result.append(parts[0].path)
                continue
            }
            let target = directory + "/" + key.description
            if try isCurrent(target, parts: parts.map(\.path)) {
                result.append(target)
                continue
            }
            var images: [Raster<Float>] = []
            var infos: [RasterInfo] = []
            for part in parts {
                let info = try store.info(at: part.path)
                if let first = infos.first, info.width != first.width || info.height != first.height || info.geo != first.geo {
                    throw RiceMapError.differentGrids(part.path)
                }
                infos.append(info)
                images.append(try store.read(part.path, window: nil, as: Float.self))
            }
            guard let merged = Mosaic.firstValid(images), let info = infos.first else { continue }
            var tags = info.metadata
            tags["ACQUISITION_DATETIME"] = nil
            for (index, (part, partInfo)) in zip(parts, infos).enumerated() {
                tags["ACQUISITION_DATETIME_\(index + 1)"] = partInfo.metadata["ACQUISITION_DATETIME"] ?? "\(key.date)T\(part.name.time ?? "")"
            }
            tags["INPUT_S1_IMAGES"] = infos.compactMap { $0.metadata["INPUT_S1_IMAGES"] }.joined(separator: ", ")
            try store.write(GeoRaster(raster: merged, geo: info.geo, metadata: tags), to: target, format: .cog)
            result.append(target)
        }
        return result.sorted()
    }

    /// Whether `target` exists and is at least as new as every part (only for files on disk).
    private func isCurrent(_ target: String, parts: [String]) throws -> Bool {
        let manager = FileManager.default
        guard let made = (try? manager.attributesOfItem(atPath: target))?[.modificationDate] as? Date else { return false }
        for part in parts {
            guard let changed = (try? manager.attributesOfItem(atPath: part))?[.modificationDate] as? Date, changed <= made else { return false }
        }
        return true
    }
}
