import Foundation
import Testing

@testable import Grid

/// The journal's JSON writer prints numbers the way `JSONDecoder` reads them back.
@Suite struct JournalJSONNumberTests {
    @Test func integers_matchTheirDecimalText_atTheEdgesAndOnSeededRandomValues() throws {
        var generator = SeededRandom.seeded("integers_matchTheirDecimalText")
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.min + 1]
        for _ in 0..<1_000 { values.append(Int64.random(in: .min ... .max, using: &generator)) }
        for value in values {
            var json = JournalJSON()
            json.int(value)
            #expect(String(decoding: json.bytes, as: UTF8.self) == String(value))
        }
        // Beyond Int64 (the low half of a duration).
        var json = JournalJSON()
        json.int(UInt64.max)
        #expect(String(decoding: json.bytes, as: UTF8.self) == String(UInt64.max))
    }

    @Test func doubles_readBackAsDoubles() throws {
        for value in [0.0, -0.0, 1.0, -2.5, 1e300, 1e-300, 123_456_789.0, 0.1] {
            var json = JournalJSON()
            json.double(value)
            let text = String(decoding: json.bytes, as: UTF8.self)
            #expect(text.contains(".") || text.contains("e"), "\(text) would read back as an integer")
            let decoded = try JSONDecoder().decode(Double.self, from: Data(json.bytes))
            #expect(decoded == value)
        }
        var json = JournalJSON()
        json.double(.nan)
        #expect(String(decoding: json.bytes, as: UTF8.self) == "null")
    }
}
