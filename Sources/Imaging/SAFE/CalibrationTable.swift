/// The calibration vectors of one polarisation: σ⁰, β⁰ and γ LUTs sampled on a sparse line × pixel grid.
public struct CalibrationTable: Sendable, Hashable {
    /// The product's absolute calibration constant (already folded into the LUTs; informative).
    public var absoluteCalibrationConstant: Double
    /// The σ⁰ LUT (A_σ).
    public var sigmaNought: VectorGrid
    /// The β⁰ LUT (A_β).
    public var betaNought: VectorGrid
    /// The γ⁰ LUT (A_γ).
    public var gamma: VectorGrid
    /// The DN LUT.
    public var dn: VectorGrid

    /// The LUT for `target`.
    public func lut(_ target: CalibrationTarget) -> VectorGrid {
        switch target {
        case .sigma: sigmaNought
        case .beta: betaNought
        case .gamma: gamma
        }
    }

    /// Parses the calibration file at `file`.
    ///
    /// - Throws: ``SAFEError`` when the file is missing or malformed, or its vectors do not form a grid.
    public init(file: String) throws(SAFEError) {
        let root = try XMLTree.load(file)
        let reader = XMLReader(file: file)
        guard root.name == "calibration" else {
            throw SAFEError(.missingElement, file: file, message: "the root element is <\(root.name)>, not <calibration>")
        }
        absoluteCalibrationConstant = try reader.double(root, ["calibrationInformation", "absoluteCalibrationConstant"])
        let vectors = try reader.element(root, ["calibrationVectorList"]).children("calibrationVector")
        var lines: [Int] = []
        var pixels: [[Int]] = []
        var sigma: [[Double]] = []
        var beta: [[Double]] = []
        var gamma: [[Double]] = []
        var dn: [[Double]] = []
        for vector in vectors {
            lines.append(try reader.int(vector, ["line"]))
            pixels.append(try reader.ints(vector, ["pixel"]))
            sigma.append(try reader.doubles(vector, ["sigmaNought"]))
            beta.append(try reader.doubles(vector, ["betaNought"]))
            gamma.append(try reader.doubles(vector, ["gamma"]))
            dn.append(try reader.doubles(vector, ["dn"]))
        }
        sigmaNought = try VectorGrid(lines: lines, pixels: pixels, values: sigma, name: "sigmaNought", file: file)
        betaNought = try VectorGrid(lines: lines, pixels: pixels, values: beta, name: "betaNought", file: file)
        self.gamma = try VectorGrid(lines: lines, pixels: pixels, values: gamma, name: "gamma", file: file)
        self.dn = try VectorGrid(lines: lines, pixels: pixels, values: dn, name: "dn", file: file)
    }
}

/// The radiometric quantity a calibration produces.
public enum CalibrationTarget: String, Sendable, Hashable, Codable, CaseIterable {
    /// σ⁰: backscatter per unit ground area (S1Tiling's default).
    case sigma
    /// β⁰: radar brightness, per unit slant-range area.
    case beta
    /// γ⁰: σ⁰ normalised by the cosine of the incidence angle.
    case gamma
}
