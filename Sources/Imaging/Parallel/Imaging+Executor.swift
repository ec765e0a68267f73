import Actors

extension LeeFilter {
    /// Filters `input` on `executor`'s pinned workers, bands of `rowsPerChunk` rows at a time.
    ///
    /// - Throws: `ExecutorError.shutDown` when the executor is shut down.
    public func apply(_ input: Raster<Float>, on executor: PinnedExecutor, rowsPerChunk: Int = 32) async throws -> Raster<Float> {
        let output = RasterBuffer<Float>(width: input.width, height: input.height, zeroed: false)
        try await apply(input, into: output, on: executor, rowsPerChunk: rowsPerChunk)
        return output.raster()
    }

    /// Filters `input` into `output` (reused between images) on `executor`'s pinned workers.
    ///
    /// - Precondition: `output` has `input`'s size.
    /// - Throws: `ExecutorError.shutDown` when the executor is shut down.
    public func apply(_ input: Raster<Float>, into output: RasterBuffer<Float>, on executor: PinnedExecutor, rowsPerChunk: Int = 32) async throws {
        precondition(output.width == input.width && output.height == input.height, "the output buffer must have the input's size")
        let filter = self
        try await executor.parallelFor(0..<input.height, grain: max(1, rowsPerChunk)) { rows in
            input.pixels.withUnsafeBufferPointer { source in
                filter.filterRows(rows, of: source, width: input.width, height: input.height, into: output.buffer)
            }
        }
    }
}

extension RiceClassifier {
    /// Classifies `stack` on `executor`'s pinned workers, `rowsPerChunk` rows at a time.
    ///
    /// - Throws: `ExecutorError.shutDown` when the executor is shut down.
    public func classify(_ stack: BackscatterStack, on executor: PinnedExecutor, rowsPerChunk: Int = 16) async throws -> Raster<UInt8> {
        let output = RasterBuffer<UInt8>(width: stack.width, height: stack.height, zeroed: false)
        try await classify(stack, into: output, on: executor, rowsPerChunk: rowsPerChunk)
        return output.raster()
    }

    /// Classifies `stack` into `output` (reused between stacks) on `executor`'s pinned workers.
    ///
    /// - Precondition: `output` has the stack's size.
    /// - Throws: `ExecutorError.shutDown` when the executor is shut down.
    public func classify(_ stack: BackscatterStack, into output: RasterBuffer<UInt8>, on executor: PinnedExecutor, rowsPerChunk: Int = 16) async throws {
        precondition(output.width == stack.width && output.height == stack.height, "the output buffer must have the stack's size")
        let classifier = self
        let width = stack.width
        try await executor.parallelFor(0..<stack.height, grain: max(1, rowsPerChunk)) { rows in
            classifier.classify(stack, pixels: (rows.lowerBound * width)..<(rows.upperBound * width), into: output.buffer)
        }
    }
}
