import Actors
import Synchronization
import Foundation

/// The s1tiling step: one product, one polarisation → its σ⁰ on one output tile.
///
/// Reads only the image rows the tile needs, in bands, calibrates them (thermal noise removed unless told
/// otherwise), applies S1Tiling's border cut and resamples onto the tile through the geolocation grid. Bands
/// run in parallel on a pinned executor when one is given.
public struct OrthoTiler: Sendable {
    /// How to process.
    public struct Settings: Sendable, Hashable, Codable {
        /// σ⁰, β⁰ or γ⁰.
        public var calibration: CalibrationTarget = .sigma
        /// Remove thermal noise (S1Tiling's `remove_thermal_noise`).
        public var removeThermalNoise = true
        /// Resampling (S1Tiling's default is nearest).
        public var resampling: Resampling = .nearest
        /// Tile pixels between nodes of the deformation grid (8 → 80 m at 10 m).
        public var gridSpacing = 8
        /// Tile rows per band (each band reads its own image window).
        public var rowsPerBand = 256
        /// Floor for denoised values (S1Tiling's `lower_signal_value`).
        public var lowerSignalValue: Float = 1e-7

        /// S1Tiling's defaults: σ⁰, denoised, nearest; an 80 m deformation grid; 256-row bands.
        public init() {}
    }

    /// The settings.
    public let settings: Settings
    /// Where rasters are read.
    public let store: any RasterStore

    /// Makes a tiler.
    public init(settings: Settings = Settings(), store: any RasterStore = GDALRasterStore()) {
        precondition(settings.gridSpacing >= 1 && settings.rowsPerBand >= 1, "grid spacing and band height must be positive")
        self.settings = settings
        self.store = store
    }

    /// The tile image of `product`'s `polarisation` with S1Tiling's metadata tags.
    ///
    /// - Throws: ``SAFEError`` for a bad product, ``RasterError`` for an unreadable measurement,
    ///   ``GeocodingError/noOverlap(product:tile:)`` when no pixel of the tile falls in the image.
    public func orthorectify(
        _ product: SAFEProduct, polarisation: Polarisation, tile: OutputTile, on executor: PinnedExecutor? = nil
    ) async throws -> GeoRaster<Float> {
        try tile.validate()
        let files = try product.files(polarisation)
        guard let measurement = files.measurement else {
            throw SAFEError(.missingFile, file: product.path, message: "no \(polarisation.rawValue.uppercased()) measurement TIFF")
        }
        let annotation = try product.annotation(polarisation)
        let info = try store.info(at: measurement)
        guard info.dataType == .uint16 else {
            throw RasterError(.wrongDataType(expected: .uint16, found: info.dataType), path: measurement, message: "a GRD measurement must be UInt16")
        }
        guard info.width == annotation.numberOfSamples, info.height == annotation.numberOfLines else {
            throw SAFEError(.inconsistent, file: measurement, message: "the TIFF is \(info.width)×\(info.height) but the annotation says \(annotation.numberOfSamples)×\(annotation.numberOfLines)")
        }
        let calibrator = Calibrator(
            calibration: try product.calibration(polarisation), target: settings.calibration,
            noise: settings.removeThermalNoise ? try product.noise(polarisation) : nil, lowerSignalValue: settings.lowerSignalValue)
        let cut = BorderCut.s1Tiling(
            ipf: product.manifest.ipf,
            lineNearTop: try store.read(measurement, window: PixelWindow(x: 0, y: min(100, info.height - 1), width: info.width, height: 1), as: UInt16.self),
            lineNearBottom: try store.read(measurement, window: PixelWindow(x: 0, y: max(0, info.height - 101), width: info.width, height: 1), as: UInt16.self))
        let geolocation = try GeolocationGrid(annotation: annotation)
        let deformation = if let executor {
            try await DeformationGrid.make(tile: tile, geolocation: geolocation, spacing: settings.gridSpacing, on: executor)
        } else {
            DeformationGrid(tile: tile, geolocation: geolocation, spacing: settings.gridSpacing)
        }
        let ortho = Orthorectifier(deformation: deformation, resampling: settings.resampling, valid: cut.validWindow(width: info.width, height: info.height))

        let output = RasterBuffer<Float>(width: tile.width, height: tile.height)
        let store = self.store
        let bandHeight = settings.rowsPerBand
        let bands = (tile.height + bandHeight - 1) / bandHeight
        let band: @Sendable (Int) throws -> Bool = { index in
            let rows = (index * bandHeight)..<min(tile.height, (index + 1) * bandHeight)
            guard let window = deformation.sourceWindow(rows: rows, imageWidth: info.width, imageHeight: info.height),
                  window.intersection(ortho.valid) != nil else { return false }
            let dn = try store.read(measurement, window: window, as: UInt16.self)
            let sigma = calibrator.calibrate(dn, at: window)
            ortho.orthorectify(rows: rows, source: sigma, at: window, into: output.buffer)
            return true
        }
        let covered = CoverageCounter()
        if let executor {
            try await executor.parallelFor(0..<bands, grain: 1) { indexes in
                for index in indexes where try band(index) { covered.add() }
            }
        } else {
            for index in 0..<bands where try band(index) { covered.add() }
        }
        let raster = output.raster()
        guard covered.count > 0, raster.pixels.contains(where: { $0 > 0 }) else {
            throw GeocodingError.noOverlap(product: product.name, tile: tile.name)
        }
        return GeoRaster(raster: raster, geo: tile.geoReference, metadata: tags(product, polarisation: polarisation, tile: tile))
    }

    /// S1Tiling's metadata tags for a product on a tile.
    public func tags(_ product: SAFEProduct, polarisation: Polarisation, tile: OutputTile) -> [String: String] {
        [
            "ACQUISITION_DATETIME": product.manifest.startTime,
            "CALIBRATION": settings.calibration.rawValue,
            "NOISE_REMOVED": settings.removeThermalNoise ? "True" : "False",
            "FLYING_UNIT_CODE": product.manifest.mission.lowercased(),
            "ORBIT_DIRECTION": product.manifest.pass.code,
            "ORBIT_NUMBER": String(product.manifest.absoluteOrbit),
            "RELATIVE_ORBIT_NUMBER": String(product.manifest.relativeOrbit),
            "POLARIZATION": polarisation.rawValue,
            "S2_TILE_CORRESPONDING_CODE": tile.name,
            "SPATIAL_RESOLUTION": String(tile.pixelSize),
            "INPUT_S1_IMAGES": product.name,
            "ORTHORECTIFIED": "true",
            "TIFFTAG_SOFTWARE": "Tessera",
        ]
    }

    /// The S1Tiling name of `product`'s `polarisation` on `tile`.
    public static func name(_ product: SAFEProduct, polarisation: Polarisation, tile: OutputTile) -> S1TilingName {
        let (date, time) = S1TilingName.dateAndTime(ofISO: product.manifest.startTime)
        return S1TilingName(
            unit: product.manifest.mission, tile: tile.name, polarisation: polarisation, pass: product.manifest.pass,
            relativeOrbit: product.manifest.relativeOrbit, date: date, time: time)
    }
}

/// Counts the bands that touched the image (several workers add at once).
private final class CoverageCounter: Sendable {
    private let value = Mutex<Int>(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

/// Same-date tiles merged by "first non-nodata pixel" (S1Tiling's concatenation).
public enum Mosaic {
    /// The first image's pixel where it has data, else the next image's, and so on.
    ///
    /// - Precondition: every image has the size of the first.
    public static func firstValid(_ images: [Raster<Float>]) -> Raster<Float>? {
        guard var result = images.first else { return nil }
        for image in images.dropFirst() {
            precondition(image.width == result.width && image.height == result.height, "mosaic images must share the tile grid")
            for index in result.pixels.indices where !(result.pixels[index] > 0) {
                result.pixels[index] = image.pixels[index]
            }
        }
        return result
    }
}
