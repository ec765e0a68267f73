import Actors

extension LeeFilter {
    /// Filters `input` on `executor`'s pinned workers, bands of `rowsPerChunk` rows at a time.
    ///
    /// - Throws: `ExecutorError.shutDown` when the executor is shut down.
    public func apply(_ input: Raster<Float>, on executor: PinnedExecutor, rowsPerChunk: Int = 32) async throws -> Raster<Float> {
        let output = PixelOutput<Float>(width: input.width, height: input.height, zeroed: false)
        let filter = self
        try await executor.parallelFor(0..<input.height, grain: max(1, rowsPerChunk)) { rows in
            input.pixels.withUnsafeBufferPointer { source in
                filter.filterRows(rows, of: source, width: input.width, height: input.height, into: output.buffer)
            }
        }
        return output.raster()
    }
}

extension RiceClassifier {
    /// Classifies `stack` on `executor`'s pinned workers, `rowsPerChunk` rows at a time.
    ///
    /// - Throws: `ExecutorError.shutDown` when the executor is shut down.
    public func classify(_ stack: BackscatterStack, on executor: PinnedExecutor, rowsPerChunk: Int = 16) async throws -> Raster<UInt8> {
        let output = PixelOutput<UInt8>(width: stack.width, height: stack.height, zeroed: false)
        let classifier = self
        let width = stack.width
        try await executor.parallelFor(0..<stack.height, grain: max(1, rowsPerChunk)) { rows in
            classifier.classify(stack, pixels: (rows.lowerBound * width)..<(rows.upperBound * width), into: output.buffer)
        }
        return output.raster()
    }
}
