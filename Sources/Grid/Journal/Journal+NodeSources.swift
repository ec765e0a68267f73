import Foundation
import GRDB

/// The managed node sources: each one's spec and its state (deployed or not, its hosts, its usage), one row each,
/// written on every change so that a restart, even after a kill -9, rebuilds the source and reconciles its hosts.
extension Journal {
    /// A source as the journal keeps it.
    public struct StoredNodeSource: Sendable {
        public var name: String
        /// ``NodeSourceSpec/jsonData``.
        public var spec: Data
        /// ``ElasticSourceCore/StoredState`` as JSON.
        public var state: Data
    }

    /// Saves (or replaces) a source.
    public func saveNodeSource(_ source: StoredNodeSource) throws(GridError) {
        try write { db in
            try db.execute(
                sql: "INSERT INTO node_source (name, spec, state) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, state = excluded.state",
                arguments: [source.name, source.spec, source.state])
        }
    }

    /// Forgets a removed source.
    public func removeNodeSource(named name: String) throws(GridError) {
        try write { db in try db.execute(sql: "DELETE FROM node_source WHERE name = ?", arguments: [name]) }
    }

    /// Every saved source, by name.
    public func nodeSources() throws(GridError) -> [StoredNodeSource] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT name, spec, state FROM node_source ORDER BY name").map {
                StoredNodeSource(name: $0["name"], spec: $0["spec"], state: $0["state"])
            }
        }
    }
}
