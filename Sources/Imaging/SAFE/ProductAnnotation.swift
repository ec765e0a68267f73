/// One point of the annotation's geolocation grid: an image position and where it is on Earth.
public struct GeolocationPoint: Sendable, Hashable, Codable {
    /// Image line (row) of the point.
    public var line: Double
    /// Image pixel (column) of the point.
    public var pixel: Double
    /// Latitude in degrees.
    public var latitude: Double
    /// Longitude in degrees.
    public var longitude: Double
    /// Ellipsoid height in metres.
    public var height: Double
    /// Incidence angle in degrees.
    public var incidenceAngle: Double

    /// Makes a point.
    public init(line: Double, pixel: Double, latitude: Double, longitude: Double, height: Double = 0, incidenceAngle: Double = 0) {
        self.line = line
        self.pixel = pixel
        self.latitude = latitude
        self.longitude = longitude
        self.height = height
        self.incidenceAngle = incidenceAngle
    }
}

/// What a polarisation's product annotation says: image size, spacing, pass, and the geolocation grid.
public struct ProductAnnotation: Sendable, Hashable {
    /// Mission and unit (`S1B`).
    public var mission: String
    /// The polarisation of this annotation.
    public var polarisation: Polarisation
    /// Image width: samples per line.
    public var numberOfSamples: Int
    /// Image height: lines.
    public var numberOfLines: Int
    /// Range pixel spacing in metres (10 for IW GRDH).
    public var rangePixelSpacing: Double
    /// Azimuth pixel spacing in metres (10 for IW GRDH).
    public var azimuthPixelSpacing: Double
    /// Ascending or descending.
    public var pass: OrbitPass
    /// First line time, UTC, as written.
    public var startTime: String
    /// The geolocation grid points (about 21 pixels × 10 lines), in file order.
    public var geolocationGrid: [GeolocationPoint]

    /// Parses the annotation file at `file`.
    ///
    /// - Throws: ``SAFEError`` when the file is missing, malformed, or lacks a required element.
    public init(file: String) throws(SAFEError) {
        let root = try XMLTree.load(file)
        try self.init(root: root, file: file)
    }

    init(root: XMLTree, file: String) throws(SAFEError) {
        let reader = XMLReader(file: file)
        guard root.name == "product" else {
            throw SAFEError(.missingElement, file: file, message: "the root element is <\(root.name)>, not <product>")
        }
        mission = try reader.string(root, ["adsHeader", "missionId"])
        let polarisationText = try reader.string(root, ["adsHeader", "polarisation"])
        guard let polarisation = Polarisation(rawValue: polarisationText.lowercased()) else {
            throw SAFEError(.badValue, file: file, message: "unknown polarisation \"\(polarisationText)\"")
        }
        self.polarisation = polarisation
        startTime = try reader.string(root, ["adsHeader", "startTime"])
        let passText = try reader.string(root, ["generalAnnotation", "productInformation", "pass"])
        guard let pass = OrbitPass(rawValue: passText.lowercased()) else {
            throw SAFEError(.badValue, file: file, message: "pass \"\(passText)\" is neither Ascending nor Descending")
        }
        self.pass = pass
        let information = try reader.element(root, ["imageAnnotation", "imageInformation"])
        numberOfSamples = try reader.int(information, ["numberOfSamples"])
        numberOfLines = try reader.int(information, ["numberOfLines"])
        rangePixelSpacing = try reader.double(information, ["rangePixelSpacing"])
        azimuthPixelSpacing = try reader.double(information, ["azimuthPixelSpacing"])
        guard numberOfSamples > 0, numberOfLines > 0, numberOfSamples <= 100_000, numberOfLines <= 100_000 else {
            throw SAFEError(.badValue, file: file, message: "image size \(numberOfSamples)×\(numberOfLines) is out of range")
        }
        let list = try reader.element(root, ["geolocationGrid", "geolocationGridPointList"])
        var grid: [GeolocationPoint] = []
        for element in list.children("geolocationGridPoint") {
            let point = GeolocationPoint(
                line: try reader.double(element, ["line"]), pixel: try reader.double(element, ["pixel"]),
                latitude: try reader.double(element, ["latitude"]), longitude: try reader.double(element, ["longitude"]),
                height: try reader.double(element, ["height"]), incidenceAngle: try reader.double(element, ["incidenceAngle"]))
            guard abs(point.latitude) <= 90, abs(point.longitude) <= 180 else {
                throw SAFEError(.badValue, file: file, message: "geolocation point at line \(element.line) is off the globe")
            }
            grid.append(point)
        }
        if let declared = list.attributes["count"], let count = Int(declared), count != grid.count {
            throw SAFEError(.badValue, file: file, message: "the geolocation grid declares \(count) points but holds \(grid.count)")
        }
        guard grid.count >= 4 else {
            throw SAFEError(.inconsistent, file: file, message: "the geolocation grid has \(grid.count) points; at least 2 × 2 are needed")
        }
        geolocationGrid = grid
    }
}
