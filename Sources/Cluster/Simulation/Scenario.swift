/// One simulated run: the cluster, the network, the faults and how long to run.
public struct Scenario: Sendable, Hashable {
    /// Members at the start.
    public var members: Int
    /// The protocol every member runs.
    public var settings: MembershipSettings = .tessera
    /// The seed of every random choice in the run (the network, the faults and each member's own generator).
    public var seed: UInt64
    /// Simulated time to run.
    public var duration: Duration = .seconds(60)
    /// Start already converged (every member knows every other), or join one by one through seeds.
    public var startConverged = true
    /// The network.
    public var network = NetworkModel()
    /// Members that crash, at times spread evenly between `crashWindow` bounds.
    public var crashes = 0
    /// When crashes happen, as offsets from the start. Default: from 10 s to 30 s before the end.
    public var crashWindow: ClosedRange<Double>?
    /// Fraction of members whose message handling pauses now and then (CPU-starved).
    public var starvedFraction: Double = 0
    /// The length of one pause of a starved member, drawn uniformly.
    public var pause: ClosedRange<Double> = 0.5...3
    /// Mean running time between two pauses of a starved member (exponential).
    public var runBetweenPauses: Double = 10
    /// Largest clock drift, in parts per million, drawn uniformly per member in ±drift.
    public var clockDriftPPM: Double = 0
    /// Partitions.
    public var partitions: [PartitionPlan] = []
    /// Every member restarts (as a new process, joining through the seeds) at a random time in this window.
    public var massRestart: ClosedRange<Double>?
    /// A new member joins at this offset; the rounds until the others learn it are measured.
    public var joinAt: Double?

    /// A scenario with everything else at its default.
    public init(members: Int, seed: UInt64) {
        self.members = members
        self.seed = seed
    }
}
