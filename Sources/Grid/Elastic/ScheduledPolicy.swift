import Foundation

/// Calendar windows, cron-like: days of the week and a time of day range in UTC, such as `Mon-Fri 08:00-20:00`.
public struct CalendarWindow: Sendable, Hashable, CustomStringConvertible {
    /// ISO weekdays: 1 is Monday, 7 Sunday.
    public var days: Set<Int>
    /// Minutes after midnight UTC: `start` included, `end` excluded (`end` ≤ `start` wraps past midnight).
    public var start: Int
    public var end: Int

    private static let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Parses `DAYS HH:MM-HH:MM` where DAYS is `*`, a day (`Mon`), a range (`Mon-Fri`) or a list (`Mon,Wed,Sat`).
    public init(parsing text: String) throws(ElasticConfigError) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw .invalid(field: "window", "\"\(text)\": expected \"DAYS HH:MM-HH:MM\", as \"Mon-Fri 08:00-20:00\"") }
        var days: Set<Int> = []
        if parts[0] == "*" {
            days = Set(1...7)
        } else {
            for item in parts[0].lowercased().split(separator: ",") {
                let bounds = item.split(separator: "-")
                let numbers = bounds.compactMap { Self.names.firstIndex(of: String($0)).map { $0 + 1 } }
                guard numbers.count == bounds.count, (1...2).contains(numbers.count) else {
                    throw .invalid(field: "window", "\"\(item)\" is not a day or a range of days (Mon … Sun)")
                }
                var day = numbers[0]
                while true {
                    days.insert(day)
                    if day == numbers[numbers.count - 1] { break }
                    day = day % 7 + 1
                }
            }
        }
        let times = parts[1].split(separator: "-")
        guard times.count == 2, let start = Self.minutes(times[0]), let end = Self.minutes(times[1]) else {
            throw .invalid(field: "window", "\"\(parts[1])\": expected HH:MM-HH:MM, as 08:00-20:00")
        }
        self.days = days
        self.start = start
        self.end = end
    }

    private static func minutes(_ text: Substring) -> Int? {
        let fields = text.split(separator: ":")
        guard fields.count == 2, let hours = Int(fields[0]), let minutes = Int(fields[1]), (0...24).contains(hours), (0..<60).contains(minutes),
            hours * 60 + minutes <= 1440
        else { return nil }
        return hours * 60 + minutes
    }

    /// Whether `date` falls in the window.
    public func contains(_ date: Date) -> Bool {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let dayNumber = Int((Double(seconds) / 86_400).rounded(.down))
        let minute = (seconds - dayNumber * 86_400) / 60
        // 1970-01-01 was a Thursday (ISO day 4).
        let weekday = ((dayNumber % 7 + 7) % 7 + 3) % 7 + 1
        if start < end { return days.contains(weekday) && minute >= start && minute < end }
        // Past midnight: the evening belongs to the listed day, the early morning to the day after it.
        let yesterday = (weekday + 5) % 7 + 1
        return (days.contains(weekday) && minute >= start) || (days.contains(yesterday) && minute < end)
    }

    public var description: String {
        let list = days.sorted().map { Self.names[$0 - 1].capitalized }.joined(separator: ",")
        return "\(list) \(String(format: "%02d:%02d-%02d:%02d", start / 60, start % 60, end / 60, end % 60))"
    }
}

/// Nodes only inside calendar windows: `hosts` while one of `windows` holds, none outside (hosts drain at the end
/// of a window, so that running work finishes).
public struct ScheduledPolicy: ElasticPolicy {
    public var windows: [CalendarWindow]
    public var hosts: Int
    public var refresh: Duration
    public var name: String { "scheduled" }

    public init(windows: [CalendarWindow], hosts: Int, refresh: Duration = .seconds(30)) {
        self.windows = windows
        self.hosts = hosts
        self.refresh = refresh
    }

    public func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        if windows.contains(where: { $0.contains(snapshot.wallNow) }) {
            return StaticPolicy(hosts: hosts).decide(snapshot)
        }
        return snapshot.hosts.compactMap { host in
            switch host.phase {
            case .deploying, .configuring: .release(host: host.id)
            case .up: host.busy == 0 ? .release(host: host.id) : .drain(host: host.id)
            case .draining: host.busy == 0 ? .release(host: host.id) : nil
            }
        }
    }
}

/// A node source's configuration that cannot be used, naming the field.
public enum ElasticConfigError: Error, Hashable, CustomStringConvertible {
    case invalid(field: String, String)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        }
    }
}
