/// A checked hwloc synthetic topology description such as `package:1 numa:2 l3:2 core:8 pu:1`.
///
/// hwloc rejects a bad description with `EINVAL` and no hint of what is wrong, so the description is
/// checked here first, token by token, and a mistake is reported with the token that caused it.
/// hwloc still builds the topology: this type only guards its door.
public struct SyntheticTopologySpec: Sendable, Hashable {
    /// The largest number of processing units a synthetic description may expand to.
    ///
    /// Large enough for any machine Tessera plans for (a 4-socket, 512-thread host), small enough
    /// that a typo such as `core:100000` fails fast instead of allocating millions of objects.
    public static let maximumProcessingUnits = 65_536

    /// The description as given, trimmed.
    public let text: String
    /// The number of processing units the description expands to.
    public let processingUnits: Int

    /// Checks `text` as an hwloc synthetic description.
    ///
    /// - Parameter text: space-separated levels `type:count`, each optionally followed by
    ///   `(attributes)`, with memory children in brackets (`[numa]`); the last level must be `pu`.
    /// - Throws: `TopologyError.malformedSynthetic` naming the first bad token.
    public init(_ text: String) throws(TopologyError) {
        let trimmed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let tokens = trimmed.split(separator: " ").map(String.init)
        func fail(_ index: Int, _ reason: String) -> TopologyError {
            .malformedSynthetic(
                spec: trimmed, token: index < tokens.count ? tokens[index] : "", position: index, reason: reason)
        }
        guard !tokens.isEmpty else { throw fail(0, "the description is empty") }

        var seen: Set<Level> = []
        var total = 1
        var lastLevel: Level?
        var deepestRanked: Level?
        for (index, token) in tokens.enumerated() {
            if token.hasPrefix("[") {
                guard token.hasSuffix("]"), token.count > 2 else {
                    throw fail(index, "a memory child is written '[numa]' or '[numa(memory=…)]'")
                }
                let inner = String(token.dropFirst().dropLast())
                let (name, attributes) = try Self.splitAttributes(inner) { fail(index, $0) }
                guard Level(name) == .numa else { throw fail(index, "only NUMA nodes can be memory children") }
                _ = attributes
                continue
            }
            let (body, _) = try Self.splitAttributes(token) { fail(index, $0) }
            let parts = body.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw fail(index, "expected 'type:count'") }
            guard let level = Level(String(parts[0])) else {
                throw fail(index, "unknown object type '\(parts[0])' (package, numa, group, die, l1…l5, core, pu)")
            }
            guard let count = Int(parts[1]), count > 0 else {
                throw fail(index, "the count '\(parts[1])' is not a positive whole number")
            }
            if lastLevel == .pu { throw fail(index, "nothing may follow the 'pu' level") }
            if level != .group, seen.contains(level) { throw fail(index, "the level '\(parts[0])' appears twice") }
            if let rank = level.rank, let outer = deepestRanked, rank < outer.rank ?? 0 {
                throw fail(index, "'\(parts[0])' cannot sit below '\(outer)'")
            }
            let (product, overflow) = total.multipliedReportingOverflow(by: count)
            guard !overflow, product <= Self.maximumProcessingUnits else {
                throw fail(index, "the description expands past \(Self.maximumProcessingUnits) processing units")
            }
            total = product
            seen.insert(level)
            lastLevel = level
            if level.rank != nil { deepestRanked = level }
        }
        guard lastLevel == .pu else {
            throw fail(tokens.count - 1, "the last level must be 'pu' (processing units)")
        }
        self.text = trimmed
        self.processingUnits = total
    }

    /// Splits `type:count(attributes)` into its body and the attribute text.
    private static func splitAttributes(
        _ token: String, _ fail: (String) -> TopologyError
    ) throws(TopologyError) -> (String, String?) {
        guard let open = token.firstIndex(of: "(") else {
            guard !token.contains(")") else { throw fail("unbalanced ')'") }
            return (token, nil)
        }
        guard token.hasSuffix(")"), token.filter({ $0 == "(" }).count == 1, token.filter({ $0 == ")" }).count == 1
        else { throw fail("attributes are written once, in parentheses at the end: 'type:count(key=value)'") }
        let attributes = String(token[token.index(after: open)..<token.index(before: token.endIndex)])
        guard !attributes.isEmpty, attributes.contains("=") else {
            throw fail("attributes are 'key=value' pairs separated by commas")
        }
        return (String(token[..<open]), attributes)
    }

    /// The levels hwloc accepts, ranked from the outside in.
    private enum Level: Hashable, CustomStringConvertible {
        case package, numa, group, die, cache(Int), core, pu

        init?(_ raw: String) {
            let name = raw.lowercased()
            switch name {
            case "package", "socket": self = .package
            case "numa", "node", "numanode": self = .numa
            case "group": self = .group
            case "die": self = .die
            case "core": self = .core
            case "pu": self = .pu
            default:
                // l1…l5, optionally with a d/i/u kind and a "cache" suffix: l3, l3cache, l1d, l2ucache.
                var rest = Substring(name)
                guard rest.first == "l" else { return nil }
                rest = rest.dropFirst()
                guard let digit = rest.first, let depth = Int(String(digit)), (1...5).contains(depth) else {
                    return nil
                }
                rest = rest.dropFirst()
                if let kind = rest.first, "diu".contains(kind) { rest = rest.dropFirst() }
                guard rest.isEmpty || rest == "cache" else { return nil }
                self = .cache(depth)
            }
        }

        /// Outer levels have smaller ranks; caches nest from L5 down to L1. NUMA nodes, groups and
        /// dies may sit above or below caches (sub-NUMA clustering), so they have no rank.
        var rank: Int? {
            switch self {
            case .package: 1
            case .numa, .group, .die: nil
            case .cache(let depth): 10 - depth
            case .core: 20
            case .pu: 30
            }
        }

        var description: String {
            switch self {
            case .package: "package"
            case .numa: "numa"
            case .group: "group"
            case .die: "die"
            case .cache(let depth): "l\(depth)"
            case .core: "core"
            case .pu: "pu"
            }
        }
    }
}
