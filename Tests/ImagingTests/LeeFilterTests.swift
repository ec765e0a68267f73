import Imaging
import Testing

@Suite("Lee speckle filter", .timeLimit(.minutes(1)))
struct LeeFilterTests {
    static let seed: UInt64 = 20_261_129

    static func speckled(width: Int, height: Int, mean: (Int, Int) -> Float, seed: UInt64) -> Raster<Float> {
        var generator = SplitMix64(seed: seed)
        let speckle = GammaSampler.speckle(looks: 4.4)
        var raster = Raster<Float>(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                raster[x, y] = mean(x, y) * Float(speckle.sample(using: &generator))
            }
        }
        return raster
    }

    static func moments(_ values: [Float]) -> (mean: Double, variance: Double) {
        let doubles = values.map(Double.init)
        let mean = doubles.reduce(0, +) / Double(doubles.count)
        let variance = doubles.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(doubles.count)
        return (mean, variance)
    }

    @Test func flatArea_ENLRisesFromTheInputLooksToAboveThirtyAndTheMeanIsKept() {
        let input = Self.speckled(width: 512, height: 512, mean: { _, _ in 0.05 }, seed: Self.seed)
        let before = Self.moments(input.pixels)
        let inputENL = before.mean * before.mean / before.variance
        #expect(abs(inputENL - 4.4) < 0.2, "seed \(Self.seed): input ENL \(inputENL)")
        let output = LeeFilter(radius: 2, looks: 4.4).apply(input)
        let after = Self.moments(output.pixels)
        let outputENL = after.mean * after.mean / after.variance
        #expect(outputENL > 30, "seed \(Self.seed): filtered ENL \(outputENL)")
        #expect(abs(after.mean / before.mean - 1) < 0.01, "seed \(Self.seed): mean ratio \(after.mean / before.mean)")
    }

    @Test func stepEdge_staysSharp() {
        // A 1 → 10 step at column 64, speckled: the 10–90 % rise of the column means spans at most 2 pixels.
        let input = Self.speckled(width: 128, height: 512, mean: { x, _ in x < 64 ? 1 : 10 }, seed: Self.seed)
        let output = LeeFilter().apply(input)
        let columnMeans = (0..<128).map { x in (0..<512).map { Double(output[x, $0]) }.reduce(0, +) / 512 }
        let low = columnMeans[10..<50].reduce(0, +) / 40
        let high = columnMeans[78..<118].reduce(0, +) / 40
        let tenPercent = low + 0.1 * (high - low)
        let ninetyPercent = low + 0.9 * (high - low)
        let firstAbove10 = columnMeans.firstIndex { $0 > tenPercent } ?? 0
        let firstAbove90 = columnMeans.firstIndex { $0 > ninetyPercent } ?? 128
        #expect(firstAbove90 - firstAbove10 <= 2, "seed \(Self.seed): 10–90 % width \(firstAbove90 - firstAbove10) px")
    }

    @Test func interior_matchesADirectDoublePrecisionWindowComputation() {
        let input = Self.speckled(width: 64, height: 48, mean: { x, y in 0.02 + Float(x + y) * 0.001 }, seed: Self.seed)
        let filter = LeeFilter(radius: 2, looks: 4.4)
        let output = filter.apply(input)
        var worst = 0.0
        for y in 2..<46 {
            for x in 2..<62 {
                var values: [Double] = []
                for dy in -2...2 { for dx in -2...2 { values.append(Double(input[x + dx, y + dy])) } }
                let mean = values.reduce(0, +) / 25
                let variance = values.map { $0 * $0 }.reduce(0, +) / 25 - mean * mean
                let ci2 = variance / (mean * mean)
                let weight = min(max(1 - (1 / 4.4) / ci2, 0), 1)
                let expected = mean + weight * (Double(input[x, y]) - mean)
                worst = max(worst, abs(Double(output[x, y]) - expected) / expected)
            }
        }
        #expect(worst < 1e-5, "worst relative difference \(worst)")
    }

    @Test func nodata_isLeftOutOfWindowsAndStaysZero() {
        var input = Raster<Float>(width: 9, height: 9, repeating: 2)
        for y in 0..<9 { input[0, y] = 0; input[1, y] = .nan }
        input[5, 5] = 0
        let output = LeeFilter().apply(input)
        for y in 0..<9 {
            #expect(output[0, y] == 0 && output[1, y] == 0)
        }
        #expect(output[5, 5] == 0)
        // Every valid pixel sees only 2s: the output is exactly 2, not pulled down by the zeros beside it.
        for y in 0..<9 {
            for x in 2..<9 where !(x == 5 && y == 5) {
                #expect(output[x, y] == 2, "(\(x), \(y)) = \(output[x, y])")
            }
        }
    }

    @Test func rows_filteringBandsSeparatelyEqualsTheWholeImage() {
        let input = Self.speckled(width: 40, height: 33, mean: { _, _ in 1 }, seed: Self.seed)
        let filter = LeeFilter(radius: 3, looks: 2)
        let whole = filter.apply(input)
        var banded = Raster<Float>(width: 40, height: 33)
        input.pixels.withUnsafeBufferPointer { source in
            banded.pixels.withUnsafeMutableBufferPointer { destination in
                for band in stride(from: 0, to: 33, by: 7) {
                    filter.filterRows(band..<min(band + 7, 33), of: source, width: 40, height: 33, into: destination)
                }
            }
        }
        #expect(banded == whole)
    }

    @Test(arguments: [(1, 37, 29), (2, 64, 48), (2, 13, 5), (3, 101, 40), (2, 3, 3)])
    func kernels_dispatchedCEqualsPortableSwiftBitForBit(radius: Int, width: Int, height: Int) {
        // Speckle with nodata sprinkled in (zeros, negatives, NaN) and an odd width that leaves a partial lane.
        var input = Self.speckled(width: width, height: height, mean: { x, y in 0.01 + Float((x * 7 + y * 3) % 11) * 0.02 }, seed: Self.seed)
        var generator = SplitMix64(seed: Self.seed &+ UInt64(width))
        for index in input.pixels.indices where Int.random(in: 0..<10, using: &generator) == 0 {
            input.pixels[index] = [0, -1, .nan][Int.random(in: 0..<3, using: &generator)]
        }
        let portable = LeeFilter(radius: radius, looks: 4.4, kernel: .portable).apply(input)
        let dispatched = LeeFilter(radius: radius, looks: 4.4, kernel: .dispatched).apply(input)
        let differing = zip(portable.pixels, dispatched.pixels).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "seed \(Self.seed): \(differing) of \(input.pixels.count) pixels differ (radius \(radius), \(width) × \(height))")
    }
}
