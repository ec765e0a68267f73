import CGDAL
import CGDALLoader
import Foundation

/// A raster store on files, through GDAL (GeoTIFF, COG, PNG, and every format GDAL reads).
///
/// Each call opens and closes its own dataset, so one store is safe to share between threads. GDAL's
/// messages are captured into the thrown ``RasterError`` instead of being printed, and no `.aux.xml`
/// side files are written.
public struct GDALRasterStore: RasterStore {
    /// Loads GDAL and registers its drivers once per process; false when the library is not installed.
    private static let registration: Bool = {
        guard tessera_gdal_available() != 0 else { return false }
        CPLSetConfigOption("GDAL_PAM_ENABLED", "NO")
        CPLSetConfigOption("CPL_LOG_ERRORS", "OFF")
        GDALAllRegister()
        return true
    }()

    /// A store; GDAL is loaded and its drivers registered on the first read or write, not before.
    public init() {}

    /// The version of the GDAL library in use, such as "3.6.2".
    public static var gdalVersion: String {
        _ = registration
        return GDALVersionInfo("RELEASE_NAME").map { String(cString: $0) } ?? "unknown"
    }

    public func info(at path: String) throws(RasterError) -> RasterInfo {
        try withDataset(path) { dataset, band throws(RasterError) in
            try Self.info(dataset: dataset, band: band, path: path)
        }
    }

    public func read<Pixel: RasterPixel>(_ path: String, window: PixelWindow?, as type: Pixel.Type) throws(RasterError) -> Raster<Pixel> {
        try withDataset(path) { dataset, band throws(RasterError) in
            let width = Int(GDALGetRasterXSize(dataset))
            let height = Int(GDALGetRasterYSize(dataset))
            let found = Self.dataType(GDALGetRasterDataType(band))
            guard found == Pixel.dataType else {
                throw RasterError(
                    .wrongDataType(expected: Pixel.dataType, found: found), path: path,
                    message: "band 1 is \(Self.typeName(GDALGetRasterDataType(band))), expected \(Pixel.dataType.rawValue)")
            }
            let window = window ?? PixelWindow(x: 0, y: 0, width: width, height: height)
            guard window.fits(width: width, height: height) else {
                throw RasterError(
                    .windowOutOfBounds(window, width: width, height: height), path: path,
                    message: "window \(window) is outside the \(width)×\(height) image")
            }
            // GDAL fills every pixel: no zero-filling first (this generic path is not specialised, so an
            // initialised array would be filled element by element).
            var status = CE_None
            let pixels = [Pixel](unsafeUninitializedCapacity: window.pixelCount) { buffer, initialized in
                status = GDALRasterIO(
                    band, GF_Read, Int32(window.x), Int32(window.y), Int32(window.width), Int32(window.height),
                    buffer.baseAddress, Int32(window.width), Int32(window.height), Self.gdalType(Pixel.dataType), 0, 0)
                if status != CE_None {
                    UnsafeMutableRawPointer(buffer.baseAddress)?.initializeMemory(as: UInt8.self, repeating: 0, count: window.pixelCount * MemoryLayout<Pixel>.stride)
                }
                initialized = window.pixelCount
            }
            guard status == CE_None else {
                throw RasterError(.unreadable, path: path, message: "reading window \(window) failed: \(Self.lastMessage())")
            }
            return Raster(width: window.width, height: window.height, pixels: pixels)
        }
    }

    public func write<Pixel: RasterPixel>(_ image: GeoRaster<Pixel>, to path: String, format: RasterFormat) throws(RasterError) {
        let raster = image.raster
        guard raster.width > 0, raster.height > 0 else {
            throw RasterError(.writeFailed, path: path, message: "cannot write an empty \(raster.width)×\(raster.height) raster")
        }
        let (driverName, options): (String, [String]) = switch format {
        case .geoTIFF(let deflate): ("GTiff", ["TILED=YES", "BIGTIFF=IF_SAFER"] + (deflate ? ["COMPRESS=DEFLATE"] : []))
        case .cog: ("COG", ["COMPRESS=DEFLATE", "BIGTIFF=IF_SAFER"])
        case .png: ("PNG", [])
        }
        if case .png = format, Pixel.dataType != .byte {
            throw RasterError(.unsupported, path: path, message: "PNG holds Byte pixels, not \(Pixel.dataType.rawValue)")
        }
        try Self.requireGDAL(path)
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        CPLErrorReset()
        guard let driver = GDALGetDriverByName(driverName), let memory = GDALGetDriverByName("MEM") else {
            throw RasterError(.unsupported, path: path, message: "this GDAL has no \(driverName) driver")
        }
        let url = URL(fileURLWithPath: path)
        let partial = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString)").path
        var pixels = raster.pixels
        let result: Result<Void, RasterError> = pixels.withUnsafeMutableBytes { buffer in
            guard let source = GDALCreate(memory, "", Int32(raster.width), Int32(raster.height), 0, Self.gdalType(Pixel.dataType), nil) else {
                return .failure(RasterError(.writeFailed, path: path, message: "cannot create an in-memory dataset: \(Self.lastMessage())"))
            }
            defer { GDALClose(source) }
            // The in-memory band points at the caller's pixels: no copy before GDAL encodes them.
            let address = UInt(bitPattern: buffer.baseAddress)
            var bandOptions: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
            bandOptions = CSLSetNameValue(bandOptions, "DATAPOINTER", "0x" + String(address, radix: 16))
            defer { CSLDestroy(bandOptions) }
            guard GDALAddBand(source, Self.gdalType(Pixel.dataType), bandOptions) == CE_None,
                  let band = GDALGetRasterBand(source, 1)
            else {
                return .failure(RasterError(.writeFailed, path: path, message: "cannot wrap the pixels: \(Self.lastMessage())"))
            }
            if format != .png {
                Self.georeference(source, band: band, image: image)
            }
            if !image.palette.isEmpty, Pixel.dataType == .byte, let table = GDALCreateColorTable(GPI_RGB) {
                defer { GDALDestroyColorTable(table) }
                for (index, colour) in image.palette.prefix(256).enumerated() {
                    var entry = GDALColorEntry(c1: Int16(colour.red), c2: Int16(colour.green), c3: Int16(colour.blue), c4: 255)
                    GDALSetColorEntry(table, Int32(index), &entry)
                }
                GDALSetRasterColorTable(band, table)
            }
            var createOptions: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
            for option in options {
                createOptions = CSLAddString(createOptions, option)
            }
            defer { CSLDestroy(createOptions) }
            guard let written = GDALCreateCopy(driver, partial, source, 0, createOptions, nil, nil) else {
                return .failure(RasterError(.writeFailed, path: path, message: "\(driverName) write failed: \(Self.lastMessage())"))
            }
            GDALClose(written)
            if CPLGetLastErrorType() == CE_Failure || CPLGetLastErrorType() == CE_Fatal {
                return .failure(RasterError(.writeFailed, path: path, message: "\(driverName) write failed: \(Self.lastMessage())"))
            }
            return .success(())
        }
        if case .failure(let error) = result {
            unlink(partial)
            throw error
        }
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(partial)
            throw RasterError(.writeFailed, path: path, message: "cannot move the finished file into place: \(reason)")
        }
    }

    // MARK: - GDAL plumbing

    /// Whether the GDAL library could be loaded.
    public static var isAvailable: Bool { registration }

    private static func requireGDAL(_ path: String) throws(RasterError) {
        guard registration else {
            throw RasterError(.unsupported, path: path, message: "the GDAL library (libgdal, Debian's libgdal32) cannot be loaded")
        }
    }

    private func withDataset<T>(
        _ path: String, _ body: (GDALDatasetH, GDALRasterBandH) throws(RasterError) -> T
    ) throws(RasterError) -> T {
        try Self.requireGDAL(path)
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        CPLErrorReset()
        guard FileManager.default.fileExists(atPath: path) else {
            throw RasterError(.notFound, path: path, message: "no such file")
        }
        guard let dataset = GDALOpenEx(path, UInt32(GDAL_OF_RASTER | GDAL_OF_READONLY), nil, nil, nil) else {
            throw RasterError(.unreadable, path: path, message: "not a raster GDAL can read: \(Self.lastMessage())")
        }
        defer { GDALClose(dataset) }
        guard GDALGetRasterCount(dataset) >= 1, let band = GDALGetRasterBand(dataset, 1) else {
            throw RasterError(.unreadable, path: path, message: "the file has no raster band")
        }
        return try body(dataset, band)
    }

    private static func info(dataset: GDALDatasetH, band: GDALRasterBandH, path: String) throws(RasterError) -> RasterInfo {
        var geo = GeoReference()
        var coefficients = [Double](repeating: 0, count: 6)
        if GDALGetGeoTransform(dataset, &coefficients) == CE_None {
            geo.transform = GeoTransform(
                originX: coefficients[0], pixelWidth: coefficients[1], rowRotation: coefficients[2],
                originY: coefficients[3], columnRotation: coefficients[4], pixelHeight: coefficients[5])
        }
        if let wkt = GDALGetProjectionRef(dataset).map({ String(cString: $0) }), !wkt.isEmpty {
            geo.crs = crs(fromWKT: wkt)
        }
        var hasNodata: Int32 = 0
        let nodata = GDALGetRasterNoDataValue(band, &hasNodata)
        if hasNodata != 0 { geo.nodata = nodata }
        var metadata: [String: String] = [:]
        if var entry = GDALGetMetadata(dataset, nil) {
            while let pair = entry.pointee {
                let text = String(cString: pair)
                if let equals = text.firstIndex(of: "=") {
                    metadata[String(text[..<equals])] = String(text[text.index(after: equals)...])
                }
                entry += 1
            }
        }
        let compression = GDALGetMetadataItem(dataset, "COMPRESSION", "IMAGE_STRUCTURE").map { String(cString: $0) }
        let layout = GDALGetMetadataItem(dataset, "LAYOUT", "IMAGE_STRUCTURE").map { String(cString: $0) }
        var palette: [RasterColour] = []
        if let table = GDALGetRasterColorTable(band) {
            for index in 0..<GDALGetColorEntryCount(table) {
                guard let entry = GDALGetColorEntry(table, index)?.pointee else { continue }
                palette.append(RasterColour(red: UInt8(clamping: entry.c1), green: UInt8(clamping: entry.c2), blue: UInt8(clamping: entry.c3)))
            }
        }
        var info = RasterInfo(
            width: Int(GDALGetRasterXSize(dataset)), height: Int(GDALGetRasterYSize(dataset)),
            bandCount: Int(GDALGetRasterCount(dataset)), dataType: dataType(GDALGetRasterDataType(band)),
            geo: geo, metadata: metadata, compression: compression, layout: layout,
            gcpCount: Int(GDALGetGCPCount(dataset)))
        info.palette = palette
        return info
    }

    private static func georeference<Pixel: RasterPixel>(_ dataset: GDALDatasetH, band: GDALRasterBandH, image: GeoRaster<Pixel>) {
        if let transform = image.geo.transform {
            var coefficients = transform.coefficients
            GDALSetGeoTransform(dataset, &coefficients)
        }
        if let crs = image.geo.crs, let wkt = wkt(for: crs) {
            GDALSetProjection(dataset, wkt)
        }
        if let nodata = image.geo.nodata {
            GDALSetRasterNoDataValue(band, nodata)
        }
        for (key, value) in image.metadata.sorted(by: { $0.key < $1.key }) {
            GDALSetMetadataItem(dataset, key, value, nil)
        }
    }

    private static func crs(fromWKT wkt: String) -> CRS {
        guard let srs = OSRNewSpatialReference(wkt) else { return .wkt(wkt) }
        defer { OSRDestroySpatialReference(srs) }
        _ = OSRAutoIdentifyEPSG(srs)
        if let authority = OSRGetAuthorityName(srs, nil).map({ String(cString: $0) }), authority == "EPSG",
           let code = OSRGetAuthorityCode(srs, nil).map({ String(cString: $0) }), let epsg = Int(code) {
            return .epsg(epsg)
        }
        return .wkt(wkt)
    }

    private static func wkt(for crs: CRS) -> String? {
        switch crs {
        case .wkt(let text): return text
        case .epsg(let code):
            guard let srs = OSRNewSpatialReference(nil) else { return nil }
            defer { OSRDestroySpatialReference(srs) }
            guard OSRImportFromEPSG(srs, Int32(code)) == OGRERR_NONE else { return nil }
            var text: UnsafeMutablePointer<CChar>? = nil
            guard OSRExportToWkt(srs, &text) == OGRERR_NONE, let text else { return nil }
            defer { VSIFree(text) }
            return String(cString: text)
        }
    }

    private static func dataType(_ type: GDALDataType) -> RasterDataType {
        switch type {
        case GDT_Byte: .byte
        case GDT_UInt16: .uint16
        case GDT_Float32: .float32
        default: .other
        }
    }

    private static func typeName(_ type: GDALDataType) -> String {
        GDALGetDataTypeName(type).map { String(cString: $0) } ?? "unknown"
    }

    private static func gdalType(_ type: RasterDataType) -> GDALDataType {
        switch type {
        case .byte: GDT_Byte
        case .uint16: GDT_UInt16
        case .float32: GDT_Float32
        case .other: GDT_Unknown
        }
    }

    private static func lastMessage() -> String {
        let message = String(cString: CPLGetLastErrorMsg())
        return message.isEmpty ? "no detail from GDAL" : message
    }
}
