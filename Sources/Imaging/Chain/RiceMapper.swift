import Foundation

/// The rice-map step: a season of VV and VH σ⁰ tiles → class map, legend, areas and quicklooks.
///
/// Input files are S1Tiling-named Float32 linear σ⁰ GeoTIFFs on one grid; their dates come from the names, and
/// files of the same date are concatenated (first non-nodata pixel).
/// Each image is speckle-filtered (Lee), turned into dB and classified with ``RiceRules``. This is what
/// `tessera rice classify` and the RICE_MAP workflow run.
public struct RiceMapper: Sendable {
    /// How to classify.
    public struct Settings: Sendable, Hashable, Codable {
        /// The rule thresholds.
        public var rules = RiceRules()
        /// Lee window radius (2 → 5 × 5); 0 turns the filter off.
        public var filterRadius = 2
        /// Equivalent number of looks of the inputs.
        public var looks: Float = 4.4
        /// Rows classified at a time: memory is about rows × width × 4 bytes × 2 polarisations × dates.
        public var bandRows = 512

        /// The defaults: reference/imaging.md §3 rules, Lee 5 × 5 with ENL 4.4.
        public init() {}

        /// Reads settings from a JSON file (`{"rules": {"riceRise": 5, …}, "filterRadius": 2, "looks": 4.4}`); absent keys keep their defaults.
        ///
        /// - Throws: ``RiceMapError/badConfiguration(_:)`` when the file is unreadable or not such JSON.
        public init(contentsOf path: String) throws(RiceMapError) {
            guard let data = FileManager.default.contents(atPath: path) else { throw .badConfiguration("cannot read \(path)") }
            do {
                self = try JSONDecoder().decode(Settings.self, from: data)
            } catch {
                throw .badConfiguration("\(path): \(error)")
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init()
            if let rules = try container.decodeIfPresent(PartialRules.self, forKey: .rules) { self.rules = rules.applied(to: self.rules) }
            filterRadius = try container.decodeIfPresent(Int.self, forKey: .filterRadius) ?? filterRadius
            looks = try container.decodeIfPresent(Float.self, forKey: .looks) ?? looks
            bandRows = try container.decodeIfPresent(Int.self, forKey: .bandRows) ?? bandRows
        }

        private struct PartialRules: Decodable {
            var waterMaxVV: Float?
            var waterMeanVH: Float?
            var riceFloodVH: Float?
            var riceRise: Float?
            var ricePeakVH: Float?
            var urbanMeanVV: Float?
            var urbanStdVH: Float?
            var minimumDates: Int?

            func applied(to base: RiceRules) -> RiceRules {
                var rules = base
                rules.waterMaxVV = waterMaxVV ?? rules.waterMaxVV
                rules.waterMeanVH = waterMeanVH ?? rules.waterMeanVH
                rules.riceFloodVH = riceFloodVH ?? rules.riceFloodVH
                rules.riceRise = riceRise ?? rules.riceRise
                rules.ricePeakVH = ricePeakVH ?? rules.ricePeakVH
                rules.urbanMeanVV = urbanMeanVV ?? rules.urbanMeanVV
                rules.urbanStdVH = urbanStdVH ?? rules.urbanStdVH
                rules.minimumDates = minimumDates ?? rules.minimumDates
                return rules
            }
        }
    }

    /// What a run produced.
    public struct Report: Sendable, Hashable, Codable {
        /// Pixel count per class name (`rice`, `water`, `urban/tree`, `unknown`, `nodata`).
        public var classes: [String: Int]
        /// Hectares per class name.
        public var hectares: [String: Double]
        /// Dates used (YYYYMMDD), oldest first.
        public var dates: [String]
        /// Dates that had only one polarisation and were left out.
        public var unpaired: [String]
        /// The class map (UInt8 COG).
        public var map: String
        /// The legend (CSV: code, class, colour, pixels, hectares).
        public var legend: String
        /// Per-class areas (JSON).
        public var areas: String
        /// Class colours quicklook (PNG).
        public var classQuicklook: String
        /// Mean VH in dB, grayscale quicklook (PNG).
        public var backscatterQuicklook: String
    }

    /// The settings.
    public let settings: Settings
    /// Where rasters are read and written.
    public let store: any RasterStore

    /// Makes a mapper.
    ///
    /// - Throws: ``RiceMapError/badConfiguration(_:)`` when the rules or the filter settings are invalid.
    public init(settings: Settings = Settings(), store: any RasterStore = GDALRasterStore()) throws(RiceMapError) {
        do {
            try settings.rules.validate()
        } catch {
            throw .badConfiguration("\(error)")
        }
        guard settings.filterRadius >= 0, settings.filterRadius <= 10 else { throw .badConfiguration("filterRadius must be 0…10") }
        guard settings.looks > 0, settings.looks.isFinite else { throw .badConfiguration("looks must be positive") }
        guard settings.bandRows >= 1 else { throw .badConfiguration("bandRows must be at least 1") }
        self.settings = settings
        self.store = store
    }

    /// Classifies the season in `vv` and `vh` (file paths) into `map` and its companions next to it.
    ///
    /// - Throws: ``RiceMapError`` for names without dates, mismatched grids or too few dates; ``RasterError`` for unreadable files.
    public func run(vv: [String], vh: [String], map: String) throws -> Report {
        let vvByDate = try Self.byDate(vv, polarisation: .vv)
        let vhByDate = try Self.byDate(vh, polarisation: .vh)
        let dates = Set(vvByDate.keys).intersection(vhByDate.keys).sorted()
        let unpaired = Set(vvByDate.keys).symmetricDifference(vhByDate.keys).sorted()
        guard dates.count >= max(2, settings.rules.minimumDates) else {
            throw RiceMapError.tooFewDates(found: dates.count, needed: max(2, settings.rules.minimumDates))
        }
        // Every file on the grid of the first one.
        var reference: RasterInfo?
        for path in dates.flatMap({ (vvByDate[$0] ?? []) + (vhByDate[$0] ?? []) }) {
            let info = try store.info(at: path)
            if let reference {
                guard info.width == reference.width, info.height == reference.height, info.geo.transform == reference.geo.transform,
                      info.geo.crs == reference.geo.crs else {
                    throw RiceMapError.differentGrids(path)
                }
            } else {
                reference = info
            }
        }
        guard let reference else { throw RiceMapError.tooFewDates(found: 0, needed: 2) }
        let width = reference.width
        let height = reference.height
        let filter = settings.filterRadius > 0 ? LeeFilter(radius: settings.filterRadius, looks: settings.looks) : nil
        let halo = settings.filterRadius
        let classifier = try RiceClassifier(rules: settings.rules)
        var classes = Raster<UInt8>(width: width, height: height)
        var grayscale = Raster<UInt8>(width: width, height: height)
        // Bands of rows, so a season of full tiles fits in memory: each band reads its rows plus the filter's
        // halo from every image, filters, converts to dB and classifies; the halo rows are then dropped, so the
        // result equals filtering whole images.
        var top = 0
        while top < height {
            let rows = top..<min(height, top + settings.bandRows)
            let read = max(0, rows.lowerBound - halo)..<min(height, rows.upperBound + halo)
            let window = PixelWindow(x: 0, y: read.lowerBound, width: width, height: read.count)
            let keep = PixelWindow(x: 0, y: rows.lowerBound - read.lowerBound, width: width, height: rows.count)
            var vvStack: [Raster<Float>] = []
            var vhStack: [Raster<Float>] = []
            for date in dates {
                for (paths, polarisation) in [(vvByDate[date] ?? [], Polarisation.vv), (vhByDate[date] ?? [], .vh)] {
                    // Products of the same date (consecutive slices of one pass) are merged first, first
                    // non-nodata pixel winning, as S1Tiling's concatenation does.
                    var images: [Raster<Float>] = []
                    for path in paths { images.append(try store.read(path, window: window, as: Float.self)) }
                    guard var image = Mosaic.firstValid(images) else { continue }
                    if let filter { image = filter.apply(image) }
                    let dB = Decibel.fromLinear(image.cropped(to: keep))
                    if polarisation == .vv { vvStack.append(dB) } else { vhStack.append(dB) }
                }
            }
            let band = classifier.classify(try BackscatterStack(vv: vvStack, vh: vhStack))
            let shade = Self.grayscale(mean: vhStack)
            let offset = rows.lowerBound * width
            classes.pixels.replaceSubrange(offset..<(offset + band.count), with: band.pixels)
            grayscale.pixels.replaceSubrange(offset..<(offset + shade.count), with: shade.pixels)
            top = rows.upperBound
        }
        let pixelArea = reference.geo.transform.map { abs($0.pixelWidth * $0.pixelHeight) } ?? 1
        let statistics = ClassStatistics(map: classes, pixelArea: pixelArea)

        let base = map.hasSuffix(".tif") ? String(map.dropLast(4)) : map
        let folder = URL(fileURLWithPath: map).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let palette = Quicklook.palette
        let geo = GeoReference(transform: reference.geo.transform, crs: reference.geo.crs, nodata: Double(LandClass.nodata))
        let tags = ["RICE_DATES": dates.joined(separator: ","), "RICE_CLASSES": "0=unknown,1=rice,2=water,3=urban/tree,255=nodata",
                    "TIFFTAG_SOFTWARE": "Tessera"]
        try store.write(GeoRaster(raster: classes, geo: geo, metadata: tags, palette: palette), to: map, format: .cog)
        let legend = base + "_legend.csv"
        try Self.atomicWrite(statistics.legend, to: legend)
        var counts = statistics.countsByName
        counts["nodata"] = statistics.nodata
        var hectares: [String: Double] = [:]
        for landClass in LandClass.allCases { hectares[landClass.description] = statistics.hectares(landClass) }
        let areas = base + "_areas.json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try Self.atomicWrite(String(decoding: try encoder.encode(["pixels": counts.mapValues(Double.init), "hectares": hectares]), as: UTF8.self), to: areas)
        let classQuicklook = base + "_classes.png"
        try store.write(GeoRaster(raster: Quicklook.withLegend(classes), palette: palette), to: classQuicklook, format: .png)
        let backscatterQuicklook = base + "_vh_db.png"
        try store.write(GeoRaster(raster: grayscale), to: backscatterQuicklook, format: .png)
        return Report(
            classes: counts, hectares: hectares, dates: dates, unpaired: unpaired, map: map, legend: legend, areas: areas,
            classQuicklook: classQuicklook, backscatterQuicklook: backscatterQuicklook)
    }

    /// Files keyed by their S1Tiling date, in name order (several for one date are concatenated).
    static func byDate(_ paths: [String], polarisation: Polarisation) throws(RiceMapError) -> [String: [String]] {
        var byDate: [String: [String]] = [:]
        for path in paths.sorted() {
            guard let name = S1TilingName(parsing: path) else { throw .notS1TilingName(path) }
            guard name.polarisation == polarisation else { throw .wrongPolarisation(path, expected: polarisation) }
            byDate[name.date, default: []].append(path)
        }
        return byDate
    }

    /// Mean dB over the dates, −30…0 dB → 1…255; nodata stays 0.
    static func grayscale(mean stack: [Raster<Float>]) -> Raster<UInt8> {
        guard let first = stack.first else { return Raster(width: 0, height: 0) }
        var out = Raster<UInt8>(width: first.width, height: first.height)
        for index in out.pixels.indices {
            var sum: Float = 0
            var count: Float = 0
            for image in stack where !image.pixels[index].isNaN {
                sum += image.pixels[index]
                count += 1
            }
            guard count > 0 else { continue }
            let scaled = ((sum / count + 30) / 30 * 254).rounded() + 1
            out.pixels[index] = UInt8(min(max(scaled, 1), 255))
        }
        return out
    }

    static func atomicWrite(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// A season that cannot be classified.
public enum RiceMapError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration is invalid.
    case badConfiguration(String)
    /// A file name carries no S1Tiling date.
    case notS1TilingName(String)
    /// A file of the other polarisation was given.
    case wrongPolarisation(String, expected: Polarisation)
    /// Fewer dates than the rules need.
    case tooFewDates(found: Int, needed: Int)
    /// A file is not on the grid of the first one.
    case differentGrids(String)

    public var description: String {
        switch self {
        case .badConfiguration(let message): "bad rice-map configuration: \(message)"
        case .notS1TilingName(let path): "\(path) is not an S1Tiling name (s1a_TILE_pol_DES_ooo_YYYYMMDDthhmmss.tif)"
        case .wrongPolarisation(let path, let expected): "\(path) is not \(expected.rawValue.uppercased())"
        case .tooFewDates(let found, let needed): "\(found) dates with both VV and VH; at least \(needed) are needed"
        case .differentGrids(let path): "\(path) is not on the same grid as the first file"
        }
    }
}
