import Foundation

/// The XML files of a synthetic SAFE product, in the layout of real IPF 3.x products.
enum SAFEXML {
    /// A file listed in the manifest's data object section.
    struct DataObject {
        var href: String
        var size: Int
        var md5: String
    }

    static func list(_ values: [Double], digits: Int = 6) -> String {
        values.map { String(format: "%.\(digits)e", $0) }.joined(separator: " ")
    }

    static func manifest(
        settings: SyntheticProductWriter.Settings, names: SAFENames, polarisations: [Polarisation], grid: [GeolocationPoint], relativeOrbit: Int,
        objects: [DataObject]
    ) -> String {
        let dataObjects = objects.enumerated().map { index, object in
            """
                <dataObject ID="object\(index)">
                  <byteStream mimeType="application/octet-stream" size="\(object.size)">
                    <fileLocation locatorType="URL" href="\(object.href)"/>
                    <checksum checksumName="MD5">\(object.md5)</checksum>
                  </byteStream>
                </dataObject>
            """
        }.joined(separator: "\n")
        // Footprint: the four corners of the geolocation grid, lat,lon.
        let corners = [grid.first, grid.first(where: { $0.line == 0 && $0.pixel == grid.map(\.pixel).max() }), grid.last,
                       grid.first(where: { $0.pixel == 0 && $0.line == grid.map(\.line).max() })].compactMap { $0 }
        let footprint = corners.map { String(format: "%.6f,%.6f", $0.latitude, $0.longitude) }.joined(separator: " ")
        let polarisationElements = polarisations.map { "<s1sarl1:transmitterReceiverPolarisation>\($0.rawValue.uppercased())</s1sarl1:transmitterReceiverPolarisation>" }
            .joined(separator: "\n            ")
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1" xmlns:safe="http://www.esa.int/safe/sentinel-1.0" \
            xmlns:s1="http://www.esa.int/safe/sentinel-1.0/sentinel-1" xmlns:s1sarl1="http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1" \
            xmlns:gml="http://www.opengis.net/gml" version="esa/safe/sentinel-1.0/sentinel-1/sar/level-1/standard/iwdp">
              <metadataSection>
                <metadataObject ID="processing"><metadataWrap><xmlData>
                  <safe:processing name="SLC Processing"><safe:facility name="Tessera synthetic">
                    <safe:software name="Sentinel-1 IPF" version="\(settings.ipfVersion)"/>
                  </safe:facility></safe:processing>
                </xmlData></metadataWrap></metadataObject>
                <metadataObject ID="platform"><metadataWrap><xmlData>
                  <safe:platform><safe:familyName>SENTINEL-1</safe:familyName><safe:number>\(settings.mission.suffix(1))</safe:number></safe:platform>
                </xmlData></metadataWrap></metadataObject>
                <metadataObject ID="measurementOrbitReference"><metadataWrap><xmlData>
                  <safe:orbitReference>
                    <safe:orbitNumber type="start">\(names.absoluteOrbit)</safe:orbitNumber>
                    <safe:orbitNumber type="stop">\(names.absoluteOrbit)</safe:orbitNumber>
                    <safe:relativeOrbitNumber type="start">\(relativeOrbit)</safe:relativeOrbitNumber>
                    <safe:relativeOrbitNumber type="stop">\(relativeOrbit)</safe:relativeOrbitNumber>
                    <safe:extension><s1:orbitProperties><s1:pass>\(settings.pass.rawValue.uppercased())</s1:pass></s1:orbitProperties></safe:extension>
                  </safe:orbitReference>
                </xmlData></metadataWrap></metadataObject>
                <metadataObject ID="generalProductInformation"><metadataWrap><xmlData>
                  <s1sarl1:standAloneProductInformation>
                    \(polarisationElements)
                    <s1sarl1:productType>GRD</s1sarl1:productType>
                  </s1sarl1:standAloneProductInformation>
                </xmlData></metadataWrap></metadataObject>
                <metadataObject ID="acquisitionPeriod"><metadataWrap><xmlData>
                  <safe:acquisitionPeriod><safe:startTime>\(names.startISO)</safe:startTime><safe:stopTime>\(names.stopISO)</safe:stopTime></safe:acquisitionPeriod>
                </xmlData></metadataWrap></metadataObject>
                <metadataObject ID="measurementFrameSet"><metadataWrap><xmlData>
                  <safe:frameSet><safe:frame><safe:footPrint srsName="http://www.opengis.net/gml/srs/epsg.xml#4326">
                    <gml:coordinates>\(footprint)</gml:coordinates>
                  </safe:footPrint></safe:frame></safe:frameSet>
                </xmlData></metadataWrap></metadataObject>
              </metadataSection>
              <dataObjectSection>
            \(dataObjects)
              </dataObjectSection>
            </xfdu:XFDU>

            """
    }

    static func annotation(
        settings: SyntheticProductWriter.Settings, names: SAFENames, polarisation: Polarisation, geometry: SyntheticGeometry, grid: [GeolocationPoint]
    ) -> String {
        let points = grid.map { point in
            """
                  <geolocationGridPoint>
                    <azimuthTime>\(names.startISO)</azimuthTime>
                    <slantRangeTime>5.3e-03</slantRangeTime>
                    <line>\(Int(point.line))</line>
                    <pixel>\(Int(point.pixel))</pixel>
                    <latitude>\(String(format: "%.15e", point.latitude))</latitude>
                    <longitude>\(String(format: "%.15e", point.longitude))</longitude>
                    <height>0.0</height>
                    <incidenceAngle>\(String(format: "%.6e", point.incidenceAngle))</incidenceAngle>
                    <elevationAngle>\(String(format: "%.6e", point.incidenceAngle - 3))</elevationAngle>
                  </geolocationGridPoint>
            """
        }.joined(separator: "\n")
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <product>
              <adsHeader>
                <missionId>\(settings.mission)</missionId>
                <productType>GRD</productType>
                <polarisation>\(polarisation.rawValue.uppercased())</polarisation>
                <mode>IW</mode>
                <startTime>\(names.startISO)</startTime>
                <stopTime>\(names.stopISO)</stopTime>
                <absoluteOrbitNumber>\(names.absoluteOrbit)</absoluteOrbitNumber>
              </adsHeader>
              <generalAnnotation>
                <productInformation><pass>\(settings.pass == .ascending ? "Ascending" : "Descending")</pass></productInformation>
              </generalAnnotation>
              <imageAnnotation>
                <imageInformation>
                  <productFirstLineUtcTime>\(names.startISO)</productFirstLineUtcTime>
                  <rangePixelSpacing>\(String(format: "%.6e", geometry.spacing))</rangePixelSpacing>
                  <azimuthPixelSpacing>\(String(format: "%.6e", geometry.spacing))</azimuthPixelSpacing>
                  <numberOfSamples>\(geometry.width)</numberOfSamples>
                  <numberOfLines>\(geometry.height)</numberOfLines>
                </imageInformation>
              </imageAnnotation>
              <geolocationGrid>
                <geolocationGridPointList count="\(grid.count)">
            \(points)
                </geolocationGridPointList>
              </geolocationGrid>
            </product>

            """
    }

    static func calibration(luts: SyntheticLUTs, names: SAFENames) -> String {
        let pixels = luts.vectorPixels
        let vectors = luts.vectorLines.map { line in
            """
                <calibrationVector>
                  <azimuthTime>\(names.startISO)</azimuthTime>
                  <line>\(line)</line>
                  <pixel count="\(pixels.count)">\(pixels.map(String.init).joined(separator: " "))</pixel>
                  <sigmaNought count="\(pixels.count)">\(list(pixels.map { luts.sigma(pixel: Double($0)) }))</sigmaNought>
                  <betaNought count="\(pixels.count)">\(list(pixels.map { _ in luts.beta }))</betaNought>
                  <gamma count="\(pixels.count)">\(list(pixels.map { luts.gamma(pixel: Double($0)) }))</gamma>
                  <dn count="\(pixels.count)">\(list(pixels.map { _ in 401.5858 }))</dn>
                </calibrationVector>
            """
        }.joined(separator: "\n")
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <calibration>
              <calibrationInformation><absoluteCalibrationConstant>1.000000e+00</absoluteCalibrationConstant></calibrationInformation>
              <calibrationVectorList count="\(luts.vectorLines.count)">
            \(vectors)
              </calibrationVectorList>
            </calibration>

            """
    }

    static func noise(luts: SyntheticLUTs, names: SAFENames) -> String {
        let pixels = luts.vectorPixels
        let range = luts.vectorLines.map { line in
            """
                <noiseRangeVector>
                  <azimuthTime>\(names.startISO)</azimuthTime>
                  <line>\(line)</line>
                  <pixel count="\(pixels.count)">\(pixels.map(String.init).joined(separator: " "))</pixel>
                  <noiseRangeLut count="\(pixels.count)">\(list(pixels.map { luts.rangeNoise(pixel: Double($0)) }))</noiseRangeLut>
                </noiseRangeVector>
            """
        }.joined(separator: "\n")
        let lines = Array(stride(from: 0, to: luts.geometry.height - 1, by: 10)) + [luts.geometry.height - 1]
        let azimuth = luts.swathBounds().enumerated().map { swath, bounds in
            """
                <noiseAzimuthVector>
                  <swath>IW\(swath + 1)</swath>
                  <firstAzimuthLine>0</firstAzimuthLine>
                  <firstRangeSample>\(bounds.first)</firstRangeSample>
                  <lastAzimuthLine>\(luts.geometry.height - 1)</lastAzimuthLine>
                  <lastRangeSample>\(bounds.last)</lastRangeSample>
                  <line count="\(lines.count)">\(lines.map(String.init).joined(separator: " "))</line>
                  <noiseAzimuthLut count="\(lines.count)">\(list(lines.map { luts.azimuthNoise(line: Double($0), pixel: bounds.first) }))</noiseAzimuthLut>
                </noiseAzimuthVector>
            """
        }.joined(separator: "\n")
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <noise>
              <noiseRangeVectorList count="\(luts.vectorLines.count)">
            \(range)
              </noiseRangeVectorList>
              <noiseAzimuthVectorList count="3">
            \(azimuth)
              </noiseAzimuthVectorList>
            </noise>

            """
    }
}
