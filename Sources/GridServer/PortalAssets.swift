import Hummingbird

/// The portal: one HTML page, its style sheet and its script (`Portal/index.html`, `app.css`, `app.js`), shipped
/// as SwiftPM resources embedded in the binary, so that a `tessera` copied anywhere serves them without a resource
/// folder beside it. No asset comes from the internet: plain HTML, CSS and JavaScript, charts and graphs drawn as
/// SVG. The page talks to the REST API with the user's bearer token, and follows `/api/v1/events` (server-sent
/// events read with `fetch`, so the token stays in a header) to update without reloading.
enum PortalAssets {
    /// One asset: its bytes, read once, and its content type.
    struct Asset: Sendable {
        let bytes: ByteBuffer
        let type: String

        init(_ bytes: [UInt8], type: String) {
            self.bytes = ByteBuffer(bytes: bytes)
            self.type = type
        }

        /// The asset, never cached without asking again (a new build serves a new page at once).
        var response: Response {
            Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache"], body: .init(byteBuffer: bytes))
        }
    }

    static let html = Asset(PackageResources.index_html, type: "text/html; charset=utf-8")
    static let style = Asset(PackageResources.app_css, type: "text/css; charset=utf-8")
    static let script = Asset(PackageResources.app_js, type: "text/javascript; charset=utf-8")
}
