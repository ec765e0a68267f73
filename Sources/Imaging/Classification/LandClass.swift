/// The classes of a rice map, with their UInt8 codes.
public enum LandClass: UInt8, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Nothing matched the rules.
    case unknown = 0
    /// Flooded, then a strong rise in backscatter as the crop grows.
    case rice = 1
    /// Low all season.
    case water = 2
    /// Bright and stable all season.
    case urbanTree = 3

    /// The code of pixels without data.
    public static let nodata: UInt8 = 255

    /// The name used in legends and JSON (`urban/tree`).
    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .rice: "rice"
        case .water: "water"
        case .urbanTree: "urban/tree"
        }
    }

    /// The quicklook colour (RGB).
    public var colour: (red: UInt8, green: UInt8, blue: UInt8) {
        switch self {
        case .unknown: (190, 190, 190)
        case .rice: (60, 200, 60)
        case .water: (30, 90, 220)
        case .urbanTree: (200, 60, 40)
        }
    }
}

/// The rule thresholds of the rice classification (reference/imaging.md §3), all in dB.
///
/// Rules, in order, per pixel over one season of VV and VH (speckle-filtered, dB):
/// 1. water if max VV < `waterMaxVV` and mean VH < `waterMeanVH`;
/// 2. rice if min VH < `riceFloodVH`, max VH − min VH ≥ `riceRise`, the maximum comes after the minimum, and
///    max VH > `ricePeakVH`;
/// 3. urban/tree if mean VV > `urbanMeanVV` and std VH < `urbanStdVH`;
/// 4. otherwise unknown. A pixel with fewer than `minimumDates` valid dates is nodata (255).
public struct RiceRules: Sendable, Hashable, Codable {
    /// Water: the highest VV stays below this.
    public var waterMaxVV: Float = -15
    /// Water: the mean VH is below this.
    public var waterMeanVH: Float = -22
    /// Rice: the flood minimum of VH is below this.
    public var riceFloodVH: Float = -20
    /// Rice: VH rises at least this much from its minimum to its maximum.
    public var riceRise: Float = 6
    /// Rice: the VH peak is above this.
    public var ricePeakVH: Float = -18
    /// Urban/tree: the mean VV is above this.
    public var urbanMeanVV: Float = -9
    /// Urban/tree: the standard deviation of VH is below this.
    public var urbanStdVH: Float = 1.5
    /// Fewer valid dates than this (in both polarisations) make a pixel nodata.
    public var minimumDates: Int = 2

    /// The defaults of reference/imaging.md §3.
    public init() {}

    /// Checks that the thresholds make sense.
    ///
    /// - Throws: ``ClassificationError/badRules(_:)`` naming the first problem.
    public func validate() throws(ClassificationError) {
        let values = [waterMaxVV, waterMeanVH, riceFloodVH, riceRise, ricePeakVH, urbanMeanVV, urbanStdVH]
        guard values.allSatisfy(\.isFinite) else { throw .badRules("every threshold must be a finite number") }
        guard riceRise > 0 else { throw .badRules("riceRise must be positive (dB)") }
        guard urbanStdVH > 0 else { throw .badRules("urbanStdVH must be positive (dB)") }
        guard minimumDates >= 1 else { throw .badRules("minimumDates must be at least 1") }
    }
}

/// A classification that could not be made.
public enum ClassificationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The thresholds are invalid.
    case badRules(String)
    /// The stack is empty, or its images differ in size, or VV and VH have different dates.
    case badStack(String)

    public var description: String {
        switch self {
        case .badRules(let message): "bad classification rules: \(message)"
        case .badStack(let message): "bad image stack: \(message)"
        }
    }
}
