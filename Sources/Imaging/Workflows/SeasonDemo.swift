import Foundation
import Grid
import ZIPFoundation

/// A small synthetic season processed end to end on a grid: the Sentinel-1 demo.
///
/// `prepare` writes a product store of zipped synthetic GRD products (one per date) over one tile, the tile
/// list and the ground truth; `run` submits ORTHO_S1_GRD for the first product and RICE_MAP for the season,
/// waits for both and scores the rice map against the truth.
public struct SeasonDemo: Sendable {
    /// The season's shape.
    public struct Settings: Sendable, Hashable, Codable {
        /// Tile side in pixels (10 m).
        public var tileSize = 400
        /// Product image side in pixels.
        public var productSize = 600
        /// Dates in the season (12 days apart).
        public var dates = 12
        /// Field side in pixels.
        public var fieldSize = 100
        /// Seed of the scene and the speckle.
        public var seed: UInt64 = 2026
        /// Products per date: consecutive slices of one pass, which only together cover the tile (their tiles
        /// are concatenated); 1 for one product covering it.
        public var slicesPerDate = 1

        /// A 400 × 400 tile (4 km), 600 × 600 products, 12 dates, one product per date, 100-pixel fields, seed 2026.
        public init() {}
    }

    /// What `prepare` wrote.
    public struct Season: Sendable {
        /// The product store.
        public var store: String
        /// The tiles JSON.
        public var tiles: String
        /// Product names, by date.
        public var products: [String]
        /// The true class map of the tile (UInt8 GeoTIFF).
        public var truth: String
        /// The tile.
        public var tile: OutputTile
        /// Where the workflows write.
        public var output: String
    }

    /// The outcome of a demo run.
    public struct Report: Sendable, Codable {
        /// Final state of each job, by workflow name.
        public var jobs: [String: String]
        /// Tasks per job that were already done (self-healing), by workflow name.
        public var alreadyDone: [String: Int]
        /// Task instances per job, by workflow name.
        public var tasks: [String: Int]
        /// Overall accuracy of the rice map against the truth.
        public var overallAccuracy: Double
        /// Cohen's kappa.
        public var kappa: Double
        /// Recall per class name.
        public var recall: [String: Double]
        /// Confusion matrix rows (truth) × columns (predicted): unknown, rice, water, urban/tree.
        public var confusion: [[Int]]
        /// Pixels the truth classifies and the map leaves as nodata (left out of the accuracy).
        public var unmapped: Int
        /// Pixels per class in the map.
        public var classes: [String: Int]
        /// Files produced.
        public var outputs: [String]
        /// Wall time of the run in seconds.
        public var seconds: Double
    }

    /// Writes the season into `directory`.
    ///
    /// - Throws: file-system and raster errors.
    public static func prepare(_ settings: Settings, in directory: String) async throws -> Season {
        let manager = FileManager.default
        let store = directory + "/store"
        let staging = directory + "/.staging"
        try manager.createDirectory(atPath: store, withIntermediateDirectories: true)
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: staging) }
        // Thai Binh, Red River delta: UTM 48N.
        let tile = OutputTile(
            name: "48QXH", epsg: 32648, originX: 640_000, originY: 2_270_000, pixelSize: 10,
            width: settings.tileSize, height: settings.tileSize)
        var sceneSettings = SyntheticScene.Settings()
        sceneSettings.width = settings.tileSize
        sceneSettings.height = settings.tileSize
        sceneSettings.dates = settings.dates
        sceneSettings.fieldSize = settings.fieldSize
        sceneSettings.seed = settings.seed
        let scene = SyntheticScene(settings: sceneSettings)
        var productSettings = SyntheticProductWriter.Settings()
        productSettings.width = settings.productSize
        productSettings.height = settings.productSize
        let writer = SyntheticProductWriter(settings: productSettings, scene: scene, tile: tile)
        var products: [String] = []
        for date in 0..<settings.dates {
            for slice in 0..<max(1, settings.slicesPerDate) {
                let safe = try await writer.write(date: date, slice: slice, of: max(1, settings.slicesPerDate), into: staging)
                let name = URL(fileURLWithPath: safe).deletingPathExtension().lastPathComponent
                let archive = store + "/" + name + ".zip"
                if !manager.fileExists(atPath: archive) {
                    try manager.zipItem(at: URL(fileURLWithPath: safe), to: URL(fileURLWithPath: archive + ".partial"), compressionMethod: .deflate)
                    try manager.moveItem(atPath: archive + ".partial", toPath: archive)
                }
                try manager.removeItem(atPath: safe)
                products.append(name)
            }
        }
        let tiles = directory + "/tiles.json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode([tile]).write(to: URL(fileURLWithPath: tiles))
        let truth = directory + "/truth.tif"
        try GDALRasterStore().write(
            GeoRaster(raster: scene.truth, geo: GeoReference(transform: tile.geoReference.transform, crs: tile.geoReference.crs, nodata: 255)),
            to: truth, format: .geoTIFF(deflate: true))
        return Season(store: store, tiles: tiles, products: products, truth: truth, tile: tile, output: directory + "/out")
    }

    /// Runs ORTHO_S1_GRD on the first product and RICE_MAP on the season, on `grid`, and scores the map.
    ///
    /// - Parameter progress: Called with a one-line status of both jobs (done/total, running, failed), at most ten times a second.
    /// - Throws: ``GridError`` when submission fails, ``DemoError`` when a job does not finish.
    public static func run(_ season: Season, on grid: Grid, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Report {
        let clock = ContinuousClock()
        let start = clock.now
        let common = ["STORE": season.store, "TILES": season.tiles]
        let ortho = try await grid.submit(
            try ImagingWorkflows.workflow(.orthoS1GRD),
            variables: common.merging(["PRODUCT": season.products[0], "OUT": season.output + "/ortho"]) { $1 })
        let rice = try await grid.submit(try ImagingWorkflows.workflow(.riceMap), variables: common.merging(["OUT": season.output + "/season"]) { $1 })
        let names = [ortho.id: "ORTHO_S1_GRD", rice.id: "RICE_MAP"]
        let watcher = Task {
            var latest: [JobID: JobProgress] = [:]
            var shown = ContinuousClock.now - .seconds(1)
            for await event in grid.events where names[event.job] != nil {
                latest[event.job] = event.progress
                // At most ten updates a second, and always the last one.
                guard event.isFinal || ContinuousClock.now - shown >= .milliseconds(100) else { continue }
                shown = ContinuousClock.now
                let parts = latest.sorted { $0.key.description < $1.key.description }.map { job, p in
                    "\(names[job] ?? "\(job)") \(p.done)/\(p.total) done · \(p.running) running · \(p.failed) failed"
                }
                progress(parts.joined(separator: " | "))
            }
        }
        defer { watcher.cancel() }
        let orthoResult = try await ortho.result()
        let riceResult = try await rice.result()
        let seconds = (clock.now - start) / .seconds(1)
        for result in [orthoResult, riceResult] where result.status != .finished {
            let failed = result.tasks.filter { $0.status != .finished && $0.status != .skipped }
                .map { "\($0.name) \($0.status): \($0.message ?? "")" }
            throw DemoError.jobDidNotFinish(name: result.name, state: "\(result.status)", tasks: failed, logs: result.logDirectory)
        }
        let map = season.output + "/season/rice/\(season.tile.name)_rice.tif"
        let store = GDALRasterStore()
        let predicted = try store.read(map, window: nil, as: UInt8.self)
        let truth = try store.read(season.truth, window: nil, as: UInt8.self)
        let accuracy = ClassificationAccuracy(predicted: predicted, truth: truth)
        var recall: [String: Double] = [:]
        for (landClass, value) in accuracy.recall { recall[landClass.description] = value }
        var classes = ClassStatistics(map: predicted, pixelArea: season.tile.pixelArea).countsByName
        classes["nodata"] = ClassStatistics(map: predicted, pixelArea: season.tile.pixelArea).nodata
        var outputs: [String] = []
        if let zip = orthoResult.result(of: "zip")?["zip"]?.text { outputs.append(zip) }
        for task in orthoResult.tasks where task.name.task == "s1tiling" {
            if case .array(let files)? = task.result?["files"] { outputs += files.map(\.text) }
        }
        if let report = riceResult.result(of: "classify") {
            outputs += ["map", "legend", "areas", "classQuicklook", "backscatterQuicklook"].compactMap { report[$0]?.text }
        }
        outputs.append(season.output + "/season/rice/report.json")
        return Report(
            jobs: [orthoResult.name: "\(orthoResult.status)", riceResult.name: "\(riceResult.status)"],
            alreadyDone: [orthoResult.name: orthoResult.tasks.filter(\.alreadyDone).count, riceResult.name: riceResult.tasks.filter(\.alreadyDone).count],
            tasks: [orthoResult.name: orthoResult.tasks.count, riceResult.name: riceResult.tasks.count],
            overallAccuracy: accuracy.overallAccuracy, kappa: accuracy.kappa, recall: recall, confusion: accuracy.confusion,
            unmapped: accuracy.unmapped, classes: classes, outputs: outputs, seconds: seconds)
    }
}

/// A demo job that did not finish.
public enum DemoError: Error, Sendable, CustomStringConvertible {
    /// The job ended in another state; its unfinished tasks and where their logs are.
    case jobDidNotFinish(name: String, state: String, tasks: [String], logs: String)

    public var description: String {
        switch self {
        case .jobDidNotFinish(let name, let state, let tasks, let logs):
            "\(name) ended \(state): \(tasks.joined(separator: "; ")) (logs in \(logs))"
        }
    }
}
