/// Class-map quicklooks with their legend drawn in: each class's colour swatch and name under the map.
///
/// The names are drawn with a built-in 5 × 7 pixel font (only the letters the class names use), so the
/// PNG explains itself without fonts installed.
public enum Quicklook {
    /// Palette index of the legend's background (white) and ink (black); class codes keep their own colours.
    static let paper: UInt8 = 254
    static let ink: UInt8 = 253

    /// The palette: class colours, nodata black, paper white, ink black.
    public static var palette: [RasterColour] {
        var palette = [RasterColour](repeating: RasterColour(red: 0, green: 0, blue: 0), count: 256)
        for landClass in LandClass.allCases {
            let colour = landClass.colour
            palette[Int(landClass.rawValue)] = RasterColour(red: colour.red, green: colour.green, blue: colour.blue)
        }
        palette[Int(paper)] = RasterColour(red: 255, green: 255, blue: 255)
        palette[Int(ink)] = RasterColour(red: 0, green: 0, blue: 0)
        return palette
    }

    /// `map` with a legend strip below it: a swatch and the name of each class, then nodata.
    public static func withLegend(_ map: Raster<UInt8>) -> Raster<UInt8> {
        let entries: [(UInt8, String)] = LandClass.allCases.map { ($0.rawValue, $0.description) } + [(LandClass.nodata, "nodata")]
        let scale = max(1, min(map.width, 2000) / 400)
        let glyphWidth = 6 * scale
        let rowHeight = 10 * scale
        let legendWidth = entries.map { 12 * scale + $0.1.count * glyphWidth + 4 * scale }.reduce(0, +)
        let width = max(map.width, legendWidth)
        let height = map.height + rowHeight + 4 * scale
        var canvas = Raster<UInt8>(width: width, height: height, repeating: paper)
        for y in 0..<map.height {
            for x in 0..<map.width { canvas[x, y] = map[x, y] }
        }
        var x = 2 * scale
        let top = map.height + 2 * scale
        for (code, name) in entries {
            for dy in 0..<(7 * scale) {
                for dx in 0..<(8 * scale) where x + dx < width {
                    let border = dx == 0 || dy == 0 || dx == 8 * scale - 1 || dy == 7 * scale - 1
                    canvas[x + dx, top + dy] = border ? ink : code
                }
            }
            x += 10 * scale
            for character in name {
                draw(character, at: x, top, scale: scale, on: &canvas)
                x += glyphWidth
            }
            x += 4 * scale
        }
        return canvas
    }

    static func draw(_ character: Character, at left: Int, _ top: Int, scale: Int, on canvas: inout Raster<UInt8>) {
        guard let rows = font[character] else { return }
        for (row, bits) in rows.enumerated() {
            for column in 0..<5 where bits & (0b10000 >> column) != 0 {
                for dy in 0..<scale {
                    for dx in 0..<scale {
                        let x = left + column * scale + dx
                        let y = top + row * scale + dy
                        if x < canvas.width && y < canvas.height { canvas[x, y] = ink }
                    }
                }
            }
        }
    }

    /// 5 × 7 glyphs, one 5-bit row each, top to bottom.
    static let font: [Character: [UInt8]] = [
        "a": [0b00000, 0b00000, 0b01110, 0b00001, 0b01111, 0b10001, 0b01111],
        "b": [0b10000, 0b10000, 0b10110, 0b11001, 0b10001, 0b10001, 0b11110],
        "c": [0b00000, 0b00000, 0b01110, 0b10000, 0b10000, 0b10001, 0b01110],
        "d": [0b00001, 0b00001, 0b01101, 0b10011, 0b10001, 0b10001, 0b01111],
        "e": [0b00000, 0b00000, 0b01110, 0b10001, 0b11111, 0b10000, 0b01110],
        "i": [0b00100, 0b00000, 0b01100, 0b00100, 0b00100, 0b00100, 0b01110],
        "k": [0b10000, 0b10000, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010],
        "n": [0b00000, 0b00000, 0b10110, 0b11001, 0b10001, 0b10001, 0b10001],
        "o": [0b00000, 0b00000, 0b01110, 0b10001, 0b10001, 0b10001, 0b01110],
        "r": [0b00000, 0b00000, 0b10110, 0b11001, 0b10000, 0b10000, 0b10000],
        "t": [0b01000, 0b01000, 0b11100, 0b01000, 0b01000, 0b01001, 0b00110],
        "u": [0b00000, 0b00000, 0b10001, 0b10001, 0b10001, 0b10011, 0b01101],
        "w": [0b00000, 0b00000, 0b10001, 0b10001, 0b10101, 0b10101, 0b01010],
        "/": [0b00001, 0b00010, 0b00010, 0b00100, 0b01000, 0b01000, 0b10000],
    ]
}
