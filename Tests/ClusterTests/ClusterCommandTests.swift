import Foundation
import Testing
import TesseraTestSupport

/// Runs `tessera` with `arguments` in a fresh temporary directory.
func runTessera(_ arguments: [String]) async throws -> (status: Int32, out: String, err: String) {
    try await runTessera(arguments, in: try TestDirectories.make("cli"))
}

@Suite("tessera cluster", .timeLimit(.minutes(1)),
       )
struct ClusterCommandTests {
    @Test func sim_printsTheFiguresAsJSON_andTheSameSeedGivesTheSameTrace() async throws {
        let arguments = ["cluster", "sim", "--nodes", "60", "--loss", "0.05", "--crash", "2", "--minutes", "1",
                         "--seed", "5", "--join-at", "10", "--json"]
        let first = try await runTessera(arguments)
        #expect(first.status == 0, "\(first.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.out.utf8)) as? [String: Any])
        for key in ["detectionP50s", "detectionP99s", "falseDeadPerMemberHour", "rounds9999", "rounds100",
                    "bytesPerMemberPerSecond", "largestDatagramBytes", "traceHash"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["detections"] as? Int == 2)
        #expect((object["largestDatagramBytes"] as? Int ?? 9999) <= 1200)
        let second = try await runTessera(arguments)
        let again = try #require(try JSONSerialization.jsonObject(with: Data(second.out.utf8)) as? [String: Any])
        #expect(again["traceHash"] as? String == object["traceHash"] as? String)
    }

    @Test(arguments: [
        (["--nodes", "1"], "--nodes"),
        (["--loss", "1.5"], "probabilities"),
        (["--profile", "gossipy"], "unknown --profile"),
        (["--partition", "30-10"], "START < END"),
        (["--partition", "10-30@2"], "fraction"),
        (["--crash", "500"], "--crash"),
    ])
    func sim_rejectsBadArguments_withAClearMessage(arguments: [String], message: String) async throws {
        let result = try await runTessera(["cluster", "sim"] + arguments)
        #expect(result.status != 0)
        #expect(result.err.contains(message), "\(result.err)")
    }

    @Test func member_refusesAMissingKeyFile_andABadAddress() async throws {
        let missing = try await runTessera(["cluster", "member", "--bind", "127.0.1.40:0", "--key-file", "/nonexistent"])
        #expect(missing.status != 0)
        #expect(missing.err.contains("--key-file"))
        let bad = try await runTessera(["cluster", "member", "--bind", "localhost", "--key-file", "/nonexistent"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("--bind"))
    }

    @Test func benchCluster_quickCodecTarget_printsItsFigures() async throws {
        let result = try await runTessera(["bench", "cluster", "--quick", "--only", "T10", "--json"])
        #expect(result.status == 0, "\(result.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let figures = try #require((object["T10"] as? [String: Any])?["figures"] as? [String: Double])
        #expect(figures["wrongfullyAccepted"] == 0)
        #expect((figures["validPacketsPerSecond"] ?? 0) > 0)
        #expect(try await runTessera(["bench", "cluster", "--only", "T11"]).status != 0)
    }
}
