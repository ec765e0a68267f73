import Foundation
import Grid
import Hummingbird

/// An error of the REST API: an HTTP status and a JSON body `{"code": …, "message": …}`.
struct APIError: HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// The `Allow` header of a 405.
    var allow: String?
    /// The request's field at fault (a node source's `policy.maxNodes`), in the body as `field`.
    var field: String?

    /// The same error, naming the field at fault.
    func with(field: String) -> APIError {
        var copy = self
        copy.field = field
        return copy
    }

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, allow: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }

    /// The grid's errors, mapped to statuses.
    init(_ error: GridError) {
        switch error {
        case .invalidWorkflow: self.init(.unprocessableContent, "invalid_workflow", error.description)
        case .priorityNeedsAdmin: self.init(.forbidden, "needs_admin", error.description)
        case .badStartAt: self.init(.unprocessableContent, "bad_start_at", error.description)
        case .limitExceeded: self.init(.unprocessableContent, "limit_exceeded", error.description)
        case .jobNotFound: self.init(.notFound, "job_not_found", error.description)
        case .taskNotFound: self.init(.notFound, "task_not_found", error.description)
        case .actionNotAllowed: self.init(.conflict, "action_not_allowed", error.description)
        case .functionNotRegistered: self.init(.unprocessableContent, "function_not_registered", error.description)
        case .shutDown: self.init(.serviceUnavailable, "shutting_down", error.description)
        case .startFailed, .journal: self.init(.internalServerError, "internal", error.description)
        case .notJournalable: self.init(.unprocessableContent, "not_journalable", error.description)
        case .remote: self.init(.badGateway, "remote", error.description)
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var fields = ["code": code, "message": message]
        if let field { fields["field"] = field }
        let body = (try? encoder.encode(fields)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
