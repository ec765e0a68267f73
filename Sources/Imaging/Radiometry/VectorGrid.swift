/// A LUT sampled as vectors: at a few lines, each vector holds values at increasing pixels.
///
/// Sentinel-1 calibration and noise LUTs have this shape (a vector every ~1 s of azimuth, a sample every
/// 40 pixels). A value anywhere is the ESA bilinear interpolation: linear along pixel on the two vectors
/// around the line (clamped at a vector's ends), then linear along line between them (clamped above the
/// first and below the last vector).
public struct VectorGrid: Sendable, Hashable {
    /// Lines of the vectors, strictly increasing.
    public let lines: [Double]
    /// Pixels of each vector, strictly increasing.
    public let pixels: [[Double]]
    /// Values of each vector at its pixels.
    public let values: [[Double]]

    /// Makes a grid, checking its shape.
    ///
    /// - Throws: ``SAFEError/Code/inconsistent`` naming `name` and `file` when there is no vector, the lines or
    ///   a vector's pixels do not increase, or a vector's pixels and values differ in length.
    public init(lines: [Int], pixels: [[Int]], values: [[Double]], name: String = "LUT", file: String = "") throws(SAFEError) {
        guard !lines.isEmpty, lines.count == pixels.count, lines.count == values.count else {
            throw SAFEError(.inconsistent, file: file, message: "\(name): no vectors, or vectors with missing parts")
        }
        guard zip(lines, lines.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw SAFEError(.inconsistent, file: file, message: "\(name): vector lines must increase")
        }
        for (index, (vectorPixels, vectorValues)) in zip(pixels, values).enumerated() {
            guard !vectorPixels.isEmpty, vectorPixels.count == vectorValues.count,
                  zip(vectorPixels, vectorPixels.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw SAFEError(
                    .inconsistent, file: file,
                    message: "\(name): vector \(index) (line \(lines[index])) has \(vectorPixels.count) pixels for \(vectorValues.count) values, or unsorted pixels")
            }
        }
        self.lines = lines.map(Double.init)
        self.pixels = pixels.map { $0.map(Double.init) }
        self.values = values
    }

    /// The interpolated value at (`line`, `pixel`).
    public func value(line: Double, pixel: Double) -> Double {
        let (lower, upper, weight) = bracket(line)
        let a = Self.interpolate(pixels[lower], values[lower], at: pixel)
        guard weight > 0 else { return a }
        let b = Self.interpolate(pixels[upper], values[upper], at: pixel)
        return a + weight * (b - a)
    }

    /// Fills `row` with the values at `line` for pixels `firstPixel, firstPixel + 1, …`.
    ///
    /// Walks each vector once, so a whole image row costs O(width), not O(width · log samples).
    public func fillRow(line: Double, firstPixel: Int, into row: inout [Double]) {
        let (lower, upper, weight) = bracket(line)
        Self.fillVector(pixels[lower], values[lower], firstPixel: firstPixel, into: &row)
        guard weight > 0 else { return }
        var other = [Double](repeating: 0, count: row.count)
        Self.fillVector(pixels[upper], values[upper], firstPixel: firstPixel, into: &other)
        for index in row.indices {
            row[index] += weight * (other[index] - row[index])
        }
    }

    /// Evaluates whole rows over a fixed pixel range, interpolating each vector along pixel once.
    ///
    /// Vectors are ~600 lines apart, so a window's rows mostly blend the same two cached vector rows.
    public struct RowEvaluator: Sendable {
        let grid: VectorGrid
        let firstPixel: Int
        let count: Int
        private var cached: [Int: [Double]] = [:]

        /// An evaluator for pixels `firstPixel ..< firstPixel + count`.
        public init(grid: VectorGrid, firstPixel: Int, count: Int) {
            self.grid = grid
            self.firstPixel = firstPixel
            self.count = count
        }

        private mutating func vectorRow(_ index: Int) -> [Double] {
            if let row = cached[index] { return row }
            var row = [Double](repeating: 0, count: count)
            VectorGrid.fillVector(grid.pixels[index], grid.values[index], firstPixel: firstPixel, into: &row)
            if cached.count > 8 { cached.removeAll(keepingCapacity: true) }
            cached[index] = row
            return row
        }

        /// Fills `row` (of `count` values) with the LUT at `line`.
        public mutating func fill(line: Double, into row: inout [Double]) {
            precondition(row.count == count, "the row must hold the evaluator's pixel count")
            let (lower, upper, weight) = grid.bracket(line)
            let a = vectorRow(lower)
            guard weight > 0 else {
                row = a
                return
            }
            let b = vectorRow(upper)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    row.withUnsafeMutableBufferPointer { out in
                        for index in 0..<out.count { out[index] = a[index] + weight * (b[index] - a[index]) }
                    }
                }
            }
        }
    }

    /// The two vectors around `line` and the weight of the upper one.
    private func bracket(_ line: Double) -> (Int, Int, Double) {
        if line <= lines[0] { return (0, 0, 0) }
        let last = lines.count - 1
        if line >= lines[last] { return (last, last, 0) }
        var low = 0
        var high = last
        while high - low > 1 {
            let middle = (low + high) / 2
            if lines[middle] <= line { low = middle } else { high = middle }
        }
        return (low, high, (line - lines[low]) / (lines[high] - lines[low]))
    }

    /// Linear interpolation of (`xs`, `ys`) at `x`, clamped at both ends (numpy's `interp`).
    static func interpolate(_ xs: [Double], _ ys: [Double], at x: Double) -> Double {
        if x <= xs[0] { return ys[0] }
        let last = xs.count - 1
        if x >= xs[last] { return ys[last] }
        var low = 0
        var high = last
        while high - low > 1 {
            let middle = (low + high) / 2
            if xs[middle] <= x { low = middle } else { high = middle }
        }
        return ys[low] + (x - xs[low]) / (xs[high] - xs[low]) * (ys[high] - ys[low])
    }

    fileprivate static func fillVector(_ xs: [Double], _ ys: [Double], firstPixel: Int, into row: inout [Double]) {
        let last = xs.count - 1
        var segment = 0
        for index in row.indices {
            let x = Double(firstPixel + index)
            if x <= xs[0] {
                row[index] = ys[0]
                continue
            }
            if x >= xs[last] {
                row[index] = ys[last]
                continue
            }
            while xs[segment + 1] <= x { segment += 1 }
            let t = (x - xs[segment]) / (xs[segment + 1] - xs[segment])
            row[index] = ys[segment] + t * (ys[segment + 1] - ys[segment])
        }
    }
}
