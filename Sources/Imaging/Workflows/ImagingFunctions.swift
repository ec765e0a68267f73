import Foundation
import Grid

/// The in-process functions the ORTHO_S1_GRD and RICE_MAP workflows call, registered on a grid.
///
/// Functions take their parameters from the task's variables (see `workflows/*.yaml`) and fail with a typed
/// error that the task's log shows. Every file they produce appears whole (written aside, then renamed), so
/// a failed task leaves nothing a rerun could mistake for done.
public enum ImagingFunctions {
    /// Registers `s1.init`, `s1.fetch`, `s1.tile`, `s1.zip`, `s1.clean`, `rice.init`, `rice.ortho`, `rice.classify`
    /// and `rice.report`.
    public static func register(in registry: FunctionRegistry, store: any RasterStore = GDALRasterStore()) {
        registry.register("s1.init") { (context: inout TaskContext) in try s1Init(&context) }
        registry.register("s1.fetch") { (context: inout TaskContext) in try s1Fetch(&context) }
        registry.register("s1.tile") { (context: inout TaskContext) in try await s1Tile(&context, store: store) }
        registry.register("s1.zip") { (context: inout TaskContext) in try s1Zip(&context) }
        registry.register("s1.clean") { (context: inout TaskContext) in try s1Clean(&context) }
        registry.register("rice.init") { (context: inout TaskContext) in try riceInit(&context) }
        registry.register("rice.ortho") { (context: inout TaskContext) in try await riceOrtho(&context, store: store) }
        registry.register("rice.split") { (context: inout TaskContext) in try riceSplit(&context) }
        registry.register("rice.classify") { (context: inout TaskContext) in try riceClassify(&context, store: store) }
        registry.register("rice.report") { (context: inout TaskContext) in try riceReport(&context) }
    }

    // MARK: - Parameters

    static func required(_ context: TaskContext, _ name: String) throws(WorkflowInputError) -> String {
        guard let value = context.variables[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            throw .missingVariable(name)
        }
        return value
    }

    static func tiles(_ context: TaskContext) throws -> [OutputTile] {
        let path = try required(context, "TILES")
        guard let data = FileManager.default.contents(atPath: path) else { throw WorkflowInputError.unreadable(path) }
        let tiles: [OutputTile]
        do {
            tiles = try JSONDecoder().decode([OutputTile].self, from: data)
        } catch {
            throw WorkflowInputError.badValue("TILES", "\(path) is not a JSON array of tiles: \(error)")
        }
        guard !tiles.isEmpty else { throw WorkflowInputError.badValue("TILES", "\(path) lists no tile") }
        for tile in tiles { try tile.validate() }
        guard Set(tiles.map(\.name)).count == tiles.count else { throw WorkflowInputError.badValue("TILES", "tile names repeat") }
        return tiles
    }

    static func polarisations(_ context: TaskContext) throws(WorkflowInputError) -> [Polarisation] {
        let text = context.variables["POLARISATIONS"] ?? "vv,vh"
        var result: [Polarisation] = []
        for item in text.split(separator: ",") {
            guard let polarisation = Polarisation(rawValue: item.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw .badValue("POLARISATIONS", "\"\(item)\" is not vv, vh, hh or hv")
            }
            result.append(polarisation)
        }
        guard !result.isEmpty else { throw .badValue("POLARISATIONS", "empty") }
        return result
    }

    static func tilerSettings(_ context: TaskContext) throws(WorkflowInputError) -> OrthoTiler.Settings {
        var settings = OrthoTiler.Settings()
        if let text = context.variables["CALIBRATION"] {
            guard let target = CalibrationTarget(rawValue: text.lowercased()) else { throw .badValue("CALIBRATION", "\"\(text)\" is not sigma, beta or gamma") }
            settings.calibration = target
        }
        if let text = context.variables["NOISE"] {
            guard ["true", "false"].contains(text.lowercased()) else { throw .badValue("NOISE", "\"\(text)\" is not true or false") }
            settings.removeThermalNoise = text.lowercased() == "true"
        }
        if let text = context.variables["RESAMPLING"] {
            guard let resampling = Resampling(rawValue: text.lowercased()) else { throw .badValue("RESAMPLING", "\"\(text)\" is not nearest or bilinear") }
            settings.resampling = resampling
        }
        return settings
    }

    static func productStore(_ context: TaskContext) throws -> ProductStore {
        let out = try required(context, "OUT")
        let cache = context.variables["CACHE"].flatMap { $0.isEmpty ? nil : $0 } ?? out + "/.products"
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        return ProductStore(location: try required(context, "STORE"), cache: cache)
    }

    /// `YYYYMMDDthhmmss` of a product's start, as in its S1Tiling names.
    static func stamp(_ product: SAFEProduct) -> String {
        let (date, time) = S1TilingName.dateAndTime(ofISO: product.manifest.startTime)
        return date + "t" + time
    }

    // MARK: - ORTHO_S1_GRD

    static func s1Init(_ context: inout TaskContext) throws -> Value {
        let store = try productStore(context)
        let product = try required(context, "PRODUCT")
        guard try store.products().contains(product) else { throw FetchError.notInStore(product: product, store: try store.directory()) }
        let tiles = try tiles(context)
        _ = try polarisations(context)
        _ = try tilerSettings(context)
        try FileManager.default.createDirectory(atPath: try required(context, "OUT"), withIntermediateDirectories: true)
        return ["product": .string(product), "tiles": .array(tiles.map { .string($0.name) })]
    }

    static func s1Fetch(_ context: inout TaskContext) throws -> Value {
        let store = try productStore(context)
        let safe = try store.fetch(try required(context, "PRODUCT"))
        let product = try SAFEProduct(path: safe)
        let tiles = try tiles(context)
        context.variables["SAFE"] = safe
        context.variables["STAMP"] = stamp(product)
        return [
            "runs": .int(tiles.count),
            "variables": .array(tiles.map { ["TILE": .string($0.name)] }),
            "safe": .string(safe),
        ]
    }

    static func s1Tile(_ context: inout TaskContext, store: any RasterStore) async throws -> Value {
        let tileName = try required(context, "TILE")
        guard let tile = try tiles(context).first(where: { $0.name == tileName }) else {
            throw WorkflowInputError.badValue("TILE", "\(tileName) is not in TILES")
        }
        let product = try SAFEProduct(path: try required(context, "SAFE"))
        let written = try await orthorectify(product, tile: tile, context: context, store: store)
        // The tile was asked for this product: not covering it is an error here (RICE_MAP, which maps a
        // season over many tiles, records such a product as S1Tiling's missing input instead).
        guard !written.files.isEmpty else { throw GeocodingError.noOverlap(product: product.name, tile: tile.name) }
        return ["tile": .string(tile.name), "files": .array(written.files.map(Value.string)), "missing": .array(written.missing.map(Value.string))]
    }

    /// Orthorectifies every polarisation of `product` on `tile` into `OUT/<tile>/`.
    static func orthorectify(
        _ product: SAFEProduct, tile: OutputTile, context: TaskContext, store: any RasterStore
    ) async throws -> (files: [String], missing: [String]) {
        let out = try required(context, "OUT")
        let tiler = OrthoTiler(settings: try tilerSettings(context), store: store)
        let directory = out + "/" + tile.name
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [String] = []
        var missing: [String] = []
        for polarisation in try polarisations(context) {
            let name = OrthoTiler.name(product, polarisation: polarisation, tile: tile)
            do {
                let image = try await tiler.orthorectify(product, polarisation: polarisation, tile: tile)
                let path = directory + "/" + name.description
                try store.write(image, to: path, format: .cog)
                files.append(path)
            } catch GeocodingError.noOverlap {
                // S1Tiling's "missing input": the product does not reach this tile; nothing is written.
                missing.append(name.description)
            }
        }
        return (files, missing)
    }

    static func s1Zip(_ context: inout TaskContext) throws -> Value {
        let out = try required(context, "OUT")
        let product = try required(context, "PRODUCT")
        var files: [String] = []
        for parent in context.parentValues {
            if case .array(let list)? = parent["files"] { files += list.map(\.text) }
        }
        let archive = out + "/" + product + ".zip"
        try TileArchive.write(files: files.sorted(), relativeTo: out, to: archive)
        return ["zip": .string(archive), "files": .int(files.count)]
    }

    static func s1Clean(_ context: inout TaskContext) throws -> Value {
        let store = try productStore(context)
        let keep = Int(context.variables["KEEP_PRODUCTS"] ?? "1000") ?? 1000
        let removed = try ProductCache(directory: store.cache).clean(keeping: max(keep, 0))
        return ["removed": .array(removed.map(Value.string))]
    }

    // MARK: - RICE_MAP

    static func riceInit(_ context: inout TaskContext) throws -> Value {
        let store = try productStore(context)
        let tiles = try tiles(context)
        _ = try polarisations(context)
        let from = context.variables["FROM"] ?? ""
        let to = context.variables["TO"] ?? ""
        let products = try store.products().filter { name in
            // S1A_IW_GRDH_1SDV_20250105T224512_…: the fifth field starts with the date.
            let fields = name.split(separator: "_")
            guard fields.count > 4 else { return false }
            let date = String(fields[4].prefix(8))
            return (from.isEmpty || date >= from) && (to.isEmpty || date <= to)
        }
        guard !products.isEmpty else { throw WorkflowInputError.badValue("STORE", "no product in \(try store.directory()) between \(from) and \(to)") }
        try FileManager.default.createDirectory(atPath: try required(context, "OUT"), withIntermediateDirectories: true)
        context.variables["TILE_NAMES"] = tiles.map(\.name).joined(separator: ",")
        // Each replica gets its product and the stamp its S1Tiling files carry (20250105T224512 → 20250105t224512).
        return [
            "runs": .int(products.count),
            "variables": .array(products.map { name in
                ["PRODUCT": .string(name), "STAMP": .string(name.split(separator: "_").dropFirst(4).first.map { $0.lowercased() } ?? "")]
            }),
        ]
    }

    static func riceOrtho(_ context: inout TaskContext, store: any RasterStore) async throws -> Value {
        let productStore = try productStore(context)
        let product = try SAFEProduct(path: try productStore.fetch(try required(context, "PRODUCT")))
        var files: [String] = []
        var missing: [String] = []
        for tile in try tiles(context) {
            let written = try await orthorectify(product, tile: tile, context: context, store: store)
            files += written.files
            missing += written.missing
        }
        return ["product": .string(product.name), "files": .array(files.map(Value.string)), "missing": .array(missing.map(Value.string))]
    }

    static func riceSplit(_ context: inout TaskContext) throws -> Value {
        let tiles = try tiles(context)
        return ["runs": .int(tiles.count), "variables": .array(tiles.map { ["TILE": .string($0.name)] })]
    }

    static func riceClassify(_ context: inout TaskContext, store: any RasterStore) throws -> Value {
        let out = try required(context, "OUT")
        let tile = try required(context, "TILE")
        var settings = RiceMapper.Settings()
        if let config = context.variables["RULES"], !config.isEmpty { settings = try RiceMapper.Settings(contentsOf: config) }
        let folder = out + "/" + tile
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        // Products of one date are concatenated first (S1Tiling's `txxxxxx` files), then the season classified.
        let products = names.filter { S1TilingName(parsing: $0).map { $0.suffixes.isEmpty && $0.time != nil } ?? false }.map { folder + "/" + $0 }
        let season = try SameDateConcatenation(store: store).merge(products, into: folder)
        let parsed = season.compactMap { path in S1TilingName(parsing: path).map { (path, $0) } }
        let vv = parsed.filter { $0.1.polarisation == .vv }.map(\.0)
        let vh = parsed.filter { $0.1.polarisation == .vh }.map(\.0)
        try FileManager.default.createDirectory(atPath: out + "/rice", withIntermediateDirectories: true)
        let report = try RiceMapper(settings: settings, store: store).run(vv: vv, vh: vh, map: out + "/rice/\(tile)_rice.tif")
        return try Value(encoding: report)
    }

    static func riceReport(_ context: inout TaskContext) throws -> Value {
        let out = try required(context, "OUT")
        var tiles: [String: Value] = [:]
        for (name, value) in context.parentResults where name.task == "classify" {
            if let map = value["map"]?.text { tiles[URL(fileURLWithPath: map).lastPathComponent] = value }
        }
        let report: Value = ["tiles": .object(tiles)]
        try RiceMapper.atomicWrite(report.jsonText + "\n", to: out + "/rice/report.json")
        return report
    }
}

/// A workflow variable that is missing or wrong.
public enum WorkflowInputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A required variable is not set.
    case missingVariable(String)
    /// A variable holds an invalid value.
    case badValue(String, String)
    /// A file a variable names cannot be read.
    case unreadable(String)

    public var description: String {
        switch self {
        case .missingVariable(let name): "the variable \(name) is required"
        case .badValue(let name, let message): "bad \(name): \(message)"
        case .unreadable(let path): "cannot read \(path)"
        }
    }
}
