import Foundation

/// WGS 84 / UTM projection maths (Krüger's series to third order in n, after Karney 2011): sub-millimetre
/// inside a zone, so tiles can be geocoded without a projection library in the inner loop.
public struct TransverseMercator: Sendable, Hashable {
    /// UTM zone, 1…60.
    public let zone: Int
    /// Northern hemisphere (false northing 0) or southern (10,000 km).
    public let north: Bool

    private static let a = 6_378_137.0
    private static let f = 1 / 298.257_223_563
    private static let k0 = 0.9996
    private static let falseEasting = 500_000.0
    private static let n = f / (2 - f)
    private static let rectifying = a / (1 + n) * (1 + n * n / 4 + n * n * n * n / 64)
    private static let alpha = [n / 2 - 2 * n * n / 3 + 5 * n * n * n / 16, 13 * n * n / 48 - 3 * n * n * n / 5, 61 * n * n * n / 240]
    private static let beta = [n / 2 - 2 * n * n / 3 + 37 * n * n * n / 96, n * n / 48 + n * n * n / 15, 17 * n * n * n / 480]
    private static let delta = [
        2 * n - 2 * n * n / 3 - 2 * n * n * n + 116 * n * n * n * n / 45,
        7 * n * n / 3 - 8 * n * n * n / 5 - 227 * n * n * n * n / 45,
        56 * n * n * n / 15 - 136 * n * n * n * n / 35,
        4279 * n * n * n * n / 630,
    ]
    private static let eccentricityFactor = 2 * n.squareRoot() / (1 + n)

    /// The projection of UTM `zone`.
    ///
    /// - Precondition: `zone` is 1…60.
    public init(zone: Int, north: Bool) {
        precondition((1...60).contains(zone), "UTM zones are 1 to 60")
        self.zone = zone
        self.north = north
    }

    /// The UTM projection of an EPSG code 32601…32660 (north) or 32701…32760 (south), nil for others.
    public init?(epsg: Int) {
        switch epsg {
        case 32601...32660: self.init(zone: epsg - 32600, north: true)
        case 32701...32760: self.init(zone: epsg - 32700, north: false)
        default: return nil
        }
    }

    /// The UTM projection whose zone holds `point`.
    public init(containing point: GeoPoint) {
        let zone = min(60, max(1, Int(((point.longitude + 180) / 6).rounded(.down)) + 1))
        self.init(zone: zone, north: point.latitude >= 0)
    }

    /// The EPSG code of this projection.
    public var epsg: Int { (north ? 32600 : 32700) + zone }

    private var centralMeridian: Double { Double(zone * 6 - 183) * .pi / 180 }
    private var falseNorthing: Double { north ? 0 : 10_000_000 }

    /// Easting and northing in metres of `point`.
    public func project(_ point: GeoPoint) -> (easting: Double, northing: Double) {
        let phi = point.latitude * .pi / 180
        let lambda = point.longitude * .pi / 180 - centralMeridian
        let e = Self.eccentricityFactor
        let t = sinh(atanh(sin(phi)) - e * atanh(e * sin(phi)))
        let xiPrime = atan2(t, cos(lambda))
        let etaPrime = atanh(sin(lambda) / (1 + t * t).squareRoot())
        var xi = xiPrime
        var eta = etaPrime
        for j in 1...3 {
            let k = 2 * Double(j)
            xi += Self.alpha[j - 1] * sin(k * xiPrime) * cosh(k * etaPrime)
            eta += Self.alpha[j - 1] * cos(k * xiPrime) * sinh(k * etaPrime)
        }
        let scale = Self.k0 * Self.rectifying
        return (Self.falseEasting + scale * eta, falseNorthing + scale * xi)
    }

    /// Latitude and longitude of (`easting`, `northing`).
    public func unproject(easting: Double, northing: Double) -> GeoPoint {
        let scale = Self.k0 * Self.rectifying
        let xi = (northing - falseNorthing) / scale
        let eta = (easting - Self.falseEasting) / scale
        var xiPrime = xi
        var etaPrime = eta
        for j in 1...3 {
            let k = 2 * Double(j)
            xiPrime -= Self.beta[j - 1] * sin(k * xi) * cosh(k * eta)
            etaPrime -= Self.beta[j - 1] * cos(k * xi) * sinh(k * eta)
        }
        let chi = asin(sin(xiPrime) / cosh(etaPrime))
        var phi = chi
        for j in 1...4 {
            phi += Self.delta[j - 1] * sin(2 * Double(j) * chi)
        }
        let lambda = centralMeridian + atan2(sinh(etaPrime), cos(xiPrime))
        return GeoPoint(latitude: phi * 180 / .pi, longitude: lambda * 180 / .pi)
    }
}
