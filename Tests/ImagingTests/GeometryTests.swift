import Foundation
import CGDAL
import Imaging
import Testing

@Suite("Geometry", .timeLimit(.minutes(1)))
struct GeometryTests {
    /// The same projection through GDAL's PROJ, as the reference.
    static func projWithGDAL(epsg: Int, points: [GeoPoint]) -> [(Double, Double)] {
        guard GDALRasterStore.isAvailable else { return [] }
        guard let wgs84 = OSRNewSpatialReference(nil), let utm = OSRNewSpatialReference(nil) else { return [] }
        defer {
            OSRDestroySpatialReference(wgs84)
            OSRDestroySpatialReference(utm)
        }
        OSRImportFromEPSG(wgs84, 4326)
        OSRImportFromEPSG(utm, Int32(epsg))
        OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER)
        OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER)
        guard let transform = OCTNewCoordinateTransformation(wgs84, utm) else { return [] }
        defer { OCTDestroyCoordinateTransformation(transform) }
        return points.map { point in
            var x = point.longitude
            var y = point.latitude
            var z = 0.0
            OCTTransform(transform, 1, &x, &y, &z)
            return (x, y)
        }
    }

    @Test func utm_matchesPROJToTheMillimetreBothWays() {
        let cases: [(Int, [GeoPoint])] = [
            (32648, [GeoPoint(latitude: 20.45, longitude: 106.34), GeoPoint(latitude: 21.2, longitude: 104.1), GeoPoint(latitude: 19.0, longitude: 107.9)]),
            (32631, [GeoPoint(latitude: 43.6, longitude: 4.5), GeoPoint(latitude: 48.85, longitude: 2.35)]),
            (32736, [GeoPoint(latitude: -18.6, longitude: 33.5)]),
        ]
        for (epsg, points) in cases {
            guard let projection = TransverseMercator(epsg: epsg) else {
                Issue.record("EPSG:\(epsg) is UTM")
                continue
            }
            let reference = Self.projWithGDAL(epsg: epsg, points: points)
            #expect(reference.count == points.count)
            for (point, expected) in zip(points, reference) {
                let (easting, northing) = projection.project(point)
                #expect(abs(easting - expected.0) < 1e-3 && abs(northing - expected.1) < 1e-3, "EPSG:\(epsg) \(point)")
                let back = projection.unproject(easting: easting, northing: northing)
                #expect(abs(back.latitude - point.latitude) < 1e-9 && abs(back.longitude - point.longitude) < 1e-9,
                        "round trip of \(point): \(back)")
            }
        }
        #expect(TransverseMercator(containing: GeoPoint(latitude: 20.45, longitude: 106.34)).epsg == 32648)
        #expect(TransverseMercator(epsg: 4326) == nil)
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func grid_isExactAtEveryGridPoint() throws {
        let annotation = try SAFEProduct(path: TestData.sarsen).annotation(.vv)
        let grid = try GeolocationGrid(annotation: annotation)
        #expect(grid.lines.count * grid.pixels.count == 210)
        for point in annotation.geolocationGrid {
            let location = grid.location(line: point.line, pixel: point.pixel)
            #expect(abs(location.latitude - point.latitude) < 1e-9 && abs(location.longitude - point.longitude) < 1e-9)
        }
    }

    /// Leaves out one interior grid column at a time (the grid must stay rectangular, and along pixels is where the
    /// grid is dense) and predicts each of its interior points, at the point's own height as a DEM would give it,
    /// from the columns that are left. Returns the worst error in degrees and how many points were predicted.
    static func leaveOneOut(_ annotation: ProductAnnotation, withHeights: Bool) throws -> (worst: Double, count: Int) {
        let full = try GeolocationGrid(annotation: annotation)
        var worst = 0.0
        var count = 0
        for left in full.pixels.dropFirst().dropLast() {
            let reduced = try GeolocationGrid(points: annotation.geolocationGrid.filter { $0.pixel != left })
            for point in annotation.geolocationGrid where point.pixel == left && point.line != full.lines.first && point.line != full.lines.last {
                let predicted = reduced.location(line: point.line, pixel: point.pixel, height: withHeights ? point.height : nil)
                worst = max(worst, abs(predicted.latitude - point.latitude), abs(predicted.longitude - point.longitude))
                count += 1
            }
        }
        return (worst, count)
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func grid_leaveOneOutOnInteriorPointsIsWithinATenThousandthOfADegree() throws {
        // Both products are over mountains (heights up to 1,845 m in the sarsen one, 2,012 m in the pyroSAR one):
        // the height model is what makes this reachable. Measured: 1.7e-5° (sarsen) and 2.8e-5° (pyroSAR).
        for path in [TestData.sarsen, TestData.pyrosar] {
            let annotation = try SAFEProduct(path: path).annotation(.vv)
            let (worst, count) = try Self.leaveOneOut(annotation, withHeights: true)
            #expect(count == 8 * 19, "\(path): interior points predicted")
            #expect(worst < 1e-4, "\(path): worst leave-one-out error \(worst)° over \(count) points")
        }
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func grid_withoutThePointsHeight_theTerrainMovesItByKilometres() throws {
        // The same prediction at the height interpolated from the neighbours: the terrain's h / tan θ is not
        // predictable, so the error is that of the relief (7.7e-3° and 1.3e-2°, 0.6 – 1.4 km).
        for path in [TestData.sarsen, TestData.pyrosar] {
            let annotation = try SAFEProduct(path: path).annotation(.vv)
            let (worst, _) = try Self.leaveOneOut(annotation, withHeights: false)
            #expect(worst > 3e-3, "\(path): worst error without heights \(worst)°")
        }
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func grid_groundAtAGivenHeight_movesAlongRangeByHOverTanTheta() throws {
        let annotation = try SAFEProduct(path: TestData.sarsen).annotation(.vv)
        let grid = try GeolocationGrid(annotation: annotation)
        var generator = SplitMix64(seed: 5)
        for _ in 0..<100 {
            let line = Double.random(in: 0..<Double(annotation.numberOfLines), using: &generator)
            let pixel = Double.random(in: 0..<Double(annotation.numberOfSamples), using: &generator)
            let height = Double.random(in: 0..<3000, using: &generator)
            let low = grid.location(line: line, pixel: pixel, height: 0)
            let high = grid.location(line: line, pixel: pixel, height: height)
            // The ground distance between them (local metres), against h / tan θ.
            let metresPerDegree = 111_132.0
            let north = (high.latitude - low.latitude) * metresPerDegree
            let east = (high.longitude - low.longitude) * metresPerDegree * cos(low.latitude * .pi / 180)
            let expected = height / tan(grid.incidenceAngle(line: line, pixel: pixel) * .pi / 180)
            #expect(abs((north * north + east * east).squareRoot() - expected) < 0.01 * expected + 1, "seed 5: at (\(line), \(pixel), \(height) m)")
            // And the inverse at that height finds the same image position.
            let image = try #require(grid.imagePosition(of: high, height: height), "seed 5: no inverse at (\(line), \(pixel))")
            #expect(abs(image.line - line) < 0.1 && abs(image.pixel - pixel) < 0.1, "seed 5: (\(line), \(pixel)) → \(image)")
        }
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func grid_roundTripGroundToImageIsWithinATenthOfAPixel() throws {
        let annotation = try SAFEProduct(path: TestData.sarsen).annotation(.vv)
        let grid = try GeolocationGrid(annotation: annotation)
        var generator = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let line = Double.random(in: 0..<Double(annotation.numberOfLines), using: &generator)
            let pixel = Double.random(in: 0..<Double(annotation.numberOfSamples), using: &generator)
            let ground = grid.location(line: line, pixel: pixel)
            let image = try #require(grid.imagePosition(of: ground), "seed 11: no inverse at (\(line), \(pixel))")
            #expect(abs(image.line - line) < 0.1 && abs(image.pixel - pixel) < 0.1, "seed 11: (\(line), \(pixel)) → \(image)")
        }
    }

    @Test func grid_pointsThatAreNotAGridAreRejected() {
        let points = [
            GeolocationPoint(line: 0, pixel: 0, latitude: 1, longitude: 1),
            GeolocationPoint(line: 0, pixel: 10, latitude: 1, longitude: 2),
            GeolocationPoint(line: 10, pixel: 0, latitude: 2, longitude: 1),
        ]
        #expect(throws: SAFEError.self) { try GeolocationGrid(points: points) }
    }
}
