import Foundation
import Testing
import TesseraTestSupport

let namespaceTestsEnabled = ProcessInfo.processInfo.environment["TESSERA_NETNS_TESTS"] == "1"

/// Runs `tools/netns` with `arguments` from the package root, without holding a thread.
func netns(_ arguments: [String]) async throws {
    let status = try await runProcess(netnsTool, arguments)
    #expect(status == 0, "tools/netns \(arguments.joined(separator: " ")) failed")
}

/// Removes the hosts (from a `defer`, which cannot await).
func netnsDown() {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: netnsTool)
    process.arguments = ["down"]
    try? process.run()
    process.waitUntilExit()
}

let netnsTool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("tools/netns").path

/// Five hosts in network namespaces (root only: TESSERA_NETNS_TESTS=1, which `.ci/run` sets).
@Suite("Network namespaces", .serialized, .timeLimit(.minutes(2)),
       .enabled(if: namespaceTestsEnabled, "set TESSERA_NETNS_TESTS=1 (root) to run the network-namespace tests"))
struct NamespaceTests {
    @Test func fiveHosts_convergeUnderLoss_splitByAPartition_andHealWithoutAJoin() async throws {
        try? await netns(["down"])
        try await netns(["up", "5"])
        defer { netnsDown() }
        let keys = try makeKeyFile()
        let members = MemberProcesses()
        for host in 1...5 {
            try await netns(["loss", "\(host)", "10"])
        }
        for host in 1...5 {
            var arguments = ["--bind", "10.78.0.\(host):7946", "--key-file", keys, "--heal-interval", "2"]
            if host > 1 { arguments += ["--join", "10.78.0.1:7946"] }
            try members.start(arguments, namespace: "tsc\(host)")
        }
        await members.wait { view in
            (0..<5).allSatisfy { observer in (0..<5).allSatisfy { $0 == observer || view.sees(observer, alive: $0) } }
        }
        for host in 1...5 { try await netns(["clear", "\(host)"]) }
        let deadUnderLoss = members.view.last.values.flatMap(\.values).filter { $0 == "dead" }.count
        #expect(deadUnderLoss == 0)

        // Hosts 1–2 and 3–5 stop hearing each other.
        for host in 1...2 { try await netns(["block", "\(host)", "3", "4", "5"]) }
        for host in 3...5 { try await netns(["block", "\(host)", "1", "2"]) }
        let left = 0..<2
        let right = 2..<5
        await members.wait { view in
            left.allSatisfy { a in right.allSatisfy { b in view.sees(a, dead: b) && view.sees(b, dead: a) } }
        }
        let clock = ContinuousClock()
        let healed = clock.now
        for host in 1...5 { try await netns(["clear", "\(host)"]) }
        await members.wait { view in
            (0..<5).allSatisfy { observer in (0..<5).allSatisfy { $0 == observer || view.sees(observer, alive: $0) } }
        }
        print("5 namespace hosts: one view again \(clock.now - healed) after the partition was lifted")
        for index in 0..<5 { members.signal(index, SIGTERM) }
    }
}
