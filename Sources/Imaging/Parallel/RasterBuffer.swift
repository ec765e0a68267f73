import Actors

/// A raster's pixel buffer that several workers fill at once, each in its own disjoint part, and that a
/// pipeline can reuse from one image to the next (no allocation, no page faults in the timed path).
///
/// `@unchecked Sendable` because the buffer is shared by pointer: the invariant is that every caller writes a
/// range (of pixels or rows) that no other caller touches, and that the owner reads it only after every
/// worker finished (``PinnedExecutor/parallelFor(_:grain:_:)`` returns after the last chunk).
public final class RasterBuffer<Pixel: RasterPixel>: @unchecked Sendable {
    /// The pixels, row-major.
    public let buffer: UnsafeMutableBufferPointer<Pixel>
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int

    /// A buffer of `width × height` pixels, zeroed unless the caller writes every pixel (`zeroed: false`),
    /// in which case each page is first touched by the worker that fills it (on its NUMA node).
    public init(width: Int, height: Int, zeroed: Bool = true) {
        self.width = width
        self.height = height
        buffer = .allocate(capacity: width * height)
        if zeroed {
            buffer.initialize(repeating: .zero)
        }
    }

    deinit {
        buffer.deallocate()
    }

    /// The filled raster (one copy, a plain memory copy).
    public func raster() -> Raster<Pixel> {
        let count = buffer.count
        let pixels = [Pixel](unsafeUninitializedCapacity: count) { target, initialized in
            if let destination = target.baseAddress, let source = buffer.baseAddress {
                UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Pixel>.stride)
            }
            initialized = count
        }
        return Raster(width: width, height: height, pixels: pixels)
    }
}

/// Scratch buffers of Doubles shared by workers (the deformation grid's nodes), with the same invariant.
final class DoubleBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: .nan)
    }

    deinit {
        buffer.deallocate()
    }
}
