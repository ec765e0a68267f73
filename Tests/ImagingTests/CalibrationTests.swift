import Foundation
import Imaging
import Testing

@Suite("Radiometric calibration", .enabled(if: TestData.available, Comment(rawValue: TestData.missing)), .timeLimit(.minutes(1)))
struct CalibrationTests {
    struct GoldenRow {
        var line: Int
        var pixel: Int
        var values: [String: Double]
    }

    static func goldenRows() throws -> [GoldenRow] {
        let text = try String(contentsOfFile: TestData.sentinel1 + "/calibration_reference_dn100.csv", encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline)
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",").map(String.init)
            var values: [String: Double] = [:]
            for (name, field) in zip(header, fields) { values[name] = Double(field) }
            return GoldenRow(line: Int(fields[2]) ?? -1, pixel: Int(fields[3]) ?? -1, values: values)
        }
    }

    static func relativeError(_ a: Double, _ b: Double) -> Double {
        b == 0 ? abs(a) : abs(a - b) / abs(b)
    }

    @Test func golden_everyReferencePointMatchesToOnePartPerMillion() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let calibration = try product.calibration(.vv)
        let noise = try product.noise(.vv)
        let rows = try Self.goldenRows()
        #expect(rows.count == 20)
        for row in rows {
            let point = CalibrationPoint(calibration: calibration, noise: noise, line: row.line, pixel: row.pixel, dn: 100)
            let checks: [(String, Double)] = [
                ("A_sigma", point.aSigma), ("A_beta", point.aBeta), ("A_gamma", point.aGamma), ("noise_eta", point.noiseEta),
                ("sigma0", point.sigma0), ("sigma0_denoised", point.sigma0Denoised), ("beta0", point.beta0), ("gamma0", point.gamma0),
            ]
            for (name, value) in checks {
                let expected = try #require(row.values[name])
                let error = name == "noise_eta" && expected == 0 ? abs(value) : Self.relativeError(value, expected)
                #expect(error < 1e-6, "\(name) at (\(row.line), \(row.pixel)): \(value) vs \(expected)")
            }
            let dB = try #require(row.values["sigma0_db"])
            #expect(abs(point.sigma0dB - dB) < 1e-5)
        }
    }

    @Test func window_calibratedRasterMatchesThePointFormula() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let calibration = try product.calibration(.vv)
        let noise = try product.noise(.vv)
        // A window across the IW1/IW2 block boundary (pixel 8890) and between two calibration vectors.
        let window = PixelWindow(x: 8870, y: 650, width: 40, height: 30)
        var generator = SplitMix64(seed: 7)
        var dn = Raster<UInt16>(width: window.width, height: window.height)
        for index in dn.pixels.indices { dn.pixels[index] = UInt16.random(in: 0...400, using: &generator) }
        dn[0, 0] = 0
        let denoised = Calibrator(calibration: calibration, noise: noise).calibrate(dn, at: window)
        let plain = Calibrator(calibration: calibration, noise: nil).calibrate(dn, at: window)
        #expect(denoised[0, 0] == 0 && plain[0, 0] == 0)
        for row in 0..<window.height {
            for column in 0..<window.width where dn[column, row] != 0 {
                let point = CalibrationPoint(
                    calibration: calibration, noise: noise, line: window.y + row, pixel: window.x + column, dn: Double(dn[column, row]))
                #expect(Self.relativeError(Double(plain[column, row]), point.sigma0) < 1e-6)
                let expected = point.sigma0Denoised > 0 ? point.sigma0Denoised : 1e-7
                #expect(Self.relativeError(Double(denoised[column, row]), expected) < 1e-5)
            }
        }
    }

    @Test func targets_betaAndGammaUseTheirLUTs() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let calibration = try product.calibration(.vv)
        let window = PixelWindow(x: 100, y: 100, width: 4, height: 1)
        let dn = Raster<UInt16>(width: 4, height: 1, repeating: 100)
        let beta = Calibrator(calibration: calibration, target: .beta, noise: nil).calibrate(dn, at: window)
        let gamma = Calibrator(calibration: calibration, target: .gamma, noise: nil).calibrate(dn, at: window)
        let point = CalibrationPoint(calibration: calibration, noise: nil, line: 100, pixel: 100, dn: 100)
        #expect(Self.relativeError(Double(beta[0, 0]), point.beta0) < 1e-6)
        #expect(Self.relativeError(Double(gamma[0, 0]), point.gamma0) < 1e-6)
    }

    @Test func denoising_negativePowerBecomesTheLowerSignalValueAndZeroStaysNodata() throws {
        let product = try SAFEProduct(path: TestData.sarsen)
        let calibration = try product.calibration(.vv)
        let noise = try product.noise(.vv)
        // DN 1 is far below the noise floor (η ≈ 2,600 at the first pixel).
        let dn = Raster<UInt16>(width: 3, height: 1, pixels: [1, 0, 1])
        let out = Calibrator(calibration: calibration, noise: noise).calibrate(dn, at: PixelWindow(x: 0, y: 0, width: 3, height: 1))
        #expect(out.pixels == [1e-7, 0, 1e-7])
    }
}
