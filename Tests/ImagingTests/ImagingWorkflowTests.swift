import Foundation
import Grid
import Imaging
import Testing

@Suite("Imaging workflows on the grid", .timeLimit(.minutes(2)))
struct ImagingWorkflowTests {
    static func settings() -> SeasonDemo.Settings {
        var settings = SeasonDemo.Settings()
        settings.tileSize = 200
        settings.productSize = 300
        settings.dates = 10
        settings.seed = 7
        return settings
    }

    static func startGrid(_ directory: String) async throws -> Grid {
        var settings = GridSettings()
        settings.dataDirectory = directory + "/grid"
        settings.nodes = 2
        settings.oversubscribe = true
        let functions = FunctionRegistry()
        ImagingFunctions.register(in: functions)
        return try await Grid.start(settings: settings, functions: functions)
    }

    static func modificationDates(_ paths: [String]) -> [String: Date] {
        var dates: [String: Date] = [:]
        for path in paths {
            dates[path] = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? nil
        }
        return dates
    }

    @Test func season_bothWorkflowsFinishWithValidOutputsAndASecondRunDoesNoWork() async throws {
        let directory = try TestData.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Two slices per date: each covers part of the tile, so RICE_MAP concatenates them per date.
        var settings = Self.settings()
        settings.slicesPerDate = 2
        let season = try await SeasonDemo.prepare(settings, in: directory)
        #expect(season.products.count == 2 * settings.dates)
        let grid = try await Self.startGrid(directory)
        let first: SeasonDemo.Report
        do {
            first = try await SeasonDemo.run(season, on: grid)
        } catch {
            await grid.shutdown()
            throw error
        }
        #expect(first.jobs == ["ORTHO_S1_GRD": "FINISHED", "RICE_MAP": "FINISHED"])
        #expect(first.overallAccuracy >= 0.95, "seed 7: OA \(first.overallAccuracy), confusion \(first.confusion)")
        // The two half-covering slices of each date together cover the whole tile: no hole in the map.
        #expect(first.unmapped == 0, "seed 7: \(first.unmapped) classified pixels left as nodata")
        for (name, recall) in first.recall {
            #expect(recall >= 0.9, "seed 7: \(name) recall \(recall)")
        }
        // The products: COGs GDAL reads back with the tile's grid and S1Tiling's tags, and a zip of them.
        let store = GDALRasterStore()
        let tiles = first.outputs.filter { $0.hasSuffix(".tif") && $0.contains("/ortho/") }
        #expect(tiles.count == 2)
        for path in tiles {
            let info = try store.info(at: path)
            #expect(info.layout == "COG" && info.compression == "DEFLATE" && info.dataType == .float32)
            #expect(info.geo == season.tile.geoReference)
            #expect(info.metadata["ORTHORECTIFIED"] == "true" && info.metadata["CALIBRATION"] == "sigma")
            #expect(S1TilingName(parsing: path)?.tile == "48QXH")
        }
        let zip = try #require(first.outputs.first { $0.hasSuffix(".zip") })
        #expect(try TileArchive.entries(of: zip) == tiles.map { "48QXH/" + URL(fileURLWithPath: $0).lastPathComponent }.sorted())
        let map = try #require(first.outputs.first { $0.hasSuffix("_rice.tif") })
        let mapInfo = try store.info(at: map)
        #expect(mapInfo.layout == "COG" && mapInfo.dataType == .byte && mapInfo.geo.nodata == 255)
        #expect(mapInfo.palette.count == 256 && mapInfo.palette[1] == RasterColour(red: 60, green: 200, blue: 60))
        let seasonTiles = try FileManager.default.contentsOfDirectory(atPath: season.output + "/season/48QXH")
        #expect(seasonTiles.filter { $0.contains("txxxxxx") }.count == 2 * settings.dates, "\(seasonTiles.sorted())")
        for suffix in ["_legend.csv", "_areas.json", "_classes.png", "_vh_db.png"] {
            #expect(first.outputs.contains { $0.hasSuffix(suffix) && FileManager.default.fileExists(atPath: $0) }, "\(suffix)")
        }

        // Second run: every task with outputs is already done and no file changes.
        let before = Self.modificationDates(first.outputs)
        let second = try await SeasonDemo.run(season, on: grid)
        await grid.shutdown()
        #expect(second.jobs == first.jobs)
        // ORTHO_S1_GRD: fetch, s1tiling, zip (init and clean have no outputs); RICE_MAP: every ortho, classify, report.
        #expect(second.alreadyDone["ORTHO_S1_GRD"] == 3)
        #expect(second.alreadyDone["RICE_MAP"] == (second.tasks["RICE_MAP"] ?? 0) - 2)
        #expect(Self.modificationDates(first.outputs) == before)
        #expect(second.overallAccuracy == first.overallAccuracy)
    }

    @Test func damagedProduct_fetchFailsWithAClearMessageAndLeavesNothingBehind() async throws {
        let directory = try TestData.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: directory)) }
        var settings = Self.settings()
        settings.dates = 1
        let season = try await SeasonDemo.prepare(settings, in: directory)
        // Unpack the product, damage its VV measurement, and put it back as a folder.
        let product = season.products[0]
        let cache = directory + "/probe"
        let probe = ProductStore(location: season.store, cache: cache)
        let safe = try probe.fetch(product)
        try FileManager.default.removeItem(atPath: season.store + "/" + product + ".zip")
        let measurement = try #require(try SAFEProduct(path: safe).files(.vv).measurement)
        let handle = try #require(FileHandle(forWritingAtPath: measurement))
        try handle.truncate(atOffset: 4096)
        try handle.close()
        try FileManager.default.moveItem(atPath: safe, toPath: season.store + "/" + product + ".SAFE")

        #expect { try ProductStore(location: "file://" + season.store, cache: directory + "/other").fetch(product) } throws: { error in
            guard case .damaged(let name, let reason)? = error as? FetchError else { return false }
            return name == product && reason.contains("bytes, the manifest says")
        }
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory + "/other"))?.isEmpty ?? true)

        let grid = try await Self.startGrid(directory)
        let job = try await grid.submit(
            try ImagingWorkflows.workflow(.orthoS1GRD),
            variables: ["STORE": season.store, "TILES": season.tiles, "PRODUCT": product, "OUT": directory + "/out"])
        let result = try await job.result()
        await grid.shutdown()
        #expect(result.status == .canceled)
        #expect(result.task("fetch")?.status == .faulty)
        let log = try String(contentsOfFile: result.logDirectory + "/fetch.err", encoding: .utf8)
        #expect(log.contains("is damaged") && log.contains("measurement/"), "\(log)")
        // Nothing a rerun could take as done: no tile, no zip, no cached product.
        let outputs = (FileManager.default.enumerator(atPath: directory + "/out")?.allObjects as? [String]) ?? []
        #expect(outputs.filter { $0.hasSuffix(".tif") || $0.hasSuffix(".zip") || $0.hasSuffix(".SAFE") }.isEmpty, "\(outputs)")
    }

    @Test func tileTheProductDoesNotCover_failsTheTaskWithATypedErrorAndWritesNothing() async throws {
        let directory = try TestData.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = Self.settings()
        settings.dates = 1
        let season = try await SeasonDemo.prepare(settings, in: directory)
        var far = season.tile
        far.name = "48QZH"
        far.originX += 300_000
        let tiles = directory + "/far.json"
        try JSONEncoder().encode([far]).write(to: URL(fileURLWithPath: tiles))
        let grid = try await Self.startGrid(directory)
        let job = try await grid.submit(
            try ImagingWorkflows.workflow(.orthoS1GRD),
            variables: ["STORE": season.store, "TILES": tiles, "PRODUCT": season.products[0], "OUT": directory + "/out"])
        let result = try await job.result()
        await grid.shutdown()
        #expect(result.status == .canceled)
        #expect(result.task("s1tiling")?.status == .faulty)
        let log = try String(contentsOfFile: result.logDirectory + "/s1tiling.err", encoding: .utf8)
        #expect(log.contains("does not cover tile 48QZH"), "\(log)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/out/48QZH")) ?? []
        #expect(written.isEmpty, "\(written)")
    }
}
