import Actors

/// Where each tile pixel falls in a product image: the ground → image inverse solved on a coarse grid of
/// nodes (every `spacing` tile pixels, like OTB's `gridspacing`) and interpolated bilinearly in between.
public struct DeformationGrid: Sendable {
    /// The tile.
    public let tile: OutputTile
    /// Tile pixels between nodes.
    public let spacing: Int
    /// Nodes per row.
    let nodeColumns: Int
    /// Node rows.
    let nodeRows: Int
    /// Image line at each node (NaN where the inverse failed), row-major.
    let lines: [Double]
    /// Image pixel at each node, row-major.
    let pixels: [Double]

    /// Solves the inverse at every node of `tile`.
    ///
    /// - Precondition: the tile is valid and `spacing ≥ 1`.
    public init(tile: OutputTile, geolocation: GeolocationGrid, spacing: Int = 8) {
        precondition(spacing >= 1, "the deformation grid spacing must be at least 1 pixel")
        let nodeColumns = (tile.width - 1) / spacing + 2
        let nodeRows = (tile.height - 1) / spacing + 2
        var lines = [Double](repeating: .nan, count: nodeColumns * nodeRows)
        var pixels = lines
        lines.withUnsafeMutableBufferPointer { lines in
            pixels.withUnsafeMutableBufferPointer { pixels in
                Self.solve(rows: 0..<nodeRows, tile: tile, geolocation: geolocation, spacing: spacing, columns: nodeColumns, lines: lines, pixels: pixels)
            }
        }
        self.init(tile: tile, spacing: spacing, nodeColumns: nodeColumns, nodeRows: nodeRows, lines: lines, pixels: pixels)
    }

    /// Solves the inverse at every node of `tile`, bands of node rows in parallel on `executor`.
    ///
    /// - Throws: `ExecutorError.shutDown` when the executor is shut down.
    public static func make(tile: OutputTile, geolocation: GeolocationGrid, spacing: Int = 8, on executor: PinnedExecutor) async throws -> DeformationGrid {
        precondition(spacing >= 1, "the deformation grid spacing must be at least 1 pixel")
        let nodeColumns = (tile.width - 1) / spacing + 2
        let nodeRows = (tile.height - 1) / spacing + 2
        let lines = DoubleBuffer(count: nodeColumns * nodeRows)
        let pixels = DoubleBuffer(count: nodeColumns * nodeRows)
        try await executor.parallelFor(0..<nodeRows, grain: 16) { rows in
            solve(rows: rows, tile: tile, geolocation: geolocation, spacing: spacing, columns: nodeColumns, lines: lines.buffer, pixels: pixels.buffer)
        }
        return DeformationGrid(
            tile: tile, spacing: spacing, nodeColumns: nodeColumns, nodeRows: nodeRows, lines: Array(lines.buffer), pixels: Array(pixels.buffer))
    }

    private init(tile: OutputTile, spacing: Int, nodeColumns: Int, nodeRows: Int, lines: [Double], pixels: [Double]) {
        self.tile = tile
        self.spacing = spacing
        self.nodeColumns = nodeColumns
        self.nodeRows = nodeRows
        self.lines = lines
        self.pixels = pixels
    }

    /// Solves node rows `rows`, warm-starting each node from its neighbour.
    private static func solve(
        rows: Range<Int>, tile: OutputTile, geolocation: GeolocationGrid, spacing: Int, columns: Int,
        lines: UnsafeMutableBufferPointer<Double>, pixels: UnsafeMutableBufferPointer<Double>
    ) {
        guard let projection = TransverseMercator(epsg: tile.epsg) else { preconditionFailure("tile \(tile.name) is not UTM; validate it first") }
        var rowStart: (line: Double, pixel: Double)?
        for row in rows {
            var previous = rowStart
            for column in 0..<columns {
                let index = row * columns + column
                lines[index] = .nan
                pixels[index] = .nan
                let (easting, northing) = tile.centre(column: Double(column * spacing), row: Double(row * spacing))
                let ground = projection.unproject(easting: easting, northing: northing)
                // Warm start from the neighbour: two or three Newton steps instead of a dozen.
                guard let position = geolocation.imagePosition(of: ground, near: previous) ?? geolocation.imagePosition(of: ground) else {
                    continue
                }
                lines[index] = position.line
                pixels[index] = position.pixel
                previous = position
                if column == 0 { rowStart = position }
            }
        }
    }

    /// The image position of the centre of tile pixel (`column`, `row`); NaN when a surrounding node has none.
    @inline(__always)
    public func position(column: Int, row: Int) -> (line: Double, pixel: Double) {
        let i = column / spacing
        let j = row / spacing
        let u = Double(column - i * spacing) / Double(spacing)
        let v = Double(row - j * spacing) / Double(spacing)
        let k = j * nodeColumns + i
        let line = (1 - v) * ((1 - u) * lines[k] + u * lines[k + 1]) + v * ((1 - u) * lines[k + nodeColumns] + u * lines[k + nodeColumns + 1])
        let pixel = (1 - v) * ((1 - u) * pixels[k] + u * pixels[k + 1]) + v * ((1 - u) * pixels[k + nodeColumns] + u * pixels[k + nodeColumns + 1])
        return (line, pixel)
    }

    /// The part of a `width × height` image that tile rows `rows` read (with a 2-pixel margin for resampling),
    /// or nil when they fall outside it.
    public func sourceWindow(rows: Range<Int>, imageWidth: Int, imageHeight: Int) -> PixelWindow? {
        guard !rows.isEmpty else { return nil }
        let firstNodeRow = rows.lowerBound / spacing
        let lastNodeRow = min(nodeRows - 1, (rows.upperBound - 1) / spacing + 1)
        var minLine = Double.infinity
        var maxLine = -Double.infinity
        var minPixel = Double.infinity
        var maxPixel = -Double.infinity
        for row in firstNodeRow...lastNodeRow {
            for column in 0..<nodeColumns {
                let line = lines[row * nodeColumns + column]
                let pixel = pixels[row * nodeColumns + column]
                guard line.isFinite, pixel.isFinite else { continue }
                minLine = min(minLine, line)
                maxLine = max(maxLine, line)
                minPixel = min(minPixel, pixel)
                maxPixel = max(maxPixel, pixel)
            }
        }
        guard minLine.isFinite else { return nil }
        let window = PixelWindow(
            x: Int(minPixel.rounded(.down)) - 2, y: Int(minLine.rounded(.down)) - 2,
            width: Int(maxPixel.rounded(.up)) - Int(minPixel.rounded(.down)) + 5,
            height: Int(maxLine.rounded(.up)) - Int(minLine.rounded(.down)) + 5)
        return window.intersection(PixelWindow(x: 0, y: 0, width: imageWidth, height: imageHeight))
    }
}
