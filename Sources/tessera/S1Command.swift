import ArgumentParser
import Foundation
import Imaging

/// `tessera s1 …`: Sentinel-1 tools.
struct S1Command: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s1",
        abstract: "Sentinel-1 tools: synthetic products and calibration checks.",
        subcommands: [S1SynthCommand.self, S1CalibratePointsCommand.self]
    )
}

/// `tessera s1 synth`: synthetic SAFE products and their ground truth.
struct S1SynthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write synthetic Sentinel-1 GRD products (SAFE folders) over a synthetic scene, with its ground truth.",
        discussion: """
            The scene lies on a UTM tile (48QXH, 10 m) of the product's size; fields of rice (flooded, then \
            growing), water, urban/tree and other land, with Gamma speckle of ENL 4.4. Writes OUT/<product>.SAFE \
            per date, OUT/tiles.json (the tile) and OUT/truth.tif (the classes: 0 unknown, 1 rice, 2 water, 3 urban/tree).
            """
    )

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "Number of dates (12 days apart).")
    var dates: Int = 1

    @Option(help: "Product size, WIDTHxHEIGHT (a full IW GRD is about 25000x16700).")
    var size: String = "800x800"

    @Option(help: "Seed of the scene and the speckle.")
    var seed: UInt64 = 1

    @Option(help: "Polarisations, comma-separated.")
    var polarisations: String = "vv,vh"

    func parsedSize() throws -> (Int, Int) {
        let parts = size.lowercased().split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width >= 16, height >= 16, width <= 40_000, height <= 40_000 else {
            throw ValidationError("--size must be WIDTHxHEIGHT with sides between 16 and 40000 (got \(size))")
        }
        return (width, height)
    }

    func parsedPolarisations() throws -> [Polarisation] {
        let list = polarisations.split(separator: ",").compactMap { Polarisation(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased()) }
        guard !list.isEmpty, list.count == polarisations.split(separator: ",").count else {
            throw ValidationError("--polarisations must list vv, vh, hh or hv (got \(polarisations))")
        }
        return list
    }

    func validate() throws {
        _ = try parsedSize()
        _ = try parsedPolarisations()
        guard dates >= 1, dates <= 100 else { throw ValidationError("--dates must be between 1 and 100") }
    }

    func run() async throws {
        let (width, height) = try parsedSize()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // The tile covers the middle two thirds of the product, so every tile pixel has data.
        let tile = OutputTile(name: "48QXH", epsg: 32648, originX: 640_000, originY: 2_270_000, pixelSize: 10, width: width * 2 / 3, height: height * 2 / 3)
        var sceneSettings = SyntheticScene.Settings()
        sceneSettings.width = tile.width
        sceneSettings.height = tile.height
        sceneSettings.dates = dates
        sceneSettings.fieldSize = max(50, min(tile.width, tile.height) / 8)
        sceneSettings.seed = seed
        let scene = SyntheticScene(settings: sceneSettings)
        var settings = SyntheticProductWriter.Settings()
        settings.width = width
        settings.height = height
        let writer = SyntheticProductWriter(settings: settings, scene: scene, tile: tile)
        let polarisations = try parsedPolarisations()
        for date in 0..<dates {
            let path = try await writer.write(date: date, polarisations: polarisations, into: out)
            print(path)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode([tile]).write(to: URL(fileURLWithPath: out + "/tiles.json"))
        try GDALRasterStore().write(
            GeoRaster(raster: scene.truth, geo: GeoReference(transform: tile.geoReference.transform, crs: tile.geoReference.crs, nodata: 255)),
            to: out + "/truth.tif", format: .geoTIFF(deflate: true))
        print(out + "/tiles.json")
        print(out + "/truth.tif")
    }
}

/// `tessera s1 calibrate-points`: calibrated values at chosen image positions.
struct S1CalibratePointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate-points",
        abstract: "Print the calibration LUTs, noise and calibrated values at image positions, as CSV.",
        discussion: """
            POINTS.csv has `line` and `pixel` columns (others are ignored). The output has the columns of \
            shared/data/sentinel1/calibration_reference_dn100.csv: product, pol, line, pixel, A_sigma, A_beta, \
            A_gamma, noise_eta, dn, sigma0, sigma0_denoised, sigma0_db, beta0, gamma0.
            """
    )

    @Option(help: "The .SAFE product folder.")
    var safe: String

    @Option(help: "Polarisation: vv or vh (hh, hv).")
    var pol: String

    @Option(help: "CSV file with line and pixel columns.")
    var csv: String

    @Option(help: "The digital number to calibrate.")
    var dn: Double = 100

    func validate() throws {
        guard Polarisation(rawValue: pol.lowercased()) != nil else { throw ValidationError("--pol must be vv, vh, hh or hv (got \(pol))") }
        guard dn.isFinite, dn >= 0, dn <= 65_535 else { throw ValidationError("--dn must be between 0 and 65535") }
    }

    func run() async throws {
        guard let polarisation = Polarisation(rawValue: pol.lowercased()) else { throw ValidationError("bad --pol") }
        let points = try Self.readPoints(csv)
        let product = try SAFEProduct(path: safe)
        let annotation = try product.annotation(polarisation)
        let calibration = try product.calibration(polarisation)
        let noise = try product.noise(polarisation)
        print("product,pol,line,pixel,A_sigma,A_beta,A_gamma,noise_eta,dn,sigma0,sigma0_denoised,sigma0_db,beta0,gamma0")
        for (number, point) in points.enumerated() {
            guard (0..<annotation.numberOfLines).contains(point.line), (0..<annotation.numberOfSamples).contains(point.pixel) else {
                throw CalibratePointsError.outside(row: number + 2, line: point.line, pixel: point.pixel, width: annotation.numberOfSamples, height: annotation.numberOfLines)
            }
            let values = CalibrationPoint(calibration: calibration, noise: noise, line: point.line, pixel: point.pixel, dn: dn)
            let fields = [
                product.name, polarisation.rawValue, String(point.line), String(point.pixel),
                String(format: "%.6f", values.aSigma), String(format: "%.6f", values.aBeta), String(format: "%.6f", values.aGamma),
                String(format: "%.6f", values.noiseEta), String(format: "%.1f", dn), String(format: "%.9e", values.sigma0),
                String(format: "%.9e", values.sigma0Denoised), String(format: "%.6f", values.sigma0dB),
                String(format: "%.9e", values.beta0), String(format: "%.9e", values.gamma0),
            ]
            print(fields.joined(separator: ","))
        }
    }

    static func readPoints(_ path: String) throws -> [(line: Int, pixel: Int)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CalibratePointsError.unreadable(path) }
        let rows = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let header = rows.first, let lineColumn = header.firstIndex(of: "line"), let pixelColumn = header.firstIndex(of: "pixel") else {
            throw CalibratePointsError.noColumns(path)
        }
        var points: [(line: Int, pixel: Int)] = []
        for (index, row) in rows.dropFirst().enumerated() {
            guard row.count > max(lineColumn, pixelColumn), let line = Int(row[lineColumn]), let pixel = Int(row[pixelColumn]) else {
                throw CalibratePointsError.badRow(path, row: index + 2)
            }
            points.append((line, pixel))
        }
        return points
    }
}

/// Bad input to `tessera s1 calibrate-points`.
enum CalibratePointsError: Error, CustomStringConvertible {
    case unreadable(String)
    case noColumns(String)
    case badRow(String, row: Int)
    case outside(row: Int, line: Int, pixel: Int, width: Int, height: Int)

    var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path)"
        case .noColumns(let path): "\(path) has no header with `line` and `pixel` columns"
        case .badRow(let path, let row): "\(path):\(row): line and pixel must be integers"
        case .outside(let row, let line, let pixel, let width, let height): "row \(row): (\(line), \(pixel)) is outside the \(width)×\(height) image"
        }
    }
}
