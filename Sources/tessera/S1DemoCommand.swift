import ArgumentParser
import Foundation
import Grid
import Imaging
import Logging

/// `tessera demo`: the demos; the Sentinel-1 one by default.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a demo: the Sentinel-1 season (default) or the tiling job.",
        subcommands: [S1DemoCommand.self, TilingDemoCommand.self],
        defaultSubcommand: S1DemoCommand.self
    )
}

/// `tessera demo [s1]`: a synthetic Sentinel-1 season through ORTHO_S1_GRD and RICE_MAP on an embedded grid.
struct S1DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s1",
        abstract: "Generate a small synthetic season, run ORTHO_S1_GRD and RICE_MAP on an embedded grid, score the rice map.",
        discussion: """
            Writes zipped synthetic GRD products (--slices per date: consecutive slices of one pass) into \
            OUT/store, then runs ORTHO_S1_GRD on the first product (tiles and a zip in OUT/out/ortho) and RICE_MAP on the season (tiles per date and the \
            rice map, legend, areas and quicklooks in OUT/out/season) at the same time, and compares the map \
            with the ground truth. Run it again with the same --out: every task is already done.
            """
    )

    @Option(help: "Directory for the season and the outputs (default: a new temporary directory).")
    var out: String?

    @Option(help: "Dates in the season.")
    var dates: Int = 12

    @Option(help: "Tile side in pixels (10 m).")
    var tileSize: Int = 400

    @Option(help: "Seed of the synthetic scene and speckle.")
    var seed: UInt64 = 2026

    @Option(help: "Products per date: consecutive slices of one pass whose tiles RICE_MAP concatenates.")
    var slices: Int = 2

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard dates >= 4, dates <= 60 else { throw ValidationError("--dates must be between 4 and 60") }
        guard tileSize >= 100, tileSize <= 4000 else { throw ValidationError("--tile-size must be between 100 and 4000") }
        guard slices >= 1, slices <= 4 else { throw ValidationError("--slices must be between 1 and 4") }
    }

    func run() async throws {
        let directory = out ?? FileManager.default.temporaryDirectory.appendingPathComponent("tessera-demo-\(ProcessInfo.processInfo.processIdentifier)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var settings = SeasonDemo.Settings()
        settings.dates = dates
        settings.tileSize = tileSize
        settings.productSize = tileSize * 3 / 2
        settings.seed = seed
        settings.slicesPerDate = slices
        let terminal = !json && isatty(STDOUT_FILENO) != 0
        if !json { print("writing \(dates * slices) synthetic products (\(dates) dates × \(slices) slices, seed \(seed)) into \(directory)/store …") }
        let season = try await SeasonDemo.prepare(settings, in: directory)
        var gridSettings = GridSettings()
        gridSettings.dataDirectory = directory + "/grid"
        gridSettings.logger.logLevel = .warning  // the demo prints its own progress
        let functions = FunctionRegistry()
        ImagingFunctions.register(in: functions)
        let grid = try await Grid.start(settings: gridSettings, functions: functions)
        let report: SeasonDemo.Report
        do {
            let progress = ProgressLine(enabled: terminal)
            report = try await SeasonDemo.run(season, on: grid) { line in progress.show(line) }
            progress.finish()
        } catch {
            await grid.shutdown()
            throw error
        }
        await grid.shutdown()
        if json {
            try printJSON(report)
            return
        }
        for (name, state) in report.jobs.sorted(by: { $0.key < $1.key }) {
            print("\(name): \(state), \(report.tasks[name] ?? 0) tasks, \(report.alreadyDone[name] ?? 0) already done")
        }
        print(String(format: "rice map vs truth: overall accuracy %.4f, kappa %.4f, %d classified pixels unmapped", report.overallAccuracy, report.kappa, report.unmapped))
        for (name, recall) in report.recall.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  recall %-11@ %.4f", name as NSString, recall))
        }
        print(String(format: "%.2f s on the embedded grid; outputs:", report.seconds))
        for output in report.outputs { print("  \(output)") }
    }
}

/// A single status line rewritten in place on a terminal.
final class ProgressLine: Sendable {
    let enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ text: String) {
        guard enabled else { return }
        let line = text.count > 110 ? String(text.prefix(107)) + "…" : text
        FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + line).utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
    }
}
