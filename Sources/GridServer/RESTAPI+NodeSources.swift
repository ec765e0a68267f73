import Foundation
import Grid
import Hummingbird

/// `/api/v1/nodesources`: the grid's own sources (local nodes, agents that join) and the managed ones, which an
/// administrator creates, edits, deploys, undeploys and removes; each with its hosts, nodes, cost and history.
extension RESTAPI {
    typealias Route = (HTTPRequest.Method, String, @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) -> Void

    func addNodeSourceRoutes(_ route: Route) {
        route(.get, "nodesources") { request, _ in
            let admin = try authenticate(request).admin
            var list: [[String: Any]] = []
            for source in await grid.nodeSources() { list.append(Self.view(source)) }
            let nodes = await grid.nodes()
            for status in await grid.nodeSourceManager.statuses() { list.append(Self.view(status, nodes: nodes, history: false, admin: admin)) }
            return try jsonObject(list)
        }
        route(.post, "nodesources") { request, _ in
            try requireAdmin(request, "add node sources")
            let spec = try await spec(of: request, name: nil)
            let status = try await manage { try await grid.nodeSourceManager.add(spec) }
            var response = try jsonObject(Self.view(status, nodes: await grid.nodes(), history: false))
            response.status = .created
            response.headers[.location] = "/api/v1/nodesources/\(spec.name)"
            return response
        }
        route(.get, "nodesources/:name") { request, context in
            let admin = try authenticate(request).admin
            let name = (context.parameters.get("name") ?? "").removingPercentEncoding ?? ""
            if let own = await grid.nodeSources().first(where: { $0.name == name }) { return try jsonObject(Self.view(own)) }
            let status = try await manage { try await grid.nodeSourceManager.status(name) }
            return try jsonObject(Self.view(status, nodes: await grid.nodes(), history: false, admin: admin))
        }
        route(.get, "nodesources/:name/usage") { request, context in
            let admin = try authenticate(request).admin
            let name = (context.parameters.get("name") ?? "").removingPercentEncoding ?? ""
            let status = try await manage { try await grid.nodeSourceManager.status(name) }
            return try jsonObject(Self.view(status, nodes: await grid.nodes(), history: true, admin: admin))
        }
        route(.put, "nodesources/:name") { request, context in
            try requireAdmin(request, "edit node sources")
            let name = (context.parameters.get("name") ?? "").removingPercentEncoding ?? ""
            let spec = try await spec(of: request, name: name)
            let status = try await manage { try await grid.nodeSourceManager.edit(name, spec) }
            return try jsonObject(Self.view(status, nodes: await grid.nodes(), history: false))
        }
        for (path, flag) in [("deploy", true), ("undeploy", false)] {
            route(.put, "nodesources/:name/\(path)") { request, context in
                try requireAdmin(request, "\(path) node sources")
                let name = (context.parameters.get("name") ?? "").removingPercentEncoding ?? ""
                let status = try await manage { try await grid.nodeSourceManager.setDeployed(name, flag) }
                return try jsonObject(Self.view(status, nodes: await grid.nodes(), history: false))
            }
        }
        route(.delete, "nodesources/:name") { request, context in
            try requireAdmin(request, "remove node sources")
            let name = (context.parameters.get("name") ?? "").removingPercentEncoding ?? ""
            let force: Bool
            switch request.uri.queryParameters.get("force") {
            case nil, "false": force = false
            case "true": force = true
            case let other?: throw APIError.badRequest("force is true or false, got '\(other)'")
            }
            guard let status = try await manage({ try await grid.nodeSourceManager.remove(name, force: force) }) else {
                return Response(status: .noContent)
            }
            // Draining: it leaves once its hosts are released.
            var response = try jsonObject(Self.view(status, nodes: await grid.nodes(), history: false))
            response.status = .accepted
            return response
        }
    }

    private func requireAdmin(_ request: Request, _ what: String) throws {
        guard try authenticate(request).admin else { throw APIError(.forbidden, "needs_admin", "only an administrator may \(what)") }
    }

    /// The body as a spec; on a PUT the name comes from the path when the body leaves it out.
    private func spec(of request: Request, name: String?) async throws -> NodeSourceSpec {
        let buffer = try await body(of: request)
        guard buffer.readableBytes <= 256 * 1024 else { throw APIError(.contentTooLarge, "too_large", "a node source is at most 256 KiB") }
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        do {
            // On a PUT the path names the source: a body without a name takes it.
            return try NodeSourceSpec(text: text, defaultName: name)
        } catch {
            throw Self.apiError(.invalid(field: Self.field(error), Self.reason(error)))
        }
    }

    private static func field(_ error: ElasticConfigError) -> String {
        if case .invalid(let field, _) = error { return field }
        return ""
    }

    private static func reason(_ error: ElasticConfigError) -> String {
        if case .invalid(_, let reason) = error { return reason }
        return "\(error)"
    }

    /// Runs a manager call, turning its error into the API's.
    private func manage<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as NodeSourceError {
            throw Self.apiError(error)
        }
    }

    static func apiError(_ error: NodeSourceError) -> APIError {
        switch error {
        case .invalid(let field, _): APIError(.badRequest, "invalid_node_source", "\(error)").with(field: field)
        case .notFound: APIError(.notFound, "node_source_not_found", "\(error)")
        case .exists: APIError(.conflict, "node_source_exists", "\(error)")
        case .busy: APIError(.conflict, "node_source_busy", "\(error)")
        case .unavailable: APIError(.conflict, "node_sources_unavailable", "\(error)")
        case .tooMany: APIError(.conflict, "too_many_node_sources", "\(error)")
        }
    }

    func jsonObject(_ value: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: - Views

    private static let states = ["DEPLOYING", "CONFIGURING", "FREE", "BUSY", "TO_BE_REMOVED", "DOWN", "LOST"]

    /// A node as ``NodeView`` encodes it (the same fields as `GET /api/v1/nodes`).
    static func nodeJSON(_ entry: ResourceLedger.Entry) -> [String: Any] {
        guard let data = try? JSONEncoder().encode(NodeView(entry)), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }

    /// One of the grid's own sources.
    static func view(_ source: NodeSourceReport) -> [String: Any] {
        var counts: [String: Int] = Dictionary(uniqueKeysWithValues: states.map { ($0, 0) })
        for node in source.nodes { counts[node.state.rawValue, default: 0] += 1 }
        return [
            "name": source.name, "managed": false, "infrastructure": source.infrastructure.description, "policy": source.policy.description,
            "rank": 0, "nodes": source.nodes.map(nodeJSON), "counts": counts,
        ]
    }

    /// A managed source: its spec, state, hosts, nodes, counts by state and usage (and its history when asked).
    ///
    /// A user who is not an administrator sees its counts, nodes, host-hours and cost, not its spec (commands may
    /// hold an operator's secrets), hosts, users, failures or steps.
    static func view(_ status: NodeSourceStatus, nodes: [ResourceLedger.Entry], history: Bool, admin: Bool = true) -> [String: Any] {
        let spec = status.spec
        let own = nodes.filter { $0.source == spec.name }
        var counts: [String: Int] = Dictionary(uniqueKeysWithValues: states.map { ($0, 0) })
        for node in own { counts[node.state.rawValue, default: 0] += 1 }
        counts["DEPLOYING"] = status.nodes(.deploying)
        counts["CONFIGURING"] = status.nodes(.configuring)
        let iso = ISO8601DateFormatter()
        let hosts: [[String: Any]] = status.hosts.map { host in
            var item: [String: Any] = [
                "name": host.name, "phase": host.phase.rawValue, "requested": iso.string(from: host.requestedWall), "busy": host.busy,
                "adopting": host.adopting,
            ]
            if let handle = host.handle { item["handle"] = handle }
            if let address = host.address { item["address"] = address }
            if let session = host.session { item["session"] = session }
            return item
        }
        let outcomes = status.usage.outcomes
        var usage: [String: Any] = [
            "hostHours": status.hostHours, "cost": status.cost, "pricePerHostHour": spec.billing.pricePerHostHour,
            "billing": spec.billing.unit.rawValue,
            "acquisitions": ["joined": outcomes.joined, "failed": outcomes.failed, "timedOut": outcomes.timedOut, "adopted": outcomes.adopted, "cancelled": outcomes.cancelled, "evicted": outcomes.evicted],
        ]
        if let ready = status.ready, ready.count == 2 { usage["readySeconds"] = ["p50": ready[0], "p95": ready[1]] }
        if let budget = spec.budgetPerDay { usage["budgetPerDay"] = budget }
        let steps = history ? status.usage.steps : Array(status.usage.steps.suffix(50))
        usage["steps"] = steps.map { step in
            var item: [String: Any] = ["at": iso.string(from: step.wall), "host": step.host, "state": step.state]
            if let reason = step.reason { item["reason"] = reason }
            return item
        }
        if history {
            usage["history"] = status.usage.history.map { sample in
                [
                    "at": iso.string(from: sample.wall), "DEPLOYING": sample.deploying, "CONFIGURING": sample.configuring, "FREE": sample.free,
                    "BUSY": sample.busy, "TO_BE_REMOVED": sample.draining,
                ] as [String: Any]
            }
        }
        var out: [String: Any] = [
            "name": spec.name, "managed": true,
            "infrastructure": "\(spec.infrastructure.type) (\(status.hosts.count) host\(status.hosts.count == 1 ? "" : "s"), \(spec.nodesPerHost) node\(spec.nodesPerHost == 1 ? "" : "s") each)",
            "policy": spec.policy.type, "spec": spec.json, "state": status.removing ? "removing" : (status.deployed ? "deployed" : "undeployed"),
            "rank": spec.rank, "hosts": hosts, "nodes": own.map(nodeJSON), "counts": counts, "usage": usage, "failuresInRow": status.failuresInRow,
            "releasing": status.releasing,
        ]
        if let failure = status.lastFailure { out["lastFailure"] = failure }
        guard admin else {
            for key in ["spec", "hosts", "lastFailure"] { out[key] = nil }
            out["hosts"] = [[String: Any]]()
            if var usage = out["usage"] as? [String: Any] {
                usage["steps"] = nil
                out["usage"] = usage
            }
            return out
        }
        return out
    }
}
