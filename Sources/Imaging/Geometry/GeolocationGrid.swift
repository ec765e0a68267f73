import Foundation

/// The annotation's geolocation grid as a function between image positions and the ground.
///
/// Sentinel-1 gives latitude, longitude and height on a regular grid of about 10 lines × 21 pixels. The grid's
/// points sit on the terrain: a point `h` metres up is seen `h / tan θ` further in range than the same image
/// position on the ellipsoid (θ the incidence angle), up to 3 km in mountains. So the grid is split into what
/// is smooth and what is not: each point's position on the ellipsoid (its own position moved back along the range
/// direction) and the shift per metre of height. Both are interpolated inside their grid cell (not with one global
/// polynomial, which is off by hundreds of metres at the corners): linearly along lines, and with the cubic
/// through the 4 nearest grid columns along pixels, where the grid is dense. A position is then the ellipsoid's
/// plus its height times the shift, with the height given (from a DEM) or interpolated bilinearly from the grid's.
/// At every grid point this gives the point itself; outside the grid the edge cells are extended linearly. The
/// inverse, ground → image, is solved by Newton's method on the same model.
public struct GeolocationGrid: Sendable, Hashable {
    /// Image lines of the grid rows, increasing.
    public let lines: [Double]
    /// Image pixels of the grid columns, increasing.
    public let pixels: [Double]
    /// Latitudes, row-major (`lines.count × pixels.count`).
    public let latitudes: [Double]
    /// Longitudes, row-major.
    public let longitudes: [Double]
    /// Heights above the ellipsoid in metres, row-major.
    public let heights: [Double]
    /// Incidence angles in degrees, row-major.
    public let incidenceAngles: [Double]
    /// Where each point would be at height 0, row-major.
    private let ellipsoidLatitudes: [Double]
    private let ellipsoidLongitudes: [Double]
    /// Degrees each point moves per metre of height (along the range direction, away from the sensor), row-major.
    private let liftLatitudes: [Double]
    private let liftLongitudes: [Double]

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
        var heights = latitudes
        var incidence = latitudes
        let lineIndex = Dictionary(uniqueKeysWithValues: lines.enumerated().map { ($1, $0) })
        let pixelIndex = Dictionary(uniqueKeysWithValues: pixels.enumerated().map { ($1, $0) })
        for point in points {
            guard let row = lineIndex[point.line], let column = pixelIndex[point.pixel] else { continue }
            let index = row * pixels.count + column
            latitudes[index] = point.latitude
            longitudes[index] = point.longitude
            heights[index] = point.height
            incidence[index] = point.incidenceAngle
        }
        guard !latitudes.contains(where: \.isNaN) else {
            throw SAFEError(.inconsistent, file: file, message: "the geolocation grid has a point twice and a hole elsewhere")
        }
        guard latitudes.allSatisfy({ abs($0) <= 90 }), longitudes.allSatisfy({ abs($0) <= 360 }), heights.allSatisfy(\.isFinite) else {
            throw SAFEError(.inconsistent, file: file, message: "the geolocation grid has a latitude, longitude or height out of range")
        }
        self.lines = lines
        self.pixels = pixels
        self.latitudes = latitudes
        self.longitudes = longitudes
        self.heights = heights
        self.incidenceAngles = incidence
        let (liftLatitudes, liftLongitudes) = Self.lifts(latitudes: latitudes, longitudes: longitudes, incidence: incidence, columns: pixels.count)
        self.liftLatitudes = liftLatitudes
        self.liftLongitudes = liftLongitudes
        self.ellipsoidLatitudes = latitudes.indices.map { latitudes[$0] - heights[$0] * liftLatitudes[$0] }
        self.ellipsoidLongitudes = longitudes.indices.map { longitudes[$0] - heights[$0] * liftLongitudes[$0] }
    }

    /// The grid of `annotation`.
    public init(annotation: ProductAnnotation) throws(SAFEError) {
        try self.init(points: annotation.geolocationGrid)
    }

    /// Each point's shift per metre of height: `1 / tan θ` metres along the range direction (the direction of
    /// increasing pixel there, on WGS 84), in degrees; none where the incidence angle or the direction is unknown.
    private static func lifts(latitudes: [Double], longitudes: [Double], incidence: [Double], columns: Int) -> ([Double], [Double]) {
        let a = 6_378_137.0
        let e2 = 0.006_694_379_990_14
        let degrees = 180 / Double.pi
        var liftLatitudes = [Double](repeating: 0, count: latitudes.count)
        var liftLongitudes = liftLatitudes
        for index in latitudes.indices {
            let column = index % columns
            let before = column > 0 ? index - 1 : index
            let after = column < columns - 1 ? index + 1 : index
            let phi = latitudes[index] / degrees
            let w = 1 - e2 * sin(phi) * sin(phi)
            let meridian = a * (1 - e2) / (w * w.squareRoot())
            let parallel = a / w.squareRoot() * cos(phi)
            let north = (latitudes[after] - latitudes[before]) / degrees * meridian
            let east = (longitudes[after] - longitudes[before]) / degrees * parallel
            let length = (north * north + east * east).squareRoot()
            let theta = incidence[index] / degrees
            guard length > 0, theta > 0.01, theta < Double.pi / 2 - 0.01, parallel > 0 else { continue }
            let metres = 1 / tan(theta)
            liftLatitudes[index] = north / length * metres / meridian * degrees
            liftLongitudes[index] = east / length * metres / parallel * degrees
        }
        return (liftLatitudes, liftLongitudes)
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

    /// Weights of up to 4 consecutive grid columns from `first`.
    private struct Stencil {
        var first: Int
        var weights: (Double, Double, Double, Double)
    }

    /// Linear weights between the columns of a cell (from ``cell(_:_:)`` along pixels).
    @inline(__always)
    private static func linearStencil(_ cell: (Int, Double)) -> Stencil {
        Stencil(first: cell.0, weights: (1 - cell.1, cell.1, 0, 0))
    }

    /// The cubic through the 4 grid columns nearest `pixel`, in `cell` (Lagrange weights); linear outside the
    /// grid or when it has fewer columns.
    @inline(__always)
    private func cubicStencil(pixel: Double, cell: (Int, Double)) -> Stencil {
        guard pixels.count >= 4, pixel > pixels[0], pixel < pixels[pixels.count - 1] else { return Self.linearStencil(cell) }
        let column = cell.0
        let first = min(max(column - 1, 0), pixels.count - 4)
        let x0 = pixels[first], x1 = pixels[first + 1], x2 = pixels[first + 2], x3 = pixels[first + 3]
        let d0 = pixel - x0, d1 = pixel - x1, d2 = pixel - x2, d3 = pixel - x3
        return Stencil(
            first: first,
            weights: (
                d1 * d2 * d3 / ((x0 - x1) * (x0 - x2) * (x0 - x3)),
                d0 * d2 * d3 / ((x1 - x0) * (x1 - x2) * (x1 - x3)),
                d0 * d1 * d3 / ((x2 - x0) * (x2 - x1) * (x2 - x3)),
                d0 * d1 * d2 / ((x3 - x0) * (x3 - x1) * (x3 - x2))))
    }

    /// `values` interpolated with `stencil` along pixels in rows `row` and `row + 1`, then linearly at `v` between them.
    @inline(__always)
    private func interpolate(_ values: [Double], row: Int, v: Double, _ stencil: Stencil) -> Double {
        let width = pixels.count
        let (w0, w1, w2, w3) = stencil.weights
        func along(_ start: Int) -> Double {
            var sum = w0 * values[start] + w1 * values[start + 1]
            if w2 != 0 || w3 != 0 { sum += w2 * values[start + 2] + w3 * values[start + 3] }
            return sum
        }
        let first = row * width + stencil.first
        return (1 - v) * along(first) + v * along(first + width)
    }

    /// Latitude and longitude at image position (`line`, `pixel`) on ground `height` metres above the ellipsoid
    /// (from a DEM); at the height interpolated from the grid's when nil.
    public func location(line: Double, pixel: Double, height: Double? = nil) -> GeoPoint {
        let (row, v) = Self.cell(lines, line)
        let column = Self.cell(pixels, pixel)
        let stencil = cubicStencil(pixel: pixel, cell: column)
        let h = height ?? interpolate(heights, row: row, v: v, Self.linearStencil(column))
        return GeoPoint(
            latitude: interpolate(ellipsoidLatitudes, row: row, v: v, stencil) + h * interpolate(liftLatitudes, row: row, v: v, stencil),
            longitude: interpolate(ellipsoidLongitudes, row: row, v: v, stencil) + h * interpolate(liftLongitudes, row: row, v: v, stencil))
    }

    /// Height in metres that the grid gives at (`line`, `pixel`), interpolated bilinearly.
    public func height(line: Double, pixel: Double) -> Double {
        let (row, v) = Self.cell(lines, line)
        return interpolate(heights, row: row, v: v, Self.linearStencil(Self.cell(pixels, pixel)))
    }

    /// Incidence angle in degrees at (`line`, `pixel`).
    public func incidenceAngle(line: Double, pixel: Double) -> Double {
        let (row, v) = Self.cell(lines, line)
        return interpolate(incidenceAngles, row: row, v: v, Self.linearStencil(Self.cell(pixels, pixel)))
    }

    /// The image position of `point`, or nil when Newton's method does not converge (far outside the grid).
    ///
    /// - Parameter height: The ground's height in metres above the ellipsoid (from a DEM); the grid's when nil.
    /// - Parameter tolerance: Stop when a step is below this many pixels.
    /// - Parameter start: A position near the answer (the neighbour's, when walking a grid); the grid's centre when nil.
    public func imagePosition(
        of point: GeoPoint, height: Double? = nil, near start: (line: Double, pixel: Double)? = nil, tolerance: Double = 1e-4
    ) -> (line: Double, pixel: Double)? {
        // Each step solves the 2 × 2 local linear system of the cell model.
        var line = start?.line ?? (lines[0] + lines[lines.count - 1]) / 2
        var pixel = start?.pixel ?? (pixels[0] + pixels[pixels.count - 1]) / 2
        let stepLine = (lines[lines.count - 1] - lines[0]) / Double(lines.count - 1) * 1e-3
        let stepPixel = (pixels[pixels.count - 1] - pixels[0]) / Double(pixels.count - 1) * 1e-3
        for _ in 0..<30 {
            let here = location(line: line, pixel: pixel, height: height)
            let dLat = point.latitude - here.latitude
            let dLon = point.longitude - here.longitude
            let alongLine = location(line: line + stepLine, pixel: pixel, height: height)
            let alongPixel = location(line: line, pixel: pixel + stepPixel, height: height)
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
