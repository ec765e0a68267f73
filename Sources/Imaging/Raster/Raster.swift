/// The pixel types Imaging reads and writes, with their on-disk data type.
public protocol RasterPixel: BitwiseCopyable, Sendable, Equatable {
    /// The data type this pixel is stored as.
    static var dataType: RasterDataType { get }
    /// The zero pixel (nodata in every S1Tiling product).
    static var zero: Self { get }
}

/// The on-disk data type of a raster band.
public enum RasterDataType: String, Sendable, Hashable, Codable {
    /// Unsigned 8-bit (class maps, masks, quicklooks).
    case byte = "Byte"
    /// Unsigned 16-bit (Sentinel-1 GRD digital numbers).
    case uint16 = "UInt16"
    /// 32-bit float (σ⁰ products, dB stacks).
    case float32 = "Float32"
    /// Any type Imaging does not read (kept so errors can name it).
    case other = "other"

    /// Bytes per pixel (0 for `other`).
    public var byteCount: Int {
        switch self {
        case .byte: 1
        case .uint16: 2
        case .float32: 4
        case .other: 0
        }
    }
}

extension UInt8: RasterPixel {
    public static var dataType: RasterDataType { .byte }
}

extension UInt16: RasterPixel {
    public static var dataType: RasterDataType { .uint16 }
}

extension Float: RasterPixel {
    public static var dataType: RasterDataType { .float32 }
}

/// A rectangle of pixels: its top-left column and row and its size.
public struct PixelWindow: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Left column.
    public var x: Int
    /// Top row.
    public var y: Int
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Makes a window.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// Number of pixels.
    public var pixelCount: Int { width * height }

    /// Whether the window lies inside an image of `width × height` and is not empty.
    public func fits(width imageWidth: Int, height imageHeight: Int) -> Bool {
        x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= imageWidth && y + height <= imageHeight
    }

    /// The part of this window inside `other`, or nil when they do not overlap.
    public func intersection(_ other: PixelWindow) -> PixelWindow? {
        let left = max(x, other.x)
        let top = max(y, other.y)
        let right = min(x + width, other.x + other.width)
        let bottom = min(y + height, other.y + other.height)
        guard right > left, bottom > top else { return nil }
        return PixelWindow(x: left, y: top, width: right - left, height: bottom - top)
    }

    public var description: String { "\(width)×\(height)+\(x)+\(y)" }
}

/// A single-band image in memory, row-major.
public struct Raster<Pixel: RasterPixel>: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width × height` pixels, row by row.
    public var pixels: [Pixel]

    /// An image filled with `value`.
    public init(width: Int, height: Int, repeating value: Pixel = .zero) {
        precondition(width >= 0 && height >= 0, "a raster size cannot be negative")
        self.width = width
        self.height = height
        self.pixels = Array(repeating: value, count: width * height)
    }

    /// An image over existing pixels.
    ///
    /// - Precondition: `pixels.count == width * height`.
    public init(width: Int, height: Int, pixels: [Pixel]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height, "pixel count must be width × height")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Number of pixels.
    public var count: Int { pixels.count }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Pixel {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// A copy of the pixels inside `window`.
    ///
    /// - Precondition: the window fits in the image.
    public func cropped(to window: PixelWindow) -> Raster<Pixel> {
        precondition(window.fits(width: width, height: height), "window \(window) outside \(width)×\(height)")
        var out = [Pixel]()
        out.reserveCapacity(window.pixelCount)
        for row in window.y..<(window.y + window.height) {
            let start = row * width + window.x
            out.append(contentsOf: pixels[start..<(start + window.width)])
        }
        return Raster(width: window.width, height: window.height, pixels: out)
    }

    /// An image of the same size with `transform` applied to every pixel.
    public func map<Other: RasterPixel>(_ transform: (Pixel) throws -> Other) rethrows -> Raster<Other> {
        Raster<Other>(width: width, height: height, pixels: try pixels.map(transform))
    }
}
