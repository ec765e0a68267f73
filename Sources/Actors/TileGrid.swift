/// A raster of `width × height` pixels cut into tiles of at most `tileWidth × tileHeight`, row-major.
///
/// The edge tiles are smaller when the sizes do not divide. Used with
/// ``PinnedExecutor/parallelFor(tiles:_:)`` to process cache-sized blocks of an image in parallel.
public struct TileGrid: Sendable, Hashable {
    /// One tile: its index in row-major order and its pixel rectangle.
    public struct Tile: Sendable, Hashable {
        /// Row-major index of the tile.
        public var index: Int
        /// Left column of the tile, in pixels.
        public var x: Int
        /// Top row of the tile, in pixels.
        public var y: Int
        /// Width in pixels (smaller on the right edge).
        public var width: Int
        /// Height in pixels (smaller on the bottom edge).
        public var height: Int
    }

    /// Raster width in pixels.
    public let width: Int
    /// Raster height in pixels.
    public let height: Int
    /// Nominal tile width in pixels.
    public let tileWidth: Int
    /// Nominal tile height in pixels.
    public let tileHeight: Int

    /// Makes a tile grid.
    ///
    /// - Throws: `ExecutorError.invalidBound` when a size is below 1 (the raster may be empty: 0 × 0).
    public init(width: Int, height: Int, tileWidth: Int, tileHeight: Int) throws(ExecutorError) {
        guard width >= 0 else { throw .invalidBound(name: "width", value: width) }
        guard height >= 0 else { throw .invalidBound(name: "height", value: height) }
        guard tileWidth >= 1 else { throw .invalidBound(name: "tileWidth", value: tileWidth) }
        guard tileHeight >= 1 else { throw .invalidBound(name: "tileHeight", value: tileHeight) }
        self.width = width
        self.height = height
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
    }

    /// Tiles per row.
    public var columns: Int { (width + tileWidth - 1) / tileWidth }
    /// Tiles per column.
    public var rows: Int { (height + tileHeight - 1) / tileHeight }
    /// Number of tiles.
    public var count: Int { columns * rows }

    /// The tile at row-major `index` (`0..<count`).
    public func tile(at index: Int) -> Tile {
        let column = index % columns
        let row = index / columns
        let x = column * tileWidth
        let y = row * tileHeight
        return Tile(index: index, x: x, y: y, width: min(tileWidth, width - x), height: min(tileHeight, height - y))
    }
}
