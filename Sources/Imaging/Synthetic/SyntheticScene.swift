import Foundation

/// A synthetic landscape with known classes and their backscatter through one season.
///
/// The scene is cut into square fields; each field is rice, water, urban/tree or other land (unknown), in
/// equal shares, shuffled by the seed. Rice fields are flooded on their own date, then the crop grows and is
/// harvested. The mean backscatter per class and date follows reference/imaging.md §3; ``observe(_:date:using:)``
/// adds Gamma speckle of the chosen number of looks, as a multi-looked SAR intensity has.
public struct SyntheticScene: Sendable {
    /// The shape of a scene.
    public struct Settings: Sendable, Hashable, Codable {
        /// Width in pixels.
        public var width: Int = 200
        /// Height in pixels.
        public var height: Int = 200
        /// Number of dates in the season.
        public var dates: Int = 20
        /// Days between dates (12 for one Sentinel-1 satellite).
        public var dayStep: Int = 12
        /// Field side in pixels.
        public var fieldSize: Int = 100
        /// Equivalent number of looks of the speckle (4.4 for IW GRDH).
        public var looks: Double = 4.4
        /// Seed of the field layout, flood dates and speckle.
        public var seed: UInt64 = 1

        /// The defaults: 200 × 200 pixels, 20 dates 12 days apart, four 100-pixel fields, ENL 4.4, seed 1.
        public init() {}
    }

    /// The shape of this scene.
    public let settings: Settings
    /// The true class of every pixel.
    public let truth: Raster<UInt8>
    /// The flood date index of each rice field (row-major fields); -1 for other fields.
    public let floodDates: [Int]

    /// Lays out a scene.
    ///
    /// - Precondition: sizes and dates are positive.
    public init(settings: Settings) {
        precondition(settings.width > 0 && settings.height > 0 && settings.dates > 0 && settings.fieldSize > 0, "a scene needs a size and dates")
        self.settings = settings
        var generator = SplitMix64(seed: settings.seed)
        let columns = (settings.width + settings.fieldSize - 1) / settings.fieldSize
        let rows = (settings.height + settings.fieldSize - 1) / settings.fieldSize
        let classes: [LandClass] = [.rice, .water, .urbanTree, .unknown]
        var fieldClasses = (0..<(columns * rows)).map { classes[$0 % classes.count] }
        fieldClasses.shuffle(using: &generator)
        let latestFlood = max(1, settings.dates / 3)
        floodDates = fieldClasses.map { $0 == .rice ? Int.random(in: 1...latestFlood, using: &generator) : -1 }
        var truth = Raster<UInt8>(width: settings.width, height: settings.height)
        for y in 0..<settings.height {
            for x in 0..<settings.width {
                truth[x, y] = fieldClasses[(y / settings.fieldSize) * columns + x / settings.fieldSize].rawValue
            }
        }
        self.truth = truth
    }

    /// The noise-free backscatter in dB of a field of `landClass` at `date`.
    ///
    /// - Parameter floodDate: The flood date of a rice field (ignored for other classes).
    public static func profile(_ landClass: LandClass, polarisation: Polarisation, date: Int, floodDate: Int) -> Float {
        let cross = polarisation == .vh || polarisation == .hv
        switch landClass {
        case .water:
            return cross ? -26 : -20
        case .urbanTree:
            return cross ? -12 : -6
        case .unknown:
            // Other land: mid-level, a gentle seasonal swing, never flooded.
            let swing = Float(sin(Double(date) * 0.5))
            return (cross ? -17 : -11) + swing
        case .rice:
            let bare: Float = cross ? -18 : -12
            let flood: Float = cross ? -24 : -18
            let peak: Float = cross ? -14 : -8
            let growth = 6
            if date < floodDate { return bare }
            if date <= floodDate + 1 { return flood }
            let age = date - floodDate - 1
            if age <= growth { return flood + (peak - flood) * Float(age) / Float(growth) }
            if age <= growth + 2 { return peak }
            return bare
        }
    }

    /// The noise-free linear backscatter of `polarisation` at `date`.
    public func meanBackscatter(_ polarisation: Polarisation, date: Int) -> Raster<Float> {
        let columns = (settings.width + settings.fieldSize - 1) / settings.fieldSize
        var fieldValues: [Float] = []
        for (field, floodDate) in floodDates.enumerated() {
            let row = field / columns
            let column = field % columns
            let code = truth[min(column * settings.fieldSize, settings.width - 1), min(row * settings.fieldSize, settings.height - 1)]
            let landClass = LandClass(rawValue: code) ?? .unknown
            fieldValues.append(Decibel.toLinear(Self.profile(landClass, polarisation: polarisation, date: date, floodDate: floodDate)))
        }
        var raster = Raster<Float>(width: settings.width, height: settings.height)
        for y in 0..<settings.height {
            for x in 0..<settings.width {
                raster[x, y] = fieldValues[(y / settings.fieldSize) * columns + x / settings.fieldSize]
            }
        }
        return raster
    }

    /// A speckled observation: the mean backscatter times unit-mean Gamma speckle of `settings.looks` looks.
    public func observe(_ polarisation: Polarisation, date: Int, using generator: inout some RandomNumberGenerator) -> Raster<Float> {
        let speckle = GammaSampler.speckle(looks: settings.looks)
        var raster = meanBackscatter(polarisation, date: date)
        for index in raster.pixels.indices {
            raster.pixels[index] *= Float(speckle.sample(using: &generator))
        }
        return raster
    }

    /// Observes every date in both polarisations, speckle-filters each image with `filter` (none when nil) and
    /// returns the dB stack, seeded by `settings.seed`.
    public func observedStack(filter: LeeFilter?) -> BackscatterStack {
        var generator = SplitMix64(seed: settings.seed &+ 0x5EED)
        var vv: [Raster<Float>] = []
        var vh: [Raster<Float>] = []
        for date in 0..<settings.dates {
            for polarisation in [Polarisation.vv, .vh] {
                var image = observe(polarisation, date: date, using: &generator)
                if let filter { image = filter.apply(image) }
                let dB = Decibel.fromLinear(image)
                if polarisation == .vv { vv.append(dB) } else { vh.append(dB) }
            }
        }
        do {
            return try BackscatterStack(vv: vv, vh: vh)
        } catch {
            preconditionFailure("a scene's stack always has matching VV and VH images: \(error)")
        }
}
}
