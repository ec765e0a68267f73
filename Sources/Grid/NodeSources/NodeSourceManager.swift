import Foundation
import Logging

/// Why an operation on the managed node sources was refused.
public enum NodeSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A field of the spec is wrong (400).
    case invalid(field: String, String)
    /// No source has this name (404).
    case notFound(String)
    /// A source has this name already (409).
    case exists(String)
    /// The source's nodes hold work: remove it with `force` to drain it first (409).
    case busy(String)
    /// The grid cannot run managed sources: it has no cluster for agents to join (409).
    case unavailable(String)
    /// The grid holds as many sources as it may (409).
    case tooMany(Int)

    public var description: String {
        switch self {
        case .invalid(let field, let why): "\(field): \(why)"
        case .notFound(let name): "no node source named '\(name)'"
        case .exists(let name): "a node source named '\(name)' exists already"
        case .busy(let name): "node source '\(name)' holds running work: remove it with force=true to drain it first"
        case .unavailable(let why): why
        case .tooMany(let limit): "the grid holds \(limit) node sources already (the most it takes): remove one first"
        }
    }
}

/// The grid's managed node sources (``ElasticNodeSource``): created, edited, deployed, undeployed and removed at run
/// time, journaled, rebuilt after a restart, and the desk where agents that join with a token find their source.
///
/// Bounds: at most ``maxSources`` sources.
public actor NodeSourceManager {
    public static let maxSources = 64
    private let grid: Grid
    private var sources: [String: ElasticNodeSource] = [:]
    /// How each spec becomes an infrastructure; `nil` until the grid has a cluster agents can join.
    private var makeInfrastructure: (@Sendable (NodeSourceSpec) -> any NodeInfrastructure)?
    private var unavailable = "this grid runs no cluster for agents to join: start tessera serve with --cluster-bind and --key-file"
    private var logger: Logger

    init(grid: Grid) {
        self.grid = grid
        self.logger = grid.settings.logger
    }

    /// Makes managed sources possible: `make` builds each spec's infrastructure. Then rebuilds the journal's sources
    /// and reconciles each with its infrastructure, and adds `configured` ones (from `serve --config`) that the journal
    /// does not hold.
    public func enable(make: @escaping @Sendable (NodeSourceSpec) -> any NodeInfrastructure, configured: [NodeSourceSpec] = []) async {
        // Sources cannot be added through the API until the journal's are rebuilt (a name could be taken twice).
        var removing: [String] = []
        for stored in (try? grid.journal?.nodeSources()) ?? [] {
            guard let text = String(data: stored.spec, encoding: .utf8), let spec = try? NodeSourceSpec(text: text) else {
                logger.error("a journaled node source cannot be read: skipped", metadata: ["grid.source": "\(stored.name)"])
                continue
            }
            let state = try? JSONDecoder().decode(ElasticSourceCore.StoredState.self, from: stored.state)
            let core = ElasticSourceCore(
                spec: spec, seed: Self.seed(spec), restoring: state?.hosts ?? [], usage: state?.usage ?? .init(),
                deployed: state?.deployed ?? true, tokens: Self.token)
            let source = ElasticNodeSource(core: core, grid: grid, makeInfrastructure: make)
            sources[spec.name] = source
            await source.start(reconciling: true)
            if state?.removing == true { removing.append(spec.name) }
            logger.info("node source rebuilt from the journal", metadata: ["grid.source": "\(spec.name)", "grid.hosts": "\(state?.hosts.count ?? 0)"])
        }
        makeInfrastructure = make
        // A removal the restart cut short goes on.
        for name in removing { _ = try? await remove(name, force: true) }
        for spec in configured where sources[spec.name] == nil {
            do {
                _ = try await add(spec)
            } catch {
                logger.error("a configured node source was refused", metadata: ["grid.source": "\(spec.name)", "grid.error": "\(error)"])
            }
        }
    }

    /// The cluster addresses of the hosts the journal says had joined: the cluster's seeds after a restart, so that
    /// their agents find the new server.
    public static func journaledAddresses(_ journal: Journal?) -> [String] {
        var addresses: [String] = []
        for stored in (try? journal?.nodeSources()) ?? [] {
            guard let state = try? JSONDecoder().decode(ElasticSourceCore.StoredState.self, from: stored.state) else { continue }
            addresses += state.hosts.compactMap(\.address)
        }
        return addresses
    }

    // MARK: - Administration

    /// Creates and deploys a source.
    public func add(_ spec: NodeSourceSpec) async throws(NodeSourceError) -> NodeSourceStatus {
        guard let make = makeInfrastructure else { throw .unavailable(unavailable) }
        guard sources[spec.name] == nil else { throw .exists(spec.name) }
        guard sources.count < Self.maxSources else { throw .tooMany(Self.maxSources) }
        let source = ElasticNodeSource(
            core: ElasticSourceCore(spec: spec, seed: Self.seed(spec), tokens: Self.token), grid: grid, makeInfrastructure: make)
        sources[spec.name] = source
        await source.start(reconciling: false)
        logger.notice("node source added", metadata: ["grid.source": "\(spec.name)", "grid.infrastructure": "\(spec.infrastructure.type)", "grid.policy": "\(spec.policy.type)"])
        return await source.status()
    }

    /// Replaces a source's spec (its name and infrastructure type stay).
    public func edit(_ name: String, _ spec: NodeSourceSpec) async throws(NodeSourceError) -> NodeSourceStatus {
        guard let source = sources[name], !(await source.removing) else { throw .notFound(name) }
        guard spec.name == name else { throw .invalid(field: "name", "a source keeps its name ('\(name)'); add a new one instead") }
        try await source.edit(spec)
        logger.notice("node source edited", metadata: ["grid.source": "\(name)"])
        return await source.status()
    }

    /// Deploys (acquires as its policy says) or undeploys (releases, draining what runs) a source.
    public func setDeployed(_ name: String, _ flag: Bool) async throws(NodeSourceError) -> NodeSourceStatus {
        guard let source = sources[name], !(await source.removing) else { throw .notFound(name) }
        await source.setDeployed(flag)
        return await source.status()
    }

    /// Removes a source. One whose nodes hold work is refused unless `force`; then it drains first and leaves once
    /// its hosts are released. Returns its status (removing) or `nil` when it left at once.
    public func remove(_ name: String, force: Bool) async throws(NodeSourceError) -> NodeSourceStatus? {
        guard let source = sources[name], !(await source.removing) else { throw .notFound(name) }
        if !force, await source.holdsWork() { throw .busy(name) }
        let journal = grid.journal
        let gone = await source.remove { [weak self] in
            try? journal?.removeNodeSource(named: name)
            await self?.forget(name)
        }
        logger.notice("node source removed", metadata: ["grid.source": "\(name)", "grid.force": "\(force)", "grid.draining": "\(!gone)"])
        guard !gone else {
            try? journal?.removeNodeSource(named: name)
            sources[name] = nil
            return nil
        }
        return await source.status()
    }

    private func forget(_ name: String) { sources[name] = nil }

    /// The seed of a source's boot delays: its spec's (`infrastructure.seed`), so that a demo's boots repeat.
    static func seed(_ spec: NodeSourceSpec) -> UInt64 {
        if case .processes(_, let seed, _) = spec.infrastructure { return seed }
        return UInt64.random(in: 0...UInt64.max)
    }

    /// A join token: 128 bits from the system's generator.
    @Sendable static func token() -> String {
        var random = SystemRandomNumberGenerator()
        return String(format: "%016llx%016llx", random.next() as UInt64, random.next() as UInt64)
    }

    /// Every source, by name.
    public func statuses() async -> [NodeSourceStatus] {
        var list: [NodeSourceStatus] = []
        for name in sources.keys.sorted() { if let source = sources[name] { list.append(await source.status()) } }
        return list
    }

    public func status(_ name: String) async throws(NodeSourceError) -> NodeSourceStatus {
        guard let source = sources[name] else { throw .notFound(name) }
        return await source.status()
    }

    /// Stops every source; a graceful stop releases their hosts (nothing outlives the grid), a crash leaves them
    /// for the next start to adopt or release.
    public func shutdown() async {
        for source in sources.values { await source.stop(releasing: true) }
    }

    // MARK: - The agents' desk

    /// What a host that joined with a token gets: its source's name, rank and users.
    public struct Claim: Sendable {
        public var source: String
        public var rank: Int
        public var users: Set<String>?
        public var host: String
    }

    /// An agent announced itself with `token` on `session`: its source, or `nil` when no source waits for it.
    public func claim(token: String, session: Int, address: String) async -> Claim? {
        for source in sources.values {
            if let host = await source.joined(token: token, session: session, address: address) {
                let spec = await source.status().spec
                return Claim(source: source.name, rank: spec.rank, users: spec.users, host: host.name)
            }
        }
        return nil
    }

    /// A session ended without a release (the agent died or its link broke).
    public func sessionLost(_ session: Int, reason: String) async {
        for source in sources.values where await source.owns(session: session) {
            await source.sessionLost(session, reason: reason)
        }
    }
}
