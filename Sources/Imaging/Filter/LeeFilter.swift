/// Lee's speckle filter (Lee 1980) on linear intensity, nodata-aware.
///
/// In a k × k window with mean m and variance v of the valid pixels: Ci² = v/m², Cu² = 1/ENL,
/// w = clamp(1 − Cu²/Ci², 0, 1), out = m + w·(I − m). Flat areas get the window mean, edges and point
/// targets (high Ci) keep their value. Pixels ≤ 0 or NaN are nodata: they are left out of every window and
/// stay 0 in the output; windows are clipped at the image borders the same way.
public struct LeeFilter: Sendable, Hashable, Codable {
    /// Window radius: the window is (2·radius + 1)², 2 → 5 × 5 (S1Tiling's default).
    public let radius: Int
    /// The equivalent number of looks of the input (4.4 for IW GRDH).
    public let looks: Float

    /// A filter with a `(2·radius + 1)²` window for an input of `looks` looks.
    ///
    /// - Precondition: `radius ≥ 1` and `looks > 0`.
    public init(radius: Int = 2, looks: Float = 4.4) {
        precondition(radius >= 1, "the Lee window radius must be at least 1")
        precondition(looks > 0, "the number of looks must be positive")
        self.radius = radius
        self.looks = looks
    }

    /// Window side in pixels.
    public var windowSize: Int { 2 * radius + 1 }

    /// Filters a whole image.
    public func apply(_ input: Raster<Float>) -> Raster<Float> {
        var output = Raster<Float>(width: input.width, height: input.height)
        input.pixels.withUnsafeBufferPointer { source in
            output.pixels.withUnsafeMutableBufferPointer { destination in
                filterRows(0..<input.height, of: source, width: input.width, height: input.height, into: destination)
            }
        }
        return output
    }

    /// Filters `rows` of a `width × height` image into the same rows of `output`.
    ///
    /// Rows are independent (each reads up to `radius` rows around it), so callers split an image into bands of
    /// rows and filter them in parallel into one output buffer.
    /// - Precondition: both buffers hold `width × height` pixels and `rows` lies inside the image.
    public func filterRows(
        _ rows: Range<Int>, of input: UnsafeBufferPointer<Float>, width: Int, height: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) {
        precondition(input.count == width * height && output.count == width * height, "buffers must hold width × height pixels")
        precondition(rows.lowerBound >= 0 && rows.upperBound <= height, "rows outside the image")
        guard width > 0, !rows.isEmpty, let source = input.baseAddress, let target = output.baseAddress else { return }
        let r = radius
        let padded = width + 2 * r
        // Column sums over the window's rows, padded with r zeros on each side for the horizontal pass.
        var columnSum = [Float](repeating: 0, count: padded)
        var columnSquares = [Float](repeating: 0, count: padded)
        var columnCount = [Float](repeating: 0, count: padded)
        let noiseVariance = 1 / looks
        columnSum.withUnsafeMutableBufferPointer { s1 in
            columnSquares.withUnsafeMutableBufferPointer { s2 in
                columnCount.withUnsafeMutableBufferPointer { n in
                    for y in rows {
                        // Vertical pass: direct sums over the window's rows (no running subtraction, so no drift).
                        for c in 0..<padded {
                            s1[c] = 0
                            s2[c] = 0
                            n[c] = 0
                        }
                        for yy in max(0, y - r)...min(height - 1, y + r) {
                            let row = source + yy * width
                            for c in 0..<width {
                                let x = row[c]
                                let valid: Float = x > 0 ? 1 : 0
                                let v = x > 0 ? x : 0
                                s1[c + r] += v
                                s2[c + r] += v * v
                                n[c + r] += valid
                            }
                        }
                        // Horizontal pass and the Lee weight.
                        let center = source + y * width
                        let out = target + y * width
                        for c in 0..<width {
                            var sum: Float = 0
                            var squares: Float = 0
                            var count: Float = 0
                            for d in 0...(2 * r) {
                                sum += s1[c + d]
                                squares += s2[c + d]
                                count += n[c + d]
                            }
                            let x = center[c]
                            let mean = sum / max(count, 1)
                            let variance = squares / max(count, 1) - mean * mean
                            // w = 1 − Cu²/Ci² = 1 − Cu²·m²/v, 0 for a flat window.
                            let weight = variance > 0 ? max(0, 1 - noiseVariance * mean * mean / variance) : 0
                            let filtered = mean + weight * (x - mean)
                            out[c] = x > 0 ? filtered : 0
                        }
                    }
                }
            }
        }
    }
}
