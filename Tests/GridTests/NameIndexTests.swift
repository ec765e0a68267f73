import Testing

@testable import Grid

@Suite("Name index of a workflow's tasks")
struct NameIndexTests {
    @Test func theFirstPositionOfANameWins_andLaterOnesAreDuplicates() {
        let index = NameIndex(["a", "b", "a", "c", "b", "a"])
        #expect(index["a"] == 0)
        #expect(index["b"] == 1)
        #expect(index["c"] == 3)
        #expect(index["d"] == nil)
        #expect(index[""] == nil)
        #expect(index.duplicates == [2, 4, 5])
    }

    @Test func anEmptyListFindsNothing() {
        let index = NameIndex([])
        #expect(index["a"] == nil)
        #expect(index.duplicates.isEmpty)
    }

    @Test func namesCompareAsStringsDo() {
        // "é" precomposed and decomposed are one name for Swift's String, as they were for the dictionary this replaced.
        let index = NameIndex(["caf\u{E9}", "cafe\u{301}", "a long task name past the small-string size", "x"])
        #expect(index["cafe\u{301}"] == 0)
        #expect(index.duplicates == [1])
        #expect(index["a long task name past the small-string size"] == 2)
        #expect(index["a long task name past the small-string siz"] == nil)
    }

    @Test func agreesWithADictionary_onSeededRandomNames() {
        var random = SeededRandom.seeded("NameIndex")
        // Few distinct names for many positions: repeats, and probe chains that wrap around the table.
        let names = (0..<5_000).map { _ in "t\(Int.random(in: 0..<3_000, using: &random))" }
        var expected: [String: Int] = [:]
        var duplicates: [Int] = []
        for (position, name) in names.enumerated() {
            if expected[name] == nil { expected[name] = position } else { duplicates.append(position) }
        }
        let index = NameIndex(names)
        #expect(index.duplicates == duplicates)
        for name in Set(names) { #expect(index[name] == expected[name], "\(name)") }
        for probe in 3_000..<3_100 { #expect(index["t\(probe)"] == nil) }
    }
}
