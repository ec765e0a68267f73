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

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func grid_leaveOneOutOnFlatInteriorPointsIsWithinFiveTenThousandthsOfADegree() throws {
        // The grid's points sit on the terrain (heights up to 1,845 m in the sarsen product, 2,012 m in the
        // pyroSAR one), which moves them by up to h / tan(θ) ≈ 3 km: no interpolation can predict such a point
        // from its neighbours. So points are left out only where they and their neighbours are within 50 m of
        // the ellipsoid, and leaving a column out doubles the spacing, so the in-cell error is about a quarter
        // of what this measures (2.9e-4° → ≈ 7e-5° for the sarsen product).
        for path in [TestData.sarsen, TestData.pyrosar] {
            let annotation = try SAFEProduct(path: path).annotation(.vv)
            let full = try GeolocationGrid(annotation: annotation)
            var worst = 0.0
            var checked = 0
            // Leave out one interior grid column at a time (the grid must stay rectangular) and predict its points.
            for left in full.pixels.dropFirst().dropLast() {
                let kept = annotation.geolocationGrid.filter { $0.pixel != left }
                let reduced = try GeolocationGrid(points: kept)
                let heights = Dictionary(annotation.geolocationGrid.map { ("\($0.line):\($0.pixel)", $0.height) }) { a, _ in a }
                guard let index = full.pixels.firstIndex(of: left) else { continue }
                let neighbours = (full.pixels[index - 1], full.pixels[index + 1])
                for point in annotation.geolocationGrid where point.pixel == left && point.line != full.lines.first && point.line != full.lines.last {
                    let around = [point.pixel, neighbours.0, neighbours.1].map { heights["\(point.line):\($0)"] ?? .infinity }
                    guard around.allSatisfy({ abs($0) < 50 }) else { continue }
                    checked += 1
                    let predicted = reduced.location(line: point.line, pixel: point.pixel)
                    worst = max(worst, abs(predicted.latitude - point.latitude), abs(predicted.longitude - point.longitude))
                }
            }
            #expect(checked >= 2, "\(path): flat points checked")
            #expect(worst < 5e-4, "\(path): worst leave-one-out error \(worst)° over \(checked) points")
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
