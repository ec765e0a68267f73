extension Duration {
    /// Parses a workflow duration: ProActive's `ss`, `mm:ss`, `hh:mm:ss`, or a number with a unit.
    ///
    /// `"90"` is 90 s, `"01:30"` 1 min 30 s, `"02:00:00"` 2 h; with a unit, `"500ms"`, `"2s"`, `"1m"`,
    /// `"1h"`. The leading field is unbounded; the ones after it must be below 60. Negative numbers
    /// are not durations.
    /// - Parameter text: The text, surrounding blanks allowed.
    /// - Returns: The duration, or `nil` when `text` is not one.
    public init?(workflowText text: String) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        if let unitStart = trimmed.firstIndex(where: { !$0.isASCII || !$0.isNumber }), trimmed.contains(where: \.isLetter) {
            guard let amount = Int64(trimmed[..<unitStart]) else { return nil }
            let milliseconds: Int64
            switch trimmed[unitStart...] {
            case "ms": milliseconds = 1
            case "s": milliseconds = 1000
            case "m": milliseconds = 60_000
            case "h": milliseconds = 3_600_000
            default: return nil
            }
            let (total, overflow) = amount.multipliedReportingOverflow(by: milliseconds)
            guard !overflow else { return nil }
            self = .milliseconds(total)
            return
        }
        let fields = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(fields.count) else { return nil }
        var seconds: Int64 = 0
        for (position, field) in fields.enumerated() {
            guard !field.isEmpty, field.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(field) else { return nil }
            if position > 0, value >= 60 { return nil }
            let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 60)
            guard !overflow else { return nil }
            let (sum, sumOverflow) = scaled.addingReportingOverflow(value)
            guard !sumOverflow else { return nil }
            seconds = sum
        }
        self = .seconds(seconds)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> Substring {
        let text = self[...]
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return Substring() }
        return Substring(text[first...last])
    }
}
