/// A coordinate reference system: an EPSG code or a WKT definition.
public enum CRS: Sendable, Hashable, Codable, CustomStringConvertible {
    /// An EPSG code, such as 32648 for WGS 84 / UTM zone 48N.
    case epsg(Int)
    /// A WKT definition that has no EPSG code.
    case wkt(String)

    /// WGS 84 / UTM in `zone` (1…60), north or south.
    public static func utm(zone: Int, north: Bool) -> CRS {
        .epsg((north ? 32600 : 32700) + zone)
    }

    /// The EPSG code, when there is one.
    public var epsgCode: Int? {
        if case .epsg(let code) = self { return code }
        return nil
    }

    public var description: String {
        switch self {
        case .epsg(let code): "EPSG:\(code)"
        case .wkt(let text): "WKT(\(text.prefix(40))…)"
        }
    }
}

/// The affine map from pixel corners to map coordinates, in GDAL's order.
///
/// `x = originX + column · pixelWidth + row · rowRotation`,
/// `y = originY + column · columnRotation + row · pixelHeight` (pixelHeight < 0 for north-up).
public struct GeoTransform: Sendable, Hashable, Codable {
    /// Map x of the top-left corner of the top-left pixel.
    public var originX: Double
    /// Map x step per column.
    public var pixelWidth: Double
    /// Map x step per row (0 for north-up images).
    public var rowRotation: Double
    /// Map y of the top-left corner of the top-left pixel.
    public var originY: Double
    /// Map y step per column (0 for north-up images).
    public var columnRotation: Double
    /// Map y step per row (negative for north-up images).
    public var pixelHeight: Double

    /// Makes a transform from GDAL's six coefficients.
    public init(originX: Double, pixelWidth: Double, rowRotation: Double, originY: Double, columnRotation: Double, pixelHeight: Double) {
        self.originX = originX
        self.pixelWidth = pixelWidth
        self.rowRotation = rowRotation
        self.originY = originY
        self.columnRotation = columnRotation
        self.pixelHeight = pixelHeight
    }

    /// A north-up transform with square pixels of `pixelSize` map units.
    public init(originX: Double, originY: Double, pixelSize: Double) {
        self.init(originX: originX, pixelWidth: pixelSize, rowRotation: 0, originY: originY, columnRotation: 0, pixelHeight: -pixelSize)
    }

    /// GDAL's coefficient array.
    public var coefficients: [Double] { [originX, pixelWidth, rowRotation, originY, columnRotation, pixelHeight] }

    /// Map coordinates of the pixel position (`column`, `row`); use `+ 0.5` for a pixel centre.
    public func map(column: Double, row: Double) -> (x: Double, y: Double) {
        (originX + column * pixelWidth + row * rowRotation, originY + column * columnRotation + row * pixelHeight)
    }
}

/// Where an image lies on Earth and how its pixels are to be read.
public struct GeoReference: Sendable, Hashable, Codable {
    /// The pixel-to-map transform, when the image has one (S1 GRD measurements have GCPs instead).
    public var transform: GeoTransform?
    /// The map's coordinate reference system.
    public var crs: CRS?
    /// The pixel value that means "no data" (0 in S1Tiling products).
    public var nodata: Double?

    /// Makes a reference.
    public init(transform: GeoTransform? = nil, crs: CRS? = nil, nodata: Double? = nil) {
        self.transform = transform
        self.crs = crs
        self.nodata = nodata
    }
}

/// An image with its georeferencing and metadata tags, ready to write.
public struct GeoRaster<Pixel: RasterPixel>: Sendable, Equatable {
    /// The pixels.
    public var raster: Raster<Pixel>
    /// Transform, CRS and nodata.
    public var geo: GeoReference
    /// Metadata tags of the default domain (S1Tiling's ACQUISITION_DATETIME, CALIBRATION, …).
    public var metadata: [String: String]
    /// A colour per pixel value for Byte images (class maps); empty for none.
    public var palette: [RasterColour]

    /// Makes a georeferenced image.
    public init(raster: Raster<Pixel>, geo: GeoReference = GeoReference(), metadata: [String: String] = [:], palette: [RasterColour] = []) {
        self.raster = raster
        self.geo = geo
        self.metadata = metadata
        self.palette = palette
    }
}

/// An RGB colour of a palette entry.
public struct RasterColour: Sendable, Hashable, Codable {
    /// Red.
    public var red: UInt8
    /// Green.
    public var green: UInt8
    /// Blue.
    public var blue: UInt8

    /// Makes a colour.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}
