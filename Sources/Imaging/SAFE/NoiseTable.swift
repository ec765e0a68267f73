/// The thermal-noise vectors of one polarisation.
///
/// From IPF 2.9 on, the noise power is a range LUT (sampled like the calibration LUTs) times an azimuth
/// LUT per swath block; older products have a single range LUT and no azimuth part.
public struct NoiseTable: Sendable, Hashable {
    /// One azimuth block: the rectangle of the image it covers and its LUT along lines.
    public struct AzimuthBlock: Sendable, Hashable {
        /// The swath (`IW1`…), informative.
        public var swath: String
        /// First line covered.
        public var firstLine: Int
        /// Last line covered (inclusive).
        public var lastLine: Int
        /// First pixel covered.
        public var firstPixel: Int
        /// Last pixel covered (inclusive).
        public var lastPixel: Int
        /// Lines at which the LUT is sampled, increasing.
        public var lines: [Double]
        /// The LUT values at `lines`.
        public var values: [Double]

        /// Whether (`line`, `pixel`) lies in the block.
        public func contains(line: Int, pixel: Int) -> Bool {
            line >= firstLine && line <= lastLine && pixel >= firstPixel && pixel <= lastPixel
        }

        /// The LUT at `line`, linear between samples and clamped at the ends.
        public func value(line: Double) -> Double {
            VectorGrid.interpolate(lines, values, at: line)
        }
    }

    /// The range part of the noise (`noiseRangeLut`, or `noiseLut` before IPF 2.9).
    public var range: VectorGrid
    /// The azimuth blocks (empty before IPF 2.9, where the azimuth factor is 1).
    public var azimuthBlocks: [AzimuthBlock]

    /// Parses the noise file at `file`, in either layout.
    ///
    /// - Throws: ``SAFEError`` when the file is missing or malformed, or its vectors do not form a grid.
    public init(file: String) throws(SAFEError) {
        let root = try XMLTree.load(file)
        let reader = XMLReader(file: file)
        guard root.name == "noise" else {
            throw SAFEError(.missingElement, file: file, message: "the root element is <\(root.name)>, not <noise>")
        }
        let (listName, vectorName, lutName) = root.child("noiseRangeVectorList") != nil
            ? ("noiseRangeVectorList", "noiseRangeVector", "noiseRangeLut")
            : ("noiseVectorList", "noiseVector", "noiseLut")
        let vectors = try reader.element(root, [listName]).children(vectorName)
        var lines: [Int] = []
        var pixels: [[Int]] = []
        var values: [[Double]] = []
        for vector in vectors {
            lines.append(try reader.int(vector, ["line"]))
            pixels.append(try reader.ints(vector, ["pixel"]))
            values.append(try reader.doubles(vector, [lutName]))
        }
        range = try VectorGrid(lines: lines, pixels: pixels, values: values, name: lutName, file: file)
        var blocks: [AzimuthBlock] = []
        for vector in root.child("noiseAzimuthVectorList")?.children("noiseAzimuthVector") ?? [] {
            let lines = try reader.doubles(vector, ["line"])
            let values = try reader.doubles(vector, ["noiseAzimuthLut"])
            guard !lines.isEmpty, lines.count == values.count, zip(lines, lines.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw SAFEError(.inconsistent, file: file, message: "noise azimuth vector at line \(vector.line): lines must increase and match the LUT")
            }
            blocks.append(AzimuthBlock(
                swath: vector.child("swath")?.text ?? "",
                firstLine: try reader.int(vector, ["firstAzimuthLine"]), lastLine: try reader.int(vector, ["lastAzimuthLine"]),
                firstPixel: try reader.int(vector, ["firstRangeSample"]), lastPixel: try reader.int(vector, ["lastRangeSample"]),
                lines: lines, values: values))
        }
        azimuthBlocks = blocks
    }

    /// Makes a table from its parts.
    public init(range: VectorGrid, azimuthBlocks: [AzimuthBlock]) {
        self.range = range
        self.azimuthBlocks = azimuthBlocks
    }

    /// The noise power η at (`line`, `pixel`): range LUT × the azimuth LUT of the block holding the pixel (1 outside every block).
    public func eta(line: Int, pixel: Int) -> Double {
        let rangeValue = range.value(line: Double(line), pixel: Double(pixel))
        guard let block = azimuthBlocks.first(where: { $0.contains(line: line, pixel: pixel) }) else { return rangeValue }
        return rangeValue * block.value(line: Double(line))
    }
}
