import Foundation
import Grid
import Hummingbird
import Logging
import ServiceLifecycle

/// What every route shares: the journal, who asks, the job they may see, bodies read and decoded under their
/// bounds, grid errors as API errors, and JSON answers.
extension RESTAPI {

    /// The grid's journal (`tessera serve` always has one).
    func journal() throws -> Journal {
        guard let journal = grid.journal else { throw APIError(.notFound, "no_journal", "this grid keeps no journal") }
        return journal
    }

    /// The user the request's bearer token names (the local administrator without a users file).
    func authenticate(_ request: Request) throws -> Users.User {
        guard let users else { return Users.localAdmin }
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "unauthorized", "send Authorization: Bearer TOKEN")
        }
        guard header.hasPrefix("Bearer "), let user = users.user(token: String(header.dropFirst(7))) else {
            throw APIError(.unauthorized, "unauthorized", "the token is not valid")
        }
        return user
    }

    /// The job named by the path, if the user may see it (another user's job is not found). Routes that need its
    /// report ask for it (``jobReport(_:)``): building one costs a row per task.
    func ownedJob(_ request: Request, _ context: BasicRequestContext) async throws -> JobHandle {
        let user = try authenticate(request)
        guard let text = context.parameters.get("id"), let number = UInt64(text) else {
            throw APIError.badRequest("a job id is a number, got '\(context.parameters.get("id") ?? "")'")
        }
        let job = grid.job(JobID(number))
        let owner = try await run { try await grid.owner(of: job.id) }
        guard user.admin || owner == user.name else { throw APIError(.jobNotFound(job.id)) }
        return job
    }

    func jobReport(_ job: JobHandle) async throws -> JobResult {
        try await run { try await job.report() }
    }

    func taskName(_ context: BasicRequestContext) throws -> TaskInstanceName {
        let raw = context.parameters.get("task") ?? ""
        let text = raw.removingPercentEncoding ?? raw
        // A name that cannot parse names no task.
        guard let name = TaskInstanceName(parsing: text) else { throw APIError.notFound("no task '\(text)' (names are T, T#1, T*2, T#1*2)") }
        return name
    }

    func body(of request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: Self.maxBody)
        } catch {
            throw APIError(.contentTooLarge, "too_large", "the body is larger than \(Self.maxBody) bytes")
        }
    }

    /// Decodes a JSON body, refusing unknown fields.
    func decode<T: Decodable>(_ type: T.Type, from request: Request, _ context: BasicRequestContext, allowed: Set<String>) async throws -> T {
        let data = Data(try await body(of: request).readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError.badRequest("the body is not a JSON object")
        }
        let unknown = Set(object.keys).subtracting(allowed)
        guard unknown.isEmpty else {
            throw APIError.badRequest("unknown field(s) \(unknown.sorted().joined(separator: ", ")); expected \(allowed.sorted().joined(separator: ", "))")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw APIError.badRequest("the body does not match: \(error)")
        }
    }

    /// Runs a grid call, turning its error into the API's.
    func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as GridError {
            throw APIError(error)
        }
    }

    func runNow<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as GridError {
            throw APIError(error)
        }
    }

    func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    func text(_ value: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: value)))
    }
}
