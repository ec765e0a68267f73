import Foundation

/// The imaging geometry of a synthetic GRD product: where each (line, pixel) lies in a UTM zone.
///
/// Lines run along the track (heading about −166° descending, −14° ascending), pixels across it to the right
/// of the track with a slight range nonlinearity, so the product is rotated against the map grid and the
/// geolocation grid is not one affine map, as with real products.
struct SyntheticGeometry: Sendable {
    let projection: TransverseMercator
    /// Map position of image position (0, 0).
    let originEasting: Double
    let originNorthing: Double
    /// Unit vector along the track (map metres per line, before spacing).
    let along: (Double, Double)
    /// Unit vector across the track, to the right.
    let across: (Double, Double)
    let spacing: Double
    let width: Int
    let height: Int
    /// Relative range stretch at the far edge.
    let rangeStretch = 0.01

    /// A product of `width × height` pixels of `spacing` metres centred on (`centreEasting`, `centreNorthing`).
    init(projection: TransverseMercator, centreEasting: Double, centreNorthing: Double, width: Int, height: Int, pass: OrbitPass, spacing: Double = 10) {
        self.projection = projection
        self.width = width
        self.height = height
        self.spacing = spacing
        let heading = (pass == .descending ? -166.0 : -14.0) * .pi / 180
        // Heading is clockwise from north: the along-track vector in (east, north).
        along = (sin(heading), cos(heading))
        across = (cos(heading), -sin(heading))
        let halfAlong = Double(height) / 2 * spacing
        let halfAcross = Self.groundRange(Double(width) / 2, width: width, stretch: rangeStretch) * spacing
        originEasting = centreEasting - along.0 * halfAlong - across.0 * halfAcross
        originNorthing = centreNorthing - along.1 * halfAlong - across.1 * halfAcross
    }

    static func groundRange(_ pixel: Double, width: Int, stretch: Double) -> Double {
        pixel * (1 + stretch * pixel / Double(max(width, 1)))
    }

    /// Map coordinates of image position (`line`, `pixel`).
    func map(line: Double, pixel: Double) -> (easting: Double, northing: Double) {
        let a = line * spacing
        let r = Self.groundRange(pixel, width: width, stretch: rangeStretch) * spacing
        return (originEasting + along.0 * a + across.0 * r, originNorthing + along.1 * a + across.1 * r)
    }

    /// Incidence angle in degrees across the swath (30° near range to 46° far range).
    func incidence(pixel: Double) -> Double {
        30 + 16 * pixel / Double(max(width - 1, 1))
    }

    /// A 10-line × 21-pixel geolocation grid, as in real annotations.
    func geolocationGrid() -> [GeolocationPoint] {
        let lineNodes = (0..<10).map { Double((height - 1) * $0 / 9) }
        let pixelNodes = (0..<21).map { Double((width - 1) * $0 / 20) }
        var points: [GeolocationPoint] = []
        for line in lineNodes {
            for pixel in pixelNodes {
                let (easting, northing) = map(line: line, pixel: pixel)
                let ground = projection.unproject(easting: easting, northing: northing)
                points.append(GeolocationPoint(
                    line: line, pixel: pixel, latitude: ground.latitude, longitude: ground.longitude,
                    height: 0, incidenceAngle: incidence(pixel: pixel)))
            }
        }
        return points
    }
}
