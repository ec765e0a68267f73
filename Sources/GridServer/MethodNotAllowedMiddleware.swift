import Foundation
import Grid
import Hummingbird
import Logging
import ServiceLifecycle

/// A method a path does not declare gets 405 with the `Allow` header (RFC 9110), and a path no route has a
/// JSON 404, instead of the router's empty 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    /// Each route's path pattern (`:name` segments match anything) and its methods.
    let routes: [(segments: [Substring], methods: Set<HTTPRequest.Method>)]

    init(routes: [String: Set<HTTPRequest.Method>]) {
        self.routes = routes.map { ($0.key.split(separator: "/"), $0.value) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = request.uri.path.split(separator: "/")
        var allowed: Set<HTTPRequest.Method> = []
        for route in routes where route.segments.count == segments.count
            && zip(route.segments, segments).allSatisfy({ $0.hasPrefix(":") || $0 == $1 }) {
            allowed.formUnion(route.methods)
        }
        if allowed.contains(.get) { allowed.insert(.head) }
        guard !allowed.isEmpty else { throw APIError.notFound("no route \(request.uri.path); see /openapi.yaml") }
        guard allowed.contains(request.method) else {
            let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.uri.path) allows \(list)", allow: list)
        }
        return try await next(request, context)
    }
}
