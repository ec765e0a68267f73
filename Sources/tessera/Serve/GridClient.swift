import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small client of the REST API for the CLI's client commands.
struct GridClient: Sendable {
    /// A failed call: the server's `{"code", "message"}`, or why there was no answer.
    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var code: String
        var message: String
        var description: String { status == 0 ? message : "\(message) (HTTP \(status), \(code))" }
    }

    let server: URL
    let token: String?

    init(server text: String, token: String?) throws(Failure) {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw Failure(status: 0, code: "bad_server", message: "--server expects http://HOST:PORT, got '\(text)'")
        }
        server = url
        self.token = token
    }

    /// The token from `$TESSERA_TOKEN`, else from `file`.
    static func token(file: String?) throws(Failure) -> String? {
        if let token = ProcessInfo.processInfo.environment["TESSERA_TOKEN"], !token.isEmpty { return token }
        guard let file else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw Failure(status: 0, code: "bad_token_file", message: "cannot read the token file \(file)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A request for `path`, which is already percent-encoded (a task name's `#` is `%23`): it is set as it is, not
    /// encoded a second time (`appendingPathComponent` would turn `%23` into `%2523`).
    func request(_ method: String, _ path: String, query: [URLQueryItem] = [], body: Data? = nil, contentType: String? = nil) -> URLRequest {
        var components = URLComponents(url: server, resolvingAgainstBaseURL: false)
        let base = components?.percentEncodedPath ?? ""
        components?.percentEncodedPath = (base.hasSuffix("/") ? String(base.dropLast()) : base) + (path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty { components?.queryItems = query }
        var request = URLRequest(url: components?.url ?? server)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return request
    }

    /// Sends a request and returns the body of a 2xx answer.
    func send(_ request: URLRequest) async throws(Failure) -> Data {
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Failure(status: 0, code: "unreachable", message: "cannot reach \(server.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode([String: String].self, from: data), let message = error["message"] {
                throw Failure(status: status, code: error["code"] ?? "error", message: message)
            }
            throw Failure(status: status, code: "error", message: String(decoding: data, as: UTF8.self))
        }
        return data
    }

    func get<T: Decodable>(_ type: T.Type, _ path: String, query: [URLQueryItem] = []) async throws(Failure) -> T {
        try decode(type, await send(request("GET", path, query: query)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws(Failure) -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw Failure(status: 0, code: "bad_answer", message: "the server's answer is not what this client expects: \(error)")
        }
    }

    /// Streams a body to `sink` as it arrives (for `logs --follow`).
    func stream(_ request: URLRequest, into sink: @escaping @Sendable (Data) -> Void) async throws(Failure) {
        let delegate = StreamDelegate(sink: sink)
        let session = URLSession(configuration: .default, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let failure: Failure? = await withCheckedContinuation { continuation in
            delegate.finish = { continuation.resume(returning: $0) }
            session.dataTask(with: request).resume()
        }
        if let failure { throw failure }
    }
}

/// Hands each chunk of a streamed body to a sink; reports the end.
private final class StreamDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // Touched only from the session's serial delegate queue.
    let sink: @Sendable (Data) -> Void
    var finish: (@Sendable (GridClient.Failure?) -> Void)?
    private var status = 0
    private var errorBody = Data()

    init(sink: @escaping @Sendable (Data) -> Void) { self.sink = sink }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        status = (response as? HTTPURLResponse)?.statusCode ?? 0
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        if (200..<300).contains(status) { sink(data) } else { errorBody.append(data) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error {
            finish?(GridClient.Failure(status: 0, code: "unreachable", message: error.localizedDescription))
        } else if !(200..<300).contains(status) {
            let answer = try? JSONDecoder().decode([String: String].self, from: errorBody)
            finish?(GridClient.Failure(status: status, code: answer?["code"] ?? "error", message: answer?["message"] ?? String(decoding: errorBody, as: UTF8.self)))
        } else {
            finish?(nil)
        }
        finish = nil
    }
}
