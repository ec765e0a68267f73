/// How tile pixels are sampled from the product image.
public enum Resampling: String, Sendable, Hashable, Codable, CaseIterable {
    /// The nearest image pixel (S1Tiling's default).
    case nearest
    /// Bilinear between the four surrounding pixels when all four have data, else the nearest.
    case bilinear
}

/// Samples a calibrated product image onto a tile through a ``DeformationGrid``.
public struct Orthorectifier: Sendable {
    /// Where tile pixels fall in the image.
    public let deformation: DeformationGrid
    /// Nearest or bilinear.
    public let resampling: Resampling
    /// The part of the image with data after the border cut; positions outside it give nodata.
    public let valid: PixelWindow

    /// Makes an orthorectifier.
    public init(deformation: DeformationGrid, resampling: Resampling, valid: PixelWindow) {
        self.deformation = deformation
        self.resampling = resampling
        self.valid = valid
    }

    /// Fills tile rows `rows` of `output` (a whole tile, row-major) from `source`, the image window `sourceWindow`.
    ///
    /// Tile pixels whose position falls outside `sourceWindow ∩ valid`, or on nodata, are 0.
    public func orthorectify(
        rows: Range<Int>, source: Raster<Float>, at sourceWindow: PixelWindow, into output: UnsafeMutableBufferPointer<Float>
    ) {
        let tile = deformation.tile
        precondition(output.count == tile.width * tile.height, "the output must hold the whole tile")
        guard let usable = sourceWindow.intersection(valid) else {
            for row in rows { for column in 0..<tile.width { output[row * tile.width + column] = 0 } }
            return
        }
        let minX = Double(usable.x)
        let minY = Double(usable.y)
        let maxX = Double(usable.x + usable.width - 1)
        let maxY = Double(usable.y + usable.height - 1)
        source.pixels.withUnsafeBufferPointer { pixels in
            @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
                pixels[(y - sourceWindow.y) * source.width + (x - sourceWindow.x)]
            }
            for row in rows {
                for column in 0..<tile.width {
                    let (line, pixel) = deformation.position(column: column, row: row)
                    var value: Float = 0
                    if line >= minY - 0.5 && line <= maxY + 0.5 && pixel >= minX - 0.5 && pixel <= maxX + 0.5 {
                        let nearestX = min(max(Int(pixel.rounded()), usable.x), usable.x + usable.width - 1)
                        let nearestY = min(max(Int(line.rounded()), usable.y), usable.y + usable.height - 1)
                        value = at(nearestX, nearestY)
                        if resampling == .bilinear {
                            let x0 = Int(pixel.rounded(.down))
                            let y0 = Int(line.rounded(.down))
                            if x0 >= usable.x && y0 >= usable.y && x0 + 1 <= Int(maxX) && y0 + 1 <= Int(maxY) {
                                let a = at(x0, y0), b = at(x0 + 1, y0), c = at(x0, y0 + 1), d = at(x0 + 1, y0 + 1)
                                if a > 0 && b > 0 && c > 0 && d > 0 {
                                    let u = Float(pixel - Double(x0))
                                    let v = Float(line - Double(y0))
                                    value = (1 - v) * ((1 - u) * a + u * b) + v * ((1 - u) * c + u * d)
                                }
                            }
                        }
                    }
                    output[row * tile.width + column] = value
                }
            }
        }
    }
}

/// S1Tiling's border cut: margins of an image reset to nodata before orthorectification.
///
/// 1,600 lines at the top (bottom) are cut when more than 2,000 pixels of the 100th line from that edge are
/// nodata (coasts, the ends of a datatake); products of IPF < 2.90 also lose 1,000 pixels on each side
/// (border noise, ESA note MPC-0243).
public struct BorderCut: Sendable, Hashable, Codable {
    /// Lines cut at the top.
    public var top: Int
    /// Lines cut at the bottom.
    public var bottom: Int
    /// Pixels cut on the left.
    public var left: Int
    /// Pixels cut on the right.
    public var right: Int

    /// Makes a cut.
    public init(top: Int = 0, bottom: Int = 0, left: Int = 0, right: Int = 0) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// S1Tiling's rule for a product.
    ///
    /// - Parameters:
    ///   - ipf: The product's IPF version (3.40).
    ///   - lineNearTop: Line 100 of the DN image.
    ///   - lineNearBottom: Line `height − 101` of the DN image.
    public static func s1Tiling(ipf: Double, lineNearTop: Raster<UInt16>, lineNearBottom: Raster<UInt16>) -> BorderCut {
        let threshold = 2000
        let topZeros = lineNearTop.pixels.lazy.filter { $0 == 0 }.count
        let bottomZeros = lineNearBottom.pixels.lazy.filter { $0 == 0 }.count
        let sides = ipf < 2.90 ? 1000 : 0
        return BorderCut(top: topZeros > threshold ? 1600 : 0, bottom: bottomZeros > threshold ? 1600 : 0, left: sides, right: sides)
    }

    /// The part of a `width × height` image left after the cut (empty window when nothing is left).
    public func validWindow(width: Int, height: Int) -> PixelWindow {
        PixelWindow(x: left, y: top, width: max(0, width - left - right), height: max(0, height - top - bottom))
    }
}
