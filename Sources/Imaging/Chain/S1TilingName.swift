/// An S1Tiling output file name: `{s1a|s1b}_{tile}_{pol}_{ASC|DES}_{orbit:03}_{YYYYMMDD}t{hhmmss}[_suffix].tif`.
///
/// The time is `xxxxxx` when products of the same date were concatenated.
public struct S1TilingName: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `s1a` or `s1b`.
    public var unit: String
    /// The tile name (`48QXH`).
    public var tile: String
    /// The polarisation.
    public var polarisation: Polarisation
    /// Ascending or descending.
    public var pass: OrbitPass
    /// Relative orbit.
    public var relativeOrbit: Int
    /// `YYYYMMDD`.
    public var date: String
    /// `hhmmss`, or nil when concatenated (`xxxxxx`).
    public var time: String?
    /// Suffixes without the underscore (`filtered`, `BorderMask`, `NormLim`).
    public var suffixes: [String]

    /// Makes a name.
    public init(unit: String, tile: String, polarisation: Polarisation, pass: OrbitPass, relativeOrbit: Int, date: String, time: String?, suffixes: [String] = []) {
        self.unit = unit.lowercased()
        self.tile = tile
        self.polarisation = polarisation
        self.pass = pass
        self.relativeOrbit = relativeOrbit
        self.date = date
        self.time = time
        self.suffixes = suffixes
    }

    /// Parses a file name (a path's last component, with or without `.tif`); nil when it is not an S1Tiling name.
    public init?(parsing fileName: String) {
        var name = Substring(fileName.split(separator: "/").last ?? "")
        if name.hasSuffix(".tif") { name = name.dropLast(4) }
        let fields = name.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 6, ["s1a", "s1b", "s1c", "s1d"].contains(fields[0]),
              let polarisation = Polarisation(rawValue: fields[2]),
              let orbit = Int(fields[4]), fields[4].count == 3
        else { return nil }
        let pass: OrbitPass
        switch fields[3] {
        case "ASC": pass = .ascending
        case "DES": pass = .descending
        default: return nil
        }
        let stamp = fields[5]
        guard stamp.count == 15, stamp.dropFirst(8).first == "t", stamp.prefix(8).allSatisfy(\.isNumber) else { return nil }
        let time = String(stamp.suffix(6))
        guard time == "xxxxxx" || time.allSatisfy(\.isNumber) else { return nil }
        self.init(
            unit: fields[0], tile: fields[1], polarisation: polarisation, pass: pass, relativeOrbit: orbit,
            date: String(stamp.prefix(8)), time: time == "xxxxxx" ? nil : time, suffixes: Array(fields.dropFirst(6)))
    }

    /// The file name, with `.tif`.
    public var description: String {
        let orbit = String(relativeOrbit).count >= 3 ? String(relativeOrbit) : String(repeating: "0", count: 3 - String(relativeOrbit).count) + String(relativeOrbit)
        let base = "\(unit)_\(tile)_\(polarisation.rawValue)_\(pass.code)_\(orbit)_\(date)t\(time ?? "xxxxxx")"
        return ([base] + suffixes).joined(separator: "_") + ".tif"
    }

    /// `YYYYMMDD` and `hhmmss` of an ISO acquisition time (`2021-12-23T05:11:22.594441`), as the names carry them.
    public static func dateAndTime(ofISO text: String) -> (date: String, time: String) {
        let digits = text.filter(\.isNumber)
        return (String(digits.prefix(8)), String(digits.dropFirst(8).prefix(6)))
    }

    /// The same name with `suffix` appended (`filtered`).
    public func with(suffix: String) -> S1TilingName {
        var copy = self
        copy.suffixes.append(suffix)
        return copy
    }
}
