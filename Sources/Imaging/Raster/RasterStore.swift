/// What a raster file holds, read without its pixels.
public struct RasterInfo: Sendable, Hashable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Number of bands.
    public var bandCount: Int
    /// Data type of band 1.
    public var dataType: RasterDataType
    /// Transform, CRS and nodata of band 1.
    public var geo: GeoReference
    /// Metadata tags of the default domain.
    public var metadata: [String: String]
    /// Compression of the file (`DEFLATE`, `ZSTD`, …), nil when uncompressed or unknown.
    public var compression: String?
    /// `COG` for a cloud-optimised GeoTIFF, nil otherwise.
    public var layout: String?
    /// Number of ground control points (an S1 GRD measurement has them instead of a transform).
    public var gcpCount: Int
    /// The colour table of band 1 (empty when none).
    public var palette: [RasterColour] = []

    /// Makes an info record.
    public init(
        width: Int, height: Int, bandCount: Int = 1, dataType: RasterDataType, geo: GeoReference = GeoReference(),
        metadata: [String: String] = [:], compression: String? = nil, layout: String? = nil, gcpCount: Int = 0
    ) {
        self.width = width
        self.height = height
        self.bandCount = bandCount
        self.dataType = dataType
        self.geo = geo
        self.metadata = metadata
        self.compression = compression
        self.layout = layout
        self.gcpCount = gcpCount
    }
}

/// How a raster is written.
public enum RasterFormat: Sendable, Hashable {
    /// A tiled GeoTIFF, deflate-compressed when `deflate` is true.
    case geoTIFF(deflate: Bool)
    /// A cloud-optimised GeoTIFF (tiled, overviews, deflate), as S1Tiling writes its products.
    case cog
    /// A PNG image (quicklooks); no georeferencing.
    case png
}

/// Reads and writes single-band rasters.
///
/// Imaging's maths takes and returns ``Raster`` values; files enter and leave only through a store, so the
/// maths is tested with ``MemoryRasterStore`` and the chain runs on ``GDALRasterStore``. Reads never
/// convert types: a band of another type than asked is a ``RasterError/Code/wrongDataType``.
public protocol RasterStore: Sendable {
    /// The size, type, georeferencing and tags of the raster at `path`.
    ///
    /// - Throws: ``RasterError`` when the file is missing or unreadable.
    func info(at path: String) throws(RasterError) -> RasterInfo

    /// Reads `window` (the whole image when nil) of band 1.
    ///
    /// - Throws: ``RasterError`` when the file is missing or unreadable, the band is not of type `Pixel`, or the
    ///   window does not fit.
    func read<Pixel: RasterPixel>(_ path: String, window: PixelWindow?, as type: Pixel.Type) throws(RasterError) -> Raster<Pixel>

    /// Writes `image` to `path`, replacing what is there.
    ///
    /// The file appears whole or not at all: a failed write leaves nothing at `path`.
    /// - Throws: ``RasterError`` when the file cannot be written.
    func write<Pixel: RasterPixel>(_ image: GeoRaster<Pixel>, to path: String, format: RasterFormat) throws(RasterError)
}

/// A raster that could not be read or written.
public struct RasterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: Sendable, Hashable {
        /// No file at the path.
        case notFound
        /// The file is not a raster GDAL can read, or reading it failed.
        case unreadable
        /// The band holds another type than the one asked for.
        case wrongDataType(expected: RasterDataType, found: RasterDataType)
        /// The window does not fit in the image.
        case windowOutOfBounds(PixelWindow, width: Int, height: Int)
        /// The file could not be written.
        case writeFailed
        /// The request is valid but not supported (a data type or format combination).
        case unsupported
    }

    /// What went wrong.
    public var code: Code
    /// The file concerned.
    public var path: String
    /// A human-readable detail (GDAL's own message when there is one).
    public var message: String

    /// Makes an error.
    public init(_ code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
