/// An output tile: a north-up UTM raster grid onto which products are orthorectified (an S2 MGRS tile in
/// production: 10,980 × 10,980 pixels of 10 m).
public struct OutputTile: Sendable, Hashable, Codable {
    /// The tile's name, as in S1Tiling's file names (`48QXH`).
    public var name: String
    /// EPSG code of the tile's UTM zone (326xx north, 327xx south).
    public var epsg: Int
    /// Easting of the top-left corner, metres.
    public var originX: Double
    /// Northing of the top-left corner, metres.
    public var originY: Double
    /// Pixel size in metres (10 for S1Tiling's output).
    public var pixelSize: Double
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Makes a tile.
    public init(name: String, epsg: Int, originX: Double, originY: Double, pixelSize: Double = 10, width: Int = 10_980, height: Int = 10_980) {
        self.name = name
        self.epsg = epsg
        self.originX = originX
        self.originY = originY
        self.pixelSize = pixelSize
        self.width = width
        self.height = height
    }

    /// Checks that the tile is a UTM grid with a positive size.
    ///
    /// - Throws: ``GeocodingError/badTile(_:)`` naming the problem.
    public func validate() throws(GeocodingError) {
        guard TransverseMercator(epsg: epsg) != nil else { throw .badTile("EPSG:\(epsg) is not a WGS 84 / UTM zone") }
        guard width > 0, height > 0, width <= 100_000, height <= 100_000 else { throw .badTile("size \(width)×\(height) is out of range") }
        guard pixelSize > 0, pixelSize.isFinite, originX.isFinite, originY.isFinite else { throw .badTile("bad origin or pixel size") }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) else { throw .badTile("name \"\(name)\" must be letters and digits") }
    }

    /// The tile's georeferencing, nodata 0 (S1Tiling's convention).
    public var geoReference: GeoReference {
        GeoReference(transform: GeoTransform(originX: originX, originY: originY, pixelSize: pixelSize), crs: .epsg(epsg), nodata: 0)
    }

    /// Map coordinates of the centre of pixel (`column`, `row`).
    public func centre(column: Double, row: Double) -> (easting: Double, northing: Double) {
        (originX + (column + 0.5) * pixelSize, originY - (row + 0.5) * pixelSize)
    }

    /// Pixel area in square metres.
    public var pixelArea: Double { pixelSize * pixelSize }
}

/// A product that cannot be geocoded onto a tile.
public enum GeocodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The tile definition is invalid.
    case badTile(String)
    /// The product's footprint does not reach the tile.
    case noOverlap(product: String, tile: String)

    public var description: String {
        switch self {
        case .badTile(let message): "bad output tile: \(message)"
        case .noOverlap(let product, let tile): "\(product) does not cover tile \(tile)"
        }
    }
}
