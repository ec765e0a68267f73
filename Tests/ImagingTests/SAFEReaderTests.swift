import Foundation
import Imaging
import Testing

@Suite("SAFE reader", .enabled(if: TestData.available, Comment(rawValue: TestData.missing)), .timeLimit(.minutes(1)))
struct SAFEReaderTests {
    @Test func manifest_sarsenProductHasItsIPFFootprintAndPolarisations() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        #expect(product.name == "S1B_IW_GRDH_1SDV_20211223T051122_20211223T051147_030148_039993_5371")
        #expect(product.manifest.mission == "S1B")
        #expect(product.manifest.ipfVersion == "003.40")
        #expect(product.manifest.ipf == 3.40)
        #expect(product.manifest.polarisations == [.vv, .vh])
        #expect(product.manifest.pass == .descending)
        #expect(product.manifest.absoluteOrbit == 30148)
        #expect(product.manifest.relativeOrbit == 22)
        #expect(product.manifest.footprint.count == 4)
        #expect(product.manifest.footprint[0] == GeoPoint(latitude: 40.876698, longitude: 14.925448))
        #expect(product.manifest.startTime == "2021-12-23T05:11:22.594441")
        // Only the VV files were kept in this sample.
        #expect(product.files.keys.sorted { $0.rawValue < $1.rawValue } == [.vv])
        #expect(throws: SAFEError.self) { try product.files(.vh) }
    }

    @Test func structure_sarsenProductParsesEveryVectorAndGridPoint() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let annotation = try product.annotation(.vv)
        #expect(annotation.numberOfSamples == 26102)
        #expect(annotation.numberOfLines == 16705)
        #expect(annotation.rangePixelSpacing == 10)
        #expect(annotation.pass == .descending)
        #expect(annotation.polarisation == .vv)
        #expect(annotation.geolocationGrid.count == 210)
        let calibration = try product.calibration(.vv)
        #expect(calibration.sigmaNought.lines.count == 27)
        #expect(calibration.sigmaNought.pixels.allSatisfy { $0.count == 654 })
        #expect(calibration.absoluteCalibrationConstant == 1.393)
        #expect(calibration.betaNought.values[0][0] == 473.9733)
        let noise = try product.noise(.vv)
        #expect(noise.range.lines.count == 27)
        #expect(noise.range.pixels.allSatisfy { $0.count == 657 })
        #expect(noise.azimuthBlocks.count == 3)
        #expect(noise.azimuthBlocks.map(\.swath) == ["IW1", "IW2", "IW3"])
        #expect(noise.azimuthBlocks[1].firstPixel == 8890)
    }

    @Test func structure_pyrosarProductHasBothPolarisations() throws {
        let product = try SAFEProduct(path: TestData.pyrosar)
        #expect(product.manifest.ipfVersion == "003.31")
        #expect(product.manifest.pass == .descending || product.manifest.pass == .ascending)
        #expect(Set(product.files.keys) == [.vv, .vh])
        #expect(product.files[.vv]?.measurement == nil)
        for polarisation in [Polarisation.vv, .vh] {
            let annotation = try product.annotation(polarisation)
            #expect(annotation.polarisation == polarisation)
            #expect(annotation.geolocationGrid.count > 100)
            let calibration = try product.calibration(polarisation)
            #expect(calibration.sigmaNought.lines.count > 10)
            let noise = try product.noise(polarisation)
            #expect(!noise.azimuthBlocks.isEmpty)
        }
    }

    @Test func noise_preIPF29LayoutReadsTheSingleRangeVector() throws {
        // The pre-2.9 layout, made from the real file: the same range vectors under the old names, no azimuth part.
        let product = try SAFEProduct(path: TestData.sarsen)
        let files = try product.files(.vv)
        var text = try String(contentsOfFile: files.noise, encoding: .utf8)
        if let start = text.range(of: "<noiseAzimuthVectorList"), let end = text.range(of: "</noiseAzimuthVectorList>") {
            text.removeSubrange(start.lowerBound..<end.upperBound)
        }
        text = text.replacingOccurrences(of: "noiseRangeVector", with: "noiseVector")
            .replacingOccurrences(of: "noiseRangeLut", with: "noiseLut")
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("noise-old.xml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let old = try NoiseTable(file: path)
        let new = try product.noise(.vv)
        #expect(old.azimuthBlocks.isEmpty)
        #expect(old.range == new.range)
        #expect(old.eta(line: 100, pixel: 5000) == new.range.value(line: 100, pixel: 5000))
    }

    @Test func badInput_truncatedGarbledAndMissingFilesAreTypedErrors() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let files = try product.files(.vv)
        let directory = try TestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = try Data(contentsOf: URL(fileURLWithPath: files.calibration))
        let truncated = directory.appendingPathComponent("truncated.xml").path
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: truncated))
        #expect { try CalibrationTable(file: truncated) } throws: { ($0 as? SAFEError)?.code == .malformedXML }

        var garbledText = try String(contentsOfFile: files.calibration, encoding: .utf8)
        garbledText = garbledText.replacingOccurrences(of: "<line>668</line>", with: "<line>six hundred</line>")
        let garbled = directory.appendingPathComponent("garbled.xml").path
        try garbledText.write(toFile: garbled, atomically: true, encoding: .utf8)
        #expect { try CalibrationTable(file: garbled) } throws: { ($0 as? SAFEError)?.code == .badValue }

        var shortText = try String(contentsOfFile: files.calibration, encoding: .utf8)
        if let range = shortText.range(of: "<sigmaNought count=\"654\">6.638558e+02 ") {
            shortText.replaceSubrange(range, with: "<sigmaNought count=\"654\">")
        }
        let short = directory.appendingPathComponent("short.xml").path
        try shortText.write(toFile: short, atomically: true, encoding: .utf8)
        #expect { try CalibrationTable(file: short) } throws: { ($0 as? SAFEError)?.code == .badValue }

        #expect { try CalibrationTable(file: directory.appendingPathComponent("absent.xml").path) } throws: {
            ($0 as? SAFEError)?.code == .missingFile
        }
        #expect { try ProductAnnotation(file: files.calibration) } throws: { ($0 as? SAFEError)?.code == .missingElement }
        #expect { try SAFEProduct(path: directory.path) } throws: { ($0 as? SAFEError)?.code == .missingFile }
    }
}
