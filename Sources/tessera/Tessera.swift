import ArgumentParser
import Grid
import Logging

/// The `tessera` command: one binary for the grid, its tools and its benchmarks.
@main
struct Tessera: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "An actor-based compute grid for satellite-image processing.",
        subcommands: [RunCommand.self, ServeCommand.self, AgentCommand.self, SubmitCommand.self, JobsCommand.self, JobCommand.self, LogsCommand.self, JobActionCommand.self, PauseCommand.self, ResumeCommand.self, PriorityCommand.self, NodesCommand.self, NodeSourceCommand.self, DemoCommand.self, S1Command.self, RiceCommand.self, ClusterCommand.self, TopologyCommand.self, BenchCommand.self]
    )

    /// The commands whose first argument is a job id.
    static let jobCommands: Set<String> = ["job", "logs", "kill", "pause", "resume", "priority"]

    /// Parses and runs the command; a negative job id is named as such (the parser would take `-1` for an option and
    /// say only that the id is missing).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let command = arguments.first, jobCommands.contains(command),
            let negative = arguments.dropFirst().first(where: { $0.count > 1 && $0.hasPrefix("-") && $0.dropFirst().allSatisfy(\.isNumber) })
        {
            Self.exit(withError: ValidationError("job ids are whole numbers from 1, got '\(negative)'"))
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// `tessera bench …`: benchmarks that print figures (JSON with `--json`).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks and print their figures.",
        subcommands: [ExecutorBenchCommand.self, GridBenchCommand.self, JournalBenchCommand.self, ImagingBenchCommand.self, ClusterBenchCommand.self, RemoteBenchCommand.self, ElasticBenchCommand.self]
    )
}

// The settings' own types parse on the command line, once: a bad value is refused with the accepted ones listed.
extension Logger.Level: @retroactive ExpressibleByArgument {}
extension Journal.Durability: ExpressibleByArgument {}
