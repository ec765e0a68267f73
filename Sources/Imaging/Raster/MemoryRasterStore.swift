import Synchronization

/// A raster store that keeps every "file" in memory, keyed by path.
///
/// It honours the same contract as ``GDALRasterStore`` (types never converted, windows checked, formats
/// recorded) so the chain and its tests can run without touching the disk.
public final class MemoryRasterStore: RasterStore {
    private struct Entry {
        var info: RasterInfo
        var bytes: [UInt8]
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// An empty store.
    public init() {}

    /// Paths currently stored, sorted.
    public var paths: [String] { entries.withLock { $0.keys.sorted() } }

    /// Removes the raster at `path`; returns whether there was one.
    @discardableResult
    public func remove(_ path: String) -> Bool {
        entries.withLock { $0.removeValue(forKey: path) != nil }
    }

    public func info(at path: String) throws(RasterError) -> RasterInfo {
        guard let entry = entries.withLock({ $0[path] }) else {
            throw RasterError(.notFound, path: path, message: "no raster in memory at this path")
        }
        return entry.info
    }

    public func read<Pixel: RasterPixel>(_ path: String, window: PixelWindow?, as type: Pixel.Type) throws(RasterError) -> Raster<Pixel> {
        guard let entry = entries.withLock({ $0[path] }) else {
            throw RasterError(.notFound, path: path, message: "no raster in memory at this path")
        }
        let info = entry.info
        guard info.dataType == Pixel.dataType else {
            throw RasterError(
                .wrongDataType(expected: Pixel.dataType, found: info.dataType), path: path,
                message: "band 1 is \(info.dataType.rawValue), expected \(Pixel.dataType.rawValue)")
        }
        let whole = PixelWindow(x: 0, y: 0, width: info.width, height: info.height)
        let window = window ?? whole
        guard window.fits(width: info.width, height: info.height) else {
            throw RasterError(
                .windowOutOfBounds(window, width: info.width, height: info.height), path: path,
                message: "window \(window) is outside the \(info.width)×\(info.height) image")
        }
        let pixels = entry.bytes.withUnsafeBytes { raw in
            Array(raw.bindMemory(to: Pixel.self))
        }
        return Raster(width: info.width, height: info.height, pixels: pixels).cropped(to: window)
    }

    public func write<Pixel: RasterPixel>(_ image: GeoRaster<Pixel>, to path: String, format: RasterFormat) throws(RasterError) {
        let raster = image.raster
        guard raster.width > 0, raster.height > 0 else {
            throw RasterError(.writeFailed, path: path, message: "cannot write an empty \(raster.width)×\(raster.height) raster")
        }
        if case .png = format, Pixel.dataType != .byte {
            throw RasterError(.unsupported, path: path, message: "PNG holds Byte pixels, not \(Pixel.dataType.rawValue)")
        }
        let bytes = raster.pixels.withUnsafeBytes { Array($0) }
        var info = RasterInfo(
            width: raster.width, height: raster.height, dataType: Pixel.dataType,
            geo: format == .png ? GeoReference() : image.geo, metadata: format == .png ? [:] : image.metadata)
        if Pixel.dataType == .byte { info.palette = image.palette }
        switch format {
        case .geoTIFF(let deflate): info.compression = deflate ? "DEFLATE" : nil
        case .cog:
            info.compression = "DEFLATE"
            info.layout = "COG"
        case .png: break
        }
        entries.withLock { $0[path] = Entry(info: info, bytes: bytes) }
    }
}
