import Foundation
import Testing
import TesseraTestSupport

/// The imaging commands of the `tessera` executable, run for real.
@Suite(.timeLimit(.minutes(2)))
struct ImagingCommandTests {
    /// `$TESSERA_TEST_DATA` or `../shared/data` next to the repository, when present.
    static let testData: String? = {
        if let configured = ProcessInfo.processInfo.environment["TESSERA_TEST_DATA"], !configured.isEmpty {
            return FileManager.default.fileExists(atPath: configured + "/sentinel1") ? configured : nil
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = repository.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return FileManager.default.fileExists(atPath: shared + "/sentinel1") ? shared : nil
    }()

    @Test(.enabled(if: testData != nil, "Sentinel-1 test data not found: set TESSERA_TEST_DATA or place it at ../shared/data"))
    func calibratePoints_printsTheGoldenColumnsAndValues() async throws {
        let data = try #require(Self.testData) + "/sentinel1"
        let safe = data + "/sarsen-grd-s1b-20211223/S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
        let golden = data + "/calibration_reference_dn100.csv"
        let directory = try makeTemporaryDirectory("calibrate")
        let run = try await runTessera(["s1", "calibrate-points", "--safe", safe, "--pol", "vv", "--csv", golden], in: directory)
        #expect(run.status == 0, "stderr: \(run.err)")
        let expected = try String(contentsOfFile: golden, encoding: .utf8).split(whereSeparator: \.isNewline).map { $0.split(separator: ",") }
        let printed = run.out.split(whereSeparator: \.isNewline).map { $0.split(separator: ",") }
        #expect(printed.first == expected.first)
        #expect(printed.count == expected.count)
        for (row, reference) in zip(printed.dropFirst(), expected.dropFirst()) {
            #expect(row.prefix(4) == reference.prefix(4))
            for column in 4..<reference.count {
                guard let a = Double(row[column]), let b = Double(reference[column]) else {
                    Issue.record("column \(column) is not a number: \(row[column]) / \(reference[column])")
                    continue
                }
                #expect(abs(a - b) <= max(abs(b) * 1e-6, 1e-6), "column \(column): \(a) vs \(b)")
            }
        }
        let bad = try await runTessera(["s1", "calibrate-points", "--safe", safe, "--pol", "xx", "--csv", golden], in: directory)
        #expect(bad.status == 64)
        try "line,pixel\n99999,5\n".write(toFile: directory + "/outside.csv", atomically: true, encoding: .utf8)
        let outside = try await runTessera(["s1", "calibrate-points", "--safe", safe, "--pol", "vv", "--csv", directory + "/outside.csv"], in: directory)
        #expect(outside.status != 0 && outside.err.contains("outside"), "stderr: \(outside.err)")
    }

    @Test func synthThenDemoAndRiceClassify_printJSONWithTheirKeys() async throws {
        let directory = try makeTemporaryDirectory("imaging-cli")
        let synth = try await runTessera(["s1", "synth", "--out", directory + "/synth", "--dates", "1", "--size", "120x90", "--seed", "3"], in: directory)
        #expect(synth.status == 0, "stderr: \(synth.err)")
        #expect(synth.out.contains(".SAFE") && FileManager.default.fileExists(atPath: directory + "/synth/truth.tif"))

        let demo = try await runTessera(["demo", "--out", directory + "/demo", "--tile-size", "100", "--dates", "10", "--json"], in: directory)
        #expect(demo.status == 0, "stderr: \(demo.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(demo.out.utf8)) as? [String: Any])
        #expect((object["overallAccuracy"] as? Double ?? 0) > 0.9, "\(demo.out)")
        #expect(object["kappa"] is Double && object["recall"] is [String: Double] && object["outputs"] is [String])

        let tiles = directory + "/demo/out/season/48QXH"
        let classify = try await runTessera(
            ["rice", "classify", "--vv", tiles + "/*_vv_*.tif", "--vh", tiles + "/*_vh_*.tif", "--out", directory + "/map/rice.tif", "--json"], in: directory)
        #expect(classify.status == 0, "stderr: \(classify.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(classify.out.utf8)) as? [String: Any])
        let classes = try #require(report["classes"] as? [String: Int])
        #expect(classes.values.reduce(0, +) == 100 * 100)
        #expect(Set(classes.keys) == ["rice", "water", "urban/tree", "unknown", "nodata"])

        let mismatch = try await runTessera(["rice", "classify", "--vv", tiles + "/*_vh_*.tif", "--vh", tiles + "/*_vh_*.tif", "--out", directory + "/bad.tif"], in: directory)
        #expect(mismatch.status != 0 && mismatch.err.contains("is not VV"), "stderr: \(mismatch.err)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/bad.tif"))
    }
}
