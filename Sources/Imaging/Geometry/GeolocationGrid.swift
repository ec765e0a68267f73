/// The annotation's geolocation grid as a function between image positions and the ground.
///
/// Sentinel-1 gives latitude and longitude on a regular grid of about 10 lines × 21 pixels. Positions in
/// between are interpolated bilinearly inside their grid cell (not with one global polynomial, which is off by
/// hundreds of metres at the corners); outside the grid the edge cells are extended. The inverse,
/// ground → image, is solved by Newton's method on the same cell model.
public struct GeolocationGrid: Sendable, Hashable {
    /// Image lines of the grid rows, increasing.
    public let lines: [Double]
    /// Image pixels of the grid columns, increasing.
    public let pixels: [Double]
    /// Latitudes, row-major (`lines.count × pixels.count`).
    public let latitudes: [Double]
    /// Longitudes, row-major.
    public let longitudes: [Double]
    /// Incidence angles in degrees, row-major.
    public let incidenceAngles: [Double]

    /// Builds the grid from the annotation's points.
    ///
    /// - Throws: ``SAFEError/Code/inconsistent`` when the points do not form a full rectangular grid of at least 2 × 2.
    public init(points: [GeolocationPoint], file: String = "") throws(SAFEError) {
        let lines = Array(Set(points.map(\.line))).sorted()
        let pixels = Array(Set(points.map(\.pixel))).sorted()
        guard lines.count >= 2, pixels.count >= 2, lines.count * pixels.count == points.count else {
            throw SAFEError(
                .inconsistent, file: file,
                message: "\(points.count) geolocation points do not form a grid (\(lines.count) lines × \(pixels.count) pixels)")
        }
        var latitudes = [Double](repeating: .nan, count: points.count)
        var longitudes = latitudes
        var incidence = latitudes
        let lineIndex = Dictionary(uniqueKeysWithValues: lines.enumerated().map { ($1, $0) })
        let pixelIndex = Dictionary(uniqueKeysWithValues: pixels.enumerated().map { ($1, $0) })
        for point in points {
            guard let row = lineIndex[point.line], let column = pixelIndex[point.pixel] else { continue }
            let index = row * pixels.count + column
            latitudes[index] = point.latitude
            longitudes[index] = point.longitude
            incidence[index] = point.incidenceAngle
        }
        guard !latitudes.contains(where: \.isNaN) else {
            throw SAFEError(.inconsistent, file: file, message: "the geolocation grid has a point twice and a hole elsewhere")
        }
        self.lines = lines
        self.pixels = pixels
        self.latitudes = latitudes
        self.longitudes = longitudes
        self.incidenceAngles = incidence
    }

    /// The grid of `annotation`.
    public init(annotation: ProductAnnotation) throws(SAFEError) {
        try self.init(points: annotation.geolocationGrid)
    }

    /// The cell index holding `value` along `axis` (clamped to the edge cells) and the position inside it.
    @inline(__always)
    private static func cell(_ axis: [Double], _ value: Double) -> (Int, Double) {
        var low = 0
        var high = axis.count - 1
        if value <= axis[0] {
            high = 1
        } else if value >= axis[high] {
            low = high - 1
        } else {
            while high - low > 1 {
                let middle = (low + high) / 2
                if axis[middle] <= value { low = middle } else { high = middle }
            }
        }
        return (low, (value - axis[low]) / (axis[low + 1] - axis[low]))
    }

    @inline(__always)
    private func bilinear(_ values: [Double], row: Int, column: Int, u: Double, v: Double) -> Double {
        let width = pixels.count
        let a = values[row * width + column]
        let b = values[row * width + column + 1]
        let c = values[(row + 1) * width + column]
        let d = values[(row + 1) * width + column + 1]
        return (1 - v) * ((1 - u) * a + u * b) + v * ((1 - u) * c + u * d)
    }

    /// Latitude and longitude at image position (`line`, `pixel`).
    public func location(line: Double, pixel: Double) -> GeoPoint {
        let (row, v) = Self.cell(lines, line)
        let (column, u) = Self.cell(pixels, pixel)
        return GeoPoint(
            latitude: bilinear(latitudes, row: row, column: column, u: u, v: v),
            longitude: bilinear(longitudes, row: row, column: column, u: u, v: v))
    }

    /// Incidence angle in degrees at (`line`, `pixel`).
    public func incidenceAngle(line: Double, pixel: Double) -> Double {
        let (row, v) = Self.cell(lines, line)
        let (column, u) = Self.cell(pixels, pixel)
        return bilinear(incidenceAngles, row: row, column: column, u: u, v: v)
    }

    /// The image position of `point`, or nil when Newton's method does not converge (far outside the grid).
    ///
    /// - Parameter tolerance: Stop when a step is below this many pixels.
    /// - Parameter start: A position near the answer (the neighbour's, when walking a grid); the grid's centre when nil.
    public func imagePosition(
        of point: GeoPoint, near start: (line: Double, pixel: Double)? = nil, tolerance: Double = 1e-4
    ) -> (line: Double, pixel: Double)? {
        // Each step solves the 2 × 2 local linear system of the cell model.
        var line = start?.line ?? (lines[0] + lines[lines.count - 1]) / 2
        var pixel = start?.pixel ?? (pixels[0] + pixels[pixels.count - 1]) / 2
        let stepLine = (lines[lines.count - 1] - lines[0]) / Double(lines.count - 1) * 1e-3
        let stepPixel = (pixels[pixels.count - 1] - pixels[0]) / Double(pixels.count - 1) * 1e-3
        for _ in 0..<30 {
            let here = location(line: line, pixel: pixel)
            let dLat = point.latitude - here.latitude
            let dLon = point.longitude - here.longitude
            let alongLine = location(line: line + stepLine, pixel: pixel)
            let alongPixel = location(line: line, pixel: pixel + stepPixel)
            let a = (alongLine.latitude - here.latitude) / stepLine
            let b = (alongPixel.latitude - here.latitude) / stepPixel
            let c = (alongLine.longitude - here.longitude) / stepLine
            let d = (alongPixel.longitude - here.longitude) / stepPixel
            let determinant = a * d - b * c
            guard determinant != 0, determinant.isFinite else { return nil }
            let deltaLine = (d * dLat - b * dLon) / determinant
            let deltaPixel = (a * dLon - c * dLat) / determinant
            line += deltaLine
            pixel += deltaPixel
            if abs(deltaLine) < tolerance && abs(deltaPixel) < tolerance { return (line, pixel) }
        }
        return nil
    }
}
