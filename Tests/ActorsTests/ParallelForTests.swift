import Synchronization
import Testing

@testable import Actors

@Suite(.timeLimit(.minutes(1))) struct ParallelForTests {
    struct Boom: Error, Equatable {
        let at: Int
    }

    @Test(arguments: [(0..<0, 7), (0..<1, 1), (3..<10_003, 17), (-50..<50, 1), (0..<1_000, 5_000), (0..<100_000, nil as Int?)])
    func parallelFor_coversEveryIndexExactlyOnce(range: Range<Int>, grain: Int?) async throws {
        try await withPool(syntheticPlan("package:1 core:3 pu:1")) { pool in
            let hits = Mutex([Int](repeating: 0, count: range.count))
            let lower = range.lowerBound
            try await pool.executor.parallelFor(range, grain: grain) { chunk in
                if let grain { #expect(chunk.count <= grain) }
                hits.withLock { for index in chunk { $0[index - lower] += 1 } }
            }
            #expect(hits.withLock { $0.allSatisfy { $0 == 1 } })
        }
    }

    @Test func parallelFor_rethrowsTheFirstError_andStopsStartingChunks() async throws {
        // One worker claims the chunks in order, so what runs after the error is exact, whatever the
        // machine's load (with two, a preempted thrower lets the other run any number first).
        try await withPool(syntheticPlan("package:1 core:1 pu:1")) { pool in
            let ran = Atomic<Int>(0)
            await #expect(throws: Boom(at: 10)) {
                try await pool.executor.parallelFor(0..<100_000, grain: 1) { chunk in
                    ran.wrappingAdd(1, ordering: .relaxed)
                    if chunk.lowerBound == 10 { throw Boom(at: 10) }
                }
            }
            #expect(ran.load(ordering: .relaxed) == 11, "chunks 0 to 10 ran, none after the error")
        }
    }

    @Test func parallelFor_badGrainOrShutDownPool_isATypedError() async throws {
        let pool = try WorkerPool(plan: syntheticPlan("package:1 core:1 pu:1"), name: "closed")
        await #expect(throws: ExecutorError.invalidBound(name: "grain", value: 0)) {
            try await pool.executor.parallelFor(0..<10, grain: 0) { _ in }
        }
        try pool.shutdown()
        await #expect(throws: ExecutorError.shutDown(pool: "closed")) {
            try await pool.executor.parallelFor(0..<10) { _ in }
        }
    }

    @Test func tiles_coverTheRasterOnce_withSmallerEdgeTiles() async throws {
        let grid = try TileGrid(width: 1_000, height: 700, tileWidth: 256, tileHeight: 256)
        #expect(grid.columns == 4 && grid.rows == 3 && grid.count == 12)
        #expect(grid.tile(at: 11) == .init(index: 11, x: 768, y: 512, width: 232, height: 188))
        try await withPool(syntheticPlan("package:1 core:2 pu:1")) { pool in
            let pixels = Mutex([UInt8](repeating: 0, count: 1_000 * 700))
            try await pool.executor.parallelFor(tiles: grid) { tile in
                pixels.withLock { pixels in
                    for y in tile.y..<(tile.y + tile.height) {
                        for x in tile.x..<(tile.x + tile.width) { pixels[y * 1_000 + x] += 1 }
                    }
                }
            }
            #expect(pixels.withLock { $0.allSatisfy { $0 == 1 } })
        }
        #expect(throws: ExecutorError.invalidBound(name: "tileWidth", value: 0)) {
            try TileGrid(width: 10, height: 10, tileWidth: 0, tileHeight: 4)
        }
        #expect(try TileGrid(width: 0, height: 0, tileWidth: 4, tileHeight: 4).count == 0)
    }

    @Test func boundedWindow_neverExceedsItsWindow_andKeepsOrder() async throws {
        try await withPool(syntheticPlan("package:1 core:2 pu:1")) { pool in
            let inFlight = Atomic<Int>(0)
            let peak = Atomic<Int>(0)
            let squares = try await Task(executorPreference: pool.executor) {
                try await (0..<5_000).concurrentMap(window: 8) { value in
                    let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
                    peak.max(now, ordering: .relaxed)
                    await Task.yield()
                    inFlight.subtract(1, ordering: .relaxed)
                    return value * value
                }
            }.value
            #expect(squares == (0..<5_000).map { $0 * $0 })
            #expect(peak.load(ordering: .relaxed) <= 8)

            let count = Atomic<Int>(0)
            try await (0..<3_000).concurrentForEach(window: 4, on: pool.executor) { _ in
                let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
                peak.max(now, ordering: .relaxed)
                await Task.yield()
                inFlight.subtract(1, ordering: .relaxed)
                count.wrappingAdd(1, ordering: .relaxed)
            }
            #expect(count.load(ordering: .relaxed) == 3_000)
            #expect(peak.load(ordering: .relaxed) <= 8)
        }
        await #expect(throws: ExecutorError.invalidBound(name: "window", value: 0)) {
            try await [1, 2].concurrentForEach(window: 0) { _ in }
        }
        await #expect(throws: Boom(at: 3)) {
            _ = try await (0..<10).concurrentMap(window: 2) { value in
                if value == 3 { throw Boom(at: 3) }
                return value
            }
        }
    }
}
