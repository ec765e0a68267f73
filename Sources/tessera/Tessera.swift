import ArgumentParser

/// The `tessera` command: one binary for the grid, its tools and its benchmarks.
@main
struct Tessera: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "An actor-based compute grid for satellite-image processing.",
        subcommands: [RunCommand.self, ServeCommand.self, AgentCommand.self, SubmitCommand.self, JobsCommand.self, JobCommand.self, LogsCommand.self, JobActionCommand.self, PauseCommand.self, ResumeCommand.self, PriorityCommand.self, NodesCommand.self, DemoCommand.self, S1Command.self, RiceCommand.self, ClusterCommand.self, TopologyCommand.self, BenchCommand.self]
    )
}

/// `tessera bench …`: benchmarks that print figures (JSON with `--json`).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks and print their figures.",
        subcommands: [ExecutorBenchCommand.self, GridBenchCommand.self, JournalBenchCommand.self, ImagingBenchCommand.self, ClusterBenchCommand.self, RemoteBenchCommand.self]
    )
}
