/// Pixel counts and areas per class of a class map.
public struct ClassStatistics: Sendable, Hashable, Codable {
    /// Pixels per class.
    public var pixels: [LandClass: Int]
    /// Pixels without data (code 255).
    public var nodata: Int
    /// Area of one pixel in square metres (100 for 10 m pixels).
    public var pixelArea: Double

    /// Counts the classes of `map`; codes other than the four classes and 255 count as nodata.
    public init(map: Raster<UInt8>, pixelArea: Double) {
        var counts = [Int](repeating: 0, count: 256)
        for code in map.pixels { counts[Int(code)] += 1 }
        var pixels: [LandClass: Int] = [:]
        for landClass in LandClass.allCases { pixels[landClass] = counts[Int(landClass.rawValue)] }
        self.pixels = pixels
        self.nodata = map.count - pixels.values.reduce(0, +)
        self.pixelArea = pixelArea
    }

    /// Area of `landClass` in hectares.
    public func hectares(_ landClass: LandClass) -> Double {
        Double(pixels[landClass] ?? 0) * pixelArea / 10_000
    }

    /// Pixel counts by class name (`"urban/tree"`), as the CLI's JSON reports them.
    public var countsByName: [String: Int] {
        var named: [String: Int] = [:]
        for (landClass, count) in pixels { named[landClass.description] = count }
        return named
    }

    /// The legend as text: code, name, colour, pixels and hectares, one class per line.
    public var legend: String {
        var lines = ["code,class,rgb,pixels,hectares"]
        for landClass in LandClass.allCases {
            let colour = landClass.colour
            lines.append("\(landClass.rawValue),\(landClass),#\(Self.hex(colour.red))\(Self.hex(colour.green))\(Self.hex(colour.blue)),"
                + "\(pixels[landClass] ?? 0),\(Self.format(hectares(landClass)))")
        }
        lines.append("\(LandClass.nodata),nodata,#000000,\(nodata),\(Self.format(Double(nodata) * pixelArea / 10_000))")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func hex(_ value: UInt8) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return text.count == 1 ? "0" + text : text
    }

    private static func format(_ value: Double) -> String {
        String((value * 100).rounded() / 100)
    }
}

/// Agreement of a class map with the ground truth: confusion matrix, overall accuracy, kappa and recalls.
public struct ClassificationAccuracy: Sendable, Hashable, Codable {
    /// `confusion[truth][predicted]` pixel counts over the four classes (nodata in either is left out).
    public var confusion: [[Int]]
    /// Pixels the truth classifies and the map leaves as nodata (a part of the tile no product covered):
    /// left out of the confusion matrix, so a map with holes must be checked here.
    public var unmapped: Int

    /// Compares `predicted` with `truth` pixel by pixel.
    ///
    /// - Precondition: both maps have the same size.
    public init(predicted: Raster<UInt8>, truth: Raster<UInt8>) {
        precondition(predicted.width == truth.width && predicted.height == truth.height, "maps must have the same size")
        let classes = LandClass.allCases.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var unmapped = 0
        for (p, t) in zip(predicted.pixels, truth.pixels) where Int(t) < classes {
            if Int(p) < classes { confusion[Int(t)][Int(p)] += 1 } else { unmapped += 1 }
        }
        self.confusion = confusion
        self.unmapped = unmapped
    }

    /// Pixels compared.
    public var total: Int { confusion.joined().reduce(0, +) }

    /// Fraction of pixels whose class is right.
    public var overallAccuracy: Double {
        let total = total
        guard total > 0 else { return 0 }
        return Double(confusion.indices.map { confusion[$0][$0] }.reduce(0, +)) / Double(total)
    }

    /// Cohen's kappa: agreement beyond chance.
    public var kappa: Double {
        let total = Double(total)
        guard total > 0 else { return 0 }
        var expected = 0.0
        for k in confusion.indices {
            let truthCount = Double(confusion[k].reduce(0, +))
            let predictedCount = Double(confusion.map { $0[k] }.reduce(0, +))
            expected += truthCount * predictedCount / (total * total)
        }
        return expected < 1 ? (overallAccuracy - expected) / (1 - expected) : 1
    }

    /// Recall (producer's accuracy) of each class present in the truth.
    public var recall: [LandClass: Double] {
        var recall: [LandClass: Double] = [:]
        for landClass in LandClass.allCases {
            let row = confusion[Int(landClass.rawValue)]
            let count = row.reduce(0, +)
            if count > 0 { recall[landClass] = Double(row[Int(landClass.rawValue)]) / Double(count) }
        }
        return recall
    }
}
