import Actors
import Foundation

/// Writes SAFE-structured Sentinel-1 GRD products over a ``SyntheticScene`` laid on an ``OutputTile``.
///
/// Each product has a manifest, per polarisation an annotation with its geolocation grid, calibration and
/// noise vectors, and a UInt16 measurement TIFF whose digital numbers are DN² = (σ⁰·A_σ² + η) × speckle
/// (Gamma, the scene's looks), so calibrating and denoising it gives back the scene's σ⁰ with real-looking
/// speckle. Pixels outside the scene see "other land".
public struct SyntheticProductWriter: Sendable {
    /// What to write.
    public struct Settings: Sendable, Hashable, Codable {
        /// Image width (samples); a full IW GRD is about 25,000.
        public var width: Int = 800
        /// Image height (lines); a full IW GRD is about 16,700.
        public var height: Int = 800
        /// Mission unit, `S1A` or `S1B`.
        public var mission: String = "S1A"
        /// Pass (sets the heading and the image orientation).
        public var pass: OrbitPass = .descending
        /// Relative orbit.
        public var relativeOrbit: Int = 18
        /// IPF version written in the manifest.
        public var ipfVersion: String = "003.40"
        /// First acquisition, UTC; date d is `dayStep × d` days later.
        public var firstAcquisition: Date = Date(timeIntervalSince1970: 1_736_117_112)  // 2025-01-05T22:45:12Z

        /// An 800 × 800 descending S1A product, relative orbit 18, IPF 3.40, first date 2025-01-05.
        public init() {}
    }

    /// The product settings.
    public let settings: Settings
    /// The scene the products observe (its pixels are the tile's).
    public let scene: SyntheticScene
    /// The tile the scene lies on.
    public let tile: OutputTile
    /// Where raster files go.
    public let store: any RasterStore

    /// Makes a writer.
    public init(settings: Settings, scene: SyntheticScene, tile: OutputTile, store: any RasterStore = GDALRasterStore()) {
        self.settings = settings
        self.scene = scene
        self.tile = tile
        self.store = store
    }

    /// The acquisition time of `date`.
    public func acquisition(_ date: Int) -> Date {
        settings.firstAcquisition.addingTimeInterval(Double(date * scene.settings.dayStep) * 86_400)
    }

    /// Writes the product of `date` into `directory` and returns its `.SAFE` path.
    ///
    /// With an executor the image rows are generated on its pinned workers; the pixels do not depend on it
    /// (each band of rows has its own seeded generator).
    /// - Throws: ``RasterError`` or a file-system error when it cannot be written.
    public func write(
        date: Int, polarisations: [Polarisation] = [.vv, .vh], into directory: String, on executor: PinnedExecutor? = nil
    ) async throws -> String {
        try await write(date: date, slice: 0, of: 1, polarisations: polarisations, into: directory, on: executor)
    }

    /// Writes slice `slice` of `slices` consecutive products of `date` (one pass cut every 25 s, as the
    /// ground segment does): each is shifted along the track and starts 25 s after the previous one, so a
    /// tile is covered only by them together and their tiles must be concatenated.
    public func write(
        date: Int, slice: Int, of slices: Int, polarisations: [Polarisation] = [.vv, .vh], into directory: String,
        on executor: PinnedExecutor? = nil
    ) async throws -> String {
        precondition(slices >= 1 && (0..<slices).contains(slice), "slice must be in 0..<slices")
        return try await write(date: date, slice: slice, of: slices, polarisations: polarisations, into: directory) { bands, body in
            if let executor {
                try await executor.parallelFor(bands, grain: 1) { range in
                    for band in range { body(band) }
                }
            } else {
                for band in bands { body(band) }
            }
        }
    }

    private func write(
        date: Int, slice: Int, of slices: Int, polarisations: [Polarisation], into directory: String,
        forEachBand: (Range<Int>, @escaping @Sendable (Int) -> Void) async throws -> Void
    ) async throws -> String {
        guard let projection = TransverseMercator(epsg: tile.epsg) else { throw GeocodingError.badTile("EPSG:\(tile.epsg) is not UTM") }
        let (tileEasting, tileNorthing) = tile.centre(column: Double(tile.width) / 2 - 0.5, row: Double(tile.height) / 2 - 0.5)
        let centred = SyntheticGeometry(
            projection: projection, centreEasting: tileEasting, centreNorthing: tileNorthing,
            width: settings.width, height: settings.height, pass: settings.pass)
        // Slices follow each other along the track, overlapping by a fifth of their length.
        let shift = (Double(slice) - Double(slices - 1) / 2) * 0.8 * Double(settings.height) * centred.spacing
        let geometry = SyntheticGeometry(
            projection: projection, centreEasting: tileEasting + centred.along.0 * shift, centreNorthing: tileNorthing + centred.along.1 * shift,
            width: settings.width, height: settings.height, pass: settings.pass)
        let start = acquisition(date).addingTimeInterval(Double(slice) * 25)
        let stop = start.addingTimeInterval(25)
        let names = SAFENames(mission: settings.mission, start: start, stop: stop, absoluteOrbit: 50_000 + date * 175 + settings.relativeOrbit)
        let safe = directory + "/" + names.product + ".SAFE"
        let manager = FileManager.default
        for folder in ["annotation/calibration", "measurement"] {
            try manager.createDirectory(atPath: safe + "/" + folder, withIntermediateDirectories: true)
        }
        let grid = geometry.geolocationGrid()
        var written: [String] = []
        for (index, polarisation) in polarisations.enumerated() {
            let seed = scene.settings.seed &+ UInt64(date) &* 0x9E37_79B9 &+ UInt64(index) &* 0x85EB_CA6B &+ UInt64(slice) &* 0xC2B2_AE35 &+ 17
            let stem = names.stem(polarisation, index: index + 1)
            let luts = SyntheticLUTs(geometry: geometry)
            try SAFEXML.annotation(settings: settings, names: names, polarisation: polarisation, geometry: geometry, grid: grid)
                .write(toFile: "\(safe)/annotation/\(stem).xml", atomically: true, encoding: .utf8)
            try SAFEXML.calibration(luts: luts, names: names).write(toFile: "\(safe)/annotation/calibration/calibration-\(stem).xml", atomically: true, encoding: .utf8)
            try SAFEXML.noise(luts: luts, names: names).write(toFile: "\(safe)/annotation/calibration/noise-\(stem).xml", atomically: true, encoding: .utf8)
            let dn = try await digitalNumbers(polarisation, date: date, geometry: geometry, luts: luts, seed: seed, forEachBand: forEachBand)
            try store.write(GeoRaster(raster: dn), to: "\(safe)/measurement/\(stem).tiff", format: .geoTIFF(deflate: false))
            written += [
                "annotation/\(stem).xml", "annotation/calibration/calibration-\(stem).xml",
                "annotation/calibration/noise-\(stem).xml", "measurement/\(stem).tiff",
            ]
        }
        // The manifest comes last: it lists every file with its size and MD5, as real products do.
        var objects: [SAFEXML.DataObject] = []
        for href in written {
            let path = safe + "/" + href
            let size = (try manager.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            objects.append(SAFEXML.DataObject(href: "./" + href, size: size, md5: try ProductStore.md5(of: path)))
        }
        try SAFEXML.manifest(settings: settings, names: names, polarisations: polarisations, grid: grid, relativeOrbit: settings.relativeOrbit, objects: objects)
            .write(toFile: safe + "/manifest.safe", atomically: true, encoding: .utf8)
        return safe
    }

    /// Rows per band of generation, each with its own generator.
    static let bandRows = 64

    private func digitalNumbers(
        _ polarisation: Polarisation, date: Int, geometry: SyntheticGeometry, luts: SyntheticLUTs, seed: UInt64,
        forEachBand: (Range<Int>, @escaping @Sendable (Int) -> Void) async throws -> Void
    ) async throws -> Raster<UInt16> {
        let mean = scene.meanBackscatter(polarisation, date: date)
        let background = Decibel.toLinear(SyntheticScene.profile(.unknown, polarisation: polarisation, date: date, floodDate: -1))
        let speckle = GammaSampler.speckle(looks: scene.settings.looks)
        let width = settings.width
        let height = settings.height
        let tile = self.tile
        let gain = (0..<width).map { luts.sigma(pixel: Double($0)) }
        let rangeNoise = (0..<width).map { luts.rangeNoise(pixel: Double($0)) }
        let bounds = luts.swathBounds()
        let swathStarts = bounds.map(\.first)
        let swathOf = (0..<width).map { pixel in bounds.firstIndex { pixel >= $0.first && pixel <= $0.last } ?? 0 }
        let output = RasterBuffer<UInt16>(width: width, height: height, zeroed: false)
        let bands = (height + Self.bandRows - 1) / Self.bandRows
        try await forEachBand(0..<bands) { band in
            var generator = SplitMix64(seed: seed &+ UInt64(band) &* 0xD6E8_FEB8_6659_FD93)
            for line in (band * Self.bandRows)..<min(height, (band + 1) * Self.bandRows) {
                let azimuth = swathStarts.map { luts.azimuthNoise(line: Double(line), pixel: $0) }
                for pixel in 0..<width {
                    let (easting, northing) = geometry.map(line: Double(line), pixel: Double(pixel))
                    let column = Int(((easting - tile.originX) / tile.pixelSize).rounded(.down))
                    let row = Int(((tile.originY - northing) / tile.pixelSize).rounded(.down))
                    let inside = column >= 0 && row >= 0 && column < mean.width && row < mean.height
                    let sigma0 = inside ? Double(mean[column, row]) : Double(background)
                    let eta = rangeNoise[pixel] * azimuth[swathOf[pixel]]
                    let power = (sigma0 * gain[pixel] * gain[pixel] + eta) * speckle.sample(using: &generator)
                    output.buffer[line * width + pixel] = UInt16(min(max(power.squareRoot().rounded(), 1), 65_535))
                }
            }
        }
        return output.raster()
    }
}

/// File names of a synthetic SAFE product.
struct SAFENames {
    let mission: String
    let startText: String
    let stopText: String
    let absoluteOrbit: Int
    let datatake: String
    let startISO: String
    let stopISO: String

    init(mission: String, start: Date, stop: Date, absoluteOrbit: Int) {
        self.mission = mission
        self.absoluteOrbit = absoluteOrbit
        startText = Self.compact(start)
        stopText = Self.compact(stop)
        startISO = Self.iso(start)
        stopISO = Self.iso(stop)
        datatake = String(format: "%06X", (absoluteOrbit * 7) & 0xFFFFFF)
    }

    static func compact(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC") ?? .current, from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    static func iso(_ date: Date) -> String {
        let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC") ?? .current, from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.000000", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    var product: String {
        "\(mission)_IW_GRDH_1SDV_\(startText)_\(stopText)_\(String(format: "%06d", absoluteOrbit))_\(datatake)_5E1F"
    }

    func stem(_ polarisation: Polarisation, index: Int) -> String {
        "\(mission.lowercased())-iw-grd-\(polarisation.rawValue)-\(startText.lowercased())-\(stopText.lowercased())-"
            + "\(String(format: "%06d", absoluteOrbit))-\(datatake.lowercased())-\(String(format: "%03d", index))"
    }
}

/// Calibration and noise LUTs of a synthetic product: A_β constant, A_σ and A_γ from the incidence angle.
struct SyntheticLUTs {
    let geometry: SyntheticGeometry
    let beta = 474.0
    /// Noise power, about −28 dB of σ⁰ equivalent, falling across each swath.
    func eta(line: Int, pixel: Int) -> Double { rangeNoise(pixel: Double(pixel)) * azimuthNoise(line: Double(line), pixel: pixel) }

    func sigma(pixel: Double) -> Double {
        beta / sin(geometry.incidence(pixel: pixel) * .pi / 180).squareRoot()
    }

    func gamma(pixel: Double) -> Double {
        sigma(pixel: pixel) * cos(geometry.incidence(pixel: pixel) * .pi / 180).squareRoot()
    }

    func rangeNoise(pixel: Double) -> Double {
        let swath = Double(geometry.width) / 3
        let within = pixel.truncatingRemainder(dividingBy: swath) / swath
        return 700 * (1.2 - 0.4 * within)
    }

    func swathBounds() -> [(first: Int, last: Int)] {
        let third = geometry.width / 3
        return [(0, third - 1), (third, 2 * third - 1), (2 * third, geometry.width - 1)]
    }

    func azimuthNoise(line: Double, pixel: Int) -> Double {
        let swath = swathBounds().firstIndex { pixel >= $0.first && pixel <= $0.last } ?? 0
        return 1 + 0.03 * Double(swath) + 0.02 * sin(line / Double(max(geometry.height, 1)) * 2 * .pi)
    }

    var vectorLines: [Int] {
        let count = max(2, geometry.height / 500 + 2)
        return (0..<count).map { (geometry.height - 1) * $0 / (count - 1) }
    }

    var vectorPixels: [Int] {
        var pixels = Array(stride(from: 0, to: geometry.width - 1, by: 40))
        pixels.append(geometry.width - 1)
        return pixels
    }
}
