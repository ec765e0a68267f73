import Foundation
@testable import Imaging
import Testing

@Suite("Rice classification", .timeLimit(.minutes(1)))
struct RiceClassificationTests {
    static let settings: SyntheticScene.Settings = {
        var settings = SyntheticScene.Settings()
        settings.seed = 42
        return settings
    }()

    @Test func syntheticSeason_filteredStackIsClassifiedAccurately() throws {
        let scene = SyntheticScene(settings: Self.settings)
        let stack = scene.observedStack(filter: LeeFilter(radius: 2, looks: 4.4))
        let map = try RiceClassifier().classify(stack)
        let accuracy = ClassificationAccuracy(predicted: map, truth: scene.truth)
        let seed = Self.settings.seed
        #expect(accuracy.overallAccuracy >= 0.95, "seed \(seed): OA \(accuracy.overallAccuracy), confusion \(accuracy.confusion)")
        for landClass in LandClass.allCases {
            let recall = accuracy.recall[landClass] ?? 0
            #expect(recall >= 0.9, "seed \(seed): \(landClass) recall \(recall)")
        }
        #expect(accuracy.kappa > 0.9, "seed \(seed): kappa \(accuracy.kappa)")
    }

    @Test func syntheticSeason_withoutTheFilterAccuracyIsClearlyLower() throws {
        let scene = SyntheticScene(settings: Self.settings)
        let map = try RiceClassifier().classify(scene.observedStack(filter: nil))
        let accuracy = ClassificationAccuracy(predicted: map, truth: scene.truth)
        #expect(accuracy.overallAccuracy < 0.8, "seed \(Self.settings.seed): unfiltered OA \(accuracy.overallAccuracy)")
        #expect((accuracy.recall[.urbanTree] ?? 1) < 0.5, "speckle makes bright stable areas look unstable")
    }

    @Test(arguments: [(dates: 12, width: 203, height: 37), (dates: 3, width: 9, height: 1), (dates: 20, width: 64, height: 64)])
    func kernels_portableAndDispatchedGiveTheSameClassesWithNodata(_ shape: (dates: Int, width: Int, height: Int)) throws {
        let seed: UInt64 = 99
        var generator = SplitMix64(seed: seed)
        func plane() -> Raster<Float> {
            var raster = Raster<Float>(width: shape.width, height: shape.height)
            for index in raster.pixels.indices {
                // By pixel: steady low (water-like), steady high (urban-like) or anything in −28…−2 dB; 3 % nodata.
                let value: Float = switch index % 3 {
                case 0: Float.random(in: -27 ..< -23, using: &generator)
                case 1: Float.random(in: -7 ..< -5, using: &generator)
                default: Float.random(in: -28 ..< -2, using: &generator)
                }
                raster.pixels[index] = Double.random(in: 0..<1, using: &generator) < 0.03 ? .nan : value
            }
            return raster
        }
        let stack = try BackscatterStack(vv: (0..<shape.dates).map { _ in plane() }, vh: (0..<shape.dates).map { _ in plane() })
        var rules = RiceRules()
        rules.riceRise = 3  // more rice on uniform noise, so every rule is exercised
        rules.minimumDates = 3
        let portable = try RiceClassifier(rules: rules, kernel: .portable).classify(stack)
        let dispatched = try RiceClassifier(rules: rules, kernel: .dispatched).classify(stack)
        let differing = zip(portable.pixels, dispatched.pixels).filter { $0 != $1 }.count
        #expect(differing == 0, "seed \(seed): \(differing) of \(portable.count) pixels differ")
        #expect(Set(portable.pixels).count >= 3, "seed \(seed): \(Set(portable.pixels))")
        // A sub-range classified alone matches the whole.
        var part = [UInt8](repeating: 7, count: stack.width * stack.height)
        let range = (stack.width / 2)..<(stack.width * stack.height - 1)
        part.withUnsafeMutableBufferPointer { RiceClassifierKernelProbe.classify(stack, rules: rules, pixels: range, into: $0) }
        #expect(Array(part[range]) == Array(dispatched.pixels[range]))
        #expect(part[0] == 7 && part[part.count - 1] == 7)
    }

    @Test func rules_eachRuleDecidesItsClassOnCleanProfiles() throws {
        let dates = 12
        func stack(vv: [Float], vh: [Float]) throws -> BackscatterStack {
            try BackscatterStack(
                vv: vv.map { Raster(width: 1, height: 1, pixels: [$0]) },
                vh: vh.map { Raster(width: 1, height: 1, pixels: [$0]) })
        }
        let classifier = try RiceClassifier()
        func classify(_ landClass: LandClass, flood: Int = 2) throws -> UInt8 {
            let vv = (0..<dates).map { SyntheticScene.profile(landClass, polarisation: .vv, date: $0, floodDate: flood) }
            let vh = (0..<dates).map { SyntheticScene.profile(landClass, polarisation: .vh, date: $0, floodDate: flood) }
            return classifier.classify(try stack(vv: vv, vh: vh)).pixels[0]
        }
        for landClass in LandClass.allCases {
            #expect(try classify(landClass) == landClass.rawValue, "\(landClass)")
        }
        // A rise that comes before the dip is not rice.
        let reversed = (0..<dates).map { SyntheticScene.profile(.rice, polarisation: .vh, date: $0, floodDate: 2) }.reversed()
        let notRice = classifier.classify(try stack(vv: Array(repeating: -12, count: dates), vh: Array(reversed))).pixels[0]
        #expect(notRice != LandClass.rice.rawValue)
        // Too few valid dates: nodata.
        let sparse = classifier.classify(try stack(vv: [-5, .nan, .nan], vh: [-12, .nan, .nan])).pixels[0]
        #expect(sparse == LandClass.nodata)
    }

    @Test func rules_thresholdsComeFromConfigurationAndAreValidated() throws {
        var rules = RiceRules()
        rules.urbanMeanVV = -4
        let vv = [Raster<Float>(width: 1, height: 1, pixels: [-6]), Raster(width: 1, height: 1, pixels: [-6])]
        let vh = [Raster<Float>(width: 1, height: 1, pixels: [-12]), Raster(width: 1, height: 1, pixels: [-12])]
        let stack = try BackscatterStack(vv: vv, vh: vh)
        #expect(try RiceClassifier().classify(stack).pixels == [LandClass.urbanTree.rawValue])
        #expect(try RiceClassifier(rules: rules).classify(stack).pixels == [LandClass.unknown.rawValue])
        rules.riceRise = -1
        #expect(throws: ClassificationError.self) { try RiceClassifier(rules: rules) }
        #expect(throws: ClassificationError.self) { try BackscatterStack(vv: vv, vh: [vh[0]]) }
    }

    @Test func statistics_countAreasAndLegend() {
        let map = Raster<UInt8>(width: 4, height: 1, pixels: [1, 1, 2, 255])
        let statistics = ClassStatistics(map: map, pixelArea: 100)
        #expect(statistics.pixels[.rice] == 2 && statistics.pixels[.water] == 1 && statistics.nodata == 1)
        #expect(statistics.hectares(.rice) == 0.02)
        #expect(statistics.countsByName["urban/tree"] == 0)
        #expect(statistics.legend.contains("1,rice,#3CC83C,2,0.02"))
    }
}

/// Calls the dispatched kernel on a pixel range.
enum RiceClassifierKernelProbe {
    static func classify(_ stack: BackscatterStack, rules: RiceRules, pixels: Range<Int>, into output: UnsafeMutableBufferPointer<UInt8>) {
        guard let classifier = try? RiceClassifier(rules: rules, kernel: .dispatched) else { return }
        classifier.classify(stack, pixels: pixels, into: output)
    }
}

@Suite("Rice mapper", .timeLimit(.minutes(1)))
struct RiceMapperTests {
    @Test func sameDateTilesAreConcatenatedBeforeClassifying() throws {
        let store = MemoryRasterStore()
        let tile = OutputTile(name: "48QXH", epsg: 32648, originX: 600_000, originY: 2_300_040, width: 8, height: 4)
        let urban = Decibel.toLinear(-5)
        var vv: [String] = []
        var vh: [String] = []
        for date in 1...3 {
            for polarisation in [Polarisation.vv, .vh] {
                let value = polarisation == .vv ? urban : Decibel.toLinear(-10)
                // Two slices of one pass: the left half in one file, the right half in the other.
                for (slice, time) in [(0, "100000"), (1, "100025")] {
                    let pixels = (0..<32).map { index -> Float in (index % 8 < 4) == (slice == 0) ? value : 0 }
                    let name = S1TilingName(unit: "s1a", tile: "48QXH", polarisation: polarisation, pass: .descending, relativeOrbit: 18,
                                            date: "2025010\(date)", time: time)
                    let path = "/season/" + name.description
                    try store.write(GeoRaster(raster: Raster(width: 8, height: 4, pixels: pixels), geo: tile.geoReference), to: path, format: .cog)
                    if polarisation == .vv { vv.append(path) } else { vh.append(path) }
                }
            }
        }
        var settings = RiceMapper.Settings()
        settings.filterRadius = 0
        let report = try RiceMapper(settings: settings, store: store).run(vv: vv, vh: vh, map: "/season/map.tif")
        // Every pixel is covered by one slice or the other: no nodata, all urban/tree (bright, stable).
        #expect(report.classes["nodata"] == 0, "\(report.classes)")
        #expect(report.classes["urban/tree"] == 32, "\(report.classes)")
        #expect(report.dates == ["20250101", "20250102", "20250103"])
    }
}

extension RiceMapperTests {
    @Test func bandsOfRowsGiveTheSameMapAsWholeImages_andTheConfigFileOverridesDefaults() throws {
        var settings = SyntheticScene.Settings()
        settings.width = 64
        settings.height = 50
        settings.dates = 10
        settings.fieldSize = 32
        settings.seed = 5
        let scene = SyntheticScene(settings: settings)
        let store = MemoryRasterStore()
        let tile = OutputTile(name: "48QXH", epsg: 32648, originX: 600_000, originY: 2_300_040, width: 64, height: 50)
        var generator = SplitMix64(seed: 5)
        var vv: [String] = []
        var vh: [String] = []
        for date in 0..<settings.dates {
            for polarisation in [Polarisation.vv, .vh] {
                let name = S1TilingName(unit: "s1a", tile: "48QXH", polarisation: polarisation, pass: .descending, relativeOrbit: 18,
                                        date: "202501\(10 + date)", time: "224512")
                let path = "/tiles/" + name.description
                try store.write(GeoRaster(raster: scene.observe(polarisation, date: date, using: &generator), geo: tile.geoReference), to: path, format: .cog)
                if polarisation == .vv { vv.append(path) } else { vh.append(path) }
            }
        }
        var whole = RiceMapper.Settings()
        whole.bandRows = 10_000
        var banded = RiceMapper.Settings()
        banded.bandRows = 7
        _ = try RiceMapper(settings: whole, store: store).run(vv: vv, vh: vh, map: "/out/whole.tif")
        _ = try RiceMapper(settings: banded, store: store).run(vv: vv, vh: vh, map: "/out/banded.tif")
        #expect(try store.read("/out/whole.tif", window: nil, as: UInt8.self) == store.read("/out/banded.tif", window: nil, as: UInt8.self))
        #expect(try store.read("/out/whole_vh_db.png", window: nil, as: UInt8.self) == store.read("/out/banded_vh_db.png", window: nil, as: UInt8.self))

        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("rules.json").path
        try #"{"rules": {"riceRise": 4.5}, "bandRows": 16}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let loaded = try RiceMapper.Settings(contentsOf: config)
        #expect(loaded.rules.riceRise == 4.5 && loaded.rules.waterMaxVV == RiceRules().waterMaxVV && loaded.bandRows == 16 && loaded.filterRadius == 2)
        try "{not json".write(toFile: config, atomically: true, encoding: .utf8)
        #expect(throws: RiceMapError.self) { try RiceMapper.Settings(contentsOf: config) }
    }
}

@Suite("Quicklooks", .timeLimit(.minutes(1)))
struct QuicklookTests {
    @Test func classQuicklook_keepsTheMapAndDrawsASwatchAndANameForEveryClass() {
        let map = Raster<UInt8>(width: 300, height: 40, pixels: (0..<12_000).map { UInt8($0 % 4) })
        let quicklook = Quicklook.withLegend(map)
        #expect(quicklook.width == 300 && quicklook.height > 40)
        #expect(quicklook.cropped(to: PixelWindow(x: 0, y: 0, width: 300, height: 40)) == map)
        let legend = quicklook.cropped(to: PixelWindow(x: 0, y: 40, width: 300, height: quicklook.height - 40))
        for code in [UInt8(0), 1, 2, 3, LandClass.nodata, Quicklook.ink] {
            #expect(legend.pixels.contains(code), "legend lacks \(code)")
        }
        #expect(Quicklook.palette[Int(LandClass.rice.rawValue)] == RasterColour(red: 60, green: 200, blue: 60))
        // Every letter of the class names has a glyph.
        let letters = Set(LandClass.allCases.map(\.description).joined() + "nodata")
        #expect(letters.allSatisfy { Quicklook.font[$0] != nil }, "\(letters.filter { Quicklook.font[$0] == nil })")
    }
}
