import Foundation

/// Calibrated values at one image position, as `tessera s1 calibrate-points` prints them.
public struct CalibrationPoint: Sendable, Hashable, Codable {
    /// Image line.
    public var line: Int
    /// Image pixel.
    public var pixel: Int
    /// The digital number used.
    public var dn: Double
    /// Interpolated σ⁰ LUT.
    public var aSigma: Double
    /// Interpolated β⁰ LUT.
    public var aBeta: Double
    /// Interpolated γ⁰ LUT.
    public var aGamma: Double
    /// Interpolated noise power η (0 when the product has no noise table).
    public var noiseEta: Double
    /// σ⁰ = DN² / A_σ².
    public var sigma0: Double
    /// σ⁰ with thermal noise removed: max(DN² − η, 0) / A_σ².
    public var sigma0Denoised: Double
    /// 10·log10(σ⁰).
    public var sigma0dB: Double
    /// β⁰ = DN² / A_β².
    public var beta0: Double
    /// γ⁰ = DN² / A_γ².
    public var gamma0: Double

    /// Computes every value at (`line`, `pixel`) for a digital number `dn`.
    public init(calibration: CalibrationTable, noise: NoiseTable?, line: Int, pixel: Int, dn: Double) {
        let l = Double(line)
        let p = Double(pixel)
        self.line = line
        self.pixel = pixel
        self.dn = dn
        aSigma = calibration.sigmaNought.value(line: l, pixel: p)
        aBeta = calibration.betaNought.value(line: l, pixel: p)
        aGamma = calibration.gamma.value(line: l, pixel: p)
        noiseEta = noise?.eta(line: line, pixel: pixel) ?? 0
        let power = dn * dn
        sigma0 = power / (aSigma * aSigma)
        sigma0Denoised = max(power - noiseEta, 0) / (aSigma * aSigma)
        sigma0dB = 10 * log10(sigma0)
        beta0 = power / (aBeta * aBeta)
        gamma0 = power / (aGamma * aGamma)
    }
}

/// Turns digital numbers into calibrated linear backscatter, as S1Tiling's calibration step does.
///
/// value = (DN² − η) / A², with A the LUT of the chosen target and η the thermal noise when removal is on.
/// DN 0 stays 0 (nodata); a value that denoising makes ≤ 0 becomes `lowerSignalValue`, so 0 keeps meaning
/// nodata downstream.
public struct Calibrator: Sendable {
    /// The LUT of the target quantity.
    public let lut: VectorGrid
    /// The noise table, nil when thermal noise is kept.
    public let noise: NoiseTable?
    /// What a denoised value ≤ 0 becomes (S1Tiling's `lower_signal_value`, 1e-7).
    public let lowerSignalValue: Float

    /// Makes a calibrator.
    ///
    /// - Parameters:
    ///   - calibration: The product's calibration table.
    ///   - target: σ⁰, β⁰ or γ⁰.
    ///   - noise: The noise table to remove, or nil to keep the noise.
    ///   - lowerSignalValue: The floor for denoised values; must be > 0.
    public init(calibration: CalibrationTable, target: CalibrationTarget = .sigma, noise: NoiseTable?, lowerSignalValue: Float = 1e-7) {
        precondition(lowerSignalValue > 0, "the lower signal value must be positive so that 0 stays nodata")
        self.lut = calibration.lut(target)
        self.noise = noise
        self.lowerSignalValue = lowerSignalValue
    }

    /// Calibrates `dn`, whose top-left pixel is at (`window.x`, `window.y`) of the product image.
    ///
    /// - Precondition: `dn` is `window.width × window.height`.
    public func calibrate(_ dn: Raster<UInt16>, at window: PixelWindow) -> Raster<Float> {
        precondition(dn.width == window.width && dn.height == window.height, "the DN raster must match its window")
        var out = Raster<Float>(width: dn.width, height: dn.height)
        var gain = [Double](repeating: 0, count: dn.width)
        var eta = [Double](repeating: 0, count: dn.width)
        var factor = [Double](repeating: 1, count: dn.width)
        var gains = VectorGrid.RowEvaluator(grid: lut, firstPixel: window.x, count: dn.width)
        var etas = noise.map { VectorGrid.RowEvaluator(grid: $0.range, firstPixel: window.x, count: dn.width) }
        for row in 0..<dn.height {
            let line = window.y + row
            gains.fill(line: Double(line), into: &gain)
            if let noise {
                etas?.fill(line: Double(line), into: &eta)
                fillAzimuthFactor(noise, line: line, firstPixel: window.x, into: &factor)
            }
            let base = row * dn.width
            let floor = lowerSignalValue
            let denoise = noise != nil
            dn.pixels.withUnsafeBufferPointer { input in
                out.pixels.withUnsafeMutableBufferPointer { output in
                    for column in 0..<dn.width {
                        let value = input[base + column]
                        guard value != 0 else {
                            output[base + column] = 0
                            continue
                        }
                        let amplitude = Double(value)
                        var power = amplitude * amplitude
                        if denoise { power -= eta[column] * factor[column] }
                        let a = gain[column]
                        let calibrated = Float(power / (a * a))
                        output[base + column] = calibrated > 0 ? calibrated : floor
                    }
                }
            }
        }
        return out
    }

    private func fillAzimuthFactor(_ noise: NoiseTable, line: Int, firstPixel: Int, into factor: inout [Double]) {
        for index in factor.indices { factor[index] = 1 }
        // Reversed so that where blocks overlap the first one wins, as in `NoiseTable.eta`.
        for block in noise.azimuthBlocks.reversed() where line >= block.firstLine && line <= block.lastLine {
            let value = block.value(line: Double(line))
            let start = max(block.firstPixel - firstPixel, 0)
            let end = min(block.lastPixel - firstPixel, factor.count - 1)
            guard start <= end else { continue }
            for index in start...end {
                factor[index] = value
            }
        }
    }
}
