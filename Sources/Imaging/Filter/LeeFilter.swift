import CShims

/// Lee's speckle filter (Lee 1980) on linear intensity, nodata-aware.
///
/// In a k × k window with mean m and variance v of the valid pixels: Ci² = v/m², Cu² = 1/ENL,
/// w = clamp(1 − Cu²/Ci², 0, 1), out = m + w·(I − m). Flat areas get the window mean, edges and point
/// targets (high Ci) keep their value. Pixels ≤ 0 or NaN are nodata: they are left out of every window and
/// stay 0 in the output; windows are clipped at the image borders the same way.
public struct LeeFilter: Sendable, Hashable, Codable {
    /// Which implementation filters the rows (both give the same bits; the tests compare them).
    public enum Kernel: String, Sendable, Hashable, Codable, CaseIterable {
        /// Swift SIMD, compiled for the baseline instruction set.
        case portable
        /// The same operations in C compiled twice (AVX2 and baseline), the CPU's best chosen at load time.
        case dispatched
    }

    /// Window radius: the window is (2·radius + 1)², 2 → 5 × 5 (S1Tiling's default).
    public let radius: Int
    /// The equivalent number of looks of the input (4.4 for IW GRDH).
    public let looks: Float
    /// The implementation of the row loop; not part of the filter's encoded form.
    public var kernel: Kernel = .dispatched

    private enum CodingKeys: String, CodingKey {
        case radius, looks
    }

    /// A filter with a `(2·radius + 1)²` window for an input of `looks` looks.
    ///
    /// - Precondition: `radius ≥ 1` and `looks > 0`.
    public init(radius: Int = 2, looks: Float = 4.4, kernel: Kernel = .dispatched) {
        precondition(radius >= 1, "the Lee window radius must be at least 1")
        precondition(looks > 0, "the number of looks must be positive")
        self.radius = radius
        self.looks = looks
        self.kernel = kernel
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
        // The C kernel fails only when it cannot allocate its scratch rows; the Swift one then does the work
        // (as it does for a radius beyond C's int).
        if kernel == .dispatched, let cRadius = Int32(exactly: radius),
            tessera_lee_rows(source, width, height, rows.lowerBound, rows.upperBound, cRadius, looks, target) == 0
        {
            return
        }
        let r = radius
        let lanes = Lane.scalarCount
        // Column sums over the window's rows, with r zero columns on each side (outside the image counts as
        // nodata) and room for a whole last lane.
        let padded = width + 2 * r + lanes
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 3 * padded)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 3 * padded)
        let s1 = sums
        let s2 = sums + padded
        let n = sums + 2 * padded
        let noiseVariance = Lane(repeating: 1 / looks)
        let zero = Lane.zero
        let one = Lane(repeating: 1)
        let wholeLanes = width / lanes * lanes
        for y in rows {
            // Vertical pass: direct sums over the window's rows (no running subtraction, so no drift).
            let top = max(0, y - r)
            let bottom = min(height - 1, y + r)
            var c = 0
            while c < wholeLanes {
                var sum = zero
                var squares = zero
                var count = zero
                for yy in top...bottom {
                    let x = UnsafeRawPointer(source + yy * width + c).loadUnaligned(as: Lane.self)
                    let valid = x .> zero
                    let v = zero.replacing(with: x, where: valid)
                    sum += v
                    squares += v * v
                    count += zero.replacing(with: one, where: valid)
                }
                UnsafeMutableRawPointer(s1 + r + c).storeBytes(of: sum, as: Lane.self)
                UnsafeMutableRawPointer(s2 + r + c).storeBytes(of: squares, as: Lane.self)
                UnsafeMutableRawPointer(n + r + c).storeBytes(of: count, as: Lane.self)
                c += lanes
            }
            while c < width {
                var sum: Float = 0
                var squares: Float = 0
                var count: Float = 0
                for yy in top...bottom {
                    let x = source[yy * width + c]
                    if x > 0 {
                        sum += x
                        squares += x * x
                        count += 1
                    }
                }
                s1[r + c] = sum
                s2[r + c] = squares
                n[r + c] = count
                c += 1
            }
            // Horizontal pass and the Lee weight, a lane at a time (the padding makes the last lane safe to read).
            let centre = source + y * width
            let out = target + y * width
            c = 0
            while c < width {
                var sum = zero
                var squares = zero
                var count = zero
                for d in 0...(2 * r) {
                    sum += UnsafeRawPointer(s1 + c + d).loadUnaligned(as: Lane.self)
                    squares += UnsafeRawPointer(s2 + c + d).loadUnaligned(as: Lane.self)
                    count += UnsafeRawPointer(n + c + d).loadUnaligned(as: Lane.self)
                }
                let reciprocal = one / pointwiseMax(count, one)
                let mean = sum * reciprocal
                let variance = squares * reciprocal - mean * mean
                // w = 1 − Cu²/Ci² = 1 − Cu²·m²/v, 0 for a flat window.
                let positive = variance .> zero
                let safeVariance = one.replacing(with: variance, where: positive)
                let weight = zero.replacing(with: pointwiseMax(zero, one - noiseVariance * mean * mean / safeVariance), where: positive)
                if c + lanes <= width {
                    let x = UnsafeRawPointer(centre + c).loadUnaligned(as: Lane.self)
                    let filtered = mean + weight * (x - mean)
                    UnsafeMutableRawPointer(out + c).storeBytes(of: zero.replacing(with: filtered, where: x .> zero), as: Lane.self)
                } else {
                    for k in 0..<(width - c) {
                        let x = centre[c + k]
                        out[c + k] = x > 0 ? mean[k] + weight[k] * (x - mean[k]) : 0
                    }
                }
                c += lanes
            }
        }
    }

    /// Eight pixels at a time.
    typealias Lane = SIMD8<Float>
}
