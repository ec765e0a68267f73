import Foundation
import Yams

/// A node source an administrator manages at run time: an infrastructure that acquires and releases hosts, a
/// policy that says when, and the rules around them (rank, users, timeouts, billing). Read from JSON (REST) or
/// YAML (`serve --config`, the CLI) by ``init(parsing:)``, which checks every field and its bound and names the
/// first one that is wrong.
///
/// Bounds: a name of 1–64 characters `[A-Za-z0-9._-]` that starts with a letter or a digit; rank 0–1000; at most 1,000 users; 1–4,096 nodes per host;
/// at most 1,000 hosts (`maxNodes` ≤ 1,000 × `nodesPerHost`); durations from 1 ms to 7 days (refresh ≥ 100 ms);
/// commands of at most 4,096 bytes; a budget and a price of at most 10⁹.
public struct NodeSourceSpec: Sendable {
    /// How hosts are acquired.
    public enum Infrastructure: Sendable, Hashable {
        /// `tessera agent` processes on this machine, each on its own loopback address: a stand-in for VMs.
        case processes(bootDelay: ClosedRange<Duration>?, seed: UInt64, orphanTimeout: Duration = .seconds(600))
        /// An operator's commands: `acquire` starts one host, `release` stops it, `list` prints the hosts that exist.
        case command(acquire: String, release: String, list: String?)

        public var type: String {
            switch self {
            case .processes: "processes"
            case .command: "command"
            }
        }
    }

    /// When hosts are acquired and released.
    public enum Policy: Sendable {
        /// `hosts` at all times.
        case `static`(hosts: Int)
        /// ProActive's DynamicPolicy (its parameters, with the #2821 and one-decision fixes).
        case dynamic(DynamicPolicy)
        /// `hosts` inside the calendar windows only.
        case scheduled(windows: [CalendarWindow], hosts: Int)
        /// Tessera's rule: look-ahead, consolidation by draining, release at the end of the paid period.
        case tessera(TesseraPolicy)

        public var type: String {
            switch self {
            case .static: "static"
            case .dynamic: "dynamic"
            case .scheduled: "scheduled"
            case .tessera: "tessera"
            }
        }
    }

    public var name: String
    public var infrastructure: Infrastructure
    public var policy: Policy
    /// Workers (nodes) per host.
    public var nodesPerHost: Int = 1
    /// Lower ranks are filled first; the local nodes and the agents that join have rank 0.
    public var rank: Int = 10
    /// When set, only these users' jobs run on the source's nodes.
    public var users: Set<String>?
    /// A host not joined this long after it was asked for is failed and released.
    public var deploymentTimeout: Duration = .seconds(120)
    /// A draining host's work that runs longer than this is queued again elsewhere (not counted as a failure).
    public var drainTimeout: Duration = .seconds(600)
    /// How hosts are billed.
    public var billing = Billing(unit: .minute, minimum: .seconds(60), pricePerHostHour: 0)
    /// What the source may spend in a UTC day; acquisition never goes past it.
    public var budgetPerDay: Double?
    /// Whether a host the infrastructure evicts (spot, preemption) counts as a node failure for its running tasks.
    public var evictionCountsAsFailure = false
    /// ProActive's `globalScope`: the policy counts every task (`true`), or only those whose `NODE_SOURCE` generic
    /// information names this source.
    public var globalScope = true
    /// How often the infrastructure's hosts are listed (a host no longer listed was evicted).
    public var listInterval: Duration = .seconds(30)

    public init(name: String, infrastructure: Infrastructure, policy: Policy) {
        self.name = name
        self.infrastructure = infrastructure
        self.policy = policy
    }

    /// The most hosts the policy may hold.
    public var maxHosts: Int {
        switch policy {
        case .static(let hosts), .scheduled(_, let hosts): hosts
        case .dynamic(let dynamic): (dynamic.maxNodes + nodesPerHost - 1) / max(1, nodesPerHost)
        case .tessera(let tessera): tessera.maxHosts
        }
    }

    /// The policy as a core, with the budget around it when there is one.
    public func makePolicy() -> any ElasticPolicy {
        let inner: any ElasticPolicy =
            switch policy {
            case .static(let hosts): StaticPolicy(hosts: hosts, refresh: .seconds(1))
            case .dynamic(let dynamic): dynamic
            case .scheduled(let windows, let hosts): ScheduledPolicy(windows: windows, hosts: hosts, refresh: .seconds(1))
            case .tessera(let tessera): tessera
            }
        guard let budgetPerDay else { return inner }
        return BudgetedPolicy(AnyElasticPolicy(inner), perDay: budgetPerDay)
    }

    /// Names users may give sources: not the grid's own.
    public static let reservedNames: Set<String> = ["local", "agents"]
    /// The placeholders commands may use.
    public static let placeholders: Set<String> = ["name", "count", "join", "token", "keyFile", "nodesPerHost", "handle", "source"]
}

/// A policy behind an existential, as a value (``BudgetedPolicy`` wraps a concrete one).
public struct AnyElasticPolicy: ElasticPolicy {
    public var base: any ElasticPolicy
    public init(_ base: any ElasticPolicy) { self.base = base }
    public var name: String { base.name }
    public var refresh: Duration { base.refresh }
    public mutating func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] { base.decide(snapshot) }
}

// MARK: - Reading

extension NodeSourceSpec {
    /// Reads a source from JSON or YAML text (Yams reads both into Swift's own types, so that `1` and `true` differ).
    ///
    /// - Parameter defaultName: the name of a body that gives none (`PUT /api/v1/nodesources/NAME`).
    public init(text: String, defaultName: String? = nil) throws(ElasticConfigError) {
        guard text.utf8.count <= 256 * 1024 else { throw .invalid(field: "(body)", "is larger than 256 KiB") }
        var loaded: Any?
        do {
            // Sized before anything expands it: a few hundred bytes of nested aliases would otherwise take gigabytes.
            if let node = try Yams.compose(yaml: text) {
                var limits = InputLimits.default
                limits.yamlAliases = 16
                limits.yamlNodes = 10_000
                if let problem = WorkflowYAMLReader.sizeProblem(of: node, limits: limits) {
                    throw ElasticConfigError.invalid(field: "(body)", "\(problem.message) (a node source allows 16 aliases and 10,000 nodes)")
                }
            }
            loaded = try Yams.load(yaml: text)
        } catch let error as ElasticConfigError {
            throw error
        } catch {
            throw .invalid(field: "(body)", "is not JSON or YAML: \(error)")
        }
        if let defaultName, var object = loaded as? [String: Any], object["name"] == nil {
            object["name"] = defaultName
            loaded = object
        }
        try self.init(parsing: loaded ?? [String: Any]())
    }

    /// Reads a source from a JSON or YAML mapping (`[String: Any]`, as JSONSerialization and Yams give it).
    ///
    /// - Throws: ``ElasticConfigError/invalid(field:_:)`` naming the first field that is missing, unknown or out of
    ///   bounds (`policy.maxNodes`, `infrastructure.acquire`…).
    public init(parsing any: Any) throws(ElasticConfigError) {
        var reader = FieldReader(path: "")
        let top = try reader.mapping(any, allowed: [
            "name", "infrastructure", "policy", "rank", "users", "deploymentTimeout", "drainTimeout", "billing", "budget",
            "evictionCountsAsFailure",
        ])
        let name = try reader.string(top, "name", max: 64) ?? ""
        guard !name.isEmpty else { throw .invalid(field: "name", "is required") }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }),
            let first = name.first, first.isLetter || first.isNumber
        else {
            throw .invalid(field: "name", "'\(name)' must start with a letter or a digit and hold only letters, digits, '.', '_' and '-'")
        }
        guard !Self.reservedNames.contains(name) else { throw .invalid(field: "name", "'\(name)' is the grid's own source") }

        guard let infrastructureValue = top["infrastructure"] else { throw .invalid(field: "infrastructure", "is required") }
        var infra = FieldReader(path: "infrastructure.")
        let infrastructureFields = try infra.mapping(infrastructureValue, allowed: [
            "type", "nodesPerHost", "bootDelay", "seed", "pricePerHostHour", "acquire", "release", "list", "listInterval", "orphanTimeout",
        ])
        let type = try infra.string(infrastructureFields, "type", max: 32) ?? ""
        let nodesPerHost = try infra.int(infrastructureFields, "nodesPerHost", in: 1...4096) ?? 1
        let price = try infra.double(infrastructureFields, "pricePerHostHour", in: 0...1e9) ?? 0
        let infrastructure: Infrastructure
        switch type {
        case "processes":
            for key in ["acquire", "release", "list"] where infrastructureFields[key] != nil {
                throw .invalid(field: "infrastructure.\(key)", "is for the command infrastructure")
            }
            let boot = try infra.durationRange(infrastructureFields, "bootDelay")
            let seed = try infra.int(infrastructureFields, "seed", in: 0...Int.max).map(UInt64.init) ?? 1
            let orphan = try infra.duration(infrastructureFields, "orphanTimeout", least: .seconds(1)) ?? .seconds(600)
            infrastructure = .processes(bootDelay: boot, seed: seed, orphanTimeout: orphan)
        case "command":
            guard let acquire = try infra.command(infrastructureFields, "acquire") else { throw .invalid(field: "infrastructure.acquire", "is required") }
            guard let release = try infra.command(infrastructureFields, "release") else { throw .invalid(field: "infrastructure.release", "is required") }
            let list = try infra.command(infrastructureFields, "list")
            for key in ["bootDelay", "seed", "orphanTimeout"] where infrastructureFields[key] != nil {
                throw .invalid(field: "infrastructure.\(key)", "is for the processes infrastructure")
            }
            infrastructure = .command(acquire: acquire, release: release, list: list)
        case "":
            throw .invalid(field: "infrastructure.type", "is required (processes or command)")
        case "local", "agents":
            throw .invalid(field: "infrastructure.type", "'\(type)' is the grid's own source (its local nodes and the agents that join); a managed source is processes or command")
        default:
            throw .invalid(field: "infrastructure.type", "unknown infrastructure '\(type)' (processes or command)")
        }

        guard let policyValue = top["policy"] else { throw .invalid(field: "policy", "is required") }
        var pol = FieldReader(path: "policy.")
        let policyFields = try pol.mapping(policyValue, allowed: [
            "type", "hosts", "minNodes", "maxNodes", "minHosts", "maxHosts", "loadFactor", "loadFactorRoundingUp", "refreshTime", "initDelay",
            "minUptime", "billingAware", "windows", "releaseWithin", "globalScope",
        ])
        let policyType = try pol.string(policyFields, "type", max: 32) ?? ""
        let maxHostsBound = 1000
        func only(_ keys: Set<String>) throws(ElasticConfigError) {
            for key in policyFields.keys.sorted() where key != "type" && !keys.contains(key) {
                throw .invalid(field: "policy.\(key)", "is not a parameter of the \(policyType) policy (it takes \(keys.sorted().joined(separator: ", ")))")
            }
        }
        let policy: Policy
        switch policyType {
        case "static":
            try only(["hosts"])
            policy = .static(hosts: try pol.int(policyFields, "hosts", in: 0...maxHostsBound) ?? 1)
        case "dynamic":
            try only(["minNodes", "maxNodes", "loadFactor", "loadFactorRoundingUp", "refreshTime", "initDelay", "minUptime", "billingAware", "globalScope"])
            let defaults = DynamicPolicy()
            let maxNodes = try pol.int(policyFields, "maxNodes", in: 0...(maxHostsBound * nodesPerHost)) ?? defaults.maxNodes
            let minNodes = try pol.int(policyFields, "minNodes", in: 0...(maxHostsBound * nodesPerHost)) ?? defaults.minNodes
            guard minNodes <= maxNodes else { throw .invalid(field: "policy.minNodes", "\(minNodes) is more than maxNodes \(maxNodes)") }
            let loadFactor = try pol.double(policyFields, "loadFactor", in: 0...1e6) ?? defaults.loadFactor
            guard loadFactor > 0 else { throw .invalid(field: "policy.loadFactor", "must be more than 0") }
            policy = .dynamic(DynamicPolicy(
                minNodes: minNodes, maxNodes: maxNodes, loadFactor: loadFactor,
                loadFactorRoundingUp: try pol.bool(policyFields, "loadFactorRoundingUp") ?? defaults.loadFactorRoundingUp,
                refresh: try pol.duration(policyFields, "refreshTime", least: .milliseconds(100)) ?? defaults.refresh,
                initDelay: try pol.duration(policyFields, "initDelay", least: .zero) ?? defaults.initDelay,
                minUptime: try pol.duration(policyFields, "minUptime", least: .zero) ?? defaults.minUptime,
                billingAware: try pol.bool(policyFields, "billingAware") ?? defaults.billingAware))
        case "scheduled":
            try only(["hosts", "windows"])
            guard let list = policyFields["windows"] as? [Any], !list.isEmpty, list.count <= 64 else {
                throw .invalid(field: "policy.windows", "is required: 1 to 64 windows such as \"Mon-Fri 08:00-20:00\"")
            }
            var windows: [CalendarWindow] = []
            for (index, item) in list.enumerated() {
                guard let text = item as? String else { throw .invalid(field: "policy.windows[\(index)]", "must be a string") }
                do {
                    windows.append(try CalendarWindow(parsing: text))
                } catch {
                    throw .invalid(field: "policy.windows[\(index)]", "\(error)")
                }
            }
            policy = .scheduled(windows: windows, hosts: try pol.int(policyFields, "hosts", in: 0...maxHostsBound) ?? 1)
        case "tessera":
            try only(["minHosts", "maxHosts", "refreshTime", "minUptime", "releaseWithin", "globalScope"])
            let maxHosts = try pol.int(policyFields, "maxHosts", in: 0...maxHostsBound) ?? 10
            let minHosts = try pol.int(policyFields, "minHosts", in: 0...maxHostsBound) ?? 0
            guard minHosts <= maxHosts else { throw .invalid(field: "policy.minHosts", "\(minHosts) is more than maxHosts \(maxHosts)") }
            let defaults = TesseraPolicy(maxHosts: maxHosts)
            policy = .tessera(TesseraPolicy(
                minHosts: minHosts, maxHosts: maxHosts,
                refresh: try pol.duration(policyFields, "refreshTime", least: .milliseconds(100)) ?? defaults.refresh,
                minUptime: try pol.duration(policyFields, "minUptime", least: .zero) ?? defaults.minUptime,
                releaseWithin: try pol.duration(policyFields, "releaseWithin", least: .zero) ?? defaults.releaseWithin))
        case "":
            throw .invalid(field: "policy.type", "is required (static, dynamic, scheduled or tessera)")
        default:
            throw .invalid(field: "policy.type", "unknown policy '\(policyType)' (static, dynamic, scheduled or tessera)")
        }

        self.init(name: name, infrastructure: infrastructure, policy: policy)
        self.nodesPerHost = nodesPerHost
        globalScope = try pol.bool(policyFields, "globalScope") ?? true
        listInterval = try infra.duration(infrastructureFields, "listInterval", least: .seconds(1)) ?? listInterval
        rank = try reader.int(top, "rank", in: 0...1000) ?? 10
        if let users = top["users"] {
            guard let list = users as? [Any], list.count <= 1000 else { throw .invalid(field: "users", "must be a list of at most 1000 user names") }
            var names: Set<String> = []
            for (index, user) in list.enumerated() {
                guard let name = user as? String, !name.isEmpty, name.utf8.count <= 64 else {
                    throw .invalid(field: "users[\(index)]", "must be a user name of 1 to 64 bytes")
                }
                names.insert(name)
            }
            self.users = names
        }
        deploymentTimeout = try reader.duration(top, "deploymentTimeout", least: .milliseconds(100)) ?? deploymentTimeout
        if case .processes(let boot?, _, _) = infrastructure, boot.upperBound >= deploymentTimeout {
            throw .invalid(field: "infrastructure.bootDelay", "\(boot.upperBound) is not shorter than the deployment timeout \(deploymentTimeout): no host would join in time")
        }
        drainTimeout = try reader.duration(top, "drainTimeout", least: .zero) ?? drainTimeout
        budgetPerDay = try reader.double(top, "budget", in: 0...1e9)
        evictionCountsAsFailure = try reader.bool(top, "evictionCountsAsFailure") ?? false
        billing.pricePerHostHour = price
        if let value = top["billing"] {
            var bill = FieldReader(path: "billing.")
            let fields = try bill.mapping(value, allowed: ["unit", "minimum"])
            if let unit = try bill.string(fields, "unit", max: 16) {
                guard let parsed = Billing.Unit(rawValue: unit) else { throw .invalid(field: "billing.unit", "'\(unit)' is not second, minute or hour") }
                billing.unit = parsed
            }
            billing.minimum = try bill.duration(fields, "minimum", least: .zero) ?? billing.unit.duration
        }
    }
}

/// Reads typed fields out of a parsed JSON/YAML mapping, naming each by its path.
private struct FieldReader {
    let path: String

    func mapping(_ value: Any, allowed: Set<String>) throws(ElasticConfigError) -> [String: Any] {
        guard let fields = value as? [String: Any] else {
            throw .invalid(field: path.isEmpty ? "(body)" : String(path.dropLast()), "must be a mapping")
        }
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalid(field: path + unknown, "unknown field (known: \(allowed.sorted().joined(separator: ", ")))")
        }
        return fields
    }

    func string(_ fields: [String: Any], _ key: String, max: Int) throws(ElasticConfigError) -> String? {
        guard let value = fields[key] else { return nil }
        guard let text = value as? String else { throw .invalid(field: path + key, "must be a string") }
        guard text.utf8.count <= max else { throw .invalid(field: path + key, "is longer than \(max) bytes") }
        return text
    }

    func command(_ fields: [String: Any], _ key: String) throws(ElasticConfigError) -> String? {
        guard let text = try string(fields, key, max: 4096) else { return nil }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .invalid(field: path + key, "is empty") }
        guard !text.contains("\0") else { throw .invalid(field: path + key, "holds a NUL byte") }
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            // `${VAR}` is the shell's, not a placeholder.
            let shell = open > rest.startIndex && rest[rest.index(before: open)] == "$"
            if !shell, !name.isEmpty, name.allSatisfy({ $0.isLetter }), !NodeSourceSpec.placeholders.contains(name) {
                throw .invalid(field: path + key, "unknown placeholder {\(name)} (known: \(NodeSourceSpec.placeholders.sorted().map { "{\($0)}" }.joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: close)...]
        }
        return text
    }

    func int(_ fields: [String: Any], _ key: String, in range: ClosedRange<Int>) throws(ElasticConfigError) -> Int? {
        guard let value = fields[key] else { return nil }
        guard !(value is Bool), let number = Self.whole(value) else { throw .invalid(field: path + key, "must be a whole number") }
        guard range.contains(number) else { throw .invalid(field: path + key, "\(number) is outside \(range.lowerBound)…\(range.upperBound)") }
        return number
    }

    func double(_ fields: [String: Any], _ key: String, in range: ClosedRange<Double>) throws(ElasticConfigError) -> Double? {
        guard let value = fields[key] else { return nil }
        let number: Double
        if let whole = Self.whole(value), !(value is Bool) {
            number = Double(whole)
        } else if let real = value as? Double, !(value is Bool) {
            number = real
        } else {
            throw .invalid(field: path + key, "must be a number")
        }
        guard number.isFinite, range.contains(number) else { throw .invalid(field: path + key, "\(number) is outside \(range.lowerBound)…\(range.upperBound)") }
        return number
    }

    func bool(_ fields: [String: Any], _ key: String) throws(ElasticConfigError) -> Bool? {
        guard let value = fields[key] else { return nil }
        guard let flag = value as? Bool else { throw .invalid(field: path + key, "must be true or false") }
        return flag
    }

    func duration(_ fields: [String: Any], _ key: String, least: Duration) throws(ElasticConfigError) -> Duration? {
        guard let value = fields[key] else { return nil }
        guard let text = value as? String, let duration = Duration(workflowText: text) else {
            throw .invalid(field: path + key, "must be a duration such as \"500ms\", \"30s\" or \"5m\"")
        }
        guard duration >= least, duration <= .seconds(7 * 86_400) else {
            throw .invalid(field: path + key, "\(text) is outside \(least)…7 days")
        }
        return duration
    }

    /// A fixed delay ("1s") or a range ("500ms-2s").
    func durationRange(_ fields: [String: Any], _ key: String) throws(ElasticConfigError) -> ClosedRange<Duration>? {
        guard let value = fields[key] else { return nil }
        guard let text = value as? String else { throw .invalid(field: path + key, "must be a duration or a range such as \"1s\" or \"500ms-2s\"") }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), let low = Duration(workflowText: parts[0]), let high = Duration(workflowText: parts.last ?? ""), low <= high,
            high <= .seconds(3600)
        else { throw .invalid(field: path + key, "'\(text)' is not a duration or a range such as \"1s\" or \"500ms-2s\" (at most 1h)") }
        return low...high
    }

    static func whole(_ value: Any) -> Int? {
        if let number = value as? Int { return number }
        if let number = value as? Double, number.rounded() == number, abs(number) < 1e15 { return Int(number) }
        return nil
    }
}

// MARK: - Writing

extension NodeSourceSpec {
    /// The source as JSON-ready values, in the shape ``init(parsing:)`` reads (durations as strings).
    public var json: [String: Any] {
        var infrastructure: [String: Any] = [
            "type": self.infrastructure.type, "nodesPerHost": nodesPerHost, "pricePerHostHour": billing.pricePerHostHour,
            "listInterval": Self.text(listInterval),
        ]
        switch self.infrastructure {
        case .processes(let boot, let seed, let orphan):
            infrastructure["orphanTimeout"] = Self.text(orphan)
            if let boot { infrastructure["bootDelay"] = boot.lowerBound == boot.upperBound ? Self.text(boot.lowerBound) : "\(Self.text(boot.lowerBound))-\(Self.text(boot.upperBound))" }
            infrastructure["seed"] = Int(clamping: seed)
        case .command(let acquire, let release, let list):
            infrastructure["acquire"] = acquire
            infrastructure["release"] = release
            if let list { infrastructure["list"] = list }
        }
        var policy: [String: Any] = ["type": self.policy.type]
        if !globalScope { policy["globalScope"] = false }
        switch self.policy {
        case .static(let hosts):
            policy["hosts"] = hosts
        case .dynamic(let dynamic):
            policy.merge([
                "minNodes": dynamic.minNodes, "maxNodes": dynamic.maxNodes, "loadFactor": dynamic.loadFactor,
                "loadFactorRoundingUp": dynamic.loadFactorRoundingUp, "refreshTime": Self.text(dynamic.refresh),
                "initDelay": Self.text(dynamic.initDelay), "minUptime": Self.text(dynamic.minUptime), "billingAware": dynamic.billingAware,
            ]) { $1 }
        case .scheduled(let windows, let hosts):
            policy["windows"] = windows.map(\.description)
            policy["hosts"] = hosts
        case .tessera(let tessera):
            policy.merge([
                "minHosts": tessera.minHosts, "maxHosts": tessera.maxHosts, "refreshTime": Self.text(tessera.refresh),
                "minUptime": Self.text(tessera.minUptime), "releaseWithin": Self.text(tessera.releaseWithin),
            ]) { $1 }
        }
        var out: [String: Any] = [
            "name": name, "infrastructure": infrastructure, "policy": policy, "rank": rank,
            "deploymentTimeout": Self.text(deploymentTimeout), "drainTimeout": Self.text(drainTimeout),
            "billing": ["unit": billing.unit.rawValue, "minimum": Self.text(billing.minimum)], "evictionCountsAsFailure": evictionCountsAsFailure,
        ]
        if let users { out["users"] = users.sorted() }
        if let budgetPerDay { out["budget"] = budgetPerDay }
        return out
    }

    /// The spec as JSON bytes (what the journal keeps).
    public var jsonData: Data { (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data() }

    /// A duration as the shortest of `ms`, `s`, `m`, `h` that shows it whole.
    static func text(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
