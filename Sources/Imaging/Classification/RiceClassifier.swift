import CShims

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
/// One fused pass: eight pixels at a time, it walks the dates once keeping every statistic (VV max and
/// mean, VH min/max with their dates, mean and variance) in SIMD registers, then applies the rules with
/// lane masks. Each value of the stack is read once and nothing of its size is allocated.
public struct RiceClassifier: Sendable {
    /// Which implementation runs the per-pixel loop.
    public enum Kernel: String, Sendable, Hashable, Codable, CaseIterable {
        /// Swift SIMD, compiled for the baseline instruction set.
        case portable
        /// The same rules in C compiled twice (AVX2 and baseline), the CPU's best chosen at load time.
        case dispatched
    }

    /// The thresholds.
    public let rules: RiceRules
    /// The implementation of the per-pixel loop (both give the same classes; the tests compare them).
    public let kernel: Kernel
    /// A classifier with `rules`.
    ///
    /// - Throws: ``ClassificationError/badRules(_:)`` when the rules are invalid.
    public init(rules: RiceRules = RiceRules(), kernel: Kernel = .dispatched) throws(ClassificationError) {
        try rules.validate()
        self.rules = rules
        self.kernel = kernel
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
        precondition(pixels.lowerBound >= 0 && pixels.upperBound <= output.count, "pixels outside the image")
        guard stack.width > 0, stack.height > 0, !pixels.isEmpty, let out = output.baseAddress else { return }
        if kernel == .dispatched {
            let values: [Float] = [
                rules.waterMaxVV, rules.waterMeanVH, rules.riceFloodVH, rules.riceRise, rules.ricePeakVH, rules.urbanMeanVV,
                rules.urbanStdVH * rules.urbanStdVH, Float(rules.minimumDates),
            ]
            Self.withPlanes(stack.vv + stack.vh) { planes in
                values.withUnsafeBufferPointer { rules in
                    // The C side takes `const float *const *`: the same pointers, seen as optional.
                    planes.withMemoryRebound(to: UnsafePointer<Float>?.self) { optionalPlanes in
                        tessera_rice_classify(
                            optionalPlanes.baseAddress, Int32(stack.dateCount), pixels.lowerBound, pixels.count, rules.baseAddress, out)
                    }
                }
            }
            return
        }
        let thresholds = Thresholds(rules)
        Self.withPlanes(stack.vv + stack.vh) { planes in
            let dates = stack.dateCount
            let lanes = Lane.scalarCount
            var index = pixels.lowerBound
            // Whole lanes straight from the planes, then the last partial lane through a NaN-padded copy.
            while index + lanes <= pixels.upperBound {
                let code = Self.classifyLane(planes, dates: dates, at: index, count: lanes, thresholds)
                UnsafeMutableRawPointer(out + index).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: code), as: SIMD8<UInt8>.self)
                index += lanes
            }
            let remaining = pixels.upperBound - index
            if remaining > 0 {
                let code = Self.classifyLane(planes, dates: dates, at: index, count: remaining, thresholds)
                for k in 0..<remaining { out[index + k] = UInt8(truncatingIfNeeded: code[k]) }
            }
        }
    }

    /// Eight pixels at a time.
    typealias Lane = SIMD8<Float>

    /// Calls `body` with the base address of every image's pixels (VV dates then VH dates), all valid at once.
    /// - Precondition: every image holds at least one pixel.
    private static func withPlanes(_ images: [Raster<Float>], _ body: (UnsafeBufferPointer<UnsafePointer<Float>>) -> Void) {
        let planes = UnsafeMutableBufferPointer<UnsafePointer<Float>>.allocate(capacity: images.count)
        defer { planes.deallocate() }
        func nest(_ index: Int) {
            guard index < images.count else { return body(UnsafeBufferPointer(planes)) }
            images[index].pixels.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { preconditionFailure("an image of the stack has no pixels") }
                planes.initializeElement(at: index, to: base)
                nest(index + 1)
            }
        }
        nest(0)
    }

    /// `count` values from `plane + index` (a whole lane when `count` is 8), NaN (nodata) after them.
    @inline(__always)
    private static func load(_ plane: UnsafePointer<Float>, _ index: Int, _ count: Int) -> Lane {
        if count == Lane.scalarCount {
            return UnsafeRawPointer(plane + index).loadUnaligned(as: Lane.self)
        }
        var lane = Lane(repeating: .nan)
        for k in 0..<count { lane[k] = plane[index + k] }
        return lane
    }

    /// Per-lane statistics over the dates.
    private struct Statistics {
        var vvMax = Lane(repeating: -.infinity)
        var vvSum = Lane.zero
        var vvCount = Lane.zero
        var vhMin = Lane(repeating: .infinity)
        var vhMax = Lane(repeating: -.infinity)
        var vhMinDate = Lane.zero
        var vhMaxDate = Lane.zero
        var vhSum = Lane.zero
        var vhSquares = Lane.zero
        var vhCount = Lane.zero
    }

    /// The class codes of the eight pixels at `index`: every statistic stays in registers over the dates.
    ///
    /// The common case, no nodata in the lane, runs without masks (NaN makes the sums NaN, and is then redone
    /// with masks; max and min comparisons ignore NaN by themselves).
    @inline(__always)
    private static func classifyLane(
        _ planes: UnsafeBufferPointer<UnsafePointer<Float>>, dates: Int, at index: Int, count: Int, _ t: Thresholds
    ) -> SIMD8<Int32> {
        var statistics = accumulate(planes, dates: dates, at: index, count: count, masked: false)
        let hasNodata = (statistics.vvSum .!= statistics.vvSum) .| (statistics.vhSum .!= statistics.vhSum)
        if any(hasNodata) {
            statistics = accumulate(planes, dates: dates, at: index, count: count, masked: true)
        }
        return decide(statistics, t)
    }

    @inline(__always)
    private static func accumulate(
        _ planes: UnsafeBufferPointer<UnsafePointer<Float>>, dates: Int, at index: Int, count: Int, masked: Bool
    ) -> Statistics {
        let one = Lane(repeating: 1)
        let shift = Lane(repeating: Self.shift)
        var s = Statistics()
        var dateLane = Lane.zero
        for date in 0..<dates {
            let x = load(planes[date], index, count)
            let y = load(planes[dates + date], index, count)
            s.vvMax.replace(with: x, where: x .> s.vvMax)
            let lower = y .< s.vhMin
            let higher = y .> s.vhMax
            s.vhMin.replace(with: y, where: lower)
            s.vhMinDate.replace(with: dateLane, where: lower)
            s.vhMax.replace(with: y, where: higher)
            s.vhMaxDate.replace(with: dateLane, where: higher)
            if masked {
                let valid = x .== x
                let validY = y .== y
                s.vvSum += Lane.zero.replacing(with: x, where: valid)
                s.vvCount += Lane.zero.replacing(with: one, where: valid)
                let shifted = Lane.zero.replacing(with: y - shift, where: validY)
                s.vhSum += shifted
                s.vhSquares += shifted * shifted
                s.vhCount += Lane.zero.replacing(with: one, where: validY)
            } else {
                s.vvSum += x
                let shifted = y - shift
                s.vhSum += shifted
                s.vhSquares += shifted * shifted
            }
            dateLane += one
        }
        if !masked {
            s.vvCount = Lane(repeating: Float(dates))
            s.vhCount = s.vvCount
        }
        return s
    }

    @inline(__always)
    private static func decide(_ s: Statistics, _ t: Thresholds) -> SIMD8<Int32> {
        let one = Lane(repeating: 1)
        let shift = Lane(repeating: Self.shift)
        let vvMean = s.vvSum / pointwiseMax(s.vvCount, one)
        let vhShiftedMean = s.vhSum / pointwiseMax(s.vhCount, one)
        let vhMean = vhShiftedMean + shift
        let vhVariance = s.vhSquares / pointwiseMax(s.vhCount, one) - vhShiftedMean * vhShiftedMean
        let water = (s.vvMax .< t.waterMaxVV) .& (vhMean .< t.waterMeanVH)
        let rice = (s.vhMin .< t.riceFloodVH) .& (s.vhMax - s.vhMin .>= t.riceRise) .& (s.vhMaxDate .> s.vhMinDate) .& (s.vhMax .> t.ricePeakVH)
        let urban = (vvMean .> t.urbanMeanVV) .& (vhVariance .< t.urbanVarianceVH)
        let enough = (s.vvCount .>= t.minimumDates) .& (s.vhCount .>= t.minimumDates)
        var code = SIMD8<Int32>(repeating: Int32(LandClass.unknown.rawValue))
        code.replace(with: Int32(LandClass.urbanTree.rawValue), where: urban)
        code.replace(with: Int32(LandClass.rice.rawValue), where: rice)
        code.replace(with: Int32(LandClass.water.rawValue), where: water)
        code.replace(with: Int32(LandClass.nodata), where: .!enough)
        return code
    }

    /// dB values are shifted by this before summing squares, to keep the Float32 variance exact enough.
    private static let shift: Float = -15

    /// The rules as lanes.
    private struct Thresholds {
        let waterMaxVV: Lane
        let waterMeanVH: Lane
        let riceFloodVH: Lane
        let riceRise: Lane
        let ricePeakVH: Lane
        let urbanMeanVV: Lane
        let urbanVarianceVH: Lane
        let minimumDates: Lane

        init(_ rules: RiceRules) {
            waterMaxVV = Lane(repeating: rules.waterMaxVV)
            waterMeanVH = Lane(repeating: rules.waterMeanVH)
            riceFloodVH = Lane(repeating: rules.riceFloodVH)
            riceRise = Lane(repeating: rules.riceRise)
            ricePeakVH = Lane(repeating: rules.ricePeakVH)
            urbanMeanVV = Lane(repeating: rules.urbanMeanVV)
            urbanVarianceVH = Lane(repeating: rules.urbanStdVH * rules.urbanStdVH)
            minimumDates = Lane(repeating: Float(rules.minimumDates))
        }
    }
}
