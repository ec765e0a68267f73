import Actors
import Foundation
import Imaging
import Testing

@Suite("Synthetic products and orthorectification", .timeLimit(.minutes(1)))
struct OrthoTests {
    static let tile = OutputTile(name: "48QXH", epsg: 32648, originX: 600_000, originY: 2_300_040, pixelSize: 10, width: 200, height: 200)

    static func writer(seed: UInt64 = 3, dates: Int = 1, size: Int = 300) -> SyntheticProductWriter {
        var sceneSettings = SyntheticScene.Settings()
        sceneSettings.width = tile.width
        sceneSettings.height = tile.height
        sceneSettings.dates = dates
        sceneSettings.fieldSize = 100
        sceneSettings.seed = seed
        var settings = SyntheticProductWriter.Settings()
        settings.width = size
        settings.height = size
        return SyntheticProductWriter(settings: settings, scene: SyntheticScene(settings: sceneSettings), tile: tile)
    }

    @Test func synthetic_productIsAReadableSAFEWithGridCalibrationAndNoise() async throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try await Self.writer().write(date: 0, into: directory.path)
        let product = try SAFEProduct(path: path)
        #expect(product.manifest.mission == "S1A" && product.manifest.pass == .descending && product.manifest.relativeOrbit == 18)
        #expect(product.manifest.polarisations == [.vv, .vh])
        #expect(product.manifest.footprint.count == 4)
        #expect(Set(product.files.keys) == [.vv, .vh])
        let annotation = try product.annotation(.vh)
        #expect(annotation.numberOfSamples == 300 && annotation.geolocationGrid.count == 210)
        #expect(try product.noise(.vv).azimuthBlocks.count == 3)
        let measurement = try #require(product.files[.vv]?.measurement)
        let info = try GDALRasterStore().info(at: measurement)
        #expect(info.dataType == .uint16 && info.width == 300 && info.height == 300)
    }

    @Test func synthetic_pixelsDoNotDependOnTheWorkersThatGenerateThem() async throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let machine = try MachineTopology.load()
        let pool = try WorkerPool(plan: PlacementPlan.make(for: machine.topology, request: .init(workers: 2, oversubscribe: true)), name: "synth")
        defer { try? pool.shutdown() }
        let serial = try SAFEProduct(path: try await Self.writer().write(date: 0, polarisations: [.vh], into: directory.path + "/serial"))
        let parallel = try SAFEProduct(path: try await Self.writer().write(date: 0, polarisations: [.vh], into: directory.path + "/parallel", on: pool.executor))
        let store = GDALRasterStore()
        let a = try store.read(try #require(serial.files[.vh]?.measurement), window: nil, as: UInt16.self)
        let b = try store.read(try #require(parallel.files[.vh]?.measurement), window: nil, as: UInt16.self)
        #expect(a == b)
    }

    @Test func ortho_tileReproducesTheSceneWithS1TilingNameAndTags() async throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = Self.writer()
        let product = try SAFEProduct(path: try await writer.write(date: 0, into: directory.path))
        let tiler = OrthoTiler()
        for polarisation in [Polarisation.vv, .vh] {
            let image = try await tiler.orthorectify(product, polarisation: polarisation, tile: Self.tile)
            #expect(image.geo == Self.tile.geoReference)
            #expect(image.metadata["ORTHORECTIFIED"] == "true" && image.metadata["POLARIZATION"] == polarisation.rawValue)
            #expect(image.metadata["S2_TILE_CORRESPONDING_CODE"] == "48QXH" && image.metadata["NOISE_REMOVED"] == "True")
            // The product covers the tile: no nodata.
            #expect(image.raster.pixels.allSatisfy { $0 > 0 })
            // Each field's mean, away from its edges, is the scene's σ⁰ within 0.5 dB (speckle averages out).
            let filtered = LeeFilter().apply(image.raster)
            for field in 0..<4 {
                let x0 = (field % 2) * 100 + 20
                let y0 = (field / 2) * 100 + 20
                var sum = 0.0
                for y in y0..<(y0 + 60) { for x in x0..<(x0 + 60) { sum += Double(filtered[x, y]) } }
                let measured = 10 * log10(sum / 3600)
                let landClass = try #require(LandClass(rawValue: writer.scene.truth[x0, y0]))
                let expected = Double(SyntheticScene.profile(landClass, polarisation: polarisation, date: 0, floodDate: writer.scene.floodDates[field]))
                #expect(abs(measured - expected) < 0.5, "\(polarisation) field \(field) \(landClass): \(measured) dB vs \(expected) dB")
            }
        }
        let name = OrthoTiler.name(product, polarisation: .vh, tile: Self.tile)
        #expect(name.description == "s1a_48QXH_vh_DES_018_20250105t224512.tif")
        #expect(S1TilingName(parsing: name.description) == name)
        #expect(S1TilingName(parsing: "s1a_33NWB_vh_DES_007_20200108txxxxxx_filtered.tif")?.suffixes == ["filtered"])
        #expect(S1TilingName(parsing: "s1a_33NWB_vh_DES_007_20200108txxxxxx_filtered.tif")?.time == nil)
        #expect(S1TilingName(parsing: "notes.tif") == nil)
    }

    @Test func ortho_productAwayFromTheTileIsNoOverlapAndWrongTypeIsTyped() async throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let product = try SAFEProduct(path: try await Self.writer().write(date: 0, polarisations: [.vv], into: directory.path))
        var far = Self.tile
        far.originX += 200_000
        await #expect { try await OrthoTiler().orthorectify(product, polarisation: .vv, tile: far) } throws: {
            ($0 as? GeocodingError) == .noOverlap(product: product.name, tile: "48QXH")
        }
        // A Float32 file where the UInt16 measurement should be.
        let measurement = try #require(product.files[.vv]?.measurement)
        try GDALRasterStore().write(GeoRaster(raster: Raster<Float>(width: 300, height: 300, repeating: 1)), to: measurement, format: .geoTIFF(deflate: false))
        await #expect { try await OrthoTiler().orthorectify(product, polarisation: .vv, tile: Self.tile) } throws: {
            ($0 as? RasterError)?.code == .wrongDataType(expected: .uint16, found: .float32)
        }
    }

    @Test func mosaic_firstNonNodataPixelWins() throws {
        let a = Raster<Float>(width: 4, height: 1, pixels: [1, 0, 0, 4])
        let b = Raster<Float>(width: 4, height: 1, pixels: [9, 2, 0, 9])
        #expect(Mosaic.firstValid([a, b])?.pixels == [1, 2, 0, 4])
        #expect(Mosaic.firstValid([]) == nil)
    }
}

@Suite("Border cut and nodata", .timeLimit(.minutes(1)))
struct BorderCutTests {
    @Test func s1Tiling_cutsTopAndBottomOnlyWhereLine100HasMoreThan2000NodataPixels() {
        let coast = Raster<UInt16>(width: 5000, height: 1, pixels: (0..<5000).map { $0 < 2001 ? 0 : 120 })
        let land = Raster<UInt16>(width: 5000, height: 1, pixels: (0..<5000).map { $0 < 2000 ? 0 : 120 })
        #expect(BorderCut.s1Tiling(ipf: 3.40, lineNearTop: coast, lineNearBottom: land) == BorderCut(top: 1600, bottom: 0, left: 0, right: 0))
        #expect(BorderCut.s1Tiling(ipf: 3.40, lineNearTop: land, lineNearBottom: coast) == BorderCut(top: 0, bottom: 1600, left: 0, right: 0))
        // Before IPF 2.90 the border noise is cut on both sides too.
        #expect(BorderCut.s1Tiling(ipf: 2.84, lineNearTop: land, lineNearBottom: land) == BorderCut(top: 0, bottom: 0, left: 1000, right: 1000))
        #expect(BorderCut(top: 1600, bottom: 0, left: 1000, right: 1000).validWindow(width: 25_000, height: 16_700)
            == PixelWindow(x: 1000, y: 1600, width: 23_000, height: 15_100))
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func sarsenAllZeroMeasurement_calibratesTo100PercentNodata() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let measurement = try #require(try product.files(.vv).measurement)
        let window = PixelWindow(x: 12_000, y: 8_000, width: 600, height: 200)
        let dn = try GDALRasterStore().read(measurement, window: window, as: UInt16.self)
        let sigma = Calibrator(calibration: try product.calibration(.vv), noise: try product.noise(.vv)).calibrate(dn, at: window)
        #expect(sigma.pixels.allSatisfy { $0 == 0 })
        #expect(LeeFilter().apply(sigma).pixels.allSatisfy { $0 == 0 })
    }
}

@Suite("Same-date concatenation", .timeLimit(.minutes(1)))
struct ConcatenationTests {
    @Test func twoSlicesOfOneDateBecomeOneTxxxxxxFileAndASecondMergeRewritesNothing() throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = GDALRasterStore()
        let tile = OutputTile(name: "48QXH", epsg: 32648, originX: 600_000, originY: 2_300_040, width: 8, height: 4)
        var paths: [String] = []
        for (slice, time) in [(0, "224512"), (1, "224537")] {
            let pixels = (0..<32).map { index -> Float in (index % 8 < 4) == (slice == 0) ? Float(slice + 1) : 0 }
            let name = S1TilingName(unit: "s1a", tile: "48QXH", polarisation: .vv, pass: .descending, relativeOrbit: 18, date: "20250105", time: time)
            let path = directory.path + "/" + name.description
            try store.write(
                GeoRaster(raster: Raster(width: 8, height: 4, pixels: pixels), geo: tile.geoReference,
                          metadata: ["ACQUISITION_DATETIME": "2025:01:05 22:45:\(time.suffix(2))", "INPUT_S1_IMAGES": "P\(slice)"]),
                to: path, format: .cog)
            paths.append(path)
        }
        let single = S1TilingName(unit: "s1a", tile: "48QXH", polarisation: .vv, pass: .descending, relativeOrbit: 18, date: "20250117", time: "224512")
        let singlePath = directory.path + "/" + single.description
        try store.write(GeoRaster(raster: Raster<Float>(width: 8, height: 4, repeating: 5), geo: tile.geoReference), to: singlePath, format: .cog)

        let merger = SameDateConcatenation(store: store)
        let season = try merger.merge(paths + [singlePath], into: directory.path)
        let merged = directory.path + "/s1a_48QXH_vv_DES_018_20250105txxxxxx.tif"
        #expect(season == [merged, singlePath].sorted())
        let image = try store.read(merged, window: nil, as: Float.self)
        #expect(image.pixels == (0..<32).map { $0 % 8 < 4 ? 1 : 2 })
        let tags = try store.info(at: merged).metadata
        #expect(tags["ACQUISITION_DATETIME_1"] == "2025:01:05 22:45:12" && tags["ACQUISITION_DATETIME_2"] == "2025:01:05 22:45:37")
        #expect(tags["INPUT_S1_IMAGES"] == "P0, P1" && tags["ACQUISITION_DATETIME"] == nil)
        let made = try FileManager.default.attributesOfItem(atPath: merged)[.modificationDate] as? Date
        _ = try merger.merge(paths + [singlePath], into: directory.path)
        #expect(try FileManager.default.attributesOfItem(atPath: merged)[.modificationDate] as? Date == made)
    }
}

@Suite("Product store and cache", .timeLimit(.minutes(1)))
struct ProductCacheTests {
    @Test func clean_removesInterruptedFetchesAndAllButTheNewestProducts() throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manager = FileManager.default
        for (index, name) in ["A.SAFE", "B.SAFE", "C.SAFE", ".fetch-A-1234"].enumerated() {
            let path = directory.path + "/" + name
            try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
            // A is the oldest, C the newest.
            try manager.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(1_700_000_000 + index * 3600))], ofItemAtPath: path)
        }
        let removed = try ProductCache(directory: directory.path).clean(keeping: 1)
        #expect(Set(removed) == [".fetch-A-1234", "A.SAFE", "B.SAFE"])
        #expect(try manager.contentsOfDirectory(atPath: directory.path) == ["C.SAFE"])
    }

    @Test func store_onlyDirectoriesAndFileURLsAreStores() throws {
        #expect(throws: FetchError.unsupportedLocation("https://peps.cnes.fr/products")) {
            try ProductStore(location: "https://peps.cnes.fr/products", cache: "/tmp").directory()
        }
        #expect(try ProductStore(location: "file:///data/peps", cache: "/tmp").directory() == "/data/peps")
        #expect(throws: FetchError.storeUnreadable("/nonexistent/peps")) {
            try ProductStore(location: "/nonexistent/peps", cache: "/tmp").products()
        }
    }
}

@Suite("Resampling", .timeLimit(.minutes(1)))
struct ResamplingTests {
    /// A product image of 80 × 70 pixels of 7 m, rotated a little against a 40 × 40 tile of 10 m inside it, so tile
    /// pixels fall at fractional image positions; the image is a ramp, so bilinear sampling reproduces it exactly.
    static func setup() throws -> (DeformationGrid, Raster<Float>, (Double, Double) -> Double) {
        let tile = OutputTile(name: "48QXH", epsg: 32648, originX: 600_000, originY: 2_300_000, pixelSize: 10, width: 40, height: 40)
        let projection = try #require(TransverseMercator(epsg: 32648))
        let angle = 0.05
        var points: [GeolocationPoint] = []
        for line in Array(stride(from: 0.0, to: 69, by: 7)) + [69] {
            for pixel in Array(stride(from: 0.0, to: 79, by: 6)) + [79] {
                let east = 599_950 + 7 * (pixel * cos(angle) - line * sin(angle))
                let north = 2_300_050 - 7 * (pixel * sin(angle) + line * cos(angle))
                let ground = projection.unproject(easting: east, northing: north)
                points.append(GeolocationPoint(line: line, pixel: pixel, latitude: ground.latitude, longitude: ground.longitude, incidenceAngle: 35))
            }
        }
        let geolocation = try GeolocationGrid(points: points)
        let ramp = { (x: Double, y: Double) in 1 + 0.5 * x + 2 * y }
        var image = Raster<Float>(width: 80, height: 70)
        for y in 0..<70 { for x in 0..<80 { image[x, y] = Float(ramp(Double(x), Double(y))) } }
        return (DeformationGrid(tile: tile, geolocation: geolocation, spacing: 4), image, ramp)
    }

    @Test func bilinear_reproducesARampAndNearestTakesTheClosestPixel() throws {
        let (deformation, image, ramp) = try Self.setup()
        let window = PixelWindow(x: 0, y: 0, width: 80, height: 70)
        var sampled: [Resampling: [Float]] = [:]
        for resampling in Resampling.allCases {
            var output = [Float](repeating: -1, count: 40 * 40)
            output.withUnsafeMutableBufferPointer { buffer in
                Orthorectifier(deformation: deformation, resampling: resampling, valid: window)
                    .orthorectify(rows: 0..<40, source: image, at: window, into: buffer)
            }
            sampled[resampling] = output
        }
        var fractional = 0
        for row in 0..<40 {
            for column in 0..<40 {
                let (line, pixel) = deformation.position(column: column, row: row)
                let bilinear = try #require(sampled[.bilinear])[row * 40 + column]
                let nearest = try #require(sampled[.nearest])[row * 40 + column]
                #expect(abs(Double(bilinear) - ramp(pixel, line)) < 1e-3, "(\(column), \(row)) at (\(line), \(pixel)): \(bilinear)")
                #expect(nearest == Float(ramp(pixel.rounded(), line.rounded())), "(\(column), \(row)): \(nearest)")
                if abs(pixel - pixel.rounded()) > 0.1 || abs(line - line.rounded()) > 0.1 { fractional += 1 }
            }
        }
        #expect(fractional > 1000, "the tile's pixels should mostly fall between image pixels")
    }

    @Test func bilinear_nextToNodataFallsBackToTheNearestPixel() throws {
        let (deformation, original, _) = try Self.setup()
        var image = original
        // Nodata every third column: a bilinear sample that would touch one takes the nearest pixel instead.
        for y in 0..<70 { for x in stride(from: 0, to: 80, by: 3) { image[x, y] = 0 } }
        let window = PixelWindow(x: 0, y: 0, width: 80, height: 70)
        var output = [Float](repeating: -1, count: 40 * 40)
        output.withUnsafeMutableBufferPointer { buffer in
            Orthorectifier(deformation: deformation, resampling: .bilinear, valid: window)
                .orthorectify(rows: 0..<40, source: image, at: window, into: buffer)
        }
        for row in 0..<40 {
            for column in 0..<40 {
                let (line, pixel) = deformation.position(column: column, row: row)
                let x0 = Int(pixel.rounded(.down))
                let touchesNodata = x0 % 3 == 0 || (x0 + 1) % 3 == 0
                if touchesNodata {
                    #expect(output[row * 40 + column] == image[Int(pixel.rounded()), Int(line.rounded())], "(\(column), \(row))")
                }
            }
        }
    }
}
