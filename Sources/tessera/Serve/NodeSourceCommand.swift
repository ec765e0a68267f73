import ArgumentParser
import Foundation
import Grid
import GridServer
import Yams

/// `tessera nodesource add|edit|remove|list|show|deploy|undeploy`: the managed node sources of a running grid.
struct NodeSourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodesource", abstract: "Manage the node sources of a running grid (administrators).",
        discussion: """
            A node source is an infrastructure (processes, command) and a policy (static, dynamic, scheduled, tessera). \
            add and edit read it from a YAML or JSON file (- for stdin), in the shape POST /api/v1/nodesources takes, e.g.
              name: burst
              infrastructure: {type: processes, nodesPerHost: 1, pricePerHostHour: 0.5}
              policy: {type: dynamic, minNodes: 0, maxNodes: 4, refreshTime: 1s, minUptime: 30s}
            """,
        subcommands: [Add.self, Edit.self, Remove.self, List.self, Show.self, Deploy.self, Undeploy.self])

    /// The spec file as JSON bytes.
    static func specBody(_ path: String) throws -> Data {
        let text: String?
        if path == "-" {
            text = String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8)
        } else {
            text = try? String(contentsOfFile: path, encoding: .utf8)
        }
        guard let text else { throw ValidationError("cannot read \(path)") }
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw ValidationError("\(path): not YAML or JSON: \(error)")
        }
        guard let object = loaded as? [String: Any], JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object)
        else { throw ValidationError("\(path): expected a mapping (a node source)") }
        return data
    }

    static func send(_ options: ClientOptions, _ method: String, _ path: String, body: Data? = nil) async throws -> Data {
        let client = try options.client()
        return try await clientCall { () async throws(GridClient.Failure) in
            try await client.send(client.request(method, path, body: body, contentType: body == nil ? nil : "application/json"))
        }
    }

    static func printOut(_ data: Data, json: Bool) {
        if json {
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) else { return }
        if let list = object as? [[String: Any]] {
            print(NodeSourceText.table(list))
        } else if let one = object as? [String: Any] {
            print(NodeSourceText.detail(one))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Create and deploy a node source.")
        @Argument(help: "The node source (YAML or JSON file, - for stdin).") var file: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let data = try await NodeSourceCommand.send(options, "POST", "api/v1/nodesources", body: try NodeSourceCommand.specBody(file))
            NodeSourceCommand.printOut(data, json: options.json)
        }
    }

    struct Edit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "edit", abstract: "Replace a node source's infrastructure parameters and policy.")
        @Argument(help: "The source's name.") var name: String
        @Argument(help: "The node source (YAML or JSON file, - for stdin).") var file: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let data = try await NodeSourceCommand.send(options, "PUT", "api/v1/nodesources/\(name)", body: try NodeSourceCommand.specBody(file))
            NodeSourceCommand.printOut(data, json: options.json)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove", abstract: "Remove a node source (refused while its nodes hold work, unless --force: then it drains first).")
        @Argument(help: "The source's name.") var name: String
        @Flag(help: "Drain the source's running work, then remove it.") var force = false
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let data = try await NodeSourceCommand.send(options, "DELETE", "api/v1/nodesources/\(name)\(force ? "?force=true" : "")")
            if data.isEmpty { print("removed \(name)") } else { NodeSourceCommand.printOut(data, json: options.json) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the node sources with their nodes by state and cost.")
        @OptionGroup var options: ClientOptions
        func run() async throws {
            NodeSourceCommand.printOut(try await NodeSourceCommand.send(options, "GET", "api/v1/nodesources"), json: options.json)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a node source: its spec, hosts, nodes, usage and history.")
        @Argument(help: "The source's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            let own = ["local", "agents"].contains(name)
            NodeSourceCommand.printOut(
                try await NodeSourceCommand.send(options, "GET", "api/v1/nodesources/\(name)\(own ? "" : "/usage")"), json: options.json)
        }
    }

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "deploy", abstract: "Deploy a node source (it acquires as its policy says).")
        @Argument(help: "The source's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            NodeSourceCommand.printOut(try await NodeSourceCommand.send(options, "PUT", "api/v1/nodesources/\(name)/deploy"), json: options.json)
        }
    }

    struct Undeploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "undeploy", abstract: "Undeploy a node source (its hosts drain and leave).")
        @Argument(help: "The source's name.") var name: String
        @OptionGroup var options: ClientOptions
        func run() async throws {
            NodeSourceCommand.printOut(try await NodeSourceCommand.send(options, "PUT", "api/v1/nodesources/\(name)/undeploy"), json: options.json)
        }
    }
}

/// The node sources as text: a table of sources (for `nodesource list` and `nodes`), and one source in detail.
enum NodeSourceText {
    static let states = ["DEPLOYING", "CONFIGURING", "FREE", "BUSY", "TO_BE_REMOVED", "DOWN", "LOST"]

    static func table(_ list: [[String: Any]]) -> String {
        Table.render(
            ["SOURCE", "INFRASTRUCTURE", "POLICY", "STATE", "RANK"] + states + ["HOST-HOURS", "COST"],
            list.map { source in
                let counts = source["counts"] as? [String: Int] ?? [:]
                let usage = source["usage"] as? [String: Any] ?? [:]
                return [
                    source["name"] as? String ?? "", source["infrastructure"] as? String ?? "", source["policy"] as? String ?? "",
                    source["state"] as? String ?? "running", "\(source["rank"] as? Int ?? 0)",
                ] + states.map { "\(counts[$0] ?? 0)" } + [
                    (usage["hostHours"] as? Double).map { String(format: "%.3f", $0) } ?? "-",
                    (usage["cost"] as? Double).map { String(format: "%.2f", $0) } ?? "-",
                ]
            })
    }

    static func detail(_ source: [String: Any]) -> String {
        var lines = [table([source])]
        if let failure = source["lastFailure"] as? String { lines.append("last failure: \(failure) (\(source["failuresInRow"] as? Int ?? 0) in a row)") }
        if let usage = source["usage"] as? [String: Any] {
            let acquisitions = (usage["acquisitions"] as? [String: Int] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            lines.append("acquisitions: \(acquisitions.joined(separator: ", "))")
            if let ready = usage["readySeconds"] as? [String: Double] {
                lines.append(String(format: "request to FREE: p50 %.1f s, p95 %.1f s", ready["p50"] ?? 0, ready["p95"] ?? 0))
            }
            if let history = usage["history"] as? [[String: Any]], !history.isEmpty {
                lines.append("nodes through time (last \(min(history.count, 12)) samples):")
                lines.append(Table.render(["AT"] + states.prefix(5), history.suffix(12).map { sample in
                    [sample["at"] as? String ?? ""] + states.prefix(5).map { "\(sample[$0] as? Int ?? 0)" }
                }))
            }
        }
        if let hosts = source["hosts"] as? [[String: Any]], !hosts.isEmpty {
            lines.append(Table.render(["HOST", "PHASE", "HANDLE", "ADDRESS", "BUSY", "REQUESTED"], hosts.map { host in
                [
                    host["name"] as? String ?? "", host["phase"] as? String ?? "", host["handle"] as? String ?? "", host["address"] as? String ?? "",
                    "\(host["busy"] as? Int ?? 0)", host["requested"] as? String ?? "",
                ]
            }))
        }
        return lines.joined(separator: "\n")
    }
}
