import Foundation
import Testing
import TesseraTestSupport

let namespaceTestsEnabled = ProcessInfo.processInfo.environment["TESSERA_NETNS_TESTS"] == "1"

/// Runs `tools/netns` with `arguments` from the package root.
func netns(_ arguments: [String]) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let process = Process()
    process.executableURL = root.appendingPathComponent("tools/netns")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "tools/netns \(arguments.joined(separator: " ")) failed")
}

/// Five hosts in network namespaces (root only: TESSERA_NETNS_TESTS=1, which `.ci/run` sets).
@Suite("Network namespaces", .serialized, .timeLimit(.minutes(2)),
       .enabled(if: namespaceTestsEnabled, "set TESSERA_NETNS_TESTS=1 (root) to run the network-namespace tests"),
       .enabled(if: tesseraBinary != nil, "the tessera executable is not built next to the tests: run tools/test"))
struct NamespaceTests {
    @Test func fiveHosts_convergeUnderLoss_splitByAPartition_andHealWithoutAJoin() async throws {
        try? netns(["down"])
        try netns(["up", "5"])
        defer { try? netns(["down"]) }
        let keys = try makeKeyFile()
        let members = MemberProcesses()
        for host in 1...5 {
            try netns(["loss", "\(host)", "10"])
        }
        for host in 1...5 {
            var arguments = ["--bind", "10.78.0.\(host):7946", "--key-file", keys, "--heal-interval", "2"]
            if host > 1 { arguments += ["--join", "10.78.0.1:7946"] }
            try members.start(arguments, namespace: "tsc\(host)")
        }
        await members.wait { view in
            (0..<5).allSatisfy { observer in (0..<5).allSatisfy { $0 == observer || view.sees(observer, alive: $0) } }
        }
        for host in 1...5 { try netns(["clear", "\(host)"]) }
        let deadUnderLoss = members.view.last.values.flatMap(\.values).filter { $0 == "dead" }.count
        #expect(deadUnderLoss == 0)

        // Hosts 1–2 and 3–5 stop hearing each other.
        for host in 1...2 { try netns(["block", "\(host)", "3", "4", "5"]) }
        for host in 3...5 { try netns(["block", "\(host)", "1", "2"]) }
        let left = 0..<2
        let right = 2..<5
        await members.wait { view in
            left.allSatisfy { a in right.allSatisfy { b in view.sees(a, dead: b) && view.sees(b, dead: a) } }
        }
        let clock = ContinuousClock()
        let healed = clock.now
        for host in 1...5 { try netns(["clear", "\(host)"]) }
        await members.wait { view in
            (0..<5).allSatisfy { observer in (0..<5).allSatisfy { $0 == observer || view.sees(observer, alive: $0) } }
        }
        print("5 namespace hosts: one view again \(clock.now - healed) after the partition was lifted")
        for index in 0..<5 { members.signal(index, SIGTERM) }
    }
}
