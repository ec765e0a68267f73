/// A season of co-registered VV and VH images in dB, one per date (NaN = nodata).
public struct BackscatterStack: Sendable {
    /// Width of every image.
    public let width: Int
    /// Height of every image.
    public let height: Int
    /// VV in dB, one image per date, oldest first.
    public let vv: [Raster<Float>]
    /// VH in dB, same dates as `vv`.
    public let vh: [Raster<Float>]

    /// Makes a stack.
    ///
    /// - Throws: ``ClassificationError/badStack(_:)`` when it is empty, VV and VH have different date counts, or
    ///   the images differ in size.
    public init(vv: [Raster<Float>], vh: [Raster<Float>]) throws(ClassificationError) {
        guard let first = vv.first else { throw .badStack("no dates") }
        guard vv.count == vh.count else { throw .badStack("\(vv.count) VV dates but \(vh.count) VH dates") }
        guard (vv + vh).allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw .badStack("the images are not all \(first.width)×\(first.height)")
        }
        self.width = first.width
        self.height = first.height
        self.vv = vv
        self.vh = vh
    }

    /// Number of dates.
    public var dateCount: Int { vv.count }
}

/// Classifies each pixel of a season into ``LandClass`` codes with ``RiceRules``.
///
/// One fused pass: for a block of pixels that fits in L1, it walks the dates once and keeps every statistic
/// (VV max and mean, VH min/max with their dates, mean and variance) in block-sized accumulators, then
/// applies the rules. Nothing of the size of the stack is allocated.
public struct RiceClassifier: Sendable {
    /// The thresholds.
    public let rules: RiceRules
    /// Pixels per block (accumulators of this length stay in L1).
    public let blockSize: Int

    /// A classifier with `rules`.
    ///
    /// - Throws: ``ClassificationError/badRules(_:)`` when the rules are invalid.
    public init(rules: RiceRules = RiceRules(), blockSize: Int = 512) throws(ClassificationError) {
        try rules.validate()
        precondition(blockSize >= 1, "block size must be positive")
        self.rules = rules
        self.blockSize = blockSize
    }

    /// The class map of the whole stack.
    public func classify(_ stack: BackscatterStack) -> Raster<UInt8> {
        var map = Raster<UInt8>(width: stack.width, height: stack.height)
        map.pixels.withUnsafeMutableBufferPointer { output in
            classify(stack, pixels: 0..<(stack.width * stack.height), into: output)
        }
        return map
    }

    /// Classifies the pixels `pixels` (row-major indices) into the same indices of `output`.
    ///
    /// Ranges are independent, so callers split the image and classify the parts in parallel.
    public func classify(_ stack: BackscatterStack, pixels: Range<Int>, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(output.count == stack.width * stack.height, "the output must hold every pixel")
        let dates = stack.dateCount
        let vvPlanes = stack.vv.map(\.pixels)
        let vhPlanes = stack.vh.map(\.pixels)
        var accumulators = Accumulators(count: blockSize)
        var start = pixels.lowerBound
        while start < pixels.upperBound {
            let count = min(blockSize, pixels.upperBound - start)
            accumulators.reset(count)
            for date in 0..<dates {
                vvPlanes[date].withUnsafeBufferPointer { vv in
                    vhPlanes[date].withUnsafeBufferPointer { vh in
                        accumulators.add(
                            vv: UnsafeBufferPointer(rebasing: vv[start..<(start + count)]),
                            vh: UnsafeBufferPointer(rebasing: vh[start..<(start + count)]),
                            date: Float(date))
                    }
                }
            }
            accumulators.decide(count, rules: rules, into: UnsafeMutableBufferPointer(rebasing: output[start..<(start + count)]))
            start += count
        }
    }

    /// Per-pixel statistics of one block, structure of arrays.
    private struct Accumulators {
        /// dB values are shifted by this before summing squares, to keep Float32 variance exact enough.
        static let shift: Float = -15
        var vvMax: [Float]
        var vvSum: [Float]
        var vvCount: [Float]
        var vhMin: [Float]
        var vhMax: [Float]
        var vhMinDate: [Float]
        var vhMaxDate: [Float]
        var vhSum: [Float]
        var vhSquares: [Float]
        var vhCount: [Float]

        init(count: Int) {
            vvMax = Array(repeating: 0, count: count)
            vvSum = vvMax
            vvCount = vvMax
            vhMin = vvMax
            vhMax = vvMax
            vhMinDate = vvMax
            vhMaxDate = vvMax
            vhSum = vvMax
            vhSquares = vvMax
            vhCount = vvMax
        }

        mutating func reset(_ count: Int) {
            for i in 0..<count {
                vvMax[i] = -.infinity
                vvSum[i] = 0
                vvCount[i] = 0
                vhMin[i] = .infinity
                vhMax[i] = -.infinity
                vhMinDate[i] = 0
                vhMaxDate[i] = 0
                vhSum[i] = 0
                vhSquares[i] = 0
                vhCount[i] = 0
            }
        }

        mutating func add(vv: UnsafeBufferPointer<Float>, vh: UnsafeBufferPointer<Float>, date: Float) {
            let shift = Self.shift
            vvMax.withUnsafeMutableBufferPointer { vvMax in
            vvSum.withUnsafeMutableBufferPointer { vvSum in
            vvCount.withUnsafeMutableBufferPointer { vvCount in
                for i in 0..<vv.count {
                    let x = vv[i]
                    let valid = x == x
                    vvMax[i] = valid && x > vvMax[i] ? x : vvMax[i]
                    vvSum[i] += valid ? x : 0
                    vvCount[i] += valid ? 1 : 0
                }
            }}}
            vhMin.withUnsafeMutableBufferPointer { vhMin in
            vhMax.withUnsafeMutableBufferPointer { vhMax in
            vhMinDate.withUnsafeMutableBufferPointer { vhMinDate in
            vhMaxDate.withUnsafeMutableBufferPointer { vhMaxDate in
            vhSum.withUnsafeMutableBufferPointer { vhSum in
            vhSquares.withUnsafeMutableBufferPointer { vhSquares in
            vhCount.withUnsafeMutableBufferPointer { vhCount in
                for i in 0..<vh.count {
                    let x = vh[i]
                    let valid = x == x
                    let lower = valid && x < vhMin[i]
                    let higher = valid && x > vhMax[i]
                    vhMin[i] = lower ? x : vhMin[i]
                    vhMinDate[i] = lower ? date : vhMinDate[i]
                    vhMax[i] = higher ? x : vhMax[i]
                    vhMaxDate[i] = higher ? date : vhMaxDate[i]
                    let shifted = valid ? x - shift : 0
                    vhSum[i] += shifted
                    vhSquares[i] += shifted * shifted
                    vhCount[i] += valid ? 1 : 0
                }
            }}}}}}}
        }

        func decide(_ count: Int, rules: RiceRules, into output: UnsafeMutableBufferPointer<UInt8>) {
            let minimum = Float(rules.minimumDates)
            let urbanVariance = rules.urbanStdVH * rules.urbanStdVH
            for i in 0..<count {
                let vvN = vvCount[i]
                let vhN = vhCount[i]
                guard vvN >= minimum, vhN >= minimum else {
                    output[i] = LandClass.nodata
                    continue
                }
                let vvMean = vvSum[i] / vvN
                let vhShiftedMean = vhSum[i] / vhN
                let vhMean = vhShiftedMean + Self.shift
                let vhVariance = max(vhSquares[i] / vhN - vhShiftedMean * vhShiftedMean, 0)
                let code: LandClass
                if vvMax[i] < rules.waterMaxVV && vhMean < rules.waterMeanVH {
                    code = .water
                } else if vhMin[i] < rules.riceFloodVH && vhMax[i] - vhMin[i] >= rules.riceRise
                            && vhMaxDate[i] > vhMinDate[i] && vhMax[i] > rules.ricePeakVH {
                    code = .rice
                } else if vvMean > rules.urbanMeanVV && vhVariance < urbanVariance {
                    code = .urbanTree
                } else {
                    code = .unknown
                }
                output[i] = code.rawValue
            }
        }
    }
}
