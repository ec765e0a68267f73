import Foundation
import Imaging
import Testing

@Suite("Raster stores", .timeLimit(.minutes(1)))
struct RasterStoreTests {
    static func sampleImage() -> GeoRaster<Float> {
        var raster = Raster<Float>(width: 37, height: 23)
        for index in raster.pixels.indices { raster.pixels[index] = Float(index % 101) * 0.25 - 3 }
        raster[0, 0] = 0
        return GeoRaster(
            raster: raster,
            geo: GeoReference(transform: GeoTransform(originX: 600_000, originY: 2_300_040, pixelSize: 10), crs: .epsg(32648), nodata: 0),
            metadata: ["CALIBRATION": "sigma", "ORTHORECTIFIED": "true"])
    }

    func roundTrip(_ store: some RasterStore, directory: String) throws {
        let image = Self.sampleImage()
        for format in [RasterFormat.geoTIFF(deflate: true), .geoTIFF(deflate: false), .cog] {
            let path = directory + "/image-\(format).tif"
            try store.write(image, to: path, format: format)
            let back = try store.read(path, window: nil, as: Float.self)
            #expect(back == image.raster, "\(format)")
            let info = try store.info(at: path)
            #expect(info.width == 37 && info.height == 23 && info.dataType == .float32)
            #expect(info.geo == image.geo)
            #expect(info.metadata["CALIBRATION"] == "sigma")
            #expect(info.metadata["ORTHORECTIFIED"] == "true")
            if format == .cog { #expect(info.layout == "COG" && info.compression == "DEFLATE") }
            if format == .geoTIFF(deflate: true) { #expect(info.compression == "DEFLATE") }
            let window = PixelWindow(x: 5, y: 7, width: 10, height: 4)
            #expect(try store.read(path, window: window, as: Float.self) == image.raster.cropped(to: window))
        }
        let classes = Raster<UInt8>(width: 8, height: 8, pixels: (0..<64).map { UInt8($0 % 4) })
        try store.write(GeoRaster(raster: classes, geo: GeoReference(nodata: 255)), to: directory + "/classes.tif", format: .cog)
        #expect(try store.read(directory + "/classes.tif", window: nil, as: UInt8.self) == classes)
        try store.write(GeoRaster(raster: classes), to: directory + "/quicklook.png", format: .png)
        #expect(try store.read(directory + "/quicklook.png", window: nil, as: UInt8.self) == classes)
    }

    func typedErrors(_ store: some RasterStore, directory: String) throws {
        let path = directory + "/errors.tif"
        try store.write(Self.sampleImage(), to: path, format: .geoTIFF(deflate: true))
        #expect { try store.read(path, window: nil, as: UInt16.self) } throws: {
            ($0 as? RasterError)?.code == .wrongDataType(expected: .uint16, found: .float32)
        }
        #expect { try store.read(path, window: PixelWindow(x: 30, y: 0, width: 10, height: 1), as: Float.self) } throws: {
            if case .windowOutOfBounds = ($0 as? RasterError)?.code { return true }
            return false
        }
        #expect { try store.read(directory + "/absent.tif", window: nil, as: Float.self) } throws: {
            ($0 as? RasterError)?.code == .notFound
        }
        #expect { try store.write(Self.sampleImage(), to: directory + "/float.png", format: .png) } throws: {
            ($0 as? RasterError)?.code == .unsupported
        }
    }

    @Test func memory_roundTripKeepsPixelsGeoreferenceAndTags() throws {
        try roundTrip(MemoryRasterStore(), directory: "/memory")
    }

    @Test func memory_badRequestsAreTypedErrors() throws {
        try typedErrors(MemoryRasterStore(), directory: "/memory")
    }

    @Test func gdal_roundTripIsBitIdenticalWithGeoreferenceTagsAndCOGLayout() throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try roundTrip(GDALRasterStore(), directory: directory.path)
        // Nothing but the finished files: no partial or side files.
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names.allSatisfy { !$0.hasPrefix(".") && !$0.hasSuffix(".aux.xml") }, "\(names)")
    }

    @Test func gdal_badRequestsAreTypedErrors() throws {
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try typedErrors(GDALRasterStore(), directory: directory.path)
        let garbage = directory.appendingPathComponent("garbage.tif").path
        try Data("not a tiff".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect { try GDALRasterStore().info(at: garbage) } throws: { ($0 as? RasterError)?.code == .unreadable }
        #expect { try GDALRasterStore().write(Self.sampleImage(), to: directory.path + "/missing/dir/x.tif", format: .cog) } throws: {
            ($0 as? RasterError)?.code == .writeFailed
        }
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func gdal_realGeocodedTileHasItsSizeCRSAndStatistics() throws {
        let store = GDALRasterStore()
        let info = try store.info(at: TestData.geocodedTile)
        #expect(info.width == 268 && info.height == 217)
        #expect(info.geo.crs == .epsg(32631))
        let transform = try #require(info.geo.transform)
        #expect(abs(transform.originX - 620048.241204) < 1e-4 && abs(transform.originY - 4830114.70107) < 1e-4)
        #expect(abs(transform.pixelWidth - 20) < 1e-6 && abs(transform.pixelHeight + 20) < 1e-6)
        #expect(info.geo.nodata == -99)
        let raster = try store.read(TestData.geocodedTile, window: nil, as: Float.self)
        let valid = raster.pixels.filter { $0 != -99 }.map(Double.init)
        let mean = valid.reduce(0, +) / Double(valid.count)
        let std = (valid.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(valid.count)).squareRoot()
        #expect(abs((valid.min() ?? 0) - -26.654711) < 1e-4)
        #expect(abs((valid.max() ?? 0) - 1.432585) < 1e-4)
        #expect(abs(mean - -12.124929) < 1e-4)
        #expect(abs(std - 4.738274) < 1e-4)
    }

    @Test(.enabled(if: TestData.available, Comment(rawValue: TestData.missing)))
    func gdal_sarsenMeasurementReadsWindowByWindow() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let measurement = try #require(try product.files(.vv).measurement)
        let store = GDALRasterStore()
        let info = try store.info(at: measurement)
        #expect(info.width == 26102 && info.height == 16705 && info.dataType == .uint16)
        let window = try store.read(measurement, window: PixelWindow(x: 13000, y: 8000, width: 512, height: 64), as: UInt16.self)
        #expect(window.count == 512 * 64)
        #expect(window.pixels.allSatisfy { $0 == 0 })
        #expect { try store.read(measurement, window: nil, as: Float.self) } throws: {
            ($0 as? RasterError)?.code == .wrongDataType(expected: .float32, found: .uint16)
        }
    }
}
