import Actors
import Synchronization
import Grid

/// The workloads of `tessera bench grid`: no-op tasks and the tiling DAG of reference/peers.md.
public enum GridWorkload {
    /// Side of a square tile in the DAG of reference/peers.md.
    public static let tileSide = 256
    /// The sides `--tile-side` and the root's input accept (a 4,096² tile is 64 MiB, twice over).
    public static let tileSides = 2...4096
    /// The seed every tile is generated from (the root's result carries it to the tiles).
    public static let seed = 20_261_128

    public static func register(in functions: FunctionRegistry) {
        functions.register("bench.noop") { (_: inout TaskContext) in .null }
        // Sleeps for `input` milliseconds (cancellable): a long task that holds a node without using its core.
        functions.register("bench.sleep") { (context: inout TaskContext) in
            guard case .int(let milliseconds) = context.input, milliseconds >= 0 else { throw WorkloadError.badInput }
            try await Task.sleep(for: .milliseconds(milliseconds))
            return .null
        }
        // The root returns the seed spec the tiles are generated from: the seed and the tiles' side (its input, 256 when
        // it has none).
        functions.register("tiling.root") { (context: inout TaskContext) in
            var side = tileSide
            if case .int(let given) = context.input { side = given } else if context.input != .null { throw WorkloadError.badInput }
            guard tileSides.contains(side) else { throw WorkloadError.badInput }
            return ["seed": .int(seed), "side": .int(side)]
        }
        functions.register("tiling.tile") { (context: inout TaskContext) in
            guard case .int(let index) = context.input, let spec = context.parentResults.first?.value,
                case .int(let seed)? = spec["seed"], case .int(let side)? = spec["side"], tileSides.contains(side)
            else {
                throw WorkloadError.badInput
            }
            return .double(tileMean(seed: UInt64(truncatingIfNeeded: seed), index: index, side: side))
        }
        functions.register("tiling.add") { (context: inout TaskContext) in
            .double(context.parentResults.reduce(0) { total, parent in
                if case .double(let x) = parent.value { total + x } else { total }
            })
        }
    }

    public enum WorkloadError: Error { case badInput }

    /// Generates tile `index` (uniform values from a seeded xorshift), applies a 3×3 mean filter
    /// (edges reflected, like scipy's `uniform_filter(size=3)`), and returns the filtered mean.
    public static func tileMean(seed: UInt64, index: Int, side: Int = tileSide) -> Double {
        var state = seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15) | 1
        var tile = [Float](repeating: 0, count: side * side)
        for i in tile.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            tile[i] = Float(state >> 40) * (1.0 / 16_777_216.0)
        }
        // Separable: a horizontal 3-sum into `rows`, then a vertical 3-sum.
        var rows = [Float](repeating: 0, count: side * side)
        tile.withUnsafeBufferPointer { input in
            rows.withUnsafeMutableBufferPointer { output in
                for y in 0..<side {
                    let row = y * side
                    output[row] = input[row] + input[row] + input[row + 1]
                    for x in 1..<(side - 1) { output[row + x] = input[row + x - 1] + input[row + x] + input[row + x + 1] }
                    output[row + side - 1] = input[row + side - 2] + input[row + side - 1] + input[row + side - 1]
                }
            }
        }
        var total: Double = 0
        rows.withUnsafeBufferPointer { rows in
            for y in 0..<side {
                let above = (y == 0 ? 0 : y - 1) * side
                let here = y * side
                let below = (y == side - 1 ? side - 1 : y + 1) * side
                var sum: Float = 0
                for x in 0..<side { sum += rows[above + x] + rows[here + x] + rows[below + x] }
                total += Double(sum)
            }
        }
        return total / 9 / Double(side * side)
    }

    /// The tiling DAG: root → `tiles` tiles of `side`² pixels → binary-tree reduction (`tiles - 1` adds).
    public static func tilingWorkflow(tiles: Int, side: Int = tileSide) -> Workflow {
        var tasks = [TaskDefinition("root", .function("tiling.root", input: side == tileSide ? .null : .int(side)))]
        var level = (0..<tiles).map { "tile\($0)" }
        for index in 0..<tiles {
            tasks.append(TaskDefinition("tile\(index)", .function("tiling.tile", input: .int(index)), depends: ["root"]))
        }
        var depth = 0
        while level.count > 1 {
            depth += 1
            var next: [String] = []
            var position = 0
            while position < level.count {
                let pair = Array(level[position..<min(position + 2, level.count)])
                let name = "add\(depth)_\(next.count)"
                tasks.append(TaskDefinition(name, .function("tiling.add"), depends: pair))
                next.append(name)
                position += 2
            }
            level = next
        }
        return Workflow(name: "tiling", tasks: tasks)
    }

    /// The tiles of ``serialTiling(tiles:)`` computed with `parallelFor` on `executor` (one tile per
    /// claim), then the same pairwise reduction: no grid, no tasks.
    public static func parallelTiling(tiles: Int, side: Int = tileSide, on executor: PinnedExecutor) async throws -> Double {
        let means = Mutex([Double](repeating: 0, count: tiles))
        try await executor.parallelFor(0..<tiles, grain: 1) { range in
            for index in range {
                let mean = tileMean(seed: UInt64(seed), index: index, side: side)
                means.withLock { $0[index] = mean }
            }
        }
        return pairwiseSum(means.withLock { $0 })
    }

    /// The same work without a grid, on the calling thread.
    public static func serialTiling(tiles: Int, side: Int = tileSide) -> Double {
        pairwiseSum((0..<tiles).map { tileMean(seed: UInt64(seed), index: $0, side: side) })
    }

    /// The binary-tree reduction of the DAG's adds, level by level, so every baseline sums in the
    /// same order as the grid (and gets the same Double).
    public static func pairwiseSum(_ leaves: [Double]) -> Double {
        var values = leaves
        while values.count > 1 {
            values = stride(from: 0, to: values.count, by: 2).map { i in i + 1 < values.count ? values[i] + values[i + 1] : values[i] }
        }
        return values.first ?? 0
    }
}
