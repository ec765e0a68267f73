import Foundation

/// A Sentinel-1 polarisation channel.
public enum Polarisation: String, Sendable, Hashable, Codable, CaseIterable {
    /// Vertical transmit, vertical receive.
    case vv
    /// Vertical transmit, horizontal receive.
    case vh
    /// Horizontal transmit, horizontal receive.
    case hh
    /// Horizontal transmit, vertical receive.
    case hv
}

/// The direction of the satellite over the scene.
public enum OrbitPass: String, Sendable, Hashable, Codable {
    /// Northbound (S1Tiling writes `ASC`).
    case ascending
    /// Southbound (S1Tiling writes `DES`).
    case descending

    /// S1Tiling's three-letter code.
    public var code: String { self == .ascending ? "ASC" : "DES" }
}

/// A latitude/longitude pair in degrees (WGS 84).
public struct GeoPoint: Sendable, Hashable, Codable {
    /// Latitude in degrees, north positive.
    public var latitude: Double
    /// Longitude in degrees, east positive.
    public var longitude: Double

    /// Makes a point.
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// What `manifest.safe` says about a product.
public struct SAFEManifest: Sendable, Hashable {
    /// Mission and unit, such as `S1A`.
    public var mission: String
    /// The IPF (processor) version as written, such as `003.40`.
    public var ipfVersion: String
    /// The IPF version as a number (3.40); border and noise rules depend on it.
    public var ipf: Double
    /// The footprint corners (lat, lon) in the manifest's order.
    public var footprint: [GeoPoint]
    /// Polarisations the product was acquired in.
    public var polarisations: [Polarisation]
    /// Ascending or descending.
    public var pass: OrbitPass
    /// Absolute orbit number at the start.
    public var absoluteOrbit: Int
    /// Relative orbit number at the start (1…175).
    public var relativeOrbit: Int
    /// Acquisition start, UTC, as written (`2021-12-23T05:11:22.594441`).
    public var startTime: String
    /// Acquisition stop, UTC, as written.
    public var stopTime: String
}

/// The files of one polarisation inside a SAFE folder.
public struct PolarisationFiles: Sendable, Hashable {
    /// `annotation/s1x-iw-grd-<pol>-….xml`.
    public var annotation: String
    /// `annotation/calibration/calibration-….xml`.
    public var calibration: String
    /// `annotation/calibration/noise-….xml`.
    public var noise: String
    /// `measurement/s1x-iw-grd-<pol>-….tiff` (absent from metadata-only products).
    public var measurement: String?
}

/// A Sentinel-1 GRD product in SAFE format: its manifest and, per polarisation, its files.
///
/// Opening reads only the manifest and lists the folders; annotation, calibration and noise are parsed on
/// demand, so a product's metadata costs milliseconds and its pixels are read window by window.
public struct SAFEProduct: Sendable {
    /// The `.SAFE` folder.
    public let path: String
    /// The product name (the folder name without `.SAFE`).
    public let name: String
    /// The parsed manifest.
    public let manifest: SAFEManifest
    /// Files per polarisation present in the folder.
    public let files: [Polarisation: PolarisationFiles]

    /// Opens the product at `path`.
    ///
    /// - Throws: ``SAFEError`` when the folder, the manifest or a required manifest element is missing or malformed.
    public init(path: String) throws(SAFEError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SAFEError(.missingFile, file: path, message: "no SAFE product folder here")
        }
        self.path = path
        let folder = URL(fileURLWithPath: path).lastPathComponent
        self.name = folder.hasSuffix(".SAFE") ? String(folder.dropLast(5)) : folder
        let manifestPath = path + "/manifest.safe"
        self.manifest = try Self.parseManifest(XMLTree.load(manifestPath), file: manifestPath)
        self.files = Self.discoverFiles(path)
    }

    /// The files of `polarisation`.
    ///
    /// - Throws: ``SAFEError/Code/missingFile`` when the product has no annotation for it.
    public func files(_ polarisation: Polarisation) throws(SAFEError) -> PolarisationFiles {
        guard let files = files[polarisation] else {
            throw SAFEError(.missingFile, file: path, message: "no \(polarisation.rawValue.uppercased()) annotation in this product")
        }
        return files
    }

    /// The parsed product annotation of `polarisation`.
    public func annotation(_ polarisation: Polarisation) throws(SAFEError) -> ProductAnnotation {
        try ProductAnnotation(file: files(polarisation).annotation)
    }

    /// The parsed calibration vectors of `polarisation`.
    public func calibration(_ polarisation: Polarisation) throws(SAFEError) -> CalibrationTable {
        try CalibrationTable(file: files(polarisation).calibration)
    }

    /// The parsed thermal-noise vectors of `polarisation`.
    public func noise(_ polarisation: Polarisation) throws(SAFEError) -> NoiseTable {
        try NoiseTable(file: files(polarisation).noise)
    }

    static func parseManifest(_ root: XMLTree, file: String) throws(SAFEError) -> SAFEManifest {
        guard let software = root.descendants("software").first(where: { $0.attributes["name"] == "Sentinel-1 IPF" }),
              let version = software.attributes["version"]
        else {
            throw SAFEError(.missingElement, file: file, message: "no <safe:software name=\"Sentinel-1 IPF\" version=…>")
        }
        guard let ipf = Double(version) else {
            throw SAFEError(.badValue, file: file, message: "IPF version \"\(version)\" is not a number")
        }
        guard let coordinates = root.descendant("coordinates") else {
            throw SAFEError(.missingElement, file: file, message: "no footprint <gml:coordinates>")
        }
        var footprint: [GeoPoint] = []
        for pair in coordinates.text.split(separator: " ") {
            let parts = pair.split(separator: ",")
            guard parts.count == 2, let lat = Double(parts[0]), let lon = Double(parts[1]),
                  abs(lat) <= 90, abs(lon) <= 180 else {
                throw SAFEError(.badValue, file: file, message: "footprint point \"\(pair.prefix(40))\" is not lat,lon (line \(coordinates.line))")
            }
            footprint.append(GeoPoint(latitude: lat, longitude: lon))
        }
        var polarisations: [Polarisation] = []
        for element in root.descendants("transmitterReceiverPolarisation") {
            guard let polarisation = Polarisation(rawValue: element.text.lowercased()) else {
                throw SAFEError(.badValue, file: file, message: "unknown polarisation \"\(element.text)\" (line \(element.line))")
            }
            polarisations.append(polarisation)
        }
        guard let passElement = root.descendant("pass"), let pass = OrbitPass(rawValue: passElement.text.lowercased()) else {
            throw SAFEError(.missingElement, file: file, message: "no <s1:pass> ASCENDING|DESCENDING")
        }
        let absolute = root.descendants("orbitNumber").first { $0.attributes["type"] == "start" }
        let relative = root.descendants("relativeOrbitNumber").first { $0.attributes["type"] == "start" }
        guard let absolute, let absoluteOrbit = Int(absolute.text), let relative, let relativeOrbit = Int(relative.text) else {
            throw SAFEError(.missingElement, file: file, message: "no start <safe:orbitNumber>/<safe:relativeOrbitNumber>")
        }
        guard let family = root.descendant("familyName"), let number = root.descendant("number") else {
            throw SAFEError(.missingElement, file: file, message: "no platform <safe:familyName>/<safe:number>")
        }
        guard let startTime = root.descendant("startTime"), let stopTime = root.descendant("stopTime") else {
            throw SAFEError(.missingElement, file: file, message: "no acquisition <safe:startTime>/<safe:stopTime>")
        }
        let mission = family.text.replacingOccurrences(of: "SENTINEL-", with: "S") + number.text
        return SAFEManifest(
            mission: mission, ipfVersion: version, ipf: ipf, footprint: footprint, polarisations: polarisations,
            pass: pass, absoluteOrbit: absoluteOrbit, relativeOrbit: relativeOrbit,
            startTime: startTime.text, stopTime: stopTime.text)
    }

    private static func discoverFiles(_ path: String) -> [Polarisation: PolarisationFiles] {
        let manager = FileManager.default
        let annotations = (try? manager.contentsOfDirectory(atPath: path + "/annotation")) ?? []
        let calibrations = (try? manager.contentsOfDirectory(atPath: path + "/annotation/calibration")) ?? []
        let measurements = (try? manager.contentsOfDirectory(atPath: path + "/measurement")) ?? []
        var files: [Polarisation: PolarisationFiles] = [:]
        for name in annotations.sorted() where name.hasSuffix(".xml") {
            // s1b-iw-grd-vv-20211223t051122-…-001.xml: the fourth field is the polarisation.
            let fields = name.split(separator: "-")
            guard fields.count > 4, let polarisation = Polarisation(rawValue: String(fields[3])) else { continue }
            let stem = String(name.dropLast(4))
            files[polarisation] = PolarisationFiles(
                annotation: "\(path)/annotation/\(name)",
                calibration: "\(path)/annotation/calibration/" + (calibrations.first { $0 == "calibration-\(stem).xml" } ?? "calibration-\(stem).xml"),
                noise: "\(path)/annotation/calibration/" + (calibrations.first { $0 == "noise-\(stem).xml" } ?? "noise-\(stem).xml"),
                measurement: measurements.first { $0.hasPrefix(stem) && ($0.hasSuffix(".tiff") || $0.hasSuffix(".tif")) }
                    .map { "\(path)/measurement/\($0)" })
        }
        return files
    }
}
