import Foundation

/// Locates the shared Sentinel-1 test data: `$TESSERA_TEST_DATA`, else `../shared/data` next to the repository.
///
/// The data is never committed; tests that need it are disabled with a message when it is absent.
enum TestData {
    static let root: String? = {
        let fileManager = FileManager.default
        if let configured = ProcessInfo.processInfo.environment["TESSERA_TEST_DATA"], !configured.isEmpty {
            return fileManager.fileExists(atPath: configured + "/sentinel1") ? configured : nil
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shared = repository.deletingLastPathComponent().appendingPathComponent("shared/data").path
        return fileManager.fileExists(atPath: shared + "/sentinel1") ? shared : nil
    }()

    /// Why the data-backed tests are skipped.
    static let missing = "Sentinel-1 test data not found: set TESSERA_TEST_DATA or place it at ../shared/data"

    static var available: Bool { root != nil }

    static var sentinel1: String { (root ?? "/nonexistent") + "/sentinel1" }

    /// The sarsen S1B product (IPF 3.40, VV, real XML, all-zero ZSTD measurement).
    static var sarsen: String {
        sentinel1 + "/sarsen-grd-s1b-20211223/S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371.SAFE"
    }

    /// The pyroSAR S1A product (IPF 3.31, VV + VH, metadata only).
    static var pyrosar: String {
        sentinel1 + "/pyrosar-grd-s1a-20210119/S1A_IW_GRDH_1SDV_20210119T031653_20210119T031718_036201_043ED0_8255.SAFE"
    }

    /// The real geocoded S1A VV dB tile (268 × 217, EPSG:32631).
    static var geocodedTile: String {
        sentinel1 + "/pyrosar-geocoded-db/S1A__IW___A_20150309T173017_VV_grd_mli_geo_norm_db.tif"
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-imaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
