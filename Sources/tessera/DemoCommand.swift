import Actors
import ArgumentParser
import Synchronization

/// `tessera demo tiling`: the runtime at work on this machine.
///
/// What everything else stands on: the machine's topology, the placement plan, and a tiling job
/// (1,024 tiles of 256 × 256 Float32, 3 × 3 mean, sum) run on the pinned workers with NUMA-local
/// buffers, once on one worker and once on all of them.
struct TilingDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiling",
        abstract: "Show the topology and placement plan, then run a tiling job on pinned workers."
    )

    @Option(help: "Tiles of 256 x 256 pixels to process.")
    var tiles: Int = 1024

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard tiles >= 1 else { throw ValidationError("--tiles must be at least 1 (got \(tiles))") }
    }

    func run() async throws {
        let machine = try MachineTopology.load()
        let plan = try PlacementPlan.make(for: machine.topology)
        let single = try PlacementPlan.make(for: machine.topology, request: .init(workers: 1))
        let oneWorker = try await TilingDemo.run(machine: machine, plan: single, tiles: tiles)
        let allWorkers = try await TilingDemo.run(machine: machine, plan: plan, tiles: tiles)
        guard oneWorker.checksum == allWorkers.checksum else {
            throw DemoError.checksumMismatch(oneWorker.checksum, allWorkers.checksum)
        }
        let report = DemoReport(
            topology: TopologyReport(topology: machine.topology, plan: plan), tiles: tiles,
            checksum: allWorkers.checksum, oneWorkerSeconds: oneWorker.seconds, allWorkersSeconds: allWorkers.seconds,
            speedup: oneWorker.seconds / allWorkers.seconds, tilesPerWorker: allWorkers.tilesPerWorker,
            bindings: allWorkers.bindings)
        if json {
            try printJSON(report)
        } else {
            print(machine.topology)
            print(plan)
            print("tiling: \(tiles) tiles of 256x256 Float32, 3x3 mean, NUMA-local buffers")
            print("  1 worker:  \(report.oneWorkerSeconds.formatted3) s")
            print("  \(plan.workerCount) workers: \(report.allWorkersSeconds.formatted3) s  (speedup \(report.speedup.formatted3))")
            for (worker, count) in report.tilesPerWorker.enumerated() {
                print("  worker \(worker): \(count) tiles, \(report.bindings[worker])")
            }
            print("  checksum \(report.checksum) (identical on 1 and \(plan.workerCount) workers)")
        }
    }
}

enum DemoError: Error, CustomStringConvertible {
    case checksumMismatch(Double, Double)

    var description: String {
        switch self {
        case let .checksumMismatch(one, all): "parallel result \(all) differs from the single-worker result \(one)"
        }
    }
}

struct DemoReport: Encodable {
    var topology: TopologyReport
    var tiles: Int
    var checksum: Double
    var oneWorkerSeconds: Double
    var allWorkersSeconds: Double
    var speedup: Double
    var tilesPerWorker: [Int]
    var bindings: [String]
}

extension Double {
    var formatted3: String {
        let scaled = Int((self * 1000).rounded())
        let fraction = String(scaled % 1000)
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

/// The tiling job of the demo: each tile is generated, filtered and summed in NUMA-local memory.
enum TilingDemo {
    struct Outcome {
        var seconds: Double
        var checksum: Double
        var tilesPerWorker: [Int]
        var bindings: [String]
    }

    static let side = 256

    static func run(machine: MachineTopology, plan: PlacementPlan, tiles: Int) async throws -> Outcome {
        let pool = try WorkerPool(plan: plan, name: "demo")
        defer { try? pool.shutdown() }
        let sums = Mutex([Double](repeating: 0, count: tiles))
        let perWorker = Mutex([Int](repeating: 0, count: plan.workerCount))
        let failure = Mutex<NUMAMemoryError?>(nil)
        let start = ContinuousClock.now
        try await pool.executor.parallelFor(0..<tiles, grain: 1) { range in
            let worker = pool.currentWorker ?? 0
            for tile in range {
                do throws(NUMAMemoryError) {
                    let sum = try filteredSum(tile: tile, machine: machine, numaNode: plan.slots[worker].numaNode)
                    sums.withLock { $0[tile] = sum }
                } catch {
                    failure.withLock { $0 = error }
                }
            }
            perWorker.withLock { $0[worker] += range.count }
        }
        let elapsed = ContinuousClock.now - start
        if let error = failure.withLock({ $0 }) { throw error }
        return Outcome(
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            checksum: sums.withLock { $0.reduce(0, +) }, tilesPerWorker: perWorker.withLock { $0 },
            bindings: pool.bindings.map { "\($0)" })
    }

    /// Generates tile `tile`, applies a 3 × 3 mean (edges clamped) and returns the sum of the result.
    static func filteredSum(tile: Int, machine: MachineTopology, numaNode: Int) throws(NUMAMemoryError) -> Double {
        let input = try NUMABuffer<Float>(count: side * side, numaNode: numaNode, machine: machine)
        let output = try NUMABuffer<Float>(count: side * side, numaNode: numaNode, machine: machine)
        return input.withUnsafeMutableBufferPointer { source in
            var state = UInt32(truncatingIfNeeded: tile &* 2_654_435_761 &+ 1)
            for index in source.indices {
                state ^= state << 13
                state ^= state >> 17
                state ^= state << 5
                source[index] = Float(state >> 8) / Float(1 << 24)
            }
            return output.withUnsafeMutableBufferPointer { target in
                for y in 0..<side {
                    let above = max(y - 1, 0) * side
                    let row = y * side
                    let below = min(y + 1, side - 1) * side
                    for x in 0..<side {
                        let left = max(x - 1, 0)
                        let right = min(x + 1, side - 1)
                        var total = source[above + left] + source[above + x] + source[above + right]
                        total += source[row + left] + source[row + x] + source[row + right]
                        total += source[below + left] + source[below + x] + source[below + right]
                        target[row + x] = total / 9
                    }
                }
                var sum: Double = 0
                for value in target { sum += Double(value) }
                return sum
            }
        }
    }
}
