import ArgumentParser
import Grid

extension ServeCommand {
    /// The keys of the config file's `limits` mapping, each with the range it accepts.
    static let limitKeys: [(key: String, range: ClosedRange<Int>)] = [
        ("longestDurationSeconds", 1...(100 * 366 * 86_400)),
        ("nestingDepth", 1...Value.maximumDepth),
        ("yamlAliases", 0...1_000_000),
        ("yamlNodes", 1...100_000_000),
        ("instancesPerJob", 1...100_000_000),
        ("replicateRuns", 1...100_000_000),
        ("loopIterations", 1...100_000_000),
        ("nameLength", 2...4096),
    ]

    /// The config file's `limits` mapping applied to the defaults (every key optional, each range-checked).
    ///
    /// - Throws: `ValidationError` naming the key and its range for an unknown key or a value out of range.
    static func limits(from value: Any, config: String) throws -> InputLimits {
        guard let values = value as? [String: Any] else { throw ValidationError("\(config): limits must be a mapping") }
        let known = Set(limitKeys.map(\.key))
        let unknown = Set(values.keys).subtracting(known)
        guard unknown.isEmpty else {
            throw ValidationError("\(config): unknown limit(s) \(unknown.sorted().joined(separator: ", ")); known: \(known.sorted().joined(separator: ", "))")
        }
        var limits = InputLimits()
        for (key, range) in limitKeys {
            guard let raw = values[key] else { continue }
            guard let number = raw as? Int, range.contains(number) else {
                throw ValidationError("\(config): limits.\(key) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            switch key {
            case "longestDurationSeconds": limits.longestDuration = .seconds(number)
            case "nestingDepth": limits.nestingDepth = number
            case "yamlAliases": limits.yamlAliases = number
            case "yamlNodes": limits.yamlNodes = number
            case "instancesPerJob": limits.instancesPerJob = number
            case "replicateRuns": limits.replicateRuns = number
            case "loopIterations": limits.loopIterations = number
            default: limits.nameLength = number
            }
        }
        return limits
    }
}
