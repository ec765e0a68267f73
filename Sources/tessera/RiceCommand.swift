import ArgumentParser
import Foundation
import Imaging

/// `tessera rice …`: rice mapping tools.
struct RiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rice",
        abstract: "Rice mapping from Sentinel-1 time series.",
        subcommands: [RiceClassifyCommand.self]
    )
}

/// `tessera rice classify`: a season of S1Tiling tiles → rice map.
struct RiceClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify a season of VV and VH σ⁰ tiles into a rice map with legend, areas and quicklooks.",
        discussion: """
            Inputs are S1Tiling-named Float32 linear σ⁰ GeoTIFFs on one grid (s1a_48QXH_vv_DES_018_20250105t224512.tif); \
            their dates come from the names and VV/VH are paired by date. Each image is Lee-filtered, converted \
            to dB and classified: 0 unknown, 1 rice, 2 water, 3 urban/tree, 255 nodata. Writes MAP.tif (UInt8 COG \
            with a colour table) and MAP_legend.csv, MAP_areas.json, MAP_classes.png and MAP_vh_db.png next to it. \
            --config is a JSON file: {"rules": {"riceRise": 5, …}, "filterRadius": 2, "looks": 4.4}.
            """
    )

    @Option(help: "Glob of the VV files (quote it).")
    var vv: String

    @Option(help: "Glob of the VH files (quote it).")
    var vh: String

    @Option(help: "The class map to write (.tif).")
    var out: String

    @Option(help: "JSON file with rule thresholds and filter settings.")
    var config: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let settings = try config.map { try RiceMapper.Settings(contentsOf: $0) } ?? RiceMapper.Settings()
        let vvFiles = try Self.expand(vv)
        let vhFiles = try Self.expand(vh)
        let report = try RiceMapper(settings: settings).run(vv: vvFiles, vh: vhFiles, map: out)
        if json {
            try printJSON(report)
            return
        }
        print("\(report.dates.count) dates (\(report.dates.first ?? "")…\(report.dates.last ?? ""))"
            + (report.unpaired.isEmpty ? "" : ", left out without both polarisations: \(report.unpaired.joined(separator: ", "))"))
        for name in ["rice", "water", "urban/tree", "unknown", "nodata"] {
            let hectares = report.hectares[name].map { String(format: " %.2f ha", $0) } ?? ""
            print("  \(name): \(report.classes[name] ?? 0) px\(hectares)")
        }
        for path in [report.map, report.legend, report.areas, report.classQuicklook, report.backscatterQuicklook] { print(path) }
    }

    /// The files matching `pattern`, sorted.
    static func expand(_ pattern: String) throws -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, 0, nil, &matches) == 0 else { throw ValidationError("no file matches \(pattern)") }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
