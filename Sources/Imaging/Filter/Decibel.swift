import Foundation

/// Conversions between linear backscatter and decibels.
///
/// Products stay linear (as S1Tiling writes them); dB is for classification and display. Linear nodata
/// (≤ 0, NaN) becomes NaN in dB, and NaN becomes 0 back in linear.
public enum Decibel {
    /// 10·log10(`linear`), NaN for nodata.
    @inline(__always)
    public static func fromLinear(_ linear: Float) -> Float {
        linear > 0 ? 10 * log10f(linear) : .nan
    }

    /// 10^(`dB`/10), 0 for NaN.
    @inline(__always)
    public static func toLinear(_ dB: Float) -> Float {
        dB.isNaN ? 0 : powf(10, dB / 10)
    }

    /// A dB image of a linear one.
    public static func fromLinear(_ raster: Raster<Float>) -> Raster<Float> {
        raster.map(fromLinear)
    }

    /// A linear image of a dB one.
    public static func toLinear(_ raster: Raster<Float>) -> Raster<Float> {
        raster.map(toLinear)
    }
}
