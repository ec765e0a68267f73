import ArgumentParser
import Glibc
import Grid
import GridServer

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

extension ServeCommand {
    /// Whether `host` is a loopback address: 127.0.0.0/8, ::1 or localhost.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in UInt8(part).map { String($0) == part } ?? false }
    }

    /// `FIRST-LAST` as a range of uids above 999 (the system's own accounts are below).
    static func uidRange(_ text: String) throws -> ClosedRange<UInt32> {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let first = UInt32(parts[0]), let last = UInt32(parts[1]), first >= 1000, first <= last,
            last < UInt32.max
        else { throw ValidationError("--task-uids expects FIRST-LAST, uids from 1000 with FIRST ≤ LAST, got '\(text)'") }
        return first...last
    }

    /// The config file's `taskLimits` mapping: processes, openFiles, fileSizeBytes, addressSpaceBytes, memoryBytes,
    /// processesPerTask (0 lifts one).
    static func taskLimits(from value: Any, config: String) throws -> ResourceLimits {
        guard let values = value as? [String: Any] else { throw ValidationError("\(config): taskLimits must be a mapping") }
        let known: Set<String> = ["processes", "openFiles", "fileSizeBytes", "addressSpaceBytes", "memoryBytes", "processesPerTask"]
        let unknown = Set(values.keys).subtracting(known)
        guard unknown.isEmpty else {
            throw ValidationError("\(config): unknown task limit(s) \(unknown.sorted().joined(separator: ", ")); known: \(known.sorted().joined(separator: ", "))")
        }
        var limits = ResourceLimits()
        for key in known.sorted() {
            guard let raw = values[key] else { continue }
            guard let number = raw as? Int, number >= 0 else {
                throw ValidationError("\(config): taskLimits.\(key) must be a whole number ≥ 0 (0: no limit)")
            }
            let limit: UInt64? = number == 0 ? nil : UInt64(number)
            switch key {
            case "processes": limits.processes = limit
            case "openFiles": limits.openFiles = limit
            case "fileSizeBytes": limits.fileSize = limit
            case "memoryBytes": limits.memory = limit
            case "processesPerTask": limits.processesPerTask = limit
            default: limits.addressSpace = limit
            }
        }
        return limits
    }
}

extension ServeCommand {
    /// Raises the soft limit on open descriptors to the hard one (connections, journal, logs and pipes all take
    /// some); returns the limit in force.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur == rlim_t.max ? 1 << 20 : Int(clamping: limit.rlim_cur)
    }
}
