/// Why a topology could not be loaded or built.
public enum TopologyError: Error, Sendable, Hashable {
    /// A synthetic description has a token that is not understood.
    ///
    /// `token` is the offending token as written, `position` its 0-based index among the
    /// space-separated tokens, and `reason` says what was expected instead.
    case malformedSynthetic(spec: String, token: String, position: Int, reason: String)
    /// hwloc refused an operation; `errno` is the C error number it left.
    case hwlocFailed(operation: String, errno: Int32)
    /// The loaded topology has no core or no processing unit, so nothing can be placed on it.
    case empty(Topology.Source)
}

extension TopologyError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .malformedSynthetic(spec, token, position, reason):
            "malformed synthetic topology '\(spec)': token \(position + 1) '\(token)': \(reason)"
        case let .hwlocFailed(operation, errno):
            "hwloc \(operation) failed (errno \(errno))"
        case let .empty(source):
            "topology \(source) has no core to place work on"
        }
    }
}
