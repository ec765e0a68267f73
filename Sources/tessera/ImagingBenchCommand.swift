import Actors
import ArgumentParser
import Foundation
import Imaging

/// `tessera bench imaging`: the imaging kernels, on one pinned core and on two, against the memory bandwidth.
struct ImagingBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imaging",
        abstract: "Measure the rice classification and Lee filter kernels and the memory bandwidth.",
        discussion: """
            riceMpxPerSecond1/2: the fused rice classifier over a 12-date VV + VH dB stack of 4096 × 4096 \
            (uniform −25…−5 dB, as reference/peers.md's numpy run), on 1 and 2 pinned workers, into a reused \
            output buffer; Mpx/s counts output pixels. leeMpxPerSecond: 5 × 5 Lee (ENL 4.4) on 4096 × 4096 linear power, 1 worker \
            (leeMpxPerSecond2 on 2). memoryBandwidthGBs: a 1 GiB Float32 copy, counted as 2 GiB moved \
            (STREAM), median of --repeats; riceBandwidthFraction: bytes the 1-core classifier reads per \
            second over that. Every figure is the median of --repeats runs; inputs are made before timing.             fullProductSeconds1/2: one synthetic GRD product of --product-size, VV + VH, calibrated with             thermal-noise removal, orthorectified onto one --tile-size tile and Lee-filtered, on 1 and 2             workers (bands in parallel); fullProductPeakMB(1): the peak RSS of that pass (--quick skips it).
            """
    )

    @Option(help: "Runs per figure; the median is reported.")
    var repeats: Int = 3

    @Option(help: "Image side in pixels.")
    var size: Int = 4096

    @Option(help: "Dates in the rice stack.")
    var dates: Int = 12

    @Option(help: "Seed of the synthetic inputs.")
    var seed: UInt64 = 1

    @Flag(help: "Skip the full-size product.")
    var quick = false

    @Option(help: "Full-size product, WIDTHxHEIGHT (a full IW GRD is about 25000x16700).")
    var productSize: String = "25000x16700"

    @Option(help: "Output tile side for the full-size product (an S2 tile is 10980).")
    var tileSize: Int = 10_980

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard size >= 16, size <= 16_384 else { throw ValidationError("--size must be between 16 and 16384") }
        guard dates >= 2, dates <= 64 else { throw ValidationError("--dates must be between 2 and 64") }
        _ = try parsedProductSize()
        guard tileSize >= 100, tileSize <= 20_000 else { throw ValidationError("--tile-size must be between 100 and 20000") }
    }

    func parsedProductSize() throws -> (Int, Int) {
        let parts = productSize.lowercased().split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width >= 100, height >= 100, width <= 40_000, height <= 40_000 else {
            throw ValidationError("--product-size must be WIDTHxHEIGHT between 100 and 40000 (got \(productSize))")
        }
        return (width, height)
    }

    func run() async throws {
        let machine = try MachineTopology.load()
        let one = try WorkerPool(plan: PlacementPlan.make(for: machine.topology, request: .init(workers: 1)), name: "bench1")
        let two = try WorkerPool(
            plan: PlacementPlan.make(for: machine.topology, request: .init(workers: 2, oversubscribe: true)), name: "bench2")
        defer {
            try? one.shutdown()
            try? two.shutdown()
        }
        var report = try await kernels(machine: machine, one: one, two: two)
        if !quick {
            let full = try await fullProduct(one: one, two: two)
            report.fullProductSeconds1 = full.seconds1
            report.fullProductSeconds2 = full.seconds2
            report.fullProductPeakMB = full.peakMB
            report.fullProductPeakMB1 = full.peakMB1
        }
        if json {
            try printJSON(report)
        } else {
            print(report.table)
        }
    }

    private func kernels(machine: MachineTopology, one: WorkerPool, two: WorkerPool) async throws -> ImagingBenchReport {
        let pixels = Double(size * size)

        let bandwidth = try await median { Self.copyBandwidth(bytes: 1 << 30) }

        var generator = SplitMix64(seed: seed)
        let stack = try BackscatterStack(
            vv: (0..<dates).map { _ in Self.uniformDB(size, using: &generator) },
            vh: (0..<dates).map { _ in Self.uniformDB(size, using: &generator) })
        let classifier = try RiceClassifier()
        // Outputs are allocated once and reused, as a pipeline does: the figures are the kernels', not page faults'.
        let classes = RasterBuffer<UInt8>(width: size, height: size)
        let rice1 = try await median { try await Self.timed { try await classifier.classify(stack, into: classes, on: one.executor) } }
        let rice2 = try await median { try await Self.timed { try await classifier.classify(stack, into: classes, on: two.executor) } }
        let counts = ClassStatistics(map: classes.raster(), pixelArea: 100).countsByName

        let power = Decibel.toLinear(stack.vv[0])
        let filter = LeeFilter(radius: 2, looks: 4.4)
        let filtered = RasterBuffer<Float>(width: size, height: size)
        let lee1 = try await median { try await Self.timed { try await filter.apply(power, into: filtered, on: one.executor) } }
        let lee2 = try await median { try await Self.timed { try await filter.apply(power, into: filtered, on: two.executor) } }

        let bytesPerPixel = Double(2 * dates * MemoryLayout<Float>.size)
        return ImagingBenchReport(
            size: size, dates: dates, cores: machine.topology.cores.count,
            riceMpxPerSecond1: pixels / rice1 / 1e6, riceMpxPerSecond2: pixels / rice2 / 1e6,
            riceSpeedup: rice1 / rice2, riceClasses: counts,
            riceBandwidthFraction: pixels * bytesPerPixel / rice1 / (bandwidth * 1e9),
            leeMpxPerSecond: pixels / lee1 / 1e6, leeMpxPerSecond2: pixels / lee2 / 1e6,
            memoryBandwidthGBs: bandwidth,
            fullProductSeconds1: nil, fullProductSeconds2: nil, fullProductPeakMB: nil, fullProductPeakMB1: nil)
    }

    /// One full-size synthetic product, VV + VH, calibrated, denoised, orthorectified onto one tile and
    /// Lee-filtered, on 1 then 2 workers; the peak RSS of each pass (the product is made before, untimed).
    private func fullProduct(one: WorkerPool, two: WorkerPool) async throws -> (seconds1: Double, seconds2: Double, peakMB1: Double, peakMB: Double) {
        let (width, height) = try parsedProductSize()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-bench-\(ProcessInfo.processInfo.processIdentifier)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tile = OutputTile(name: "48QXH", epsg: 32648, originX: 600_000, originY: 2_300_040, pixelSize: 10, width: tileSize, height: tileSize)
        var sceneSettings = SyntheticScene.Settings()
        sceneSettings.width = tileSize
        sceneSettings.height = tileSize
        sceneSettings.dates = 1
        sceneSettings.fieldSize = max(100, tileSize / 20)
        sceneSettings.seed = seed
        var productSettings = SyntheticProductWriter.Settings()
        productSettings.width = width
        productSettings.height = height
        let writer = SyntheticProductWriter(settings: productSettings, scene: SyntheticScene(settings: sceneSettings), tile: tile)
        let safe = try await writer.write(date: 0, into: directory, on: two.executor)
        let product = try SAFEProduct(path: safe)
        let tiler = OrthoTiler()
        let filter = LeeFilter()
        var results: [(Double, Double)] = []
        for pool in [one, two] {
            PeakMemory.reset()
            let seconds = try await Self.timed {
                for polarisation in [Polarisation.vv, .vh] {
                    let image = try await tiler.orthorectify(product, polarisation: polarisation, tile: tile, on: pool.executor)
                    _ = try await filter.apply(image.raster, on: pool.executor)
                }
            }
            results.append((seconds, PeakMemory.megabytes()))
        }
        return (results[0].0, results[1].0, results[0].1, results[1].1)
    }

    private func median(_ measure: () async throws -> Double) async throws -> Double {
        var values: [Double] = []
        for _ in 0..<repeats { values.append(try await measure()) }
        return values.sorted()[values.count / 2]
    }

    private static func timed(_ body: () async throws -> Void) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        return seconds(clock.now - start)
    }

    /// A `size × size` image of dB values uniform in −25…−5.
    private static func uniformDB(_ size: Int, using generator: inout SplitMix64) -> Raster<Float> {
        var raster = Raster<Float>(width: size, height: size)
        raster.pixels.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                // 24 random bits → [0, 1).
                buffer[index] = -25 + 20 * Float(generator.next() >> 40) * 0x1p-24
            }
        }
        return raster
    }

    /// GB/s of a `bytes`-long copy, counting the read and the write (STREAM's convention).
    private static func copyBandwidth(bytes: Int) -> Double {
        let count = bytes / MemoryLayout<Float>.size
        let source = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        let destination = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer {
            source.deallocate()
            destination.deallocate()
        }
        source.initialize(repeating: 1)
        destination.initialize(repeating: 0)
        let clock = ContinuousClock()
        let start = clock.now
        _ = destination.update(fromContentsOf: source)
        return Double(2 * bytes) / seconds(clock.now - start) / 1e9
    }
}

/// The figures of `tessera bench imaging`.
struct ImagingBenchReport: Encodable {
    var size: Int
    var dates: Int
    var cores: Int
    var riceMpxPerSecond1: Double
    var riceMpxPerSecond2: Double
    var riceSpeedup: Double
    var riceClasses: [String: Int]
    var riceBandwidthFraction: Double
    var leeMpxPerSecond: Double
    var leeMpxPerSecond2: Double
    var memoryBandwidthGBs: Double
    /// nil with --quick.
    var fullProductSeconds1: Double?
    var fullProductSeconds2: Double?
    var fullProductPeakMB: Double?
    var fullProductPeakMB1: Double?

    func encode(to encoder: any Encoder) throws {
        enum Key: String, CodingKey {
            case size, dates, cores, riceMpxPerSecond1, riceMpxPerSecond2, riceSpeedup, riceClasses, riceBandwidthFraction
            case leeMpxPerSecond, leeMpxPerSecond2, memoryBandwidthGBs, fullProductSeconds1, fullProductSeconds2, fullProductPeakMB
            case fullProductPeakMB1
        }
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(size, forKey: .size)
        try container.encode(dates, forKey: .dates)
        try container.encode(cores, forKey: .cores)
        try container.encode(riceMpxPerSecond1, forKey: .riceMpxPerSecond1)
        try container.encode(riceMpxPerSecond2, forKey: .riceMpxPerSecond2)
        try container.encode(riceSpeedup, forKey: .riceSpeedup)
        try container.encode(riceClasses, forKey: .riceClasses)
        try container.encode(riceBandwidthFraction, forKey: .riceBandwidthFraction)
        try container.encode(leeMpxPerSecond, forKey: .leeMpxPerSecond)
        try container.encode(leeMpxPerSecond2, forKey: .leeMpxPerSecond2)
        try container.encode(memoryBandwidthGBs, forKey: .memoryBandwidthGBs)
        // Explicit nulls: the keys are part of the report's contract even before they are measured.
        try container.encode(fullProductSeconds1, forKey: .fullProductSeconds1)
        try container.encode(fullProductSeconds2, forKey: .fullProductSeconds2)
        try container.encode(fullProductPeakMB, forKey: .fullProductPeakMB)
        try container.encode(fullProductPeakMB1, forKey: .fullProductPeakMB1)
    }

    var table: String {
        func fixed(_ value: Double) -> String { String(format: "%.1f", value) }
        return """
            imaging benchmarks (\(size) x \(size), \(dates) dates, \(cores) cores)
              rice classification   1 worker \(fixed(riceMpxPerSecond1)) Mpx/s (goal >= 60; numpy 4.0-6.25), 2 workers \(fixed(riceMpxPerSecond2)) Mpx/s (x\(String(format: "%.2f", riceSpeedup)), goal >= 1.8)
              rice memory traffic   \(String(format: "%.0f", riceBandwidthFraction * 100)) % of the copy bandwidth
              Lee 5x5               1 worker \(fixed(leeMpxPerSecond)) Mpx/s (goal >= 150; scipy 18), 2 workers \(fixed(leeMpxPerSecond2)) Mpx/s
              memory bandwidth      \(fixed(memoryBandwidthGBs)) GB/s (1 GiB copy, STREAM count)
              full-size product     \(fullProductSeconds1.map { String(format: "%.1f s", $0) } ?? "skipped") on 1 worker (peak \(fullProductPeakMB1.map { String(format: "%.0f MB", $0) } ?? "-")), \(fullProductSeconds2.map { String(format: "%.1f s", $0) } ?? "skipped") on 2 (peak \(fullProductPeakMB.map { String(format: "%.0f MB", $0) } ?? "-"))
            """
    }
}

/// The process's peak resident memory (VmHWM), resettable between measurements (Linux `clear_refs`).
enum PeakMemory {
    static func reset() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func megabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }
}
